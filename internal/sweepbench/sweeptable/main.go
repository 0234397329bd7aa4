// Command sweeptable prints the table of `make bench-sweep`: it reads the
// sweep benchmarks' `go test -bench` output on stdin and writes requests
// per run and monthly costs as Markdown. -before names a file of the same
// output measured on an earlier version, to show what each row saves.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/redlease/redlease/internal/sweepbench"
)

func main() {
	before := flag.String("before", "", "benchmark output of an earlier version to compare with")
	flag.Parse()
	if err := run(*before); err != nil {
		fmt.Fprintln(os.Stderr, "sweeptable:", err)
		os.Exit(1)
	}
}

func run(beforeFile string) error {
	rows, err := sweepbench.Parse(os.Stdin)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("no sweep benchmark results on stdin")
	}
	var before []sweepbench.Row
	if beforeFile != "" {
		f, err := os.Open(beforeFile)
		if err != nil {
			return err
		}
		defer f.Close()
		if before, err = sweepbench.Parse(f); err != nil {
			return fmt.Errorf("%s: %w", beforeFile, err)
		}
	}
	return sweepbench.Table(os.Stdout, rows, before)
}
