package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// The jsii kernel (a node process) starts once per test binary; every stack is
// synthesised once in TestMain and the templates are shared by all tests.
type synthesised struct {
	stack    *LeaseStack
	template assertions.Template
	doc      map[string]any // template as plain JSON for Go-side checks
}

var (
	s3T       *synthesised // default props, s3
	dynamoT   *synthesised // default props, dynamodb
	optionsT  *synthesised // s3 with every optional feature switched on
	variants  map[string]*synthesised
	lambdaDir string
)

func TestMain(m *testing.M) {
	code := func() int {
		defer jsii.Close()
		tmp, err := os.MkdirTemp("", "redlease-infra-test")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(tmp)
		lambdaDir = filepath.Join(tmp, "lambda")
		for _, name := range FunctionNames {
			dir := filepath.Join(lambdaDir, name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				panic(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
				panic(err)
			}
		}
		// Synthesise with the same feature flags the CLI uses.
		app := awscdk.NewApp(&awscdk.AppProps{
			Outdir:  jsii.String(filepath.Join(tmp, "cdk.out")),
			Context: cdkJSONContext(),
		})
		// Build every stack before the first synthesis: the app synthesises once.
		s3 := NewLeaseStack(app, "test-s3", &LeaseStackProps{LambdaDir: lambdaDir})
		dynamo := NewLeaseStack(app, "test-dynamodb", &LeaseStackProps{LambdaDir: lambdaDir, Storage: StorageDynamoDB})
		options := NewLeaseStack(app, "test-options", &LeaseStackProps{
			LambdaDir:              lambdaDir,
			ReservedConcurrency:    map[string]int{FnSweep: 1},
			ProvisionedConcurrency: map[string]int{FnAcquire: 2, FnSweep: 1},
			CustomDomain:           &CustomDomainProps{DomainName: "lease.example.com", CertificateArn: "arn:aws:acm:eu-west-1:111111111111:certificate/abc"},
			AlarmTopicArn:          "arn:aws:sns:eu-west-1:111111111111:ops",
			SweepSchedule:          "rate(5 minutes)",
			LeasePrefix:            "locks/",
			TenantPrefixes:         []string{"tenants/a/", "tenants/b-2/"},
			RedDBPrefixes:          []string{"tenants/a/", "tenants/b/"},
			RedDBRequireLease:      true,
		})
		s3T, dynamoT, optionsT = synth(s3), synth(dynamo), synth(options)
		variants = map[string]*synthesised{"s3": s3T, "dynamodb": dynamoT, "options": optionsT}
		return m.Run()
	}()
	os.Exit(code)
}

func cdkJSONContext() *map[string]any {
	raw, err := os.ReadFile(filepath.Join("..", "cdk.json"))
	if err != nil {
		panic(err)
	}
	var cfg struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		panic(err)
	}
	return &cfg.Context
}

func synth(st *LeaseStack) *synthesised {
	tpl := assertions.Template_FromStack(st.Stack, nil)
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		panic(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		panic(err)
	}
	return &synthesised{stack: st, template: tpl, doc: doc}
}

// assert runs a jsii assertion, which panics on mismatch, as a test failure.
func assert(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func resources(doc map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range doc["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

func props(res map[string]any) map[string]any {
	p, _ := res["Properties"].(map[string]any)
	return p
}

func fnLogicalID(v *synthesised, name string) string {
	cfn := v.stack.Functions[name].Node().DefaultChild().(awscdk.CfnElement)
	return *v.stack.GetLogicalId(cfn)
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				s = mustJSON(e)
			}
			out = append(out, s)
		}
		return out
	}
	return []string{mustJSON(v)}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestEveryRouteRequiresIAM(t *testing.T) {
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			routeKeys := 0
			for _, rt := range Routes {
				routeKeys += len(rt.Methods)
			}
			assert(t, "route count", func() { v.template.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Route"), jsii.Number(routeKeys)) })
			assert(t, "all routes AWS_IAM", func() {
				v.template.AllResourcesProperties(jsii.String("AWS::ApiGatewayV2::Route"), map[string]any{"AuthorizationType": "AWS_IAM"})
			})
			var keys []string
			for id, r := range resources(v.doc, "AWS::ApiGatewayV2::Route") {
				if got := props(r)["AuthorizationType"]; got != "AWS_IAM" {
					t.Errorf("route %s: AuthorizationType %v", id, got)
				}
				keys = append(keys, props(r)["RouteKey"].(string))
			}
			sort.Strings(keys)
			want := []string{"GET /v1/leases/{database_key+}", "POST /v1/acquire", "POST /v1/acquire/{database_key+}",
				"POST /v1/admin/release/{database_key+}", "POST /v1/refresh", "POST /v1/refresh/{database_key+}",
				"POST /v1/release", "POST /v1/release/{database_key+}"}
			if !reflect.DeepEqual(keys, want) {
				t.Errorf("route keys %v, want %v", keys, want)
			}
		})
	}
}

func TestRoutesInvokeTheirFunctions(t *testing.T) {
	v := s3T
	integrations := resources(v.doc, "AWS::ApiGatewayV2::Integration")
	for _, r := range resources(v.doc, "AWS::ApiGatewayV2::Route") {
		key := props(r)["RouteKey"].(string)
		target := mustJSON(props(r)["Target"])
		var integ map[string]any
		for id, i := range integrations {
			if strings.Contains(target, `"`+id+`"`) {
				integ = i
			}
		}
		if integ == nil {
			t.Fatalf("%s: no integration for target %s", key, target)
		}
		var fn string
		for _, rt := range Routes {
			for _, m := range rt.Methods {
				if key == string(m)+" "+rt.Path {
					fn = rt.Function
				}
			}
		}
		uri := mustJSON(props(integ)["IntegrationUri"])
		if !strings.Contains(uri, `"`+fnLogicalID(v, fn)+`"`) {
			t.Errorf("%s integrates %s, want function %s", key, uri, fn)
		}
		if props(integ)["PayloadFormatVersion"] != "2.0" {
			t.Errorf("%s: payload format %v", key, props(integ)["PayloadFormatVersion"])
		}
	}
}

