package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/redlease/redlease/infra/stack"
)

func fakeLambdas(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range stack.FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func ctxOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestContextDefaults(t *testing.T) {
	dir := fakeLambdas(t)
	p, name, err := propsFromContext(ctxOf(map[string]string{"lambdaDir": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if name != "redlease-s3" || p.Storage != stack.StorageS3 || p.LambdaDir != dir {
		t.Errorf("got %q %q %q", name, p.Storage, p.LambdaDir)
	}
	if p.DisableConditionalWriteEnforcement || p.DisableTracing || p.CustomDomain != nil || p.Env != nil {
		t.Errorf("unexpected non-defaults: %+v", p)
	}
}

func TestContextValues(t *testing.T) {
	dir := fakeLambdas(t)
	p, name, err := propsFromContext(ctxOf(map[string]string{
		"lambdaDir":                dir,
		"storage":                  "dynamodb",
		"stackName":                "lease-prod",
		"ttlMinMs":                 "500",
		"ttlMaxMs":                 "60000",
		"apiTimeout":               "8s",
		"sweepMemoryMb":            "1024",
		"throttleRate":             "50",
		"reservedConcurrency":      "sweep=1, acquire=20",
		"provisionedConcurrency":   "refresh=3",
		"enforceConditionalWrites": "false",
		"domainName":               "lease.example.com",
		"certificateArn":           "arn:aws:acm:eu-west-1:1:certificate/x",
		"logRetention":             "one_year",
		"region":                   "eu-west-1",
		"tenantPrefixes":           "tenants/a/, tenants/b/,",
		"tokenFunctions":           "lease",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if name != "lease-prod" || p.Storage != stack.StorageDynamoDB {
		t.Errorf("name %q storage %q", name, p.Storage)
	}
	if p.TTLMinMs != 500 || p.TTLMaxMs != 60000 || p.APITimeout != 8*time.Second || p.SweepMemoryMB != 1024 || p.ThrottleRateLimit != 50 {
		t.Errorf("numbers: %+v", p)
	}
	if !reflect.DeepEqual(p.ReservedConcurrency, map[string]int{"sweep": 1, "acquire": 20}) ||
		!reflect.DeepEqual(p.ProvisionedConcurrency, map[string]int{"refresh": 3}) {
		t.Errorf("concurrency %v %v", p.ReservedConcurrency, p.ProvisionedConcurrency)
	}
	if !p.DisableConditionalWriteEnforcement || p.CustomDomain == nil || p.CustomDomain.DomainName != "lease.example.com" {
		t.Errorf("flags/domain %+v", p)
	}
	if p.LogRetention != "ONE_YEAR" || p.Env == nil || *p.Env.Region != "eu-west-1" || p.Env.Account != nil {
		t.Errorf("retention %q env %+v", p.LogRetention, p.Env)
	}
	if !reflect.DeepEqual(p.TenantPrefixes, []string{"tenants/a/", "tenants/b/"}) || !reflect.DeepEqual(p.TokenFunctions, []string{"lease"}) {
		t.Errorf("tenant prefixes %q, token functions %q", p.TenantPrefixes, p.TokenFunctions)
	}
}

func TestContextErrors(t *testing.T) {
	dir := fakeLambdas(t)
	for name, ctx := range map[string]map[string]string{
		"missing binaries": {"lambdaDir": t.TempDir()},
		"bad storage":      {"lambdaDir": dir, "storage": "sqlite"},
		"bad number":       {"lambdaDir": dir, "ttlMinMs": "soon"},
		"bad duration":     {"lambdaDir": dir, "apiTimeout": "10"},
		"bad counts":       {"lambdaDir": dir, "reservedConcurrency": "sweep"},
		"unknown function": {"lambdaDir": dir, "reservedConcurrency": "cleanup=1"},
		"domain sans cert": {"lambdaDir": dir, "domainName": "lease.example.com"},
		"tenant prefix":    {"lambdaDir": dir, "tenantPrefixes": "tenants/a"},
	} {
		if _, _, err := propsFromContext(ctxOf(ctx)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
