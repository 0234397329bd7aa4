package lambdafn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/redlease/redlease/pkg/api"
)

// invocationLimit is a synchronous Lambda invocation's payload limit,
// each way (request event and response): 6 MB.
const invocationLimit = 6 * 1024 * 1024

// putEvent is a function URL event carrying a data object of n bytes of
// binary (base64, as the URL delivers RedDB's form-typed bodies), with the
// headers of the sample event.
func putEvent(t testing.TB, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "reddb-put-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte{0xff, 0x00, 0x80}, n/3+1)[:n]
	ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The RedDB function's object limit fits a Lambda invocation both ways:
// the event of a PUT of MaxObjectBytes of binary, and the response of its
// GET, stay under 6 MB; one byte more is refused with 413. The log gives
// the measured sizes and the largest body an event could carry at all.
func TestMaxObjectFitsAnInvocation(t *testing.T) {
	t.Parallel()
	build, _ := fileFunctions(t)
	h := build(api.FnRedDB)

	in := putEvent(t, MaxObjectBytes)
	if len(in) > invocationLimit {
		t.Fatalf("a PUT of %d bytes is an event of %d bytes, over the %d-byte invocation limit", MaxObjectBytes, len(in), invocationLimit)
	}
	if r := invoke(t, h, in); r.StatusCode != 200 {
		t.Fatalf("PUT of MaxObjectBytes: %d %s", r.StatusCode, r.Body)
	}
	get, err := os.ReadFile(filepath.Join("..", "..", "events", "reddb-get-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Invoke(context.Background(), get)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 || !resp.IsBase64Encoded {
		t.Fatalf("GET of MaxObjectBytes: %d base64 %v (%v)", resp.StatusCode, resp.IsBase64Encoded, err)
	}
	if len(out) > invocationLimit {
		t.Fatalf("the GET response is %d bytes, over the %d-byte invocation limit", len(out), invocationLimit)
	}
	if r := invoke(t, h, putEvent(t, MaxObjectBytes+1)); r.StatusCode != 413 {
		t.Errorf("PUT of MaxObjectBytes+1: %d %s, want 413", r.StatusCode, r.Body)
	}
	largest := sort.Search(invocationLimit, func(n int) bool { return len(putEvent(t, n)) > invocationLimit }) - 1
	t.Logf("object limit %d bytes: PUT event %d bytes, GET response %d bytes, of %d; the largest binary body any event carries is %d bytes",
		MaxObjectBytes, len(in), len(out), invocationLimit, largest)
}
