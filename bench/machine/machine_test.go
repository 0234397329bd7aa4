package machine

import (
	"context"
	"testing"
)

func TestParseCPUInfo(t *testing.T) {
	t.Parallel()
	cpuinfo := []byte("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\ncpu MHz\t\t: 2400.000\nflags\t\t: fpu vme hypervisor lahf_lm\n\n" +
		"processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\ncpu MHz\t\t: 2400.000\nflags\t\t: fpu vme hypervisor\n")
	var in Info
	parseCPUInfo(cpuinfo, &in)
	if in.CPUs != 2 || in.CPU != "Intel(R) Xeon(R) Processor" || in.CPUMHz != "2400.000" || !in.Hypervisor {
		t.Errorf("parseCPUInfo = %+v", in)
	}
}

func TestField(t *testing.T) {
	t.Parallel()
	if got := field([]byte("MemTotal:       24567412 kB\nMemFree: 1 kB\n"), "MemTotal"); got != "24567412 kB" {
		t.Errorf("field = %q", got)
	}
}

func TestReadOnThisMachine(t *testing.T) {
	t.Parallel()
	in := Read(context.Background())
	if in.Go == "" || in.GOMAXPROCS < 1 {
		t.Errorf("Read = %+v", in)
	}
}

func TestGiB(t *testing.T) {
	t.Parallel()
	if got := gib("24731184 kB"); got != "23.6 GiB" {
		t.Errorf("gib = %q", got)
	}
	if got := gib("odd"); got != "odd" {
		t.Errorf("gib(odd) = %q", got)
	}
}
