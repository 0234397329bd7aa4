//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// Output names of the stack (infra/stack/ops.go).
const (
	outAPIURL       = "ApiUrl"
	outBucket       = "LeaseBucketName"
	outTable        = "LeaseTableName"
	outEventBus     = "EventBusName"
	outCallerPolicy = "CallerPolicyArn"
)

// deployment is one deployed stack. Everything a test knows about it comes
// from the stack's outputs and resources, read back from CloudFormation.
type deployment struct {
	emu     *emulator
	storage string // "s3" or "dynamodb"
	stack   string
	scope   string // for the phase log: emulator/storage
	dir     string // the cloud assembly and the CLI logs
	outputs map[string]string
	// api is ApiUrl as this emulator serves it (see emulatorAPIURL).
	api string
}

// deploy synthesises and deploys the real stack for storage on emu with the
// project's CDK CLI and app, and registers its teardown. It is the one place
// a stack is created; later faces (more outputs, more routes) need nothing
// here but the context they select.
func deploy(ctx context.Context, t *testing.T, emu *emulator, storage string) *deployment {
	t.Helper()
	emu.ensureBootstrapped(ctx, t)
	d := &deployment{
		emu:     emu,
		storage: storage,
		stack:   "redlease-e2e-" + emu.name + "-" + storage,
		scope:   emu.name + "/" + storage,
	}
	var err error
	if d.dir, err = os.MkdirTemp("", d.stack+"-"); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy",
		"--app", harness.cdkApp,
		"--output", filepath.Join(d.dir, "cdk.out"),
		"--require-approval", "never",
		"-c", "storage=" + storage,
		"-c", "stackName=" + d.stack,
		"-c", "lambdaDir=" + harness.lambdaDir,
		"-c", "emulator=" + emu.context,
	}
	if emu.iam {
		// A tenant's caller policy, which only IAM enforcement can test.
		args = append(args, "-c", "tenantPrefixes="+tenantPrefix)
	}
	end := phases.start(t, d.scope, "cdk deploy")
	err = emu.cdk(ctx, t, d.dir, "deploy", args...)
	// Registered even when the deploy failed: a half-created stack is torn
	// down too.
	t.Cleanup(func() { d.destroy(t) })
	end()
	if err != nil {
		t.Fatal(err)
	}
	d.outputs = d.describeOutputs(ctx, t)
	t.Logf("%s outputs: %v", d.stack, d.outputs)
	if d.api, err = emulatorAPIURL(d.output(t, outAPIURL), emu.endpoint); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *deployment) output(t *testing.T, name string) string {
	t.Helper()
	v, ok := d.outputs[name]
	if !ok || v == "" {
		t.Fatalf("stack %s has no output %s (outputs: %v)", d.stack, name, d.outputs)
	}
	return v
}

func (d *deployment) cfn() *cloudformation.Client {
	return cloudformation.NewFromConfig(d.emu.awsConfig(rootCredentials))
}

func (d *deployment) describeOutputs(ctx context.Context, t *testing.T) map[string]string {
	t.Helper()
	out, err := d.cfn().DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(d.stack)})
	if err != nil || len(out.Stacks) != 1 {
		t.Fatalf("DescribeStacks %s: %v (%d stacks)", d.stack, err, len(out.Stacks))
	}
	st := out.Stacks[0]
	if st.StackStatus != cfntypes.StackStatusCreateComplete {
		t.Fatalf("stack %s is %s", d.stack, st.StackStatus)
	}
	m := map[string]string{}
	for _, o := range st.Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m
}

// physicalID finds the one resource of typ whose logical id matches re.
func (d *deployment) physicalID(ctx context.Context, t *testing.T, typ string, re *regexp.Regexp) string {
	t.Helper()
	out, err := d.cfn().DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(d.stack)})
	if err != nil {
		t.Fatalf("DescribeStackResources %s: %v", d.stack, err)
	}
	var found []string
	for _, r := range out.StackResources {
		if aws.ToString(r.ResourceType) == typ && re.MatchString(aws.ToString(r.LogicalResourceId)) {
			found = append(found, aws.ToString(r.PhysicalResourceId))
		}
	}
	if len(found) != 1 {
		t.Fatalf("stack %s: want one %s matching %s, found %v", d.stack, typ, re, found)
	}
	return found[0]
}

// destroy tears the stack down with the CDK CLI and checks that it is gone
// while the lease storage, retained by design, is still there.
func (d *deployment) destroy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	defer phases.start(t, d.scope, "cdk destroy")()
	assembly := filepath.Join(d.dir, "cdk.out")
	if _, err := os.Stat(filepath.Join(assembly, "manifest.json")); err != nil {
		t.Errorf("%s: no cloud assembly to destroy from: %v", d.stack, err)
		return
	}
	if err := d.emu.cdk(ctx, t, d.dir, "destroy", "destroy", "--app", assembly, "--force", d.stack); err != nil {
		t.Errorf("%s: %v", d.stack, err)
		return
	}
	_, err := d.cfn().DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(d.stack)})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("%s still described after destroy (err %v)", d.stack, err)
	}
	if d.outputs != nil && !t.Failed() {
		d.checkStorageRetained(ctx, t)
	}
	if !t.Failed() {
		os.RemoveAll(d.dir)
	}
}

// emulatorAPIURL maps the stack's ApiUrl output
// (https://{id}.execute-api.{region}.amazonaws.com/) to the address
// MiniStack serves that API at: {endpoint}/_aws/execute-api/{id}. Go cannot
// resolve MiniStack's host-style names (*.execute-api.localhost); the path
// form reaches the same API, stage and routes.
func emulatorAPIURL(apiURL, endpoint string) (string, error) {
	u, err := url.Parse(apiURL)
	if err != nil {
		return "", fmt.Errorf("ApiUrl %q: %w", apiURL, err)
	}
	id, rest, ok := strings.Cut(u.Hostname(), ".")
	if !ok || !strings.HasPrefix(rest, "execute-api.") || id == "" {
		return "", fmt.Errorf("ApiUrl %q is not an execute-api URL", apiURL)
	}
	return strings.TrimRight(endpoint, "/") + "/_aws/execute-api/" + id + strings.TrimRight(u.Path, "/"), nil
}
