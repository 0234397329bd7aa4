package client

import (
	"errors"
	"net/http"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
)

// FuzzDecodeAPIError feeds arbitrary answers to the error decoder: it must
// never panic, always yield a typed error and a message, and map each
// contract code to its sentinel.
func FuzzDecodeAPIError(f *testing.F) {
	f.Add(409, `{"error":{"code":"held","message":"m","current":{"database_key":"k","holder_id":"a","term":1,"generation":2,"acquired_at_ms":1,"expires_at_ms":2},"retry_after_ms":5}}`, "")
	f.Add(503, `{"error":{"code":"backend_unavailable","message":"m","retry_after_ms":1000}}`, "1")
	f.Add(403, `{"message":"Forbidden"}`, "")
	f.Add(429, ``, "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(409, `{"error":{"code":"stale","current":null}}`, "")
	f.Add(200, `[]`, "-1")
	sentinels := map[string]error{
		"invalid_request": lease.ErrInvalid, "too_large": lease.ErrInvalid, "not_found": lease.ErrNotFound,
		"held": lease.ErrHeld, "fenced": lease.ErrFenced, "stale": lease.ErrStale,
		"lost_race": lease.ErrLostRace, "backend_unavailable": lease.ErrUnavailable, "internal": ErrInternal,
	}
	f.Fuzz(func(t *testing.T, status int, body, retryAfterHeader string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfterHeader)
		e := decodeAPIError("acquire", status, h, []byte(body), requestFacts{holderID: "h", generation: 1, term: 1})
		if e.Err == nil {
			t.Fatal("no typed error")
		}
		if e.Error() == "" {
			t.Fatal("empty message")
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative retry hint %v", e.RetryAfter)
		}
		if want, ok := sentinels[e.Code]; ok && !errors.Is(e, want) {
			t.Fatalf("code %q: %v does not match %v", e.Code, e, want)
		}
	})
}
