package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunNeedsTheEmulators(t *testing.T) {
	t.Parallel()
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"-smoke"}, func(string) string { return "" }, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "with-emulators.sh") {
		t.Errorf("run without the emulators' variables: %v, want an error naming the harness", err)
	}
}

func TestCompareUsage(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"compare", "one.json"}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("compare with one file: %v, want the usage", err)
	}
	if err := run(context.Background(), []string{"compare", "/nonexistent/a.json", "/nonexistent/b.json"}, nil, &out, &out); err == nil {
		t.Error("compare of missing files succeeded")
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	if got := commandLine([]string{"-repo", "."}); got != "make bench-report" {
		t.Errorf("commandLine = %q", got)
	}
	if got := commandLine([]string{"-smoke"}); !strings.Contains(got, "-smoke") {
		t.Errorf("commandLine(-smoke) = %q", got)
	}
}

func TestRenderUsage(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"render"}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("render without a file: %v, want the usage", err)
	}
}
