// Command redlease is the local side of redlease: `redlease serve` runs the
// HTTP API on this machine, and the client subcommands talk to a deployed
// or local service. Subcommands live in their own files; the table in
// commands below names each once, so this file only lists and dispatches.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

// env is what a subcommand may touch of the process, so tests can run one
// with their own streams and environment.
type env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// command is one subcommand. Run gets the arguments after the subcommand's
// name and a context cancelled on SIGINT or SIGTERM.
type command struct {
	Summary string // one line for `redlease help`
	Run     func(ctx context.Context, e env, args []string) error
}

// commands is the table of subcommands, by name; a fresh map on every
// call, so nothing can change it behind the dispatcher's back (and a name
// given twice does not compile).
func commands() map[string]command {
	return map[string]command{
		"serve":         {Summary: "run the lease HTTP API locally (file backend in ./.redlease by default)", Run: serve},
		"acquire":       {Summary: "take a lease (exit 3 if another holder has it)", Run: runAcquire},
		"refresh":       {Summary: "extend a lease you hold", Run: runRefresh},
		"release":       {Summary: "give a lease up", Run: runRelease},
		"get":           {Summary: "read a lease and its state", Run: runGet},
		"wait":          {Summary: "take a lease, waiting while another holder has it", Run: runWait},
		"hold":          {Summary: "hold a lease while a command runs: hold [flags] -- CMD [ARGS...]", Run: runHold},
		"force-release": {Summary: "break glass: release whatever lease a key has (admin principals only)", Run: runForceRelease},
		"token":         {Summary: "make a bearer token and its tokens-document entry (the SHA-256, never the token)", Run: runToken},
		"sweep":         {Summary: "run the expiry sweep once over a store and print its result as JSON", Run: runSweep},
	}
}

// usageError marks a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the exit status.
func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(e.Stderr, "redlease: unknown command %q\n", args[0])
		usage(e.Stderr)
		return 2
	}
	err := c.Run(ctx, e, args[1:])
	var (
		ue usageError
		ec interface{ ExitCode() int } // a subcommand's documented status
	)
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.Stderr, "redlease %s: %v\n", args[0], err)
		return 2
	case errors.As(err, &ec):
		fmt.Fprintf(e.Stderr, "redlease %s: %v\n", args[0], err)
		return ec.ExitCode()
	default:
		fmt.Fprintf(e.Stderr, "redlease %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: redlease <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	table := commands()
	for _, name := range slices.Sorted(maps.Keys(table)) {
		fmt.Fprintf(w, "  %-10s %s\n", name, table[name].Summary)
	}
	fmt.Fprintln(w, "\nRun 'redlease <command> -h' for a command's flags.")
}
