package lambdastart

import (
	"encoding/json"
	"testing"
)

// FuzzParseLog: any emulator output parses without panicking, and every
// duration it reports is a number it found.
func FuzzParseLog(f *testing.F) {
	f.Add(rieOutput)
	f.Add("INIT REPORT(durationMs: 1e400)\nINVOKE RTDONE(status: success, duration: -1ms)")
	f.Add(`"msg":"request","storage_calls":99999999999999999999`)
	f.Fuzz(func(t *testing.T, out string) {
		l := ParseLog(out)
		if l.InvokeOK > len(l.InvokeMs) {
			t.Errorf("%d successful invokes of %d", l.InvokeOK, len(l.InvokeMs))
		}
		_ = PeakRSSKiB(out)
	})
}

// FuzzWithKey: rewriting any event either fails or yields JSON.
func FuzzWithKey(f *testing.F) {
	for _, name := range []string{"acquire.json", "lease-get.json", "sweep-scheduled.json"} {
		b, err := loadEvent(repoRoot, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "bench/x")
	}
	f.Add([]byte(`{"body":"not json"}`), "k")
	f.Fuzz(func(t *testing.T, event []byte, key string) {
		out, err := withKey(event, key)
		if err == nil && !json.Valid(out) {
			t.Errorf("withKey produced invalid JSON %q", out)
		}
	})
}
