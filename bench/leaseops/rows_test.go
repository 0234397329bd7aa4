package leaseops

import (
	"context"
	"testing"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/internal/fakeaws"
	"github.com/redlease/redlease/bench/reqcount"
)

// fakeEnv is an Env on in-process fakes of S3 (answering conditional
// deletes with 501, as LocalStack does) and DynamoDB.
func fakeEnv(t *testing.T) emulators.Env {
	t.Helper()
	s3, s3URL := fakeaws.NewS3(t)
	s3.ConditionalDelete501 = true
	_, ddbURL := fakeaws.NewDynamoDB(t)
	vars := map[string]string{
		"REDLEASE_IT_S3_ENDPOINT":       s3URL,
		"REDLEASE_IT_DYNAMODB_ENDPOINT": ddbURL,
		"REDLEASE_IT_BUCKET":            "bench",
		"REDLEASE_IT_TABLE":             "bench",
	}
	env, err := emulators.EnvFrom(func(k string) string { return vars[k] }, "unit")
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestRowsSendExactlyTheirSequences runs every row through the real SDK
// clients against the fakes and checks each operation's requests.
func TestRowsSendExactlyTheirSequences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := fakeEnv(t)
	subjects, pending, err := Rows(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	cells, err := Run(ctx, subjects, Config{Iterations: 3, Warmup: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, cells, wantCounts, 0)
	if len(pending) != 2 || pending[0].Pending == "" || pending[0].Kind != KindGateway {
		t.Errorf("pending rows %+v, want the two gateway rows", pending)
	}
	var notes []string
	for _, s := range subjects {
		if s.Info().Kind == KindRedDB {
			notes = s.Info().Notes
		}
	}
	if len(notes) != 2 {
		t.Errorf("RedDB row notes %q, want the cache note and the 501 footnote", notes)
	}
}

func TestTypicalCounts(t *testing.T) {
	t.Parallel()
	per := []reqcount.Counts{
		{"GetItem": 1, "PutItem": 1}, {"GetItem": 1, "PutItem": 2}, {"GetItem": 1, "PutItem": 1},
	}
	got, odd := typicalCounts(per)
	if len(got) != 2 || got["GetItem"] != 1 || got["PutItem"] != 1 || odd != 1 {
		t.Errorf("typicalCounts = %v, %d atypical; want GetItem 1 + PutItem 1 and 1", got, odd)
	}
	mean, total := meanCounts(per)
	if mean["PutItem"] != 4.0/3 || total.Max != 3 || total.Min != 2 {
		t.Errorf("meanCounts = %v, %+v", mean, total)
	}
	if got, odd := typicalCounts(nil); got != nil || odd != 0 {
		t.Errorf("typicalCounts(nil) = %v, %d", got, odd)
	}
}
