package stack

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// Emulator names a local AWS emulator the stack is deployed on by the
// end-to-end test (context "emulator"). The zero value is real AWS: the
// template is then exactly what NewLeaseStack builds, untouched.
type Emulator string

const (
	// EmulatorMiniStack is MiniStack without IAM enforcement (its default).
	EmulatorMiniStack Emulator = "ministack"
	// EmulatorMiniStackIAM is MiniStack with AUTH=true: it verifies SigV4
	// and evaluates identity and bucket policies, for IAM users and for the
	// functions' execution roles.
	EmulatorMiniStackIAM Emulator = "ministack-iam"
)

// Deviation is one difference between the template deployed on an emulator
// and the real one. Deviations is the whole list: nothing else differs.
type Deviation struct {
	Name   string
	Change string
	// Reason is the emulator limitation that forces the change.
	Reason string
	// On lists the emulators that get it.
	On []Emulator
}

// Deviation names.
const (
	DeviationNo5xxRateAlarm         = "no-5xx-rate-alarm"
	DeviationNoConditionalWriteDeny = "no-conditional-write-deny"
	DeviationNoEventSourceCondition = "no-events-source-condition"
	conditionalWriteDenySid         = "DenyUnconditionalLeaseWrites"
	publishLeaseEventsSid           = "PublishLeaseEvents"
)

// Deviations is the list, in the order it is applied.
var Deviations = []Deviation{
	{
		Name:   DeviationNo5xxRateAlarm,
		Change: "the " + AlarmServerErrorRate + " alarm (5xx share of requests, a metric-math expression) is left out",
		Reason: "MiniStack's CloudFormation refuses AWS::CloudWatch::Alarm with Metrics: \"Properties.Metrics (metric math) is not supported\", and the create fails",
		On:     []Emulator{EmulatorMiniStack, EmulatorMiniStackIAM},
	},
	{
		Name:   DeviationNoConditionalWriteDeny,
		Change: "the bucket policy statement " + conditionalWriteDenySid + " is left out (the TLS statements stay)",
		Reason: "MiniStack's policy evaluator has no s3:if-none-match / s3:if-match condition keys; both read as absent, so the Null condition holds for every write and every lease write is denied",
		On:     []Emulator{EmulatorMiniStackIAM},
	},
	{
		Name:   DeviationNoEventSourceCondition,
		Change: "the sweep role's " + publishLeaseEventsSid + " statement loses its events:source = redlease condition (action and bus stay)",
		Reason: "MiniStack's policy evaluator has no events:source condition key; the StringEquals never matches, so the sweep's PutEvents is denied",
		On:     []Emulator{EmulatorMiniStackIAM},
	},
}

func (e Emulator) valid() bool {
	return e == "" || e == EmulatorMiniStack || e == EmulatorMiniStackIAM
}

// DeviationsFor returns the deviations e gets (none for real AWS).
func DeviationsFor(e Emulator) []Deviation {
	var out []Deviation
	for _, d := range Deviations {
		if slices.Contains(d.On, e) {
			out = append(out, d)
		}
	}
	return out
}

// applyEmulatorDeviations edits the finished construct tree, one change per
// deviation that applies to this variant.
func (s *LeaseStack) applyEmulatorDeviations() {
	devs := DeviationsFor(s.Props.Emulator)
	if len(devs) == 0 {
		return
	}
	for _, d := range devs {
		switch d.Name {
		case DeviationNo5xxRateAlarm:
			if !*s.Node().TryRemoveChild(jsii.String(AlarmServerErrorRate)) {
				panic("redlease: emulator deviation: no " + AlarmServerErrorRate + " alarm to remove")
			}
		case DeviationNoConditionalWriteDeny:
			if s.Bucket == nil || s.Props.DisableConditionalWriteEnforcement {
				continue // nothing to remove: the variant has no such statement
			}
			policy := s.Bucket.Policy().Node().DefaultChild().(awss3.CfnBucketPolicy)
			s.editStatements(policy, func(st map[string]any) (map[string]any, bool) {
				return st, st["Sid"] != conditionalWriteDenySid
			})
		case DeviationNoEventSourceCondition:
			role := s.Functions[FnSweep].Role().Node().TryFindChild(jsii.String("DefaultPolicy"))
			policy := role.Node().DefaultChild().(awsiam.CfnPolicy)
			s.editStatements(policy, func(st map[string]any) (map[string]any, bool) {
				if st["Sid"] == publishLeaseEventsSid {
					delete(st, "Condition")
				}
				return st, true
			})
		default:
			panic("redlease: emulator deviation " + d.Name + " has no implementation")
		}
	}
}

// editStatements rewrites a policy resource's statements: keep returns the
// (possibly edited) statement and whether to keep it. The document is
// resolved to plain JSON first, so it must be complete, which it is once
// NewLeaseStack has built everything. It panics if nothing changed, so a
// deviation that no longer applies is noticed.
func (s *LeaseStack) editStatements(policy awscdk.CfnResource, keep func(map[string]any) (map[string]any, bool)) {
	var doc any
	switch p := policy.(type) {
	case awss3.CfnBucketPolicy:
		doc = p.PolicyDocument()
	case awsiam.CfnPolicy:
		doc = p.PolicyDocument()
	}
	resolved, ok := s.Resolve(doc).(map[string]any)
	if !ok {
		panic(fmt.Sprintf("redlease: emulator deviation: unexpected policy document %T", doc))
	}
	before, _ := resolved["Statement"].([]any)
	after := make([]any, 0, len(before))
	changed := false
	for _, raw := range before {
		st, _ := raw.(map[string]any)
		_, hadCondition := st["Condition"]
		edited, kept := keep(st)
		_, hasCondition := edited["Condition"]
		if !kept || hadCondition != hasCondition {
			changed = true
		}
		if kept {
			after = append(after, edited)
		}
	}
	if !changed {
		panic("redlease: emulator deviation changed nothing in " + *policy.Node().Path())
	}
	policy.AddPropertyOverride(jsii.String("PolicyDocument.Statement"), after)
}
