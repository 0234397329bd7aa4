package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

// cliClock is the clock of the client subcommands; tests replace it.
var cliClock = client.SystemClock()

// defaultTTL is RedDB's default lease TTL.
const defaultTTL = 60 * time.Second

// leaseFlags are the request fields, shared by the subcommands that name
// them.
type leaseFlags struct {
	common      commonFlags
	key         string
	holder      string
	ttl         time.Duration
	term        uint64
	generation  uint64
	currentTerm uint64
}

func newLeaseFlags(name string, e env, timeout time.Duration, fields ...string) (*flag.FlagSet, *leaseFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	f := &leaseFlags{ttl: defaultTTL}
	f.common.register(fs, e, timeout)
	fs.StringVar(&f.key, "key", "", "database key, e.g. clusters/dev/data.rdb (required)")
	for _, field := range fields {
		switch field {
		case "holder":
			fs.StringVar(&f.holder, "holder", "", "holder id, e.g. reddb-0-1 (required)")
		case "ttl":
			fs.Var(ttlFlag{&f.ttl}, "ttl", "lease TTL: a duration (60s) or milliseconds (60000)")
		case "term":
			fs.Uint64Var(&f.term, "term", 0, "replication term to stamp (default: the service's, 1)")
		case "generation":
			fs.Uint64Var(&f.generation, "generation", 0, "the generation you hold (required)")
		case "current-term":
			fs.Uint64Var(&f.currentTerm, "current-term", 0, "refuse as fenced if the lease's term is behind this term")
		}
	}
	return fs, f
}

// parse parses args and checks the common and required flags. Positional
// arguments are refused unless allowArgs.
func (f *leaseFlags) parse(fs *flag.FlagSet, args []string, allowArgs bool, required ...string) (help bool, err error) {
	if help, err := parseFlags(fs, args); help || err != nil {
		return help, err
	}
	if err := f.common.check(); err != nil {
		return false, err
	}
	if !allowArgs && fs.NArg() > 0 {
		return false, usageError{fmt.Sprintf("unexpected arguments: %q", fs.Args())}
	}
	for _, name := range required {
		var v string
		switch name {
		case "key":
			v = f.key
		case "holder":
			v = f.holder
		case "generation":
			if f.generation > 0 {
				v = "set"
			}
		}
		if err := require(name, v); err != nil {
			return false, err
		}
	}
	return false, nil
}

func (f *leaseFlags) acquireRequest() client.AcquireRequest {
	return client.AcquireRequest{DatabaseKey: f.key, HolderID: f.holder, TTL: f.ttl, Term: f.term}
}

// finish prints a result or an error and returns the error with its
// documented exit status.
func (f *leaseFlags) finish(e env, l lease.Lease, snap *client.Snapshot, err error) error {
	if err != nil {
		printError(e.Stdout, f.common.output, err)
		return withStatus(err)
	}
	return printLease(e.Stdout, f.common.output, l, snap)
}

// call builds the client from the common flags and runs do under the
// --timeout bound.
func (f *leaseFlags) call(ctx context.Context, do func(context.Context, *client.Client) error) error {
	c, err := f.common.newClient(ctx, cliClock)
	if err != nil {
		return withStatus(err)
	}
	ctx, cancel := f.common.withTimeout(ctx)
	defer cancel()
	return do(ctx, c)
}

func runAcquire(ctx context.Context, e env, args []string) error {
	fs, f := newLeaseFlags("acquire", e, 30*time.Second, "holder", "ttl", "term")
	if help, err := f.parse(fs, args, false, "key", "holder"); help || err != nil {
		return err
	}
	return f.call(ctx, func(ctx context.Context, c *client.Client) error {
		g, err := c.Acquire(ctx, f.acquireRequest())
		return f.finish(e, g.Lease, nil, err)
	})
}

func runRefresh(ctx context.Context, e env, args []string) error {
	fs, f := newLeaseFlags("refresh", e, 30*time.Second, "holder", "ttl", "generation", "current-term", "term")
	if help, err := f.parse(fs, args, false, "key", "holder", "generation"); help || err != nil {
		return err
	}
	return f.call(ctx, func(ctx context.Context, c *client.Client) error {
		g, err := c.Refresh(ctx, client.RefreshRequest{DatabaseKey: f.key, HolderID: f.holder, Generation: f.generation,
			TTL: f.ttl, CurrentTerm: f.currentTerm, Term: f.term})
		return f.finish(e, g.Lease, nil, err)
	})
}

func runRelease(ctx context.Context, e env, args []string) error {
	fs, f := newLeaseFlags("release", e, 30*time.Second, "holder", "generation")
	if help, err := f.parse(fs, args, false, "key", "holder", "generation"); help || err != nil {
		return err
	}
	return f.call(ctx, func(ctx context.Context, c *client.Client) error {
		l, err := c.Release(ctx, client.ReleaseRequest{DatabaseKey: f.key, HolderID: f.holder, Generation: f.generation})
		return f.finish(e, l, nil, err)
	})
}

func runGet(ctx context.Context, e env, args []string) error {
	fs, f := newLeaseFlags("get", e, 30*time.Second)
	// The key may also be the one positional argument, before or after the
	// flags: redlease get clusters/dev/data.rdb --output json.
	var positional []string
	for {
		if help, err := f.parse(fs, args, true); help || err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(positional) == 1 && f.key == "":
		f.key = positional[0]
	case len(positional) > 0:
		return usageError{fmt.Sprintf("unexpected arguments: %q", positional)}
	}
	if err := require("key", f.key); err != nil {
		return err
	}
	return f.call(ctx, func(ctx context.Context, c *client.Client) error {
		snap, err := c.Get(ctx, f.key)
		return f.finish(e, snap.Lease, &snap, err)
	})
}

func runWait(ctx context.Context, e env, args []string) error {
	fs, f := newLeaseFlags("wait", e, 0, "holder", "ttl", "term")
	if help, err := f.parse(fs, args, false, "key", "holder"); help || err != nil {
		return err
	}
	return f.call(ctx, func(ctx context.Context, c *client.Client) error {
		g, err := c.Wait(ctx, f.acquireRequest(), &client.WaitOptions{OnHeld: func(h *lease.HeldError, d time.Duration) {
			fmt.Fprintf(e.Stderr, "redlease wait: held by %q (generation %d); retrying in %v\n",
				h.Current.HolderID, h.Current.Generation, d.Round(time.Millisecond))
		}})
		return f.finish(e, g.Lease, nil, err)
	})
}
