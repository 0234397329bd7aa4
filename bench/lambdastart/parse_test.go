package lambdastart

import (
	"slices"
	"testing"
)

// rieOutput is what aws-lambda-rie printed for a cold start and one warm
// invoke of the acquire function (trimmed).
const rieOutput = `02 Dec 2026 01:16:07,632 [INFO] (rapid) exec '/x/acquire/bootstrap' (cwd=/tmp/rie-try, handler=)
START RequestId: 3c801a90 Version: $LATEST
02 Dec 2026 01:16:08,637 [INFO] (rapid) INIT START(type: on-demand, phase: init)
02 Dec 2026 01:16:08,656 [INFO] (rapid) INIT RTDONE(status: success)
02 Dec 2026 01:16:08,656 [INFO] (rapid) INIT REPORT(durationMs: 18.593000)
02 Dec 2026 01:16:08,656 [INFO] (rapid) INVOKE START(requestId: 3c801a90)
{"time":"2026-12-02T01:16:08.673Z","level":"INFO","msg":"request","request_id":"X","route":"acquire","outcome":"ok","status":200,"latency_ms":16.316,"storage_calls":2,"storage_ms":16.233,"generation":1}
{"Latency":16.316,"Operation":"acquire","Outcome":"ok","Requests":1,"_aws":{"Timestamp":1796174168673}}
02 Dec 2026 01:16:08,674 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 17.805000ms)
END RequestId: 3c801a90
REPORT RequestId: 3c801a90	Init Duration: 0.04 ms	Duration: 36.58 ms	Billed Duration: 37 ms	Memory Size: 3008 MB	Max Memory Used: 3008 MB
START RequestId: 3c1af2b8 Version: $LATEST
02 Dec 2026 01:16:08,682 [INFO] (rapid) INVOKE START(requestId: 3c1af2b8)
{"time":"2026-12-02T01:16:08.689Z","level":"INFO","msg":"request","request_id":"X","route":"acquire","outcome":"ok","status":200,"latency_ms":6.148,"storage_calls":1,"storage_ms":6.105,"generation":2}
02 Dec 2026 01:16:08,690 [INFO] (rapid) INVOKE RTDONE(status: error, produced bytes: 0, duration: 7.129000ms)
REPORT RequestId: 3c1af2b8	Duration: 7.34 ms	Billed Duration: 8 ms	Memory Size: 3008 MB	Max Memory Used: 3008 MB
`

func TestParseLog(t *testing.T) {
	t.Parallel()
	got := ParseLog(rieOutput)
	if got.InitMs != 18.593 {
		t.Errorf("InitMs = %v, want 18.593", got.InitMs)
	}
	if want := []float64{17.805, 7.129}; !slices.Equal(got.InvokeMs, want) {
		t.Errorf("InvokeMs = %v, want %v", got.InvokeMs, want)
	}
	if got.InvokeOK != 1 {
		t.Errorf("InvokeOK = %d, want 1 (the second failed)", got.InvokeOK)
	}
	if want := []int{2, 1}; !slices.Equal(got.StorageCalls, want) {
		t.Errorf("StorageCalls = %v, want %v", got.StorageCalls, want)
	}
}

func TestParseLogOfNothing(t *testing.T) {
	t.Parallel()
	got := ParseLog("RIE never started\n")
	if got.InitMs != 0 || len(got.InvokeMs) != 0 || len(got.StorageCalls) != 0 {
		t.Errorf("ParseLog = %+v, want nothing", got)
	}
}

func TestPeakRSSKiB(t *testing.T) {
	t.Parallel()
	status := "Name:\tbootstrap\nVmPeak:\t 1261480 kB\nVmHWM:\t   14336 kB\nVmRSS:\t   14200 kB\n"
	if got := PeakRSSKiB(status); got != 14336 {
		t.Errorf("PeakRSSKiB = %d, want 14336", got)
	}
	if got := PeakRSSKiB("Name:\tx\n"); got != 0 {
		t.Errorf("PeakRSSKiB without VmHWM = %d, want 0", got)
	}
}
