package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/lease"
)

func TestWriteErrorMapping(t *testing.T) {
	t.Parallel()
	conflict := s3Error("PutObject", http.StatusConflict, "ConditionalRequestConflict")
	tests := []struct {
		name    string
		replace bool
		inject  []error
		want    backendtest.Want
		calls   int // PutObject requests sent
	}{
		{"412", false, []error{s3Error("PutObject", 412, "PreconditionFailed")}, backendtest.WantPrecondition, 1},
		{"412OnReplace", true, []error{s3Error("PutObject", 412, "PreconditionFailed")}, backendtest.WantPrecondition, 1},
		{"409ThenSuccess", false, []error{conflict}, backendtest.WantOK, 2},
		{"409TwiceThenSuccess", true, []error{conflict, conflict}, backendtest.WantOK, 3},
		{"409Persistent", true, []error{conflict, conflict, conflict, conflict, conflict}, backendtest.WantPrecondition, 4},
		{"409ThenPreconditionFailed", false, []error{conflict, s3Error("PutObject", 412, "PreconditionFailed")}, backendtest.WantPrecondition, 2},
		{"404NoSuchKeyOnIfMatch", true, []error{s3Error("PutObject", 404, "NoSuchKey")}, backendtest.WantPrecondition, 1},
		{"503SlowDown", false, []error{s3Error("PutObject", 503, "SlowDown")}, backendtest.WantUnavailable, 1},
		{"500InternalError", true, []error{s3Error("PutObject", 500, "InternalError")}, backendtest.WantUnavailable, 1},
		{"502NoCode", true, []error{s3Error("PutObject", 502, "")}, backendtest.WantUnavailable, 1},
		{"429", true, []error{s3Error("PutObject", 429, "")}, backendtest.WantUnavailable, 1},
		{"ConnectionRefused", false, []error{transportError("PutObject")}, backendtest.WantUnavailable, 1},
		{"Timeout", false, []error{fmt.Errorf("operation error S3: PutObject: %w", context.DeadlineExceeded)}, backendtest.WantUnavailable, 1},
		{"403AccessDenied", false, []error{s3Error("PutObject", 403, "AccessDenied")}, backendtest.WantOther, 1},
		{"404NoSuchBucket", true, []error{s3Error("PutObject", 404, "NoSuchBucket")}, backendtest.WantOther, 1},
		{"400", false, []error{s3Error("PutObject", 400, "InvalidRequest")}, backendtest.WantOther, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, fake := newTestStore(t, Options{RetryAfter: 3 * time.Second})
			rec := record("k", "a", 1)
			var expect lease.Version
			if tc.replace {
				var err error
				if expect, err = s.Create(ctx, rec); err != nil {
					t.Fatalf("Create: %v", err)
				}
				rec = record("k", "b", 2)
			}
			fake.Reset()
			fake.FailNext("PutObject", tc.inject...)
			var err error
			if tc.replace {
				_, err = s.Replace(ctx, rec, expect)
			} else {
				_, err = s.Create(ctx, rec)
			}
			tc.want.Check(t, err)
			if got := fake.Count("PutObject"); got != tc.calls {
				t.Errorf("%d PutObject requests, want %d", got, tc.calls)
			}
			var un *lease.UnavailableError
			if errors.As(err, &un) && un.RetryAfter != 3*time.Second {
				t.Errorf("RetryAfter = %v, want the configured 3s", un.RetryAfter)
			}
			if tc.want == backendtest.WantOK {
				got, err := s.Load(ctx, "k")
				if err != nil || got.Record != rec {
					t.Errorf("after the retried write Load = %+v, %v; want %+v", got, err, rec)
				}
			}
		})
	}
}

func TestConflictRetriesAreConfigurable(t *testing.T) {
	t.Parallel()
	conflict := s3Error("PutObject", http.StatusConflict, "ConditionalRequestConflict")
	for _, tc := range []struct {
		retries, calls int
	}{{-1, 1}, {1, 2}, {6, 7}} {
		s, fake := newTestStore(t, Options{ConflictRetries: tc.retries})
		fake.FailNext("PutObject", conflict, conflict, conflict, conflict, conflict, conflict, conflict, conflict)
		_, err := s.Create(context.Background(), record("k", "a", 1))
		backendtest.WantPrecondition.Check(t, err)
		if got := fake.Count("PutObject"); got != tc.calls {
			t.Errorf("ConflictRetries %d: %d PutObject requests, want %d", tc.retries, got, tc.calls)
		}
	}
}

// TestConflictBackoffStopsAtDeadline: a caller's deadline ends the resends.
func TestConflictBackoffStopsAtDeadline(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{ConflictBackoff: time.Hour})
	fake.FailNext("PutObject", s3Error("PutObject", http.StatusConflict, "ConditionalRequestConflict"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := s.Create(ctx, record("k", "a", 1))
	backendtest.WantUnavailable.Check(t, err)
}

func TestLoadErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject error
		want   backendtest.Want
	}{
		{"NoSuchKey", s3Error("GetObject", 404, "NoSuchKey"), backendtest.WantNotFound},
		{"404NoCode", s3Error("GetObject", 404, ""), backendtest.WantNotFound},
		{"503SlowDown", s3Error("GetObject", 503, "SlowDown"), backendtest.WantUnavailable},
		{"500", s3Error("GetObject", 500, "InternalError"), backendtest.WantUnavailable},
		{"ConnectionRefused", transportError("GetObject"), backendtest.WantUnavailable},
		{"Canceled", context.Canceled, backendtest.WantUnavailable},
		{"403", s3Error("GetObject", 403, "AccessDenied"), backendtest.WantOther},
		{"NoSuchBucket", s3Error("GetObject", 404, "NoSuchBucket"), backendtest.WantOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, fake := newTestStore(t, Options{})
			if _, err := s.Create(context.Background(), record("k", "a", 1)); err != nil {
				t.Fatal(err)
			}
			fake.FailNext("GetObject", tc.inject)
			_, err := s.Load(context.Background(), "k")
			tc.want.Check(t, err)
		})
	}
}

func TestMissingETagIsAnError(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{})
	if _, err := s.Create(context.Background(), record("k", "a", 1)); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	obj := fake.objects["leases/k.lease.json"]
	obj.etag = ""
	fake.objects["leases/k.lease.json"] = obj
	fake.mu.Unlock()
	_, err := s.Load(context.Background(), "k")
	backendtest.WantOther.Check(t, err)
}