func TestFunctionsAreArm64AL2023Bootstrap(t *testing.T) {
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			assert(t, "function count", func() {
				v.template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(len(FunctionNames)))
			})
			assert(t, "runtime/arch/handler", func() {
				v.template.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
					"Runtime":       "provided.al2023",
					"Architectures": []any{"arm64"},
					"Handler":       "bootstrap",
				})
			})
			for _, fn := range FunctionNames {
				p := props(v.doc["Resources"].(map[string]any)[fnLogicalID(v, fn)].(map[string]any))
				mem, timeout := p["MemorySize"].(float64), p["Timeout"].(float64)
				if fn == FnSweep {
					if mem != DefaultSweepMemoryMB || timeout != DefaultSweepTimeout.Seconds() {
						t.Errorf("sweep: %v MB / %v s", mem, timeout)
					}
					continue
				}
				if mem != DefaultAPIMemoryMB || timeout != DefaultAPITimeout.Seconds() {
					t.Errorf("%s: %v MB / %v s", fn, mem, timeout)
				}
			}
		})
	}
}

func TestFunctionEnvironment(t *testing.T) {
	for name, v := range map[string]*synthesised{"s3": s3T, "dynamodb": dynamoT} {
		t.Run(name, func(t *testing.T) {
			for _, fn := range FunctionNames {
				p := props(v.doc["Resources"].(map[string]any)[fnLogicalID(v, fn)].(map[string]any))
				env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
				want := map[string]bool{EnvBackend: true, EnvTTLMin: true, EnvTTLMax: true, EnvLogLevel: true}
				if name == "s3" {
					want[EnvBucket], want[EnvPrefix] = true, true
				} else {
					want[EnvTable] = true
				}
				if fn == FnSweep {
					want[EnvEventBus] = true
				}
				if fn == FnRedDB && name == "dynamodb" {
					want[EnvRedDBBucket] = true
				}
				if slices.Contains(BearerFunctions, fn) {
					want[EnvTokensBucket], want[EnvTokensKey] = true, true
				}
				got := map[string]bool{}
				for k := range env {
					got[k] = true
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s env keys %v, want %v", fn, got, want)
				}
				if env[EnvBackend] != name || env[EnvTTLMin] != "1000" || env[EnvTTLMax] != "86400000" || env[EnvLogLevel] != "info" {
					t.Errorf("%s env values %v", fn, env)
				}
				if name == "s3" && env[EnvPrefix] != "leases/" {
					t.Errorf("%s prefix %v", fn, env[EnvPrefix])
				}
			}
		})
	}
}

// ---- least privilege ------------------------------------------------------

