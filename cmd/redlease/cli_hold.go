package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/redlease/redlease/pkg/client"
	"github.com/redlease/redlease/pkg/lease"
)

// Environment variables hold gives the command: the fencing token and what
// it belongs to. EXPIRES_AT_MS is the expiry at start (service clock); the
// lease is refreshed while the command runs.
const (
	envHoldKey        = "REDLEASE_DATABASE_KEY"
	envHoldHolder     = "REDLEASE_HOLDER_ID"
	envHoldTerm       = "REDLEASE_TERM"
	envHoldGeneration = "REDLEASE_GENERATION"
	envHoldExpiresAt  = "REDLEASE_EXPIRES_AT_MS"
	envHoldTTL        = "REDLEASE_TTL_MS"
)

// releaseTimeout bounds the release after the command exits.
const releaseTimeout = 30 * time.Second

// runHold takes the lease, runs the command while a Keeper holds it, stops
// the command (SIGTERM, then SIGKILL after --grace) the moment the lease is
// lost, releases when the command exits, and exits with its status (8 if
// the lease was lost).
func runHold(ctx context.Context, e env, args []string) error {
	fs, f := newLeaseFlags("hold", e, 0, "holder", "ttl", "term", "current-term")
	wait := fs.Bool("wait", false, "wait while another holder has the lease instead of exiting 3")
	grace := fs.Duration("grace", 10*time.Second, "after SIGTERM, how long the command may take to exit before SIGKILL")
	foreground := fs.Bool("foreground", false, "run the command in redlease's process group (for interactive commands); "+
		"by default it gets its own group and every process in it is signalled")
	if help, err := f.parse(fs, args, true, "key", "holder"); help || err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return usageError{"missing the command: redlease hold [flags] -- CMD [ARGS...]"}
	}
	c, err := f.common.newClient(ctx, cliClock)
	if err != nil {
		return withStatus(err)
	}

	g, err := acquireForHold(ctx, e, c, f, *wait)
	if err != nil {
		printError(e.Stdout, f.common.output, err)
		return withStatus(err)
	}
	// The Keeper outlives ctx: on SIGINT/SIGTERM the command is asked to
	// stop and may still need the lease while it shuts down.
	k := c.Keep(context.WithoutCancel(ctx), g, client.KeeperOptions{
		CurrentTerm: f.currentTerm,
		OnRetry: func(err error, deadline time.Time) {
			fmt.Fprintf(e.Stderr, "redlease hold: refresh failed, retrying until the deadline in %v: %v\n",
				deadline.Sub(cliClock.Now()).Round(time.Millisecond), err)
		},
	})
	release := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if err := k.Close(rctx); err != nil {
			fmt.Fprintf(e.Stderr, "redlease hold: release failed (the lease expires by itself): %v\n", err)
		}
	}

	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // running the caller's command is what hold is for
	cmd.Env = append(os.Environ(), holdEnv(g)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.Stdin, e.Stdout, e.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !*foreground}
	cmd.WaitDelay = *grace // output copiers must not outlive a killed command forever
	if err := cmd.Start(); err != nil {
		release()
		return &exitCodeError{code: 127, err: fmt.Errorf("start %q: %w", argv[0], err)}
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	signal := func(sig syscall.Signal) {
		if *foreground {
			_ = cmd.Process.Signal(sig)
		} else {
			_ = syscall.Kill(-cmd.Process.Pid, sig) // the whole group: no grandchild keeps writing
		}
	}
	var killTimer <-chan time.Time
	stopCommand := func() {
		if killTimer == nil {
			signal(syscall.SIGTERM)
			killTimer = time.After(*grace)
		}
	}
	lost, interrupted := k.Done(), ctx.Done()
	var lostErr error
	for {
		select {
		case werr := <-exited:
			if lostErr == nil {
				lostErr = lostWhileRunning(k)
			}
			release()
			return holdResult(werr, lostErr, e)
		case <-lost:
			lost = nil
			lostErr = k.Err()
			fmt.Fprintf(e.Stderr, "redlease hold: %v; stopping the command\n", lostErr)
			stopCommand()
		case <-interrupted:
			interrupted = nil
			fmt.Fprintln(e.Stderr, "redlease hold: interrupted; stopping the command")
			stopCommand()
		case <-killTimer:
			killTimer = nil
			fmt.Fprintf(e.Stderr, "redlease hold: the command did not exit within %v of SIGTERM; killing it\n", *grace)
			signal(syscall.SIGKILL)
		}
	}
}

func acquireForHold(ctx context.Context, e env, c *client.Client, f *leaseFlags, wait bool) (client.Grant, error) {
	actx, cancel := f.common.withTimeout(ctx)
	defer cancel()
	if !wait {
		return c.Acquire(actx, f.acquireRequest())
	}
	return c.Wait(actx, f.acquireRequest(), &client.WaitOptions{OnHeld: func(h *lease.HeldError, d time.Duration) {
		fmt.Fprintf(e.Stderr, "redlease hold: held by %q (generation %d); retrying in %v\n",
			h.Current.HolderID, h.Current.Generation, d.Round(time.Millisecond))
	}})
}

// lostWhileRunning reports a loss the select did not see yet (the lease
// went in the same instant the command exited).
func lostWhileRunning(k *client.Keeper) error {
	var le *client.LostError
	if errors.As(k.Err(), &le) && le.Reason != client.ReasonClosed {
		return le
	}
	return nil
}

func holdEnv(g client.Grant) []string {
	l := g.Lease
	return []string{
		envHoldKey + "=" + l.DatabaseKey,
		envHoldHolder + "=" + l.HolderID,
		envHoldTerm + "=" + strconv.FormatUint(l.Term, 10),
		envHoldGeneration + "=" + strconv.FormatUint(l.Generation, 10),
		envHoldExpiresAt + "=" + strconv.FormatUint(l.ExpiresAtMs, 10),
		envHoldTTL + "=" + strconv.FormatInt(g.TTL.Milliseconds(), 10),
	}
}

// holdResult is hold's exit: 8 when the lease was lost, else the command's
// own status (128+signal when a signal ended it, as shells report it).
func holdResult(werr, lostErr error, e env) error {
	status := 0
	var ee *exec.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
		status = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status = 128 + int(ws.Signal())
			fmt.Fprintf(e.Stderr, "redlease hold: the command was ended by signal %v\n", ws.Signal())
		}
	default:
		return fmt.Errorf("wait for the command: %w", werr)
	}
	if lostErr != nil {
		return &exitCodeError{code: exitLost, err: fmt.Errorf("lease lost while the command ran (command status %d): %w", status, lostErr)}
	}
	if status != 0 {
		return &exitCodeError{code: status, err: fmt.Errorf("the command exited with status %d", status)}
	}
	return nil
}
