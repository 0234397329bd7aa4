package stack

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// TestEmulatorTemplatesDifferOnlyByTheirDeviations builds the emulator
// variants under the same stack ids as the real ones and checks that each
// template equals the real template with exactly its listed deviations
// applied (here, independently, on the JSON): nothing else may change.
func TestEmulatorTemplatesDifferOnlyByTheirDeviations(t *testing.T) {
	cases := []struct {
		real     *synthesised
		storage  Storage
		emulator Emulator
		want     []string // deviations that must show in the template
	}{
		{s3T, StorageS3, EmulatorMiniStack, []string{DeviationNo5xxRateAlarm}},
		{s3T, StorageS3, EmulatorMiniStackIAM, []string{DeviationNo5xxRateAlarm, DeviationNoConditionalWriteDeny, DeviationNoEventSourceCondition}},
		{dynamoT, StorageDynamoDB, EmulatorMiniStackIAM, []string{DeviationNo5xxRateAlarm, DeviationNoEventSourceCondition}},
	}
	stacks := make([]*LeaseStack, len(cases))
	for i, c := range cases {
		// An app of its own, so the stack id (and every name derived from
		// it) is the real variant's id.
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: cdkJSONContext()})
		stacks[i] = NewLeaseStack(app, *c.real.stack.StackName(), &LeaseStackProps{
			LambdaDir: lambdaDir, Storage: c.storage, Emulator: c.emulator,
		})
	}
	for i, c := range cases {
		t.Run(string(c.storage)+"/"+string(c.emulator), func(t *testing.T) {
			got := synth(stacks[i]).doc
			want := deepCopy(t, c.real.doc)
			var applied []string
			for _, d := range DeviationsFor(c.emulator) {
				if applyDeviationToJSON(t, want, d.Name) {
					applied = append(applied, d.Name)
				}
			}
			if !slices.Equal(applied, c.want) {
				t.Errorf("deviations applied = %v, want %v", applied, c.want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("template differs from the real one beyond %v:\n%s", applied, diffResources(got, want))
			}
		})
	}
}

func TestEveryDeviationHasAReasonAndAnEmulator(t *testing.T) {
	if len(DeviationsFor("")) != 0 {
		t.Errorf("real AWS gets deviations: %v", DeviationsFor(""))
	}
	for _, d := range Deviations {
		if d.Name == "" || d.Change == "" || d.Reason == "" || len(d.On) == 0 {
			t.Errorf("incomplete deviation %+v", d)
		}
	}
	if err := ValidateProps(&LeaseStackProps{LambdaDir: lambdaDir, Emulator: "localstack"}); err == nil {
		t.Error("unknown emulator accepted")
	}
}

// applyDeviationToJSON makes one deviation's change on a template document
// and reports whether it found something to change.
func applyDeviationToJSON(t *testing.T, doc map[string]any, name string) bool {
	t.Helper()
	res := doc["Resources"].(map[string]any)
	switch name {
	case DeviationNo5xxRateAlarm:
		for id, r := range resources(doc, "AWS::CloudWatch::Alarm") {
			if _, math := props(r)["Metrics"]; math {
				delete(res, id)
				return true
			}
		}
	case DeviationNoConditionalWriteDeny:
		found := false // the stack has several buckets; the lease bucket's policy has the statement
		for _, r := range resources(doc, "AWS::S3::BucketPolicy") {
			found = editJSONStatements(props(r), func(st map[string]any) bool {
				return st["Sid"] != conditionalWriteDenySid
			}) || found
		}
		return found
	case DeviationNoEventSourceCondition:
		found := false
		for _, r := range resources(doc, "AWS::IAM::Policy") {
			editJSONStatements(props(r), func(st map[string]any) bool {
				if st["Sid"] == publishLeaseEventsSid && st["Condition"] != nil {
					delete(st, "Condition")
					found = true
				}
				return true
			})
		}
		return found
	default:
		t.Fatalf("no JSON form for deviation %s", name)
	}
	return false
}

func editJSONStatements(p map[string]any, keep func(map[string]any) bool) bool {
	doc := p["PolicyDocument"].(map[string]any)
	before := doc["Statement"].([]any)
	after := []any{}
	for _, st := range before {
		if keep(st.(map[string]any)) {
			after = append(after, st)
		}
	}
	doc["Statement"] = after
	return len(after) != len(before)
}

func deepCopy(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// diffResources names the top-level sections and resources that differ.
func diffResources(got, want map[string]any) string {
	var lines []string
	for k := range union(got, want) {
		if k != "Resources" && !reflect.DeepEqual(got[k], want[k]) {
			lines = append(lines, "section "+k)
		}
	}
	g, _ := got["Resources"].(map[string]any)
	w, _ := want["Resources"].(map[string]any)
	for id := range union(g, w) {
		if !reflect.DeepEqual(g[id], w[id]) {
			lines = append(lines, "resource "+id+":\n  got  "+mustJSON(g[id])+"\n  want "+mustJSON(w[id]))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func union(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
