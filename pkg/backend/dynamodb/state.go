package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/lease"
)

// stateKey is the partition key of the item that holds the sweep's state.
// It starts with "/", which no database key may (lease.ValidateKey), so no
// request can reach it, and List leaves it out.
const stateKey = "/redlease/sweep-state"

// attrState holds the state's bytes.
const attrState = "sweep_state"

// MaxStateBytes is the largest state SaveState stores: DynamoDB's 400 KB
// item limit, less room for the key and the version. The sweep keeps
// almost nothing for this backend (every listed entry carries its record),
// so its state is a few hundred bytes.
const MaxStateBytes = 390 << 10

// LoadState implements lease.StateStore with one strongly consistent
// GetItem.
func (s *Store) LoadState(ctx context.Context) ([]byte, lease.Version, error) {
	out, err := s.api.GetItem(ctx, &awsddb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf(stateKey),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, "", fmt.Errorf("dynamodb load sweep state: %w", s.mapErr(err))
	}
	if out.Item == nil {
		return nil, "", fmt.Errorf("dynamodb load sweep state: %w", lease.ErrNotFound)
	}
	data, ok := out.Item[attrState].(*types.AttributeValueMemberB)
	ver, err := getNumber(out.Item, attrVersion)
	if !ok || err != nil || ver == 0 {
		return nil, "", fmt.Errorf("dynamodb load sweep state: %w: item %q has no binary %s and version", lease.ErrCorrupt, stateKey, attrState)
	}
	return data.Value, formatVersion(ver), nil
}

// SaveState implements lease.StateStore with one conditional PutItem, as
// Create and Replace do for records.
func (s *Store) SaveState(ctx context.Context, data []byte, expect lease.Version) (lease.Version, error) {
	if len(data) > MaxStateBytes {
		return "", fmt.Errorf("dynamodb save sweep state: %d bytes is over the %d an item holds", len(data), MaxStateBytes)
	}
	in := &awsddb.PutItemInput{
		TableName: aws.String(s.table),
		Item:      map[string]types.AttributeValue{attrKey: str(stateKey), attrState: &types.AttributeValueMemberB{Value: data}},
	}
	next := uint64(1)
	if expect == "" {
		in.ConditionExpression = aws.String(conditionCreate)
	} else {
		ver, ok := parseVersion(expect)
		if !ok || ver == math.MaxUint64 {
			return "", fmt.Errorf("dynamodb save sweep state: version %q: %w", expect, &lease.PreconditionError{})
		}
		next = ver + 1
		in.ConditionExpression = aws.String(conditionReplace)
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":expected": num(ver)}
	}
	in.Item[attrVersion] = num(next)
	if _, err := s.api.PutItem(ctx, in); err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return "", fmt.Errorf("dynamodb save sweep state: %w: %w", &lease.PreconditionError{}, err)
		}
		return "", fmt.Errorf("dynamodb save sweep state: %w", s.mapErr(err))
	}
	return formatVersion(next), nil
}
