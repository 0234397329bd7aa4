package serverload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Alloc is one benchmark's line from `go test -bench -benchmem`.
type Alloc struct {
	Name        string  `json:"name"` // without the -GOMAXPROCS suffix
	Iterations  int     `json:"iterations"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
}

// AllocsCommand is the command MeasureAllocs runs, for the report.
func AllocsCommand(benchtime string) []string {
	return []string{"go", "test", "-run", "^$", "-bench", "^BenchmarkServicePath$", "-benchmem",
		"-benchtime", benchtime, "-count", "1", "./bench/serverload/"}
}

// MeasureAllocs runs the service-path benchmarks with go test in repoRoot
// and parses their results.
func MeasureAllocs(ctx context.Context, repoRoot, benchtime string) ([]Alloc, error) {
	args := AllocsCommand(benchtime)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...) //nolint:gosec // a fixed go test command line
	cmd.Dir = repoRoot
	cmd.Env = append(cmd.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
	}
	allocs := ParseBench(out)
	if len(allocs) == 0 {
		return nil, fmt.Errorf("%s printed no benchmark lines:\n%s", strings.Join(args, " "), out)
	}
	return allocs, nil
}

// ParseBench reads the result lines of `go test -bench -benchmem` output.
func ParseBench(out []byte) []Alloc {
	var res []Alloc
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		a := Alloc{Name: trimProcs(f[0]), Iterations: n}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				a.NsPerOp = v
			case "B/op":
				a.BytesPerOp = v
			case "allocs/op":
				a.AllocsPerOp = v
			}
		}
		res = append(res, a)
	}
	return res
}

// trimProcs drops the "-8" GOMAXPROCS suffix go test adds to a name.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}
