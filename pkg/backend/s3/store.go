package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/pkg/lease"
)

var (
	_ lease.ListingStore     = (*Store)(nil)
	_ lease.ContentVersioner = (*Store)(nil)
	_ API                    = (*awss3.Client)(nil)
)

// API is the part of the S3 client the store uses; *s3.Client satisfies it,
// and tests substitute a fake.
type API interface {
	GetObject(ctx context.Context, in *awss3.GetObjectInput, optFns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *awss3.PutObjectInput, optFns ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *awss3.ListObjectsV2Input, optFns ...func(*awss3.Options)) (*awss3.ListObjectsV2Output, error)
}

// Defaults of Options.
const (
	DefaultPrefix          = lease.DefaultPrefix
	DefaultConflictRetries = 3
	DefaultConflictBackoff = 20 * time.Millisecond
	DefaultRetryAfter      = time.Second
)

// maxObjectBytes bounds what Load reads: a lease object is a few hundred
// bytes, so anything far larger is not one, and reading it whole would only
// waste the Lambda's memory.
const maxObjectBytes = 64 << 10

// Options configure a Store. Bucket is required; the zero value of every
// other field gives its default.
type Options struct {
	// Bucket holds the lease objects.
	Bucket string
	// Prefix is put before every object name; DefaultPrefix when empty.
	Prefix string
	// StateKey is the object that holds the sweep's state; empty means
	// DefaultStateKey(Prefix). It must lie outside Prefix.
	StateKey string
	// ConflictRetries is how often a conditional write answered with 409
	// ConditionalRequestConflict is resent before it counts as a lost race.
	// Negative disables the retries.
	ConflictRetries int
	// ConflictBackoff is the first pause before such a resend; it doubles
	// each time and gets up to 50% jitter.
	ConflictBackoff time.Duration
	// RetryAfter is the hint attached to lease.Unavailable errors.
	RetryAfter time.Duration
	// DisableRequestChecksums stops the SDK from adding its default CRC32
	// checksum to PutObject, for S3-compatible stores that reject it.
	DisableRequestChecksums bool
}

// Store is a lease.Store and lease.Lister on one bucket. It is safe for
// concurrent use.
type Store struct {
	api     API
	bucket  string
	opts    Options
	putOpts []func(*awss3.Options)
}

// New returns a store on opts.Bucket. client is usually an *s3.Client built
// by the caller (see NewClient).
func New(client API, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("s3 store: nil client")
	}
	if opts.Bucket == "" {
		return nil, errors.New("s3 store: empty bucket name")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.StateKey == "" {
		opts.StateKey = DefaultStateKey(opts.Prefix)
	}
	if strings.HasPrefix(opts.StateKey, opts.Prefix) {
		return nil, fmt.Errorf("s3 store: state key %q lies inside the lease prefix %q", opts.StateKey, opts.Prefix)
	}
	switch {
	case opts.ConflictRetries == 0:
		opts.ConflictRetries = DefaultConflictRetries
	case opts.ConflictRetries < 0:
		opts.ConflictRetries = 0
	}
	if opts.ConflictBackoff <= 0 {
		opts.ConflictBackoff = DefaultConflictBackoff
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	s := &Store{api: client, bucket: opts.Bucket, opts: opts}
	if opts.DisableRequestChecksums {
		s.putOpts = []func(*awss3.Options){func(o *awss3.Options) {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}}
	}
	return s, nil
}

// ObjectKey is the object name that holds the record of a database key.
func (s *Store) ObjectKey(databaseKey string) string {
	return s.opts.Prefix + databaseKey + lease.ObjectSuffix
}

// databaseKey inverts ObjectKey; ok is false for objects that are not lease
// records under this store's prefix.
func (s *Store) databaseKey(objectKey string) (string, bool) {
	rest, ok := strings.CutPrefix(objectKey, s.opts.Prefix)
	if !ok {
		return "", false
	}
	key, ok := strings.CutSuffix(rest, lease.ObjectSuffix)
	if !ok || key == "" {
		return "", false
	}
	return key, true
}

// Load implements lease.Store with one GetObject.
func (s *Store) Load(ctx context.Context, key string) (lease.Versioned, error) {
	v, err := s.get(ctx, key)
	if err != nil {
		return lease.Versioned{}, fmt.Errorf("s3 load %q: %w", key, err)
	}
	return v, nil
}

// get reads and decodes one object; errors are already mapped to lease
// errors but carry no operation context.
func (s *Store) get(ctx context.Context, key string) (lease.Versioned, error) {
	out, err := s.api.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.ObjectKey(key)),
	})
	if err != nil {
		if classify(err) == outcomeNotFound {
			return lease.Versioned{}, fmt.Errorf("%w: %w", lease.ErrNotFound, err)
		}
		return lease.Versioned{}, s.mapErr(err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxObjectBytes+1))
	if err != nil {
		return lease.Versioned{}, lease.Unavailable(fmt.Errorf("read body: %w", err), s.opts.RetryAfter)
	}
	if len(data) > maxObjectBytes {
		return lease.Versioned{}, fmt.Errorf("%w: object is over %d bytes", lease.ErrCorrupt, maxObjectBytes)
	}
	etag := aws.ToString(out.ETag)
	if etag == "" {
		return lease.Versioned{}, errors.New("GetObject returned no ETag; the store cannot compare-and-swap")
	}
	rec, err := lease.DecodeRecord(data)
	if err != nil {
		return lease.Versioned{}, err
	}
	if rec.DatabaseKey != key {
		// Writing it back would put another key's lease here.
		return lease.Versioned{}, fmt.Errorf("%w: object holds database_key %q", lease.ErrCorrupt, rec.DatabaseKey)
	}
	return lease.Versioned{Record: rec, Version: lease.Version(etag)}, nil
}

