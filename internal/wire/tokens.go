package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/redlease/redlease/pkg/auth"
	s3store "github.com/redlease/redlease/pkg/backend/s3"
)

// LoadAuth loads the bearer tokens document cfg.Tokens names, once, into
// a.Auth: a file (redlease serve --tokens) or an S3 object (the deployed
// stack's), checked again every cfg.Tokens.Every() on the request path.
// A document that does not parse is a start-up error naming the entry;
// without a document configured a.Auth stays nil and only principals the
// transport establishes (IAM) get through. Every function that accepts
// bearer tokens starts through here, so the RedDB face's does too.
func (a *App) LoadAuth(ctx context.Context, log *slog.Logger) error {
	t := a.Config.Tokens
	if !t.Enabled() {
		return nil
	}
	src := auth.FileSource(t.File)
	if t.Bucket != "" {
		src = S3TokensSource(s3store.NewClient(a.AWS, a.Config.S3PathStyle), t.Bucket, t.Key)
	}
	r, err := auth.Load(ctx, src, auth.ReloadOptions{Every: t.Every(), Log: log})
	if err != nil {
		return err
	}
	a.Auth = r
	return nil
}

// ObjectGetter is the one S3 call the tokens source makes.
type ObjectGetter interface {
	GetObject(ctx context.Context, in *awss3.GetObjectInput, optFns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
}

// S3TokensSource is a tokens document in an S3 object. A check is one
// conditional GetObject (If-None-Match on the ETag last read), which S3
// answers 304 without a body while the document is unchanged; a missing
// object is auth.ErrNoDocument (a stack deployed before its operator wrote
// one).
func S3TokensSource(client ObjectGetter, bucket, key string) auth.Source {
	return s3Tokens{client: client, bucket: bucket, key: key}
}

type s3Tokens struct {
	client      ObjectGetter
	bucket, key string
}

func (s s3Tokens) String() string { return "s3://" + s.bucket + "/" + s.key }

func (s s3Tokens) Fetch(ctx context.Context, since string) ([]byte, string, error) {
	in := &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key)}
	if since != "" {
		in.IfNoneMatch = aws.String(since)
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		var noKey *s3types.NoSuchKey
		var resp *smithyhttp.ResponseError
		switch {
		case errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotModified:
			return nil, since, auth.ErrUnchanged
		case errors.As(err, &noKey), errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound:
			return nil, "", auth.ErrNoDocument
		}
		return nil, "", fmt.Errorf("get %s: %w", s, err)
	}
	defer out.Body.Close()
	doc, err := io.ReadAll(io.LimitReader(out.Body, auth.MaxDocumentBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", s, err)
	}
	return doc, aws.ToString(out.ETag), nil
}
