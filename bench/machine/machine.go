// Package machine describes the computer a benchmark ran on, from
// /proc/cpuinfo, /proc/meminfo, /proc/loadavg and uname, so that a report
// names its hardware and how busy it was.
package machine

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Info is what the report prints about the machine.
type Info struct {
	CPU        string `json:"cpu"`           // model name
	CPUs       int    `json:"cpus"`          // logical processors in /proc/cpuinfo
	GOMAXPROCS int    `json:"gomaxprocs"`    // what Go uses
	CPUMHz     string `json:"cpu_mhz"`       // as reported
	MemTotal   string `json:"mem_total"`     // from /proc/meminfo
	Uname      string `json:"uname"`         // uname -a
	Go         string `json:"go"`            // runtime.Version
	LoadStart  string `json:"load_start"`    // /proc/loadavg when the run began
	LoadEnd    string `json:"load_end"`      // and when it ended
	Hypervisor bool   `json:"hypervisor"`    // the cpu flags say so
	Disk       string `json:"disk,omitzero"` // file system of the data directory
}

// Read collects Info; fields it cannot read stay empty.
func Read(ctx context.Context) Info {
	in := Info{GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		parseCPUInfo(b, &in)
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		in.MemTotal = gib(field(b, "MemTotal"))
	}
	in.LoadStart = Load()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "uname", "-a").Output(); err == nil {
		in.Uname = strings.TrimSpace(string(out))
	}
	return in
}

// Load is /proc/loadavg's first three figures.
func Load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// DiskOf names the file system holding dir, from df.
func DiskOf(ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "df", "-T", dir).Output() //nolint:gosec // df of the run's own data directory
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 2 {
		return ""
	}
	return f[0] + " (" + f[1] + ")"
}

func parseCPUInfo(b []byte, in *Info) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			in.CPUs++
		case "model name":
			if in.CPU == "" {
				in.CPU = v
			}
		case "cpu MHz":
			if in.CPUMHz == "" {
				in.CPUMHz = v
			}
		case "flags":
			in.Hypervisor = in.Hypervisor || strings.Contains(" "+v+" ", " hypervisor ")
		}
	}
}

func field(b []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// gib turns meminfo's "24731184 kB" into "23.6 GiB".
func gib(kb string) string {
	n, err := strconv.ParseFloat(strings.TrimSuffix(kb, " kB"), 64)
	if err != nil || !strings.HasSuffix(kb, " kB") {
		return kb
	}
	return strconv.FormatFloat(n/(1<<20), 'f', 1, 64) + " GiB"
}
