package leaseops

import (
	"context"
	"testing"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/internal/fakeaws"
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
	checkCounts(t, cells, wantCounts)
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
