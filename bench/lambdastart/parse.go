package lambdastart

import (
	"regexp"
	"strconv"
)

// Log holds what one emulator's output says about its execution
// environment: the init phase and each invoke, in order.
type Log struct {
	// InitMs is the RIE's INIT REPORT: from starting the bootstrap to its
	// first call for work (configuration, SDK clients, store), so the
	// process start and the function's whole set-up.
	InitMs float64
	// InvokeMs are the RIE's INVOKE RTDONE durations: the handler's time
	// for each invoke, as Lambda bills it (without init).
	InvokeMs []float64
	// StorageCalls are the storage calls each API request log line
	// reports ("storage_calls"), in order; the sweep logs none.
	StorageCalls []int
	// InvokeOK counts invokes whose RTDONE status was success.
	InvokeOK int
}

var (
	initReport   = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	invokeDone   = regexp.MustCompile(`INVOKE RTDONE\(status: ([a-z]+)[^)]*duration: ([0-9.]+)ms\)`)
	storageCalls = regexp.MustCompile(`"msg":"request".*"storage_calls":([0-9]+)`)
)

// ParseLog reads an RIE's combined output.
func ParseLog(out string) Log {
	var l Log
	if m := initReport.FindStringSubmatch(out); m != nil {
		l.InitMs, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range invokeDone.FindAllStringSubmatch(out, -1) {
		d, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		l.InvokeMs = append(l.InvokeMs, d)
		if m[1] == "success" {
			l.InvokeOK++
		}
	}
	for _, m := range storageCalls.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		l.StorageCalls = append(l.StorageCalls, n)
	}
	return l
}

var vmHWM = regexp.MustCompile(`(?m)^VmHWM:\s+([0-9]+) kB`)

// PeakRSSKiB reads VmHWM (the resident set's high-water mark) from the
// text of /proc/<pid>/status; 0 when absent.
func PeakRSSKiB(status string) int {
	m := vmHWM.FindStringSubmatch(status)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