// wildcardOK lists the only actions allowed on Resource "*": X-Ray has no
// resource-level permissions for them.
var wildcardOK = map[string]bool{"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true}

// wantActions is the complete set of non-logging, non-tracing actions per function.
var wantActions = map[Storage]map[string][]string{
	StorageS3: {
		FnAcquire: {"s3:GetObject", "s3:PutObject"},
		FnRefresh: {"s3:GetObject", "s3:PutObject"},
		FnRelease: {"s3:GetObject", "s3:PutObject"},
		FnLease:   {"s3:GetObject"},
		FnAdmin:   {"s3:GetObject", "s3:PutObject"},
		FnRedDB:   {"s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"},
		FnSweep:   {"events:PutEvents", "s3:GetObject", "s3:ListBucket", "s3:PutObject"},
	},
	StorageDynamoDB: {
		FnAcquire: {"dynamodb:GetItem", "dynamodb:PutItem"},
		FnRefresh: {"dynamodb:GetItem", "dynamodb:PutItem"},
		FnRelease: {"dynamodb:GetItem", "dynamodb:PutItem"},
		FnLease:   {"dynamodb:GetItem"},
		FnAdmin:   {"dynamodb:GetItem", "dynamodb:PutItem"},
		FnRedDB:   {"dynamodb:GetItem", "dynamodb:PutItem", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"},
		FnSweep:   {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "events:PutEvents"},
	},
}

type statement struct {
	Effect    string
	Actions   []string
	Resources []string
	Condition map[string]any
}

func statements(doc any) []statement {
	var out []statement
	raw := doc.(map[string]any)["Statement"].([]any)
	for _, s := range raw {
		m := s.(map[string]any)
		st := statement{Effect: m["Effect"].(string), Actions: asStrings(m["Action"]), Resources: asStrings(m["Resource"])}
		st.Condition, _ = m["Condition"].(map[string]any)
		out = append(out, st)
	}
	return out
}

// scopeViolations checks one function role's statements against the rules:
// no wildcard actions, no Delete*, "*" resources only for X-Ray, and every other
// resource is one of allowed (matched as JSON fragments of the resource value).
func scopeViolations(sts []statement, allowed map[string][]string) []string {
	var bad []string
	for _, st := range sts {
		if st.Effect != "Allow" {
			bad = append(bad, "unexpected effect "+st.Effect)
		}
		for _, a := range st.Actions {
			if strings.Contains(a, "*") {
				bad = append(bad, "wildcard action "+a)
			}
			if strings.Contains(strings.ToLower(a), "delete") {
				bad = append(bad, "delete action "+a)
			}
		}
		for _, r := range st.Resources {
			if r == "*" {
				for _, a := range st.Actions {
					if !wildcardOK[a] {
						bad = append(bad, "action "+a+" on Resource *")
					}
				}
				continue
			}
			for _, a := range st.Actions {
				ok := false
				for _, frag := range allowed[a] {
					if strings.Contains(r, frag) {
						ok = true
					}
				}
				if !ok {
					bad = append(bad, fmt.Sprintf("action %s on unexpected resource %s", a, r))
				}
			}
		}
	}
	return bad
}

func TestScopeCheckerRejectsBroadPolicies(t *testing.T) {
	allowed := map[string][]string{"s3:GetObject": {`"/leases/*"`}}
	cases := map[string]statement{
		"wildcard action":   {Effect: "Allow", Actions: []string{"s3:*"}, Resources: []string{`{"Fn::Join":["",["arn","/leases/*"]]}`}},
		"star resource":     {Effect: "Allow", Actions: []string{"s3:GetObject"}, Resources: []string{"*"}},
		"whole bucket":      {Effect: "Allow", Actions: []string{"s3:GetObject"}, Resources: []string{`{"Fn::Join":["",["arn","/*"]]}`}},
		"delete":            {Effect: "Allow", Actions: []string{"s3:DeleteObject"}, Resources: []string{`"/leases/*"`}},
		"unexpected action": {Effect: "Allow", Actions: []string{"dynamodb:Query"}, Resources: []string{"arn:table"}},
	}
	for name, st := range cases {
		if len(scopeViolations([]statement{st}, allowed)) == 0 {
			t.Errorf("%s: not rejected", name)
		}
	}
	ok := statement{Effect: "Allow", Actions: []string{"s3:GetObject"}, Resources: []string{`{"Fn::Join":["",["x","/leases/*"]]}`}}
	if v := scopeViolations([]statement{ok}, allowed); len(v) != 0 {
		t.Errorf("scoped statement rejected: %v", v)
	}
}

func TestRolesAreLeastPrivilege(t *testing.T) {
	for name, v := range map[string]*synthesised{"s3": s3T, "dynamodb": dynamoT, "options": optionsT} {
		t.Run(name, func(t *testing.T) {
			storage := v.stack.Props.Storage
			res := v.doc["Resources"].(map[string]any)
			for id, r := range resources(v.doc, "AWS::IAM::Role") {
				if _, has := props(r)["ManagedPolicyArns"]; has {
					t.Errorf("role %s has managed policies %v", id, props(r)["ManagedPolicyArns"])
				}
				if _, has := props(r)["Policies"]; has {
					t.Errorf("role %s has inline Policies", id)
				}
			}
			for _, fn := range FunctionNames {
				if fn == FnRedDB {
					continue // TestRedDBRoleIsLeastPrivilege
				}
				roleID := *v.stack.GetLogicalId(v.stack.Functions[fn].Role().Node().DefaultChild().(awscdk.CfnElement))
				logsID := ""
				var sts []statement
				for _, p := range resources(v.doc, "AWS::IAM::Policy") {
					roles := mustJSON(props(p)["Roles"])
					if strings.Contains(roles, `"`+roleID+`"`) {
						if strings.Count(roles, `{"Ref":`) != 1 {
							t.Errorf("%s: policy shared between roles: %s", fn, roles)
						}
						sts = append(sts, statements(props(p)["PolicyDocument"])...)
					}
				}
				if len(sts) == 0 {
					t.Fatalf("%s: no policy for role %s", fn, roleID)
				}
				lg := props(res[fnLogicalID(v, fn)].(map[string]any))["LoggingConfig"].(map[string]any)["LogGroup"].(map[string]any)
				logsID = lg["Ref"].(string)

				prefix := v.stack.Props.LeasePrefix
				objects := `"/` + prefix + `*"`
				bucketArn := `{"Fn::GetAtt":["` + logicalIDPrefix(v, "AWS::S3::Bucket", "LeaseBucket") + `","Arn"]}`
				tokensArn := `{"Fn::GetAtt":["` + logicalIDPrefix(v, "AWS::S3::Bucket", "TokensBucket") + `","Arn"]}`
				readsTokens := slices.Contains(v.stack.Props.TokenFunctions, fn)
				tableArn := `{"Fn::GetAtt":["` + logicalOf(v, "AWS::DynamoDB::Table") + `","Arn"]}`
				busArn := `{"Fn::GetAtt":["` + logicalOf(v, "AWS::Events::EventBus") + `","Arn"]}`
				allowed := map[string][]string{
					"logs:CreateLogStream": {`["` + logsID + `","Arn"]`},
					"logs:PutLogEvents":    {`["` + logsID + `","Arn"]`},
					"s3:GetObject":         {objects},
					"s3:PutObject":         {objects},
					"s3:ListBucket":        {bucketArn},
					"dynamodb:GetItem":     {tableArn},
					"dynamodb:PutItem":     {tableArn},
					"dynamodb:Scan":        {tableArn},
					"events:PutEvents":     {busArn},
				}
				if readsTokens {
					allowed["s3:GetObject"] = append(allowed["s3:GetObject"], tokensArn+`,"/tokens.json"]]}`)
					allowed["s3:ListBucket"] = append(allowed["s3:ListBucket"], tokensArn)
				}
				if v := scopeViolations(sts, allowed); len(v) > 0 {
					t.Errorf("%s: %s", fn, strings.Join(v, "; "))
				}

				got := map[string]bool{}
				for _, st := range sts {
					for _, a := range st.Actions {
						if !strings.HasPrefix(a, "logs:") && !wildcardOK[a] {
							got[a] = true
						}
					}
					for _, a := range st.Actions {
						switch a {
						case "s3:ListBucket":
							want := map[string]any{"StringLike": map[string]any{"s3:prefix": []any{prefix, prefix + "*"}}}
							if strings.Contains(mustJSON(st.Resources), `"TokensBucket`) {
								want = nil // the tokens bucket holds one document
							}
							if !reflect.DeepEqual(st.Condition, want) {
								t.Errorf("%s: ListBucket condition %v", fn, st.Condition)
							}
						case "events:PutEvents":
							want := map[string]any{"StringEquals": map[string]any{"events:source": "redlease"}}
							if !reflect.DeepEqual(st.Condition, want) {
								t.Errorf("%s: PutEvents condition %v", fn, st.Condition)
							}
						}
					}
				}
				var gotList []string
				for a := range got {
					gotList = append(gotList, a)
				}
				sort.Strings(gotList)
				want := slices.Clone(wantActions[storage][fn])
				if readsTokens {
					want = append(want, "s3:GetObject", "s3:ListBucket")
					slices.Sort(want)
					want = slices.Compact(want)
				}
				if !reflect.DeepEqual(gotList, want) {
					t.Errorf("%s actions %v, want %v", fn, gotList, want)
				}
			}
		})
	}
}

func logicalOf(v *synthesised, typ string) string {
	for id := range resources(v.doc, typ) {
		return id
	}
	return "<no " + typ + ">"
}

// invokeARNs returns the execute-api ARNs (the part after the stage) that
// a managed policy of the template lets callers invoke, by logical id
// prefix, and fails unless it is one Allow statement of execute-api:Invoke
// on this API.
func invokeARNs(t *testing.T, v *synthesised, idPrefix string) []string {
	t.Helper()
	id := logicalIDPrefix(v, "AWS::IAM::ManagedPolicy", idPrefix)
	mp, ok := resources(v.doc, "AWS::IAM::ManagedPolicy")[id]
	if !ok {
		t.Fatalf("no managed policy %s*", idPrefix)
	}
	sts := statements(props(mp)["PolicyDocument"])
	if len(sts) != 1 || sts[0].Effect != "Allow" || !reflect.DeepEqual(sts[0].Actions, []string{"execute-api:Invoke"}) {
		t.Fatalf("%s: statements %+v", id, sts)
	}
	var out []string
	for _, r := range sts[0].Resources {
		if !strings.Contains(r, `{"Ref":"`+logicalOf(v, "AWS::ApiGatewayV2::Api")+`"}`) {
			t.Errorf("%s: resource not on this API: %s", id, r)
		}
		rest := r[strings.LastIndex(r, `"/$default/`)+len(`"/$default/`):]
		out = append(out, strings.TrimSuffix(rest, `"]]}`))
	}
	sort.Strings(out)
	return out
}

// iamMatch is IAM's resource matching: * is any run of characters
// (slashes too), ? one character, the rest literal.
func iamMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if iamMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && iamMatch(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && iamMatch(pattern[1:], s[1:])
}

func allows(patterns []string, request string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return iamMatch(p, request) })
}

