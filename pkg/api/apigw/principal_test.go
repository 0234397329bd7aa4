package apigw_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/redlease/redlease/pkg/api/apigw"
	"github.com/redlease/redlease/pkg/api/apitest"
	"github.com/redlease/redlease/pkg/lease"
)

func TestIAMPrincipalName(t *testing.T) {
	t.Parallel()
	tests := []struct{ arn, want string }{
		{"arn:aws:sts::123456789012:assumed-role/reddb-writer/i-0abc", "arn:aws:sts::123456789012:assumed-role/reddb-writer"},
		{"arn:aws:sts::123456789012:assumed-role/reddb-writer/another-session", "arn:aws:sts::123456789012:assumed-role/reddb-writer"},
		{"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0123/alice@example.com", "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0123"},
		{"arn:aws-cn:sts::123456789012:assumed-role/r/s", "arn:aws-cn:sts::123456789012:assumed-role/r"},
		{"arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice"},
		{"arn:aws:iam::123456789012:user/division/alice", "arn:aws:iam::123456789012:user/division/alice"},
		{"arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:root"},
		{"arn:aws:sts::123456789012:federated-user/bob", "arn:aws:sts::123456789012:federated-user/bob"},
		// Not callers, or not well formed: no principal.
		{"", ""},
		{"arn:aws:sts::123456789012:assumed-role/reddb-writer", ""},
		{"arn:aws:sts::123456789012:assumed-role//s", ""},
		{"arn:aws:sts::123456789012:assumed-role/r/", ""},
		{"arn:aws:iam::123456789012:role/reddb-writer", ""},
		{"arn:aws:iam::123456789012:user/", ""},
		{"arn:aws:sts::123456789012:federated-user/", ""},
		{"arn:aws:sts:eu-west-1:123456789012:assumed-role/r/s", ""},
		{"arn:aws:sts::12345678901:assumed-role/r/s", ""},
		{"arn:aws:s3:::bucket", ""},
		{"anonymous", ""},
		{"AROA5EXAMPLE:i-0abc", ""},
	}
	for _, tc := range tests {
		got, ok := apigw.IAMPrincipalName(tc.arn)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("IAMPrincipalName(%q) = %q, %v; want %q", tc.arn, got, ok, tc.want)
		}
	}
}

