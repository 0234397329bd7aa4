package sweepbench

import (
	"math"
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/redlease/redlease/pkg/backend/s3
BenchmarkSweepSteady/keys=100000-2         	       3	1100496460 ns/op	      9000 changed/run	      1000 events/run	      1000 expired/run	       100.0 lists/run	      1100 ms/run	         0 other/run	       127.0 putevents/run	      9001 reads/run	         0 rru/run	   2231182 state-bytes	      1001 writes/run
PASS
pkg: github.com/redlease/redlease/pkg/backend/dynamodb
BenchmarkSweepEmulator/keys=10000-2   1   900000000 ns/op   11 lists/run   1 reads/run   101 writes/run   100 events/run   450 rru/run   900 ms/run
ok  	github.com/redlease/redlease/pkg/backend/dynamodb	19.574s
`

func TestParseAndCost(t *testing.T) {
	t.Parallel()
	rows, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	s3, ddb := rows[0], rows[1]
	if s3.Backend != "S3" || s3.Where != "in process" || s3.Keys != 100_000 || s3.Runs != 3 || s3.Metric("reads") != 9001 {
		t.Errorf("S3 row %+v", s3)
	}
	if ddb.Backend != "DynamoDB" || ddb.Where != "moto" || ddb.Keys != 10_000 || ddb.Metric("rru") != 450 {
		t.Errorf("DynamoDB row %+v", ddb)
	}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		// (100 lists + 1001 PUTs) class A, 9001 GETs class B, 43,800 runs.
		{"S3 storage", StorageCost(s3), (1101*0.005/1000 + 9001*0.0004/1000) * 43_800},
		// (450 + 1) read units, 101 write units.
		{"DynamoDB storage", StorageCost(ddb), (451*0.125/1e6 + 101*0.625/1e6) * 43_800},
		{"events", EventCost(ddb), 100 * 1e-6 * 43_800},
	} {
		if math.Abs(tc.got-tc.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	var out strings.Builder
	if err := Table(&out, rows, []Row{{Backend: "S3", Where: "in process", Keys: 100_000, Metrics: map[string]float64{"reads/run": 100_000}}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| S3 | in process | 100,000 | 100 | 9,001 | 1,001 |", "(was $", "| DynamoDB | moto | 10,000 |", "read 2026-12-02", "43,800 runs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseRefusesBrokenLines(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"no package":    "BenchmarkSweepSteady/keys=1-2 1 1 ns/op 1 lists/run 1 reads/run 1 writes/run 1 events/run 1 ms/run",
		"odd fields":    "pkg: x/pkg/backend/s3\nBenchmarkSweepSteady/keys=1-2 1 1 ns/op 1",
		"no keys":       "pkg: x/pkg/backend/s3\nBenchmarkSweepSteady/n=1-2 1 1 ns/op 1 lists/run 1 reads/run 1 writes/run 1 events/run 1 ms/run",
		"bad value":     "pkg: x/pkg/backend/s3\nBenchmarkSweepSteady/keys=1-2 1 x ns/op 1 lists/run 1 reads/run 1 writes/run 1 events/run 1 ms/run",
		"not a number":  "pkg: x/pkg/backend/s3\nBenchmarkSweepSteady/keys=1-2 1 1 ns/op NaN lists/run 1 reads/run 1 writes/run 1 events/run 1 ms/run",
		"missing lists": "pkg: x/pkg/backend/s3\nBenchmarkSweepSteady/keys=1-2 1 1 ns/op 1 reads/run 1 writes/run 1 events/run 1 ms/run",
	} {
		if rows, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("%s: Parse = %+v, want an error", name, rows)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("pkg: a/pkg/backend/s3\nBenchmarkSweepSteady/keys=5-2 1 2 ns/op 1 lists/run 1 reads/run 1 writes/run 1 events/run 1 ms/run")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Keys <= 0 || r.Runs <= 0 || (r.Backend != "S3" && r.Backend != "DynamoDB") {
				t.Fatalf("Parse accepted %+v", r)
			}
			if c := StorageCost(r); c < 0 || math.IsNaN(c) {
				t.Fatalf("cost %v of %+v", c, r)
			}
		}
		var out strings.Builder
		if err := Table(&out, rows, rows); err != nil {
			t.Fatal(err)
		}
	})
}
