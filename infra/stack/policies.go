package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// buildCallerPolicies creates the managed policies operators attach to the
// callers' roles:
//
//   - CallerPolicy: every caller route (body-key and path-key) on every
//     key, this API's default stage only. The policy of a deployment with
//     one tenant, or of callers that must use the body-key routes, which
//     no policy can scope by key. Kept as it always was.
//   - one tenant policy per Props.TenantPrefixes entry: the path-key
//     routes only (acquire, refresh, release, read), only under the
//     prefix. Nothing else: not the body-key routes, not the admin route.
//   - AdminPolicy: the break-glass route, on every key, and nothing else.
//
// The service itself gives IAM callers every key: the IAM policy on the
// path is what scopes them, and the lease's principal (the role) is what
// keeps tenants sharing a prefix from each other's leases.
func (s *LeaseStack) buildCallerPolicies(a *api) {
	arn := func(method, path string) *string {
		return a.http.ArnForExecuteApi(jsii.String(method), jsii.String(path), jsii.String(StageName))
	}
	var all, admin []*string
	for _, r := range Routes {
		for _, m := range r.Methods {
			if r.Function == FnAdmin {
				admin = append(admin, arn(string(m), arnPath(r.Path)))
			} else {
				all = append(all, arn(string(m), arnPath(r.Path)))
			}
		}
	}
	invoke := func(id, sid, description string, resources []*string) awsiam.ManagedPolicy {
		return awsiam.NewManagedPolicy(s.Stack, jsii.String(id), &awsiam.ManagedPolicyProps{
			Description: jsii.String(description + " (" + *s.StackName() + ")"),
			Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String(sid),
				Actions:   jsii.Strings("execute-api:Invoke"),
				Resources: &resources,
			})},
		})
	}
	s.CallerPolicy = invoke("CallerPolicy", "InvokeLeaseRoutes",
		"Attach to RedDB instance roles: call the redlease lease API on every key (all-keys policy; per-tenant policies scope the path routes)", all)
	s.AdminPolicy = invoke("AdminPolicy", "InvokeBreakGlassRoute",
		"Attach to operators' break-glass roles only: release any holder's lease on any key", admin)
	s.TenantPolicies = map[string]awsiam.ManagedPolicy{}
	for _, prefix := range s.Props.TenantPrefixes {
		var scoped []*string
		for _, r := range Routes {
			literal, inPath := r.keyPrefix()
			if !inPath || r.Function == FnAdmin {
				continue
			}
			for _, m := range r.Methods {
				scoped = append(scoped, arn(string(m), literal+prefix+"*"))
			}
		}
		s.TenantPolicies[prefix] = invoke(TenantPolicyID(prefix), "InvokeLeaseRoutesUnderPrefix",
			"Attach to the roles of tenant "+prefix+": the lease routes with the key in the path, keys under "+prefix+" only", scoped)
	}
}

// TenantPolicyID is the construct id (and the output id, with "Arn") of
// the policy of a tenant prefix: its letters and digits, then a hash of
// the whole prefix, so that it is stable when prefixes are added or
// reordered (a changed id would replace the policy and detach it from
// every role) and distinct for prefixes that differ only in punctuation.
func TenantPolicyID(prefix string) string {
	var b strings.Builder
	b.WriteString("TenantPolicy")
	for _, seg := range strings.Split(prefix, "/") {
		for i, c := range seg {
			switch {
			case c >= 'a' && c <= 'z' && i == 0:
				b.WriteRune(c - 'a' + 'A')
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
				b.WriteRune(c)
			}
		}
	}
	sum := sha256.Sum256([]byte(prefix))
	b.WriteString(hex.EncodeToString(sum[:4]))
	return b.String()
}