// The all-keys caller policy invokes every caller route on every key, and
// not the admin route; the admin policy is separate and invokes only the
// admin route.
func TestCallerAndAdminPolicies(t *testing.T) {
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			if got, want := len(resources(v.doc, "AWS::IAM::ManagedPolicy")), 2+len(v.stack.Props.TenantPrefixes); got != want {
				t.Fatalf("%d managed policies, want %d", got, want)
			}
			caller := invokeARNs(t, v, "CallerPolicy")
			want := []string{"GET/v1/leases/*", "POST/v1/acquire", "POST/v1/acquire/*", "POST/v1/refresh", "POST/v1/refresh/*", "POST/v1/release", "POST/v1/release/*"}
			if !reflect.DeepEqual(caller, want) {
				t.Errorf("all-keys caller policy invokes %q, want %q", caller, want)
			}
			if admin := invokeARNs(t, v, "AdminPolicy"); !reflect.DeepEqual(admin, []string{"POST/v1/admin/release/*"}) {
				t.Errorf("admin policy invokes %q, want only the admin route", admin)
			}
			if allows(caller, "POST/v1/admin/release/tenants/a/db") {
				t.Error("the caller policy reaches the break-glass route")
			}
		})
	}
}

// Each tenant policy invokes exactly the path-key routes under its prefix:
// not another tenant's keys, not a prefix that merely starts alike, not
// the body-key routes (which cannot be scoped), not the admin route.
func TestTenantPoliciesScopeThePathRoutes(t *testing.T) {
	v := optionsT
	for _, tc := range []struct {
		prefix  string
		allowed []string
		refused []string
	}{
		{"tenants/a/",
			[]string{"POST/v1/acquire/tenants/a/db", "POST/v1/refresh/tenants/a/x/y.rdb", "POST/v1/release/tenants/a/db", "GET/v1/leases/tenants/a/db"},
			[]string{"POST/v1/acquire/tenants/b-2/db", "POST/v1/acquire/tenants/ab/db", "POST/v1/acquire/tenants/a", "POST/v1/acquire",
				"POST/v1/refresh", "POST/v1/release", "POST/v1/admin/release/tenants/a/db", "GET/v1/leases/tenants/b-2/db",
				"DELETE/v1/leases/tenants/a/db", "POST/v1/leases/tenants/a/db"}},
		{"tenants/b-2/",
			[]string{"POST/v1/acquire/tenants/b-2/db", "GET/v1/leases/tenants/b-2/db"},
			[]string{"POST/v1/acquire/tenants/a/db", "GET/v1/leases/tenants/a/db", "POST/v1/release"}},
	} {
		got := invokeARNs(t, v, TenantPolicyID(tc.prefix))
		want := []string{"GET/v1/leases/" + tc.prefix + "*", "POST/v1/acquire/" + tc.prefix + "*",
			"POST/v1/refresh/" + tc.prefix + "*", "POST/v1/release/" + tc.prefix + "*"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: invokes %q, want %q", tc.prefix, got, want)
		}
		for _, r := range tc.allowed {
			if !allows(got, r) {
				t.Errorf("%s: refuses %s", tc.prefix, r)
			}
		}
		for _, r := range tc.refused {
			if allows(got, r) {
				t.Errorf("%s: allows %s", tc.prefix, r)
			}
		}
		out, ok := v.doc["Outputs"].(map[string]any)[TenantPolicyID(tc.prefix)+"Arn"].(map[string]any)
		if !ok || !strings.Contains(mustJSON(out["Value"]), TenantPolicyID(tc.prefix)) || !strings.Contains(out["Description"].(string), tc.prefix) {
			t.Errorf("%s: output %v", tc.prefix, out)
		}
	}
}

