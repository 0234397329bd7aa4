package dynamodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/lease"
)

var (
	_ lease.ListingStore = (*Store)(nil)
	_ API                = (*awsddb.Client)(nil)
)

// API is the part of the DynamoDB client the store uses; *dynamodb.Client
// satisfies it, and tests substitute a fake.
type API interface {
	GetItem(ctx context.Context, in *awsddb.GetItemInput, optFns ...func(*awsddb.Options)) (*awsddb.GetItemOutput, error)
	PutItem(ctx context.Context, in *awsddb.PutItemInput, optFns ...func(*awsddb.Options)) (*awsddb.PutItemOutput, error)
	Scan(ctx context.Context, in *awsddb.ScanInput, optFns ...func(*awsddb.Options)) (*awsddb.ScanOutput, error)
}

// The condition expressions of the two writes.
const (
	conditionCreate  = "attribute_not_exists(" + attrKey + ")"
	conditionReplace = attrVersion + " = :expected"
)

// Defaults of Options.
const (
	// DefaultRetryAfter is the hint attached to lease.Unavailable errors.
	DefaultRetryAfter = time.Second
	// DefaultScanSegments is the parallel Scan's segment count.
	DefaultScanSegments = 4
	// maxScanSegments is DynamoDB's own limit on TotalSegments.
	maxScanSegments = 1_000_000
)

// Options configure a Store. Table is required; the zero value of every
// other field gives its default.
type Options struct {
	// Table holds the lease items; it must have the schema in the package
	// doc.
	Table string
	// RetryAfter is the hint attached to lease.Unavailable errors.
	RetryAfter time.Duration
	// ScanSegments is how many segments List scans in parallel
	// (DefaultScanSegments); 1 scans sequentially.
	ScanSegments int
}

// Store is a lease.Store and lease.Lister on one table. It is safe for
// concurrent use.
type Store struct {
	api   API
	table string
	opts  Options
}

// New returns a store on opts.Table. client is usually a *dynamodb.Client
// built by the caller.
func New(client API, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("dynamodb store: nil client")
	}
	if opts.Table == "" {
		return nil, errors.New("dynamodb store: empty table name")
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	switch {
	case opts.ScanSegments <= 0:
		opts.ScanSegments = DefaultScanSegments
	case opts.ScanSegments > maxScanSegments:
		return nil, fmt.Errorf("dynamodb store: ScanSegments %d is over DynamoDB's %d", opts.ScanSegments, maxScanSegments)
	}
	return &Store{api: client, table: opts.Table, opts: opts}, nil
}

// Load implements lease.Store with one strongly consistent GetItem.
func (s *Store) Load(ctx context.Context, key string) (lease.Versioned, error) {
	out, err := s.api.GetItem(ctx, &awsddb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return lease.Versioned{}, fmt.Errorf("dynamodb load %q: %w", key, s.mapErr(err))
	}
	if out.Item == nil {
		return lease.Versioned{}, fmt.Errorf("dynamodb load %q: %w", key, lease.ErrNotFound)
	}
	v, err := decodeItem(out.Item)
	if err != nil {
		return lease.Versioned{}, fmt.Errorf("dynamodb load %q: %w", key, err)
	}
	return v, nil
}

// Create implements lease.Store: PutItem if no item has the key.
func (s *Store) Create(ctx context.Context, rec lease.Record) (lease.Version, error) {
	v, err := s.put(ctx, &awsddb.PutItemInput{
		Item:                encodeItem(rec, 1),
		ConditionExpression: aws.String(conditionCreate),
	}, 1)
	if err != nil {
		return "", fmt.Errorf("dynamodb create %q: %w", rec.DatabaseKey, err)
	}
	return v, nil
}

// Replace implements lease.Store: PutItem if the item is at version expect.
func (s *Store) Replace(ctx context.Context, rec lease.Record, expect lease.Version) (lease.Version, error) {
	ver, ok := parseVersion(expect)
	if !ok || ver == math.MaxUint64 {
		// Not a version this backend hands out, so it cannot match.
		return "", fmt.Errorf("dynamodb replace %q: version %q: %w", rec.DatabaseKey, expect, &lease.PreconditionError{})
	}
	v, err := s.put(ctx, &awsddb.PutItemInput{
		Item:                      encodeItem(rec, ver+1),
		ConditionExpression:       aws.String(conditionReplace),
		ExpressionAttributeValues: map[string]types.AttributeValue{":expected": num(ver)},
	}, ver+1)
	if err != nil {
		return "", fmt.Errorf("dynamodb replace %q: %w", rec.DatabaseKey, err)
	}
	return v, nil
}

// put sends one conditional PutItem. A refused write comes back with the
// item DynamoDB found (ALL_OLD), which becomes the PreconditionError's
// Current.
func (s *Store) put(ctx context.Context, in *awsddb.PutItemInput, ver uint64) (lease.Version, error) {
	in.TableName = aws.String(s.table)
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	writeID := newWriteID()
	in.Item[attrWriteID] = &types.AttributeValueMemberS{Value: writeID}
	_, err := s.api.PutItem(ctx, in)
	if err == nil {
		return formatVersion(ver), nil
	}
	var failed *types.ConditionalCheckFailedException
	if !errors.As(err, &failed) {
		return "", s.mapErr(err)
	}
	if id, ok := failed.Item[attrWriteID].(*types.AttributeValueMemberS); ok && id.Value == writeID {
		return formatVersion(ver), nil // a resend found this very write applied
	}
	pre := &lease.PreconditionError{}
	if failed.Item != nil {
		// An item that does not decode is left for the Service's re-read
		// to report as corrupt.
		if cur, derr := decodeItem(failed.Item); derr == nil {
			pre.Current = &cur
		}
	}
	return "", fmt.Errorf("%w: %w", pre, err)
}

// mapErr turns an SDK error into the lease error the Service expects.
func (s *Store) mapErr(err error) error {
	if transient(err) {
		return lease.Unavailable(err, s.opts.RetryAfter)
	}
	return err
}

// newWriteID returns 128 random bits in hex; crypto/rand never fails on the
// platforms Go supports.
func newWriteID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
