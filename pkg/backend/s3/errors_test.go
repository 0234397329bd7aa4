package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redlease/redlease/pkg/lease"
)

// want names the lease error a store call must end in.
type want int

const (
	wantOK want = iota
	wantPrecondition
	wantUnavailable
	wantNotFound
	wantCorrupt
	wantOther // none of the lease sentinels: surfaces as an internal error
)

func (w want) check(t *testing.T, err error) {
	t.Helper()
	is := map[want]bool{
		wantPrecondition: errors.Is(err, lease.ErrPrecondition),
		wantUnavailable:  errors.Is(err, lease.ErrUnavailable),
		wantNotFound:     errors.Is(err, lease.ErrNotFound),
		wantCorrupt:      errors.Is(err, lease.ErrCorrupt),
	}
	switch w {
	case wantOK:
		if err != nil {
			t.Fatalf("got %v, want success", err)
		}
	case wantOther:
		if err == nil || is[wantPrecondition] || is[wantUnavailable] || is[wantNotFound] || is[wantCorrupt] {
			t.Fatalf("got %v, want a plain error matching no lease sentinel", err)
		}
	default:
		for k, v := range is {
			if v != (k == w) {
				t.Fatalf("got %v; matches %v: %v, want only %v", err, k, v, w)
			}
		}
	}
	if w == wantPrecondition {
		var pre *lease.PreconditionError
		if !errors.As(err, &pre) {
			t.Fatalf("got %v, want a *lease.PreconditionError", err)
		}
	}
}

func (w want) String() string {
	return [...]string{"ok", "precondition", "unavailable", "not found", "corrupt", "other"}[w]
}

func TestWriteErrorMapping(t *testing.T) {
	t.Parallel()
	conflict := s3Error("PutObject", http.StatusConflict, "ConditionalRequestConflict")
	tests := []struct {
		name    string
		replace bool
		inject  []error
		want    want
		calls   int // PutObject requests sent
	}{
		{"412", false, []error{s3Error("PutObject", 412, "PreconditionFailed")}, wantPrecondition, 1},
		{"412OnReplace", true, []error{s3Error("PutObject", 412, "PreconditionFailed")}, wantPrecondition, 1},
		{"409ThenSuccess", false, []error{conflict}, wantOK, 2},
		{"409TwiceThenSuccess", true, []error{conflict, conflict}, wantOK, 3},
		{"409Persistent", true, []error{conflict, conflict, conflict, conflict, conflict}, wantPrecondition, 4},
		{"409ThenPreconditionFailed", false, []error{conflict, s3Error("PutObject", 412, "PreconditionFailed")}, wantPrecondition, 2},
		{"404NoSuchKeyOnIfMatch", true, []error{s3Error("PutObject", 404, "NoSuchKey")}, wantPrecondition, 1},
		{"503SlowDown", false, []error{s3Error("PutObject", 503, "SlowDown")}, wantUnavailable, 1},
		{"500InternalError", true, []error{s3Error("PutObject", 500, "InternalError")}, wantUnavailable, 1},
		{"502NoCode", true, []error{s3Error("PutObject", 502, "")}, wantUnavailable, 1},
		{"429", true, []error{s3Error("PutObject", 429, "")}, wantUnavailable, 1},
		{"ConnectionRefused", false, []error{transportError("PutObject")}, wantUnavailable, 1},
		{"Timeout", false, []error{fmt.Errorf("operation error S3: PutObject: %w", context.DeadlineExceeded)}, wantUnavailable, 1},
		{"403AccessDenied", false, []error{s3Error("PutObject", 403, "AccessDenied")}, wantOther, 1},
		{"404NoSuchBucket", true, []error{s3Error("PutObject", 404, "NoSuchBucket")}, wantOther, 1},
		{"400", false, []error{s3Error("PutObject", 400, "InvalidRequest")}, wantOther, 1},
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
			fake.resetCounts()
			fake.failNext("PutObject", tc.inject...)
			var err error
			if tc.replace {
				_, err = s.Replace(ctx, rec, expect)
			} else {
				_, err = s.Create(ctx, rec)
			}
			tc.want.check(t, err)
			if got := fake.count("PutObject"); got != tc.calls {
				t.Errorf("%d PutObject requests, want %d", got, tc.calls)
			}
			var un *lease.UnavailableError
			if errors.As(err, &un) && un.RetryAfter != 3*time.Second {
				t.Errorf("RetryAfter = %v, want the configured 3s", un.RetryAfter)
			}
			if tc.want == wantOK {
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
		fake.failNext("PutObject", conflict, conflict, conflict, conflict, conflict, conflict, conflict, conflict)
		_, err := s.Create(context.Background(), record("k", "a", 1))
		wantPrecondition.check(t, err)
		if got := fake.count("PutObject"); got != tc.calls {
			t.Errorf("ConflictRetries %d: %d PutObject requests, want %d", tc.retries, got, tc.calls)
		}
	}
}

// TestConflictBackoffStopsAtDeadline: a caller's deadline ends the resends.
func TestConflictBackoffStopsAtDeadline(t *testing.T) {
	t.Parallel()
	s, fake := newTestStore(t, Options{ConflictBackoff: time.Hour})
	fake.failNext("PutObject", s3Error("PutObject", http.StatusConflict, "ConditionalRequestConflict"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := s.Create(ctx, record("k", "a", 1))
	wantUnavailable.check(t, err)
}

func TestLoadErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject error
		want   want
	}{
		{"NoSuchKey", s3Error("GetObject", 404, "NoSuchKey"), wantNotFound},
		{"404NoCode", s3Error("GetObject", 404, ""), wantNotFound},
		{"503SlowDown", s3Error("GetObject", 503, "SlowDown"), wantUnavailable},
		{"500", s3Error("GetObject", 500, "InternalError"), wantUnavailable},
		{"ConnectionRefused", transportError("GetObject"), wantUnavailable},
		{"Canceled", context.Canceled, wantUnavailable},
		{"403", s3Error("GetObject", 403, "AccessDenied"), wantOther},
		{"NoSuchBucket", s3Error("GetObject", 404, "NoSuchBucket"), wantOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, fake := newTestStore(t, Options{})
			if _, err := s.Create(context.Background(), record("k", "a", 1)); err != nil {
				t.Fatal(err)
			}
			fake.failNext("GetObject", tc.inject)
			_, err := s.Load(context.Background(), "k")
			tc.want.check(t, err)
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
	wantOther.check(t, err)
}
