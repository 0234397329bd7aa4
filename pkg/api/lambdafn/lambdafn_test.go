package lambdafn

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/redlease/redlease/pkg/api"
)

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type response struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func invoke(t *testing.T, h lambda.Handler, payload []byte) response {
	t.Helper()
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var r response
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// A function built from the environment serves its own route only, and
// writes JSON logs and EMF metrics to its output.
func TestBuildServesOneRoute(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string {
		return map[string]string{"REDLEASE_BACKEND": "file", "REDLEASE_DATA_DIR": t.TempDir()}[k]
	}
	var out bytes.Buffer
	a, err := Build(context.Background(), getenv, &out, api.OpAcquire)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	h := lambda.NewHandler(a.Handle)
	if r := invoke(t, h, event(t, "acquire.json")); r.StatusCode != 200 || !strings.Contains(r.Body, `"generation":1`) {
		t.Errorf("acquire = %d %s, want 200 generation 1", r.StatusCode, r.Body)
	}
	if r := invoke(t, h, event(t, "lease-get.json")); r.StatusCode != 404 {
		t.Errorf("read on the acquire function = %d %s, want 404", r.StatusCode, r.Body)
	}
	if !strings.Contains(out.String(), `"msg":"request"`) || !strings.Contains(out.String(), `"CloudWatchMetrics"`) {
		t.Errorf("output lacks the log or EMF line:\n%s", out.String())
	}
}

func TestBuildRefusesBadConfig(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string { return map[string]string{"REDLEASE_BACKEND": "s3"}[k] }
	if _, err := Build(context.Background(), getenv, &bytes.Buffer{}, api.OpAcquire); err == nil ||
		!strings.Contains(err.Error(), "REDLEASE_BUCKET") {
		t.Errorf("Build without a bucket: %v, want an error naming REDLEASE_BUCKET", err)
	}
}