func TestTenantPolicyIDIsStableAndDistinct(t *testing.T) {
	a := TenantPolicyID("tenants/a/")
	if a != TenantPolicyID("tenants/a/") || !strings.HasPrefix(a, "TenantPolicyTenantsA") {
		t.Errorf("TenantPolicyID(tenants/a/) = %q", a)
	}
	if a == TenantPolicyID("tenants-a/") || a == TenantPolicyID("tenantsa/") {
		t.Error("prefixes that differ only in punctuation share an id")
	}
}

// The tokens document: its own bucket, read (and only read) by the token
// functions (by default the RedDB face's, which takes bearer tokens), which
// are told where it is; no other function is.
func TestTokensBucketAndReaders(t *testing.T) {
	if len(resources(s3T.doc, "AWS::S3::Bucket")) != 2 || s3T.stack.TokensBucket == nil {
		t.Errorf("the default stack has no tokens bucket for the RedDB function")
	}
	v := s3T
	id := logicalIDPrefix(v, "AWS::S3::Bucket", "TokensBucket")
	b, ok := resources(v.doc, "AWS::S3::Bucket")[id]
	if !ok {
		t.Fatal("no tokens bucket")
	}
	p := props(b)
	if b["DeletionPolicy"] != "Retain" || mustJSON(p["VersioningConfiguration"]) != `{"Status":"Enabled"}` ||
		!strings.Contains(mustJSON(p["BucketEncryption"]), "AES256") ||
		mustJSON(p["PublicAccessBlockConfiguration"]) != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
		t.Errorf("tokens bucket %v", b)
	}
	for _, fn := range FunctionNames {
		env := props(v.doc["Resources"].(map[string]any)[fnLogicalID(v, fn)].(map[string]any))["Environment"].(map[string]any)["Variables"].(map[string]any)
		_, hasBucket := env[EnvTokensBucket]
		if reads := fn == FnRedDB; reads != hasBucket {
			t.Errorf("%s: %s set = %v, want %v", fn, EnvTokensBucket, hasBucket, reads)
		}
		if hasBucket && (mustJSON(env[EnvTokensBucket]) != `{"Ref":"`+id+`"}` || env[EnvTokensKey] != TokensKey) {
			t.Errorf("%s: tokens at %v / %v", fn, env[EnvTokensBucket], env[EnvTokensKey])
		}
	}
	out := v.doc["Outputs"].(map[string]any)[OutputTokens].(map[string]any)
	if js := mustJSON(out["Value"]); !strings.Contains(js, `"s3://"`) || !strings.Contains(js, id) || !strings.Contains(js, "/tokens.json") {
		t.Errorf("tokens output %s", js)
	}
}

func TestScheduleTargetsSweep(t *testing.T) {
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			rules := resources(v.doc, "AWS::Events::Rule")
			if len(rules) != 1 {
				t.Fatalf("%d rules", len(rules))
			}
			wantExpr := DefaultSweepSchedule
			if v == optionsT {
				wantExpr = "rate(5 minutes)"
			}
			for _, r := range rules {
				p := props(r)
				if p["ScheduleExpression"] != wantExpr || p["State"] != "ENABLED" {
					t.Errorf("schedule %v state %v", p["ScheduleExpression"], p["State"])
				}
				targets := p["Targets"].([]any)
				if len(targets) != 1 {
					t.Fatalf("%d targets", len(targets))
				}
				arn := mustJSON(targets[0].(map[string]any)["Arn"])
				want := fnLogicalID(v, FnSweep)
				if v.stack.Props.ProvisionedConcurrency[FnSweep] > 0 {
					want = *v.stack.GetLogicalId(v.stack.Targets[FnSweep].Node().DefaultChild().(awscdk.CfnElement))
				}
				if !strings.Contains(arn, `"`+want+`"`) {
					t.Errorf("target %s, want sweep %s", arn, want)
				}
			}
			// EventBridge may invoke the sweep (or its alias) and nothing else.
			sweepTarget := *v.stack.GetLogicalId(v.stack.Targets[FnSweep].Node().DefaultChild().(awscdk.CfnElement))
			n := 0
			for _, perm := range resources(v.doc, "AWS::Lambda::Permission") {
				p := props(perm)
				if p["Principal"] != "events.amazonaws.com" {
					continue
				}
				n++
				if !strings.Contains(mustJSON(p["FunctionName"]), `"`+sweepTarget+`"`) {
					t.Errorf("events permission on %v", p["FunctionName"])
				}
			}
			if n != 1 {
				t.Errorf("%d EventBridge invoke permissions", n)
			}
		})
	}
}

func TestAlarms(t *testing.T) {
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			alarms := resources(v.doc, "AWS::CloudWatch::Alarm")
			if want := 2*len(FunctionNames) + 2; len(alarms) != want {
				t.Errorf("%d alarms, want %d", len(alarms), want)
			}
			seen := map[string]bool{}
			for _, a := range alarms {
				p := props(a)
				if metrics, ok := p["Metrics"]; ok {
					js := mustJSON(metrics)
					if strings.Contains(js, `"5xx"`) && strings.Contains(js, `"Count"`) && strings.Contains(js, "errors / requests") {
						seen["5xx rate"] = true
					}
					continue
				}
				dims := mustJSON(p["Dimensions"])
				switch p["MetricName"] {
				case "Errors", "Throttles":
					for _, fn := range FunctionNames {
						if strings.Contains(dims, `"`+fnLogicalID(v, fn)+`"`) {
							seen[fn+" "+p["MetricName"].(string)] = true
						}
					}
				case "FailedInvocations":
					if p["Namespace"] == "AWS/Events" && strings.Contains(dims, logicalOf(v, "AWS::Events::Rule")) {
						seen["sweep FailedInvocations"] = true
					}
				}
				if v == optionsT {
					if len(asStrings(p["AlarmActions"])) != 1 || len(asStrings(p["OKActions"])) != 1 {
						t.Errorf("alarm without SNS actions: %v", p["AlarmDescription"])
					}
				}
			}
			for _, fn := range FunctionNames {
				for _, m := range []string{"Errors", "Throttles"} {
					if !seen[fn+" "+m] {
						t.Errorf("no %s alarm for %s", m, fn)
					}
				}
			}
			for _, k := range []string{"5xx rate", "sweep FailedInvocations"} {
				if !seen[k] {
					t.Errorf("no %s alarm", k)
				}
			}
		})
	}
}

