package safety_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

func sampleOps() []safety.Op {
	return []safety.Op{
		{Client: 3, Call: 10, Return: 20,
			Input:  safety.Input{Kind: safety.KindAcquire, Key: "clusters/dev/data.rdb", Holder: "reddb-0", TTLMs: 100, Term: 2},
			Output: safety.Output{Outcome: safety.OutcomeOK, HasLease: true, StartMs: 5, EndMs: 6, Lease: lease.Lease{DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0", Term: 2, Generation: 7, AcquiredAtMs: 5, ExpiresAtMs: 105}}},
		{Client: 4, Call: 11, Return: 19,
			Input:  safety.Input{Kind: safety.KindGet, Key: "main"},
			Output: safety.Output{Outcome: safety.OutcomeNotFound, StartMs: 5, EndMs: 5, Err: "get \"main\": not found"}},
	}
}

func TestOpsRoundTrip(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := safety.EncodeOps(&b, sampleOps()); err != nil {
		t.Fatal(err)
	}
	got, err := safety.DecodeOps(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleOps()
	if len(got) != len(want) {
		t.Fatalf("decoded %d ops, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].String() != want[i].String() || got[i].Output.Lease != want[i].Output.Lease || got[i].Call != want[i].Call {
			t.Errorf("op %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestDecodeOpsRejectsGarbage(t *testing.T) {
	t.Parallel()
	for name, line := range map[string]string{
		"not json":        `{"client":`,
		"unknown field":   `{"client":1,"bogus":2,"input":{"kind":1,"key":"k"},"output":{"outcome":1,"start_ms":1,"end_ms":1},"call":1,"return":2}`,
		"unknown kind":    `{"client":1,"input":{"kind":9,"key":"k"},"output":{"outcome":1,"start_ms":1,"end_ms":1},"call":1,"return":2}`,
		"unknown outcome": `{"client":1,"input":{"kind":1,"key":"k"},"output":{"outcome":0,"start_ms":1,"end_ms":1},"call":1,"return":2}`,
		"inverted stamps": `{"client":1,"input":{"kind":1,"key":"k"},"output":{"outcome":1,"start_ms":1,"end_ms":1},"call":3,"return":2}`,
		"inverted window": `{"client":1,"input":{"kind":1,"key":"k"},"output":{"outcome":1,"start_ms":2,"end_ms":1},"call":1,"return":2}`,
		"trailing data":   `{"client":1,"input":{"kind":1,"key":"k"},"output":{"outcome":1,"start_ms":1,"end_ms":1},"call":1,"return":2} {}`,
	} {
		if _, err := safety.DecodeOps(strings.NewReader(line)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// FuzzDecodeOps: the decoder never panics, and whatever it accepts
// re-encodes to something it decodes to the same ops.
func FuzzDecodeOps(f *testing.F) {
	var b bytes.Buffer
	if err := safety.EncodeOps(&b, sampleOps()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := safety.DecodeOps(bytes.NewReader(data))
		if err != nil {
			return
		}
		var again bytes.Buffer
		if err := safety.EncodeOps(&again, ops); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := safety.DecodeOps(&again)
		if err != nil {
			t.Fatalf("re-decode of %q: %v", again.Bytes(), err)
		}
		if len(back) != len(ops) {
			t.Fatalf("round trip changed %d ops into %d", len(ops), len(back))
		}
		for i := range ops {
			if back[i].String() != ops[i].String() || back[i].Output.Lease != ops[i].Output.Lease {
				t.Fatalf("op %d changed in a round trip: %v -> %v", i, ops[i], back[i])
			}
		}
	})
}