// The adapter hands the face the IAM caller of a signed request (2.0 and
// 1.0), every key, admin only when told; an unsigned request goes on
// without a principal.
func TestPrincipalFromTheRequestContext(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:sts::123456789012:assumed-role/reddb-writer/i-0abc"
	role := lease.Principal{Name: "arn:aws:sts::123456789012:assumed-role/reddb-writer", Prefixes: []string{""}}
	admin := role
	admin.Admin = true
	v2 := func(userARN string, signed bool) events.APIGatewayV2HTTPRequest {
		ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/v1/leases/k",
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
		if signed {
			ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: userARN}}
		}
		return ev
	}
	v1 := func(userARN string) events.APIGatewayProxyRequest {
		ev := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/v1/leases/k"}
		ev.RequestContext.Identity.UserArn = userARN
		return ev
	}
	tests := []struct {
		name  string
		admin bool
		serve func(a *apigw.Adapter)
		want  lease.Principal
	}{
		{"2.0 signed", false, func(a *apigw.Adapter) { _, _ = a.HandleV2(context.Background(), v2(arn, true)) }, role},
		{"2.0 signed, admin function", true, func(a *apigw.Adapter) { _, _ = a.HandleV2(context.Background(), v2(arn, true)) }, admin},
		{"2.0 unsigned", true, func(a *apigw.Adapter) { _, _ = a.HandleV2(context.Background(), v2("", false)) }, lease.Principal{}},
		{"2.0 authorizer without IAM (a JWT authorizer)", false, func(a *apigw.Adapter) {
			ev := v2("", false)
			ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{}
			_, _ = a.HandleV2(context.Background(), ev)
		}, lease.Principal{}},
		{"2.0 an ARN of no known kind", false, func(a *apigw.Adapter) {
			_, _ = a.HandleV2(context.Background(), v2("arn:aws:iam::123456789012:role/r", true))
		}, lease.Principal{}},
		{"1.0 signed", false, func(a *apigw.Adapter) { _, _ = a.HandleV1(context.Background(), v1(arn)) }, role},
		{"1.0 unsigned", false, func(a *apigw.Adapter) { _, _ = a.HandleV1(context.Background(), v1("")) }, lease.Principal{}},
	}
	for _, tc := range tests {
		f := &recorder{}
		tc.serve(apigw.NewWithOptions(f, apigw.Options{IAMAdmin: tc.admin}))
		if got := f.req.Principal; !reflect.DeepEqual(got, tc.want) && (got.Name != "" || tc.want.Name != "") {
			t.Errorf("%s: principal %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// The rules through the Lambda entry point, with IAM principals from the
// sample events: another role is refused on a lease it does not hold,
// with the holder's values, and nothing is written; the holder's role
// (from any session) succeeds; an unsigned request is 401.
func TestPrincipalsThroughTheGateway(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	at := func(ms int64) { e.Clock.Set(apitest.Epoch.Add(time.Duration(ms) * time.Millisecond)) }
	const leaseA = `{"database_key":"tenants/a/db.rdb","holder_id":"reddb-a-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225660000}`
	steps := []struct {
		name    string
		event   []byte
		atMs    int64
		status  int
		body    string
		writes  bool
		reqID   string
		headers []string
	}{
		{"tenant a acquires by the path route", readEvent(t, "acquire-key.json"), 0, 200, `{"lease":` + leaseA + `}`, true, "Xk3qK1aAoAMEbA1=", nil},
		{"tenant b refreshes a's lease with a's holder and generation", readEvent(t, "refresh-key-other-principal.json"), 1000, 403,
			`{"error":{"code":"forbidden","message":"the lease belongs to another principal"}}`, false, "Xk3qK3bBoAMEbB3=", nil},
		{"tenant b releases it", mutate(t, "release-key.json", func(ev map[string]any) {
			ev["requestContext"].(map[string]any)["authorizer"] = map[string]any{"iam": map[string]any{
				"userArn": "arn:aws:sts::123456789012:assumed-role/reddb-tenant-b/i-0bbb3333cccc44445"}}
		}), 1000, 403, `{"error":{"code":"forbidden","message":"the lease belongs to another principal"}}`, false, "Xk3qK4aAoAMEbA4=", nil},
		{"tenant b acquires it with a's holder id", mutate(t, "acquire-key.json", func(ev map[string]any) {
			ev["requestContext"].(map[string]any)["authorizer"] = map[string]any{"iam": map[string]any{
				"userArn": "arn:aws:sts::123456789012:assumed-role/reddb-tenant-b/i-0bbb3333cccc44445"}}
		}), 1000, 409, `{"error":{"code":"held","message":"the lease is held by \"reddb-a-1\" (generation 1) for another 59000 ms","current":` + leaseA + `,"retry_after_ms":59000}}`, false, "Xk3qK1aAoAMEbA1=", nil},
		{"an unsigned refresh", mutate(t, "refresh-key.json", func(ev map[string]any) {
			delete(ev["requestContext"].(map[string]any), "authorizer")
		}), 1000, 401, `{"error":{"code":"unauthorized","message":"the request carries no credentials"}}`, false, "Xk3qK2aAoAMEbA2=",
			[]string{"WWW-Authenticate", `Bearer realm="redlease"`}},
		{"a body key that differs from the path's", mutate(t, "refresh-key.json", func(ev map[string]any) {
			ev["body"] = `{"database_key":"tenants/b/db.rdb","holder_id":"reddb-a-1","generation":1,"ttl_ms":60000}`
		}), 1000, 400, `{"error":{"code":"invalid_request","message":"database_key differs from the key in the path; leave it out of the body or send the same key","field":"database_key"}}`, false, "Xk3qK2aAoAMEbA2=", nil},
		{"tenant a refreshes from another instance (session)", mutate(t, "refresh-key.json", func(ev map[string]any) {
			ev["requestContext"].(map[string]any)["authorizer"].(map[string]any)["iam"].(map[string]any)["userArn"] =
				"arn:aws:sts::123456789012:assumed-role/reddb-tenant-a/i-0ccc5555dddd66667"
		}), 20000, 200, `{"lease":{"database_key":"tenants/a/db.rdb","holder_id":"reddb-a-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225680000}}`, true, "Xk3qK2aAoAMEbA2=", nil},
		{"tenant a releases", readEvent(t, "release-key.json"), 30000, 200, `{"lease":{"database_key":"tenants/a/db.rdb","holder_id":"reddb-a-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225630000,"released_at_ms":1767225630000}}`, true, "Xk3qK4aAoAMEbA4=", nil},
		{"the break-glass route on a function that is not the admin's", readEvent(t, "force-release.json"), 31000, 403,
			`{"error":{"code":"forbidden","message":"the operation needs an admin principal"}}`, false, "Xk3qK5oOoAMEbO5=", nil},
	}
	for _, s := range steps {
		at(s.atMs)
		before := apitest.StoreHash(t, e.Memory)
		got := invoke(t, e, s.event)
		assertResponse(t, s.name, got, s.status, headers(s.reqID, s.headers...), s.body)
		if changed := apitest.StoreHash(t, e.Memory) != before; changed != s.writes {
			t.Errorf("%s: store changed = %v, want %v", s.name, changed, s.writes)
		}
	}
	rec, _ := e.Memory.Load(context.Background(), "tenants/a/db.rdb")
	if rec.Record.Principal != "arn:aws:sts::123456789012:assumed-role/reddb-tenant-a" {
		t.Errorf("stored principal %q, want tenant a's role", rec.Record.Principal)
	}
}

// The admin function (IAMAdmin) releases whatever holds the key, and its
// log line names the admin, the holder and the principal it took the
// lease from, and the reason.
func TestBreakGlassThroughTheAdminFunction(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	if r := invoke(t, e, readEvent(t, "acquire-key.json")); r.StatusCode != 200 {
		t.Fatalf("acquire = %d %s", r.StatusCode, r.Body)
	}
	e.Clock.Set(apitest.Epoch.Add(5 * time.Second))
	admin := apigw.NewWithOptions(e.API, apigw.Options{IAMAdmin: true})
	got := invokeOn(t, admin, readEvent(t, "force-release.json"))
	assertResponse(t, "break glass", got, 200, headers("Xk3qK5oOoAMEbO5="),
		`{"lease":{"database_key":"tenants/a/db.rdb","holder_id":"reddb-a-1","term":1,"generation":1,"acquired_at_ms":1767225600000,"expires_at_ms":1767225605000,"released_at_ms":1767225605000},"holder_principal":"arn:aws:sts::123456789012:assumed-role/reddb-tenant-a","already_released":false}`)
	logs := e.Logs.String()
	line := logs[strings.LastIndex(strings.TrimSuffix(logs, "\n"), "\n")+1:]
	for _, want := range []string{`"level":"WARN"`, `"route":"force_release"`, `"principal":"arn:aws:sts::123456789012:assumed-role/redlease-break-glass"`,
		`"holder":"reddb-a-1"`, `"released_principal":"arn:aws:sts::123456789012:assumed-role/reddb-tenant-a"`, `"break_glass":true`, `"reason":"INC-4711`} {
		if !strings.Contains(line, want) {
			t.Errorf("break-glass log line lacks %s:\n%s", want, line)
		}
	}
	// The next acquire, by anyone the key's policy lets in, is generation 2.
	next := invoke(t, e, mutate(t, "acquire-key.json", func(ev map[string]any) {
		ev["body"] = `{"holder_id":"reddb-a-2","ttl_ms":60000}`
	}))
	if next.StatusCode != 200 || !strings.Contains(next.Body, `"generation":2`) {
		t.Fatalf("acquire after break glass = %d %s, want generation 2", next.StatusCode, next.Body)
	}
}
