package cost

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestWorkloadOfRedDBDefaults(t *testing.T) {
	t.Parallel()
	if got := RedDBDefaults.Refreshes(); got != 129600 {
		t.Errorf("refreshes per 30-day month every 20 s = %v, want 129600", got)
	}
	if got := RedDBDefaults.SweepRuns(); got != 43200 {
		t.Errorf("sweep runs per month every minute = %v, want 43200", got)
	}
}

func TestUnits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		counts map[string]float64
		bytes  int
		want   Op
	}{
		{"RedDB refresh", map[string]float64{"HEAD": 3, "GET": 1, "PUT": 1}, 0, Op{S3ClassA: 1, S3ClassB: 4}},
		{"RedDB release", map[string]float64{"HEAD": 2, "GET": 1, "DELETE": 1}, 0, Op{S3ClassB: 3, S3Free: 1}},
		{"DynamoDB cold refresh", map[string]float64{"GetItem": 1, "PutItem": 1}, 200, Op{WRU: 1, RRU: 1}},
		{"an item over 1 KB writes 2 units", map[string]float64{"PutItem": 1}, 1500, Op{WRU: 2}},
		{"unknown labels cost nothing", map[string]float64{"OPTIONS": 1}, 0, Op{}},
	}
	for _, tc := range tests {
		if got := Units(tc.counts, tc.bytes); got != tc.want {
			t.Errorf("%s: Units = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestBilledMs(t *testing.T) {
	t.Parallel()
	for _, tc := range [][2]float64{{7.2, 8}, {8, 8}, {0.01, 1}, {0, 0}, {math.NaN(), 0}} {
		if got := BilledMs(tc[0]); got != tc[1] {
			t.Errorf("BilledMs(%v) = %v, want %v", tc[0], got, tc[1])
		}
	}
}

// TestMonthByHand checks the model against sums done by hand at the list
// prices: $5 per million PUTs, $0.40 per million GET/HEAD, $1 per million
// API requests, $0.20 per million invocations, $0.0000133334 per GB-s,
// $0.625 per million WRU, $0.125 per million RRU.
func TestMonthByHand(t *testing.T) {
	t.Parallel()
	b := ListPrices
	w := RedDBDefaults
	reddb := b.Month(Scenario{
		Refresh: Units(map[string]float64{"HEAD": 3, "GET": 1, "PUT": 1}, 0),
		Acquire: Units(map[string]float64{"HEAD": 3, "GET": 2, "PUT": 1}, 0),
	}, w, SweepRun{})
	// 129,600 x (5e-6 + 4 x 4e-7) + (5e-6 + 5 x 4e-7)
	if want := 129600*6.6e-6 + 7e-6; !near(reddb.Total, want) || reddb.Sweep.Total() != 0 {
		t.Errorf("RedDB's own S3 lease: $%v a month, sweep $%v; want $%v and none", reddb.Total, reddb.Sweep.Total(), want)
	}
	ddb := b.Month(Scenario{
		Refresh: Units(map[string]float64{"GetItem": 1, "PutItem": 1}, 200).WithFront(1, 7.2, APIMemoryMB),
		Sweep:   true,
	}, w, DynamoDBSweep(10000, 500, 200, 0.01))
	// per refresh: 1e-6 + 2e-7 + 8 ms x 0.25 GB x 1.33334e-5 + 6.25e-7 + 1.25e-7
	perRefresh := 1e-6 + 2e-7 + 0.008*0.25*0.0000133334 + 6.25e-7 + 1.25e-7
	if want := 129600 * perRefresh; !near(ddb.Lease.Total(), want) {
		t.Errorf("redlease on DynamoDB: lease $%v, want $%v", ddb.Lease.Total(), want)
	}
	// sweep: 20 pages of 500 x 200 B = 25 RRU each; 100 ms at 512 MB; a
	// 10,000th of 43,200 runs.
	perRun := 500*1.25e-7 + 2e-7 + 0.1*0.5*0.0000133334
	if want := perRun * 43200 / 10000; !near(ddb.Sweep.Total(), want) {
		t.Errorf("sweep share $%v, want $%v", ddb.Sweep.Total(), want)
	}
	if ddb.Sweep.APIGateway != 0 {
		t.Error("the scheduled sweep was billed for API Gateway requests")
	}
}

func TestSweepScaling(t *testing.T) {
	t.Parallel()
	s3 := S3Sweep(10000, 500, 1, 0.05)
	if s3.Op.S3ClassA != 20 || s3.Op.S3ClassB != 10000 || s3.Op.LambdaMs != 500 || s3.Op.Invocations != 1 {
		t.Errorf("S3Sweep = %+v", s3.Op)
	}
	if got := S3Sweep(2500, 5000, 1, 0).Op.S3ClassA; got != 3 {
		t.Errorf("S3 pages of at most 1,000 keys: %v listings for 2,500, want 3", got)
	}
	d := DynamoDBSweep(1001, 500, 200, 0)
	// pages of 500, 500, 1 items: 25 + 25 + 1 read units
	if d.Op.RRU != 51 {
		t.Errorf("DynamoDBSweep RRU = %v, want 51", d.Op.RRU)
	}
}

// TestMemorySizesMatchTheStack keeps the model's memory sizes equal to the
// stack's defaults (infra is its own module, so it reads the source).
func TestMemorySizesMatchTheStack(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "infra", "stack", "props.go"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"DefaultAPIMemoryMB": APIMemoryMB, "DefaultSweepMemoryMB": SweepMemoryMB,
		"DefaultSweepTimeout": SweepTimeoutSeconds} { // "= 50 * time.Second"
		m := regexp.MustCompile(name + `\s*=\s*(\d+)`).FindSubmatch(src)
		if m == nil {
			t.Errorf("%s not found in infra/stack/props.go", name)
			continue
		}
		if got, _ := strconv.Atoi(string(m[1])); got != want {
			t.Errorf("%s is %d in the stack, %d here", name, got, want)
		}
	}
}

func TestEveryPriceHasASource(t *testing.T) {
	t.Parallel()
	for _, p := range ListPrices.List() {
		if p.Source == "" || p.Read != PricesRead || p.Per <= 0 || p.Unit == "" {
			t.Errorf("price %+v lacks a source, date, or unit", p)
		}
	}
}