func TestStorageRetained(t *testing.T) {
	// Beside the tokens bucket: the lease bucket (s3), or the bucket of
	// RedDB's data objects (dynamodb), with the lease bucket's protections.
	buckets := resources(s3T.doc, "AWS::S3::Bucket")
	delete(buckets, logicalIDPrefix(s3T, "AWS::S3::Bucket", "TokensBucket"))
	if len(buckets) != 1 || len(resources(s3T.doc, "AWS::DynamoDB::Table")) != 0 {
		t.Fatalf("s3 variant: %d buckets besides the tokens bucket", len(buckets))
	}
	dataBuckets := resources(dynamoT.doc, "AWS::S3::Bucket")
	delete(dataBuckets, logicalIDPrefix(dynamoT, "AWS::S3::Bucket", "TokensBucket"))
	if len(dataBuckets) != 1 {
		t.Fatalf("dynamodb variant: %d buckets besides the tokens bucket, want the RedDB data bucket", len(dataBuckets))
	}
	for id, b := range dataBuckets {
		buckets[id] = b
	}
	for _, b := range buckets {
		if b["DeletionPolicy"] != "Retain" || b["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("bucket policies %v/%v", b["DeletionPolicy"], b["UpdateReplacePolicy"])
		}
		p := props(b)
		if mustJSON(p["VersioningConfiguration"]) != `{"Status":"Enabled"}` {
			t.Errorf("versioning %v", p["VersioningConfiguration"])
		}
		want := `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`
		if mustJSON(p["PublicAccessBlockConfiguration"]) != want {
			t.Errorf("public access block %v", p["PublicAccessBlockConfiguration"])
		}
		if !strings.Contains(mustJSON(p["BucketEncryption"]), "AES256") {
			t.Errorf("encryption %v", p["BucketEncryption"])
		}
		rules := mustJSON(p["LifecycleConfiguration"])
		if strings.Contains(rules, "ExpirationInDays") || !strings.Contains(rules, `"NoncurrentDays":7`) {
			t.Errorf("lifecycle must only expire noncurrent versions: %s", rules)
		}
	}
	assert(t, "table", func() {
		dynamoT.template.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"BillingMode":                      "PAY_PER_REQUEST",
				"DeletionProtectionEnabled":        true,
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"KeySchema":                        []any{map[string]any{"AttributeName": "database_key", "KeyType": "HASH"}},
				"AttributeDefinitions":             []any{map[string]any{"AttributeName": "database_key", "AttributeType": "S"}},
			},
		})
	})
	assert(t, "one table", func() { dynamoT.template.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(1)) })
}

func TestBucketPolicy(t *testing.T) {
	for name, v := range map[string]*synthesised{"s3": s3T, "options": optionsT} {
		t.Run(name, func(t *testing.T) {
			pols := map[string]map[string]any{}
			lease := logicalIDPrefix(v, "AWS::S3::Bucket", "LeaseBucket")
			for id, p := range resources(v.doc, "AWS::S3::BucketPolicy") {
				if mustJSON(props(p)["Bucket"]) == `{"Ref":"`+lease+`"}` {
					pols[id] = p
				}
			}
			if len(pols) != 1 {
				t.Fatalf("%d policies on the lease bucket", len(pols))
			}
			var tls, conditional bool
			for _, p := range pols {
				for _, st := range statements(props(p)["PolicyDocument"]) {
					if st.Effect != "Deny" {
						t.Errorf("bucket policy grants access: %+v", st)
					}
					if reflect.DeepEqual(st.Condition, map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}) {
						tls = true
					}
					if reflect.DeepEqual(st.Actions, []string{"s3:PutObject"}) {
						want := map[string]any{"Null": map[string]any{"s3:if-match": "true", "s3:if-none-match": "true"}}
						if !reflect.DeepEqual(st.Condition, want) {
							t.Errorf("conditional-write condition %v", st.Condition)
						}
						if len(st.Resources) != 1 || !strings.HasSuffix(st.Resources[0], `"/`+v.stack.Props.LeasePrefix+`*"]]}`) {
							t.Errorf("conditional-write resource %v", st.Resources)
						}
						conditional = true
					}
				}
			}
			if !tls || !conditional {
				t.Errorf("TLS deny %v, conditional-write deny %v", tls, conditional)
			}
		})
	}
}

func TestStageThrottlingAndAccessLogs(t *testing.T) {
	stages := resources(s3T.doc, "AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		t.Fatalf("%d stages", len(stages))
	}
	for _, s := range stages {
		p := props(s)
		if p["StageName"] != "$default" || p["AutoDeploy"] != true {
			t.Errorf("stage %v autodeploy %v", p["StageName"], p["AutoDeploy"])
		}
		rs := p["DefaultRouteSettings"].(map[string]any)
		if rs["ThrottlingRateLimit"] != float64(DefaultThrottleRateLimit) || rs["ThrottlingBurstLimit"] != float64(DefaultThrottleBurstLimit) {
			t.Errorf("throttling %v", rs)
		}
		als := p["AccessLogSettings"].(map[string]any)
		var format map[string]string
		if err := json.Unmarshal([]byte(als["Format"].(string)), &format); err != nil {
			t.Fatalf("access log format is not JSON: %v", err)
		}
		for k, want := range map[string]string{"requestId": "$context.requestId", "routeKey": "$context.routeKey", "status": "$context.status", "responseLatency": "$context.responseLatency"} {
			if format[k] != want {
				t.Errorf("access log %s = %q", k, format[k])
			}
		}
		if !strings.Contains(mustJSON(als["DestinationArn"]), logicalIDPrefix(s3T, "AWS::Logs::LogGroup", "ApiAccessLogs")) {
			t.Errorf("access log destination %v", als["DestinationArn"])
		}
	}
}

