package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/redlease/redlease/pkg/auth"
	"github.com/redlease/redlease/pkg/client"
)

// runForceRelease is the break-glass release: it needs an admin principal
// (an admin token, or an IAM role with the stack's admin policy).
func runForceRelease(ctx context.Context, e env, args []string) error {
	fs, f := newLeaseFlags("force-release", e, 30*time.Second)
	reason := fs.String("reason", "", "why, for the service's log (an incident id)")
	if help, err := f.parse(fs, args, false, "key"); help || err != nil {
		return err
	}
	return f.call(ctx, func(ctx context.Context, c *client.Client) error {
		got, err := c.ForceRelease(ctx, f.key, *reason)
		if err != nil {
			printError(e.Stdout, f.common.output, err)
			return withStatus(err)
		}
		if f.common.output == "json" {
			return json.NewEncoder(e.Stdout).Encode(map[string]any{
				"lease": got.Lease, "holder_principal": got.Principal, "already_released": got.AlreadyReleased})
		}
		if err := printLease(e.Stdout, "text", got.Lease, nil); err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "holder_principal=%s\nalready_released=%v\n", got.Principal, got.AlreadyReleased)
		return nil
	})
}

// stringsFlag collects a repeated flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// runToken makes a new bearer token and the tokens-document entry that
// names it: the token goes to the caller, only the entry (its SHA-256) into
// the document.
func runToken(_ context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	name := fs.String("name", "", "the principal, e.g. tenant-a-reddb (required)")
	var prefixes stringsFlag
	fs.Var(&prefixes, "prefix", `a key prefix the token may touch, ending in "/" ("" for every key); repeatable (required)`)
	admin := fs.Bool("admin", false, "allow the break-glass release")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments: %q", fs.Args())}
	}
	if err := require("name", *name); err != nil {
		return err
	}
	if len(prefixes) == 0 {
		return usageError{"--prefix is required"}
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	token := hex.EncodeToString(raw[:])
	entry := auth.Token{Name: *name, SHA256: auth.Hash(token), Prefixes: prefixes, Admin: *admin}
	line, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	// The entry must be one a document accepts: check it as one.
	if _, err := auth.Parse([]byte(`{"tokens":[` + string(line) + `]}`)); err != nil {
		return usageError{strings.TrimPrefix(err.Error(), "tokens document: tokens[0] ")}
	}
	fmt.Fprintf(e.Stdout, "token=%s\nentry=%s\n", token, line)
	return nil
}
