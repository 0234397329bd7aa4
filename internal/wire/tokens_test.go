package wire

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/pkg/auth"
)

// fakeGetter answers GetObject like S3: the object with its ETag, 304 to
// a matching If-None-Match, NoSuchKey when there is none.
type fakeGetter struct {
	doc, etag string
	err       error
	calls     []string // If-None-Match of each call
}

func (f *fakeGetter) GetObject(_ context.Context, in *awss3.GetObjectInput, _ ...func(*awss3.Options)) (*awss3.GetObjectOutput, error) {
	f.calls = append(f.calls, aws.ToString(in.IfNoneMatch))
	switch {
	case f.err != nil:
		return nil, f.err
	case f.doc == "":
		return nil, &s3types.NoSuchKey{}
	case aws.ToString(in.IfNoneMatch) == f.etag:
		return nil, &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusNotModified}},
			Err: errors.New("NotModified")}
	}
	return &awss3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(f.doc)), ETag: aws.String(f.etag)}, nil
}

func TestS3TokensSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &fakeGetter{}
	src := S3TokensSource(f, "cfg", "tokens.json")
	if src.String() != "s3://cfg/tokens.json" {
		t.Errorf("String = %q", src)
	}
	if _, _, err := src.Fetch(ctx, ""); !errors.Is(err, auth.ErrNoDocument) {
		t.Fatalf("missing object: %v, want ErrNoDocument", err)
	}
	f.doc, f.etag = `{"tokens":[]}`, `"e1"`
	doc, v, err := src.Fetch(ctx, "")
	if err != nil || string(doc) != f.doc || v != `"e1"` {
		t.Fatalf("Fetch = %q, %q, %v", doc, v, err)
	}
	if _, _, err := src.Fetch(ctx, v); !errors.Is(err, auth.ErrUnchanged) {
		t.Fatalf("Fetch since the current ETag: %v, want ErrUnchanged", err)
	}
	if got := f.calls; len(got) != 3 || got[2] != `"e1"` {
		t.Errorf("If-None-Match sent: %q, want the ETag last read on the check", got)
	}
	f.err = errors.New("AccessDenied")
	if _, _, err := src.Fetch(ctx, v); err == nil || errors.Is(err, auth.ErrUnchanged) || !strings.Contains(err.Error(), "s3://cfg/tokens.json") {
		t.Fatalf("a failing GetObject: %v, want an error naming the object", err)
	}
}

func TestLoadAuthWithoutTokensLeavesItNil(t *testing.T) {
	t.Parallel()
	app := &App{Config: config.Config{}}
	if err := app.LoadAuth(context.Background(), nil); err != nil || app.Auth != nil {
		t.Fatalf("LoadAuth without tokens = %v, Auth %v; want nil and nil", err, app.Auth)
	}
}
