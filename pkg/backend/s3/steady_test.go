package s3

import (
	"testing"

	"github.com/redlease/redlease/pkg/sweep"
	"github.com/redlease/redlease/pkg/sweep/sweeptest"
)

// In the steady state (sweeptest) a run over S3 lists the prefix once, one
// ListObjectsV2 per 1,000 keys, reads exactly the records written since
// the previous run plus its state, and writes one mark per expiry plus its
// state; every lease that expired since the previous run is reported by
// this one (Step fails otherwise). Half the records carry a principal, so
// the expiries proven without a read include named principals'. The
// benchmark measures the same at 100,000 keys (make bench-sweep).
func TestSteadySweepReadsOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	const keys = 3_000
	s, fake := newTestStore(t, Options{})
	fake.unrecorded = true
	st := sweeptest.New(t, s, fake.Take, keys, sweep.Config{})
	for run := range 3 {
		r := st.Step()
		lists, gets, puts := r.Requests["ListObjectsV2"], r.Requests["GetObject"], r.Requests["PutObject"]
		if want := keys / maxListKeys; lists != want {
			t.Errorf("run %d: %d ListObjectsV2, want %d (one per 1,000 keys)", run, lists, want)
		}
		if gets != r.Changed+1 {
			t.Errorf("run %d: %d GetObject, want the %d records changed since the previous run and the state", run, gets, r.Changed)
		}
		if puts != r.Expired+1 {
			t.Errorf("run %d: %d PutObject, want a mark for each of the %d expiries and the state", run, puts, r.Expired)
		}
		if r.Result.Read != r.Changed || r.Result.Unchanged != keys-r.Changed {
			t.Errorf("run %d: read %d, unchanged %d; want %d and %d", run, r.Result.Read, r.Result.Unchanged, r.Changed, keys-r.Changed)
		}
	}
}