// Create implements lease.Store with PutObject If-None-Match: *.
func (s *Store) Create(ctx context.Context, rec lease.Record) (lease.Version, error) {
	v, err := s.put(ctx, rec, func(in *awss3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
	if err != nil {
		return "", fmt.Errorf("s3 create %q: %w", rec.DatabaseKey, err)
	}
	return v, nil
}

// Replace implements lease.Store with PutObject If-Match: expect.
func (s *Store) Replace(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	if expect == "" {
		return "", fmt.Errorf("s3 replace %q: empty version", rec.DatabaseKey)
	}
	v, err := s.put(ctx, rec, func(in *awss3.PutObjectInput) { in.IfMatch = aws.String(string(expect)) })
	if err != nil {
		return "", fmt.Errorf("s3 replace %q: %w", rec.DatabaseKey, err)
	}
	return v, nil
}

// put sends one conditional PutObject, resending it while S3 answers 409.
func (s *Store) put(ctx context.Context, rec lease.Record, condition func(*awss3.PutObjectInput)) (lease.Version, error) {
	data := lease.EncodeRecord(rec)
	backoff := s.opts.ConflictBackoff
	for attempt := 0; ; attempt++ {
		in := &awss3.PutObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(s.ObjectKey(rec.DatabaseKey)),
			Body:          bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))),
			ContentType:   aws.String("application/json"),
		}
		condition(in)
		out, err := s.api.PutObject(ctx, in, s.putOpts...)
		if err == nil {
			etag := aws.ToString(out.ETag)
			if etag == "" {
				return "", errors.New("PutObject returned no ETag; the store cannot compare-and-swap")
			}
			return lease.Version(etag), nil
		}
		switch classify(err) {
		case outcomePrecondition, outcomeNotFound:
			// 404 can only answer If-Match here: the object is gone.
			return "", fmt.Errorf("%w: %w", &lease.PreconditionError{}, err)
		case outcomeConflict:
			if attempt >= s.opts.ConflictRetries {
				return "", fmt.Errorf("%w: still conflicting after %d attempts: %w",
					&lease.PreconditionError{}, attempt+1, err)
			}
			if err := sleep(ctx, jitter(backoff)); err != nil {
				return "", lease.Unavailable(err, s.opts.RetryAfter)
			}
			backoff *= 2
		default:
			return "", s.mapErr(err)
		}
	}
}

// mapErr turns an SDK error that is neither a precondition nor a missing
// object into the lease error the Service expects.
func (s *Store) mapErr(err error) error {
	if classify(err) == outcomeUnavailable {
		return lease.Unavailable(err, s.opts.RetryAfter)
	}
	return err
}

// jitter spreads resends of writers that collided at the same moment.
func jitter(d time.Duration) time.Duration {
	return d + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
