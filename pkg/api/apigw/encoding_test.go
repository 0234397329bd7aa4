package apigw_test

import (
	"testing"

	"github.com/redlease/redlease/pkg/api/apitest"
)

// literalKey is the key of the encoded sample events: one segment holding
// "%2F" twice, which a client sends as "clusters%252Fdev%252Fdata.rdb".
const literalKey = "clusters%2Fdev%2Fdata.rdb"

const (
	encodedV2ID   = "Xk3pcA1xoAMEbq8="
	encodedRESTID = "d1f0b7e2-7b61-11e6-9a41-93e8deadbeef"
	notFound      = `{"error":{"code":"not_found","message":"no lease record exists for this database_key"}}`
)

// TestEncodedKeyIsNeverAnotherKeysLease drives the two encoded sample
// events (an HTTP API's, decoded; a REST API's, encoded) and their variants
// while "clusters/dev/data.rdb" is held: each names the literal key
// "clusters%2Fdev%2Fdata.rdb", which has no lease until it is acquired.
func TestEncodedKeyIsNeverAnotherKeysLease(t *testing.T) {
	t.Parallel()
	variants := []struct {
		name  string
		reqID string
		event func(t *testing.T) []byte
	}{
		{"HTTP API 2.0, greedy route", encodedV2ID, func(t *testing.T) []byte { return readEvent(t, "lease-get-encoded.json") }},
		{"HTTP API 2.0, $default route: the decoded raw path", encodedV2ID, func(t *testing.T) []byte {
			return mutate(t, "lease-get-encoded.json", func(ev map[string]any) {
				ev["routeKey"] = "$default"
				delete(ev, "pathParameters")
			})
		}},
		{"HTTP API 2.0, named stage, $default route", encodedV2ID, func(t *testing.T) []byte {
			return mutate(t, "lease-get-encoded.json", func(ev map[string]any) {
				ev["routeKey"] = "$default"
				ev["rawPath"] = "/prod/v1/leases/" + literalKey
				ev["requestContext"].(map[string]any)["stage"] = "prod"
				delete(ev, "pathParameters")
			})
		}},
		{"HTTP API 2.0 keeping %25, as MiniStack hands it over", encodedV2ID, func(t *testing.T) []byte {
			return mutate(t, "lease-get-encoded.json", func(ev map[string]any) {
				ev["rawPath"] = "/v1/leases/clusters%252Fdev%252Fdata.rdb"
				ev["pathParameters"] = map[string]any{"database_key": "clusters%252Fdev%252Fdata.rdb"}
			})
		}},
		{"REST 1.0: the key from the encoded path", encodedRESTID, func(t *testing.T) []byte { return readEvent(t, "lease-get-encoded-rest.json") }},
		{"REST 1.0 whose path parameter is still encoded", encodedRESTID, func(t *testing.T) []byte {
			return mutate(t, "lease-get-encoded-rest.json", func(ev map[string]any) {
				ev["pathParameters"] = map[string]any{"database_key": "clusters%252Fdev%252Fdata.rdb"}
			})
		}},
		{"REST 1.0 behind a custom domain's base path", encodedRESTID, func(t *testing.T) []byte {
			return mutate(t, "lease-get-encoded-rest.json", func(ev map[string]any) {
				ev["path"] = "/leases-api/v1/leases/clusters%252Fdev%252Fdata.rdb"
			})
		}},
		{"HTTP API 1.0: decoded like 2.0", encodedRESTID, func(t *testing.T) []byte {
			return mutate(t, "lease-get-encoded-rest.json", func(ev map[string]any) {
				ev["version"] = "1.0"
				ev["path"] = "/v1/leases/" + literalKey
			})
		}},
	}
	e := apitest.New(t, apitest.Options{})
	if r := invoke(t, e, readEvent(t, "acquire.json")); r.StatusCode != 200 {
		t.Fatalf("acquire clusters/dev/data.rdb = %d %s", r.StatusCode, r.Body)
	}
	for _, v := range variants {
		assertResponse(t, v.name+", before", invoke(t, e, v.event(t)), 404, headers(v.reqID), notFound)
	}
	acquireLiteral := mutate(t, "acquire.json", func(ev map[string]any) {
		ev["body"] = `{"database_key":"` + literalKey + `","holder_id":"reddb-9-1","ttl_ms":60000}`
	})
	acquired := `{"lease":{"database_key":"clusters%2Fdev%2Fdata.rdb","holder_id":"reddb-9-1","term":1,"generation":1,` +
		`"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000}}`
	assertResponse(t, "acquire the literal key", invoke(t, e, acquireLiteral), 200, headers("Xk3pQhPAoAMEbXw="), acquired)
	read := `{"lease":{"database_key":"clusters%2Fdev%2Fdata.rdb","holder_id":"reddb-9-1","term":1,"generation":1,` +
		`"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000},"state":"held","expires_in_ms":60000}`
	for _, v := range variants {
		assertResponse(t, v.name+", after", invoke(t, e, v.event(t)), 200, headers(v.reqID), read)
	}
}

// An HTTP API decodes "a%2Fb" to "a/b" before the function sees it: that
// event is the lease of "clusters/dev/data.rdb", as the client meant.
func TestDecodedSlashIsTheSlashedKey(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	if r := invoke(t, e, readEvent(t, "acquire.json")); r.StatusCode != 200 {
		t.Fatalf("seed acquire = %d %s", r.StatusCode, r.Body)
	}
	rest := mutate(t, "lease-get-encoded-rest.json", func(ev map[string]any) {
		ev["path"] = "/v1/leases/clusters%2Fdev%2Fdata.rdb" // REST: still encoded, decoded once by the face
		ev["pathParameters"] = map[string]any{"database_key": "clusters/dev/data.rdb"}
	})
	if got := invoke(t, e, rest); got.StatusCode != 200 {
		t.Errorf("REST GET of clusters%%2Fdev%%2Fdata.rdb = %d %s, want the lease of clusters/dev/data.rdb", got.StatusCode, got.Body)
	}
	if got := invoke(t, e, readEvent(t, "lease-get.json")); got.StatusCode != 200 {
		t.Errorf("HTTP API GET = %d %s, want 200", got.StatusCode, got.Body)
	}
}

// A key whose decoded form holds a '%' that is no escape ("50%zz") or a
// '?' reaches the face intact: re-encoding never makes an invalid escape.
func TestDecodedKeysWithPercentAndQuestionMark(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	for _, key := range []string{"tenants/a/50%zz.rdb", "tenants/a/50%.rdb", "tenants/a/what?.rdb", "tenants/a/sp ace+plus.rdb"} {
		acquire := mutate(t, "acquire.json", func(ev map[string]any) {
			ev["body"] = `{"database_key":"` + key + `","holder_id":"h","ttl_ms":60000}`
		})
		if r := invoke(t, e, acquire); r.StatusCode != 200 {
			t.Fatalf("acquire %q = %d %s", key, r.StatusCode, r.Body)
		}
		get := mutate(t, "lease-get-encoded.json", func(ev map[string]any) {
			ev["rawPath"] = "/v1/leases/" + key
			ev["pathParameters"] = map[string]any{"database_key": key}
		})
		if got := invoke(t, e, get); got.StatusCode != 200 {
			t.Errorf("GET of decoded %q = %d %s, want its lease", key, got.StatusCode, got.Body)
		}
	}
}
