package leaseops

import (
	"maps"
	"testing"
)

type perOp map[Op]map[string]float64

var (
	s3Service = perOp{
		AcquireNew:      {"GET": 1, "PUT": 1},
		AcquireTakeover: {"GET": 1, "PUT": 1},
		RefreshWarm:     {"PUT": 1},
		RefreshCold:     {"GET": 1, "PUT": 1},
		RefreshStale:    {"PUT": 2, "GET": 1}, // 412, read, write
		ReleaseWarm:     {"PUT": 1},
		ReleaseCold:     {"GET": 1, "PUT": 1},
		Read:            {"GET": 1},
	}
	ddbService = perOp{
		AcquireNew:      {"GetItem": 1, "PutItem": 1},
		AcquireTakeover: {"GetItem": 1, "PutItem": 1},
		RefreshWarm:     {"PutItem": 1},
		RefreshCold:     {"GetItem": 1, "PutItem": 1},
		RefreshStale:    {"PutItem": 2}, // the refusal carries the record
		ReleaseWarm:     {"PutItem": 1},
		ReleaseCold:     {"GetItem": 1, "PutItem": 1},
		Read:            {"GetItem": 1},
	}
	// wantCounts is every row's storage requests per operation: RedDB's
	// exactly as REDDB-INTEROP.md lists them.
	wantCounts = map[string]perOp{
		RowRedDB: {
			AcquireNew:      {"HEAD": 2, "PUT": 1, "GET": 1},
			AcquireTakeover: {"HEAD": 3, "GET": 2, "PUT": 1},
			RefreshWarm:     {"HEAD": 3, "GET": 1, "PUT": 1},
			RefreshCold:     {"HEAD": 3, "GET": 1, "PUT": 1},
			RefreshStale:    {"HEAD": 3, "GET": 1, "PUT": 1},
			ReleaseWarm:     {"HEAD": 2, "GET": 1, "DELETE": 1},
			ReleaseCold:     {"HEAD": 2, "GET": 1, "DELETE": 1},
			Read:            {"HEAD": 1, "GET": 1},
		},
		RowRedleaseS3:       s3Service,
		RowRedleaseDynamoDB: ddbService,
		RowOneWriteS3: {
			AcquireNew:      {"PUT": 1},
			AcquireTakeover: {"PUT": 2, "GET": 1},
		},
		RowOneWriteDynamoDB: {
			AcquireNew:      {"PutItem": 1},
			AcquireTakeover: {"PutItem": 2},
		},
	}
)

// checkCounts compares measured cells with want: same rows and
// operations, no errors, exactly the wanted requests as the typical
// pattern, and at most maxAtypical operations per cell that sent more
// (an SDK retry: never on the fakes, now and then on an emulator).
func checkCounts(t *testing.T, cells []Cell, want map[string]perOp, maxAtypical int) {
	t.Helper()
	seen := map[string]int{}
	for _, c := range cells {
		w, ok := want[c.Row]
		if !ok {
			t.Errorf("unexpected row %q", c.Row)
			continue
		}
		wantOp, measured := w[c.Op]
		if c.Measured != measured {
			t.Errorf("%s, %s: measured %v, want %v", c.Row, c.Op, c.Measured, measured)
			continue
		}
		if !measured {
			continue
		}
		seen[c.Row]++
		if c.Errors != 0 {
			t.Errorf("%s, %s: %d errors, first: %s", c.Row, c.Op, c.Errors, c.FirstError)
		}
		if !maps.Equal(c.Storage, wantOp) {
			t.Errorf("%s, %s: storage requests %v, want %v", c.Row, c.Op, c.Storage, wantOp)
		}
		if c.StorageAtypical > maxAtypical {
			t.Errorf("%s, %s: %d operations sent another pattern (totals %v to %v)", c.Row, c.Op,
				c.StorageAtypical, c.StorageTotal.Min, c.StorageTotal.Max)
		}
		if c.LatencyMs.N == 0 {
			t.Errorf("%s, %s: no latency samples", c.Row, c.Op)
		}
	}
	for row, ops := range want {
		if seen[row] != len(ops) {
			t.Errorf("%s: %d operations measured, want %d", row, seen[row], len(ops))
		}
	}
}
