package client_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestCurlSigV4IsAccepted runs the curl command docs/client.md gives to
// callers in other languages against the verifier above (the SDK's signer
// recomputing the signature), so the documented command is known to sign
// the way API Gateway checks. Skipped where curl is absent or too old for
// --aws-sigv4 (7.75).
func TestCurlSigV4IsAccepted(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	if out, _ := exec.Command(curl, "--help", "all").Output(); !strings.Contains(string(out), "--aws-sigv4") {
		t.Skip("curl has no --aws-sigv4")
	}
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: "session-token-1"}
	s := newSignedServer(t, creds, "eu-west-1")
	sign := []string{"-sS", "--fail-with-body", "--aws-sigv4", "aws:amz:eu-west-1:execute-api",
		"--user", creds.AccessKeyID + ":" + creds.SecretAccessKey, "-H", "x-amz-security-token: " + creds.SessionToken}
	calls := [][]string{
		{"-X", "POST", s.srv.URL + "/v1/acquire", "-H", "Content-Type: application/json",
			"-d", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","ttl_ms":60000}`},
		{"-X", "POST", s.srv.URL + "/v1/refresh", "-H", "Content-Type: application/json",
			"-d", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","generation":1,"ttl_ms":60000}`},
		{s.srv.URL + "/v1/leases/clusters/dev/data.rdb"},
		{"-X", "POST", s.srv.URL + "/v1/release", "-H", "Content-Type: application/json",
			"-d", `{"database_key":"clusters/dev/data.rdb","holder_id":"reddb-0-1","generation":1}`},
	}
	for _, args := range calls {
		out, err := exec.Command(curl, append(sign, args...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"lease"`) {
			t.Errorf("curl %v: %v\n%s", args, err, out)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) > 0 || s.verified != len(calls) {
		t.Errorf("verified %d of %d; failures: %v", s.verified, len(calls), s.failures)
	}
	for _, h := range s.headers {
		if a := h.Get("Authorization"); !strings.Contains(a, "x-amz-security-token") {
			t.Errorf("curl did not sign the session token header: %q", a)
		}
	}
}
