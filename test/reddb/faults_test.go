//go:build reddb

package reddb

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redlease/redlease/internal/reddbtest"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/httpserver"
	"github.com/redlease/redlease/pkg/api/reddb"
	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

// Defect 2 mitigated: one failed request of a refresh drains a stock
// RedDB for good (internal/reddbtest's TestOneRefreshErrorDrainsForGood
// shows it on a plain store). Behind redlease, a storage write whose
// answer was lost, a write that never arrived and a failed read during
// RedDB's refreshes are absorbed by the service (the write found applied,
// sent again, the read repeated), and RedDB keeps its lease.
func TestStorageHiccupsDoNotDrainRedDB(t *testing.T) {
	store := faulty.New(memory.New(memory.Options{}), faulty.Options{Rules: []faulty.Rule{
		{Op: faulty.OpReplace, Nth: 2, Kind: faulty.FailAfter},  // the second refresh's write: applied, answer lost
		{Op: faulty.OpReplace, Nth: 4, Kind: faulty.FailBefore}, // the fourth's: never arrived
		{Op: faulty.OpLoad, Nth: 12, Kind: faulty.FailBefore},   // a read in a later refresh
	}})
	svc, err := lease.New(lease.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	face, err := reddb.New(reddb.Config{Service: svc, Objects: memory.NewObjects(memory.ObjectsOptions{Reserved: lease.DefaultPrefix})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpserver.Handler(api.Authenticate(face, api.Open())))
	t.Cleanup(srv.Close)

	red := holding(t, srv.URL+"/v1/reddb", token{}, "red-a")
	waitFor(t, "every fault to fire", 30*time.Second, func() bool {
		f := store.Fired()
		return f[faulty.FailAfter] == 1 && f[faulty.FailBefore] == 2
	})
	time.Sleep(2 * time.Second) // two more refreshes after the last fault
	st := red.WaitLease(reddbtest.LeaseHeld, 5*time.Second)
	if st.Phase != "ready" || st.ReadOnly {
		t.Fatalf("after the storage faults RedDB is %+v, want still holding and writable", st)
	}
	t.Logf("faults absorbed: %v; RedDB still %s, phase %s", store.Fired(), st.WriterLease, st.Phase)
}