func logicalIDPrefix(v *synthesised, typ, prefix string) string {
	for id := range resources(v.doc, typ) {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	return "<none>"
}

func TestLogGroupsHaveRetention(t *testing.T) {
	lgs := resources(s3T.doc, "AWS::Logs::LogGroup")
	if len(lgs) != len(FunctionNames)+1 {
		t.Errorf("%d log groups", len(lgs))
	}
	for id, lg := range lgs {
		if props(lg)["RetentionInDays"] != float64(30) {
			t.Errorf("%s retention %v", id, props(lg)["RetentionInDays"])
		}
	}
}

func TestOutputs(t *testing.T) {
	for name, v := range map[string]*synthesised{"s3": s3T, "dynamodb": dynamoT} {
		t.Run(name, func(t *testing.T) {
			outs := v.doc["Outputs"].(map[string]any)
			want := []string{OutputAPIURL, OutputEventBusName, OutputCallerPolicy, OutputAdminPolicy, OutputBucketName, OutputTokens, OutputRedDBURL}
			if name == "dynamodb" {
				want[4] = OutputTableName
			}
			for _, k := range want {
				if _, ok := outs[k]; !ok {
					t.Errorf("missing output %s (have %v)", k, outs)
				}
			}
		})
	}
}

func TestOptionalFeatures(t *testing.T) {
	v := optionsT
	assert(t, "aliases", func() {
		v.template.ResourceCountIs(jsii.String("AWS::Lambda::Alias"), jsii.Number(2))
		v.template.HasResourceProperties(jsii.String("AWS::Lambda::Alias"), map[string]any{
			"Name":                         "live",
			"ProvisionedConcurrencyConfig": map[string]any{"ProvisionedConcurrentExecutions": 2},
		})
	})
	p := props(v.doc["Resources"].(map[string]any)[fnLogicalID(v, FnSweep)].(map[string]any))
	if p["ReservedConcurrentExecutions"] != float64(1) {
		t.Errorf("sweep reserved concurrency %v", p["ReservedConcurrentExecutions"])
	}
	if _, ok := props(v.doc["Resources"].(map[string]any)[fnLogicalID(v, FnAcquire)].(map[string]any))["ReservedConcurrentExecutions"]; ok {
		t.Errorf("acquire has reserved concurrency")
	}
	// The acquire route must call the alias, not the unqualified function.
	aliasID := *v.stack.GetLogicalId(v.stack.Targets[FnAcquire].Node().DefaultChild().(awscdk.CfnElement))
	found := false
	for _, i := range resources(v.doc, "AWS::ApiGatewayV2::Integration") {
		if strings.Contains(mustJSON(props(i)["IntegrationUri"]), `"`+aliasID+`"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no integration targets alias %s", aliasID)
	}
	assert(t, "domain", func() {
		v.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::DomainName"), map[string]any{"DomainName": "lease.example.com"})
		v.template.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::ApiMapping"), jsii.Number(1))
	})
	outs := v.doc["Outputs"].(map[string]any)
	if mustJSON(outs[OutputAPIURL].(map[string]any)["Value"]) != `"https://lease.example.com/"` {
		t.Errorf("ApiUrl %v", outs[OutputAPIURL])
	}
}

func TestCheckovSuppressionsHaveReasons(t *testing.T) {
	for name, v := range variants {
		for id, r := range v.doc["Resources"].(map[string]any) {
			md, _ := r.(map[string]any)["Metadata"].(map[string]any)
			ck, ok := md["checkov"].(map[string]any)
			if !ok {
				continue
			}
			for _, s := range ck["skip"].([]any) {
				m := s.(map[string]any)
				id2, _ := m["id"].(string)
				comment, _ := m["comment"].(string)
				if !strings.HasPrefix(id2, "CKV") || len(comment) < 20 || strings.Contains(comment, "\n") {
					t.Errorf("%s %s: suppression %v needs an id and a one-line reason", name, id, m)
				}
			}
		}
	}
}

func TestPropsValidation(t *testing.T) {
	good := LeaseStackProps{LambdaDir: "/x"}
	if err := ValidateProps(&good); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	bad := map[string]LeaseStackProps{
		"no lambda dir":      {},
		"storage":            {LambdaDir: "/x", Storage: "redis"},
		"prefix slash":       {LambdaDir: "/x", LeasePrefix: "leases"},
		"prefix wildcard":    {LambdaDir: "/x", LeasePrefix: "le*/"},
		"ttl order":          {LambdaDir: "/x", TTLMinMs: 10, TTLMaxMs: 5},
		"api timeout":        {LambdaDir: "/x", APITimeout: 31e9},
		"fractional timeout": {LambdaDir: "/x", APITimeout: 1500e6},
		"reserved name":      {LambdaDir: "/x", ReservedConcurrency: map[string]int{"nope": 1}},
		"domain":             {LambdaDir: "/x", CustomDomain: &CustomDomainProps{DomainName: "a.example"}},
		"tenant no slash":    {LambdaDir: "/x", TenantPrefixes: []string{"tenants/a"}},
		"tenant wildcard":    {LambdaDir: "/x", TenantPrefixes: []string{"tenants/*/"}},
		"tenant dot-dot":     {LambdaDir: "/x", TenantPrefixes: []string{"tenants/../"}},
		"tenant leading /":   {LambdaDir: "/x", TenantPrefixes: []string{"/tenants/"}},
		"tenant every key":   {LambdaDir: "/x", TenantPrefixes: []string{""}},
		"tenant twice":       {LambdaDir: "/x", TenantPrefixes: []string{"a/", "a/"}},
		"tenant unicode":     {LambdaDir: "/x", TenantPrefixes: []string{"tenants/é/"}},
		"token reader sweep": {LambdaDir: "/x", TokenFunctions: []string{FnSweep}},
		"token reader name":  {LambdaDir: "/x", TokenFunctions: []string{"nope"}},
	}
	for name, p := range bad {
		if err := ValidateProps(&p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// roleStatements are the statements of the policies attached to fn's role.
func roleStatements(t *testing.T, v *synthesised, fn string) []statement {
	t.Helper()
	roleID := *v.stack.GetLogicalId(v.stack.Functions[fn].Role().Node().DefaultChild().(awscdk.CfnElement))
	var sts []statement
	for _, p := range resources(v.doc, "AWS::IAM::Policy") {
		if strings.Contains(mustJSON(props(p)["Roles"]), `"`+roleID+`"`) {
			sts = append(sts, statements(props(p)["PolicyDocument"])...)
		}
	}
	if len(sts) == 0 {
		t.Fatalf("%s: no policy", fn)
	}
	return sts
}

// The RedDB function reads and conditionally writes lease records (never
// deletes them) and reads, writes, deletes and lists data objects only
// under RedDBPrefixes; with the default prefix "" (the whole bucket) its
// role denies deletes under the lease prefix outright.
func TestRedDBRoleIsLeastPrivilege(t *testing.T) {
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			p := v.stack.Props
			sts := roleStatements(t, v, FnRedDB)
			dataBucket := logicalIDPrefix(v, "AWS::S3::Bucket", "LeaseBucket")
			if p.Storage == StorageDynamoDB {
				dataBucket = logicalIDPrefix(v, "AWS::S3::Bucket", "RedDBDataBucket")
			}
			var allows = map[string][]string{}
			var denies []statement
			for _, st := range sts {
				if st.Effect == "Deny" {
					denies = append(denies, st)
					continue
				}
				for _, a := range st.Actions {
					if strings.HasPrefix(a, "logs:") || wildcardOK[a] {
						continue
					}
					allows[a] = append(allows[a], st.Resources...)
				}
			}
			var got []string
			for a := range allows {
				got = append(got, a)
			}
			sort.Strings(got)
			if want := wantActions[p.Storage][FnRedDB]; !reflect.DeepEqual(got, want) {
				t.Errorf("actions %v, want %v", got, want)
			}
			var wantData []string
			for _, prefix := range p.RedDBPrefixes {
				wantData = append(wantData, `["`+dataBucket+`","Arn"]},"/`+prefix+`*"]]}`)
			}
			for _, a := range []string{"s3:DeleteObject"} {
				for _, r := range allows[a] {
					if !slices.ContainsFunc(wantData, func(w string) bool { return strings.HasSuffix(r, w) }) {
						t.Errorf("%s on %s, want only the data prefixes %v", a, r, p.RedDBPrefixes)
					}
				}
			}
			if p.Storage == StorageS3 {
				lease := `"/` + p.LeasePrefix + `*"]]}`
				if !slices.ContainsFunc(allows["s3:PutObject"], func(r string) bool { return strings.HasSuffix(r, lease) }) {
					t.Errorf("PutObject %v lacks the lease objects", allows["s3:PutObject"])
				}
				wholeBucket := slices.Contains(p.RedDBPrefixes, "")
				if wholeBucket != (len(denies) == 1) {
					t.Fatalf("deny statements %+v with data prefixes %q", denies, p.RedDBPrefixes)
				}
				if wholeBucket && (!reflect.DeepEqual(denies[0].Actions, []string{"s3:DeleteObject"}) || !strings.HasSuffix(denies[0].Resources[0], lease)) {
					t.Errorf("deny %+v, want s3:DeleteObject on the lease objects", denies[0])
				}
			} else if len(denies) != 0 {
				t.Errorf("dynamodb variant: deny statements %+v (the data bucket holds no lease)", denies)
			}
			for _, st := range sts {
				// (The tokens bucket's ListBucket, on a bucket of one object,
				// is TestTokensBucketAndReaders'.)
				if slices.Contains(st.Actions, "s3:ListBucket") && !strings.Contains(mustJSON(st.Resources), "TokensBucket") {
					var want []any
					for _, prefix := range p.RedDBPrefixes {
						want = append(want, prefix+"*")
					}
					got := st.Condition["StringLike"].(map[string]any)["s3:prefix"]
					if single := len(want) == 1 && got == want[0]; !single && !reflect.DeepEqual(got, want) {
						t.Errorf("ListBucket prefixes %v, want %v", got, want)
					}
				}
			}
		})
	}
}

// The RedDB function has a public URL (RedDB cannot sign SigV4; the
// function checks bearer tokens), buffered, and the stack outputs the
// value of RED_HTTP_BACKEND_URL.
func TestRedDBEndpoint(t *testing.T) {
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			urls := resources(v.doc, "AWS::Lambda::Url")
			if len(urls) != 1 {
				t.Fatalf("%d function URLs, want 1", len(urls))
			}
			for _, u := range urls {
				pr := props(u)
				if pr["AuthType"] != "NONE" || pr["InvokeMode"] != "BUFFERED" {
					t.Errorf("URL %v, want auth NONE, BUFFERED", pr)
				}
				target := mustJSON(pr["TargetFunctionArn"])
				if !strings.Contains(target, fnLogicalID(v, FnRedDB)) && !strings.Contains(target, "RedDBLive") {
					t.Errorf("URL targets %s, want the reddb function", target)
				}
			}
			out := v.doc["Outputs"].(map[string]any)[OutputRedDBURL].(map[string]any)
			if !strings.Contains(mustJSON(out["Value"]), `"v1/reddb"`) {
				t.Errorf("output %s = %s, want the URL plus v1/reddb", OutputRedDBURL, mustJSON(out["Value"]))
			}
			_, hasBucket := v.doc["Outputs"].(map[string]any)[OutputRedDBBucket]
			if hasBucket != (v.stack.Props.Storage == StorageDynamoDB) {
				t.Errorf("output %s present = %v", OutputRedDBBucket, hasBucket)
			}
		})
	}
}
