package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/lease"
)

// defaultScanLimit is used when the caller names no page size.
const defaultScanLimit = 1000

// List implements lease.Lister with one strongly consistent Scan per page.
// The cursor is the database_key of the Scan's LastEvaluatedKey, which is
// the table's whole primary key. Scan's Limit caps the items DynamoDB
// evaluates, and a page also ends at 1 MB, so a page may hold fewer than
// limit records (even none) while Next is set; walking the cursors to the
// end still returns every record once. Order is DynamoDB's hash order.
func (s *Store) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	if limit <= 0 {
		limit = defaultScanLimit
	}
	in := &awsddb.ScanInput{
		TableName:      aws.String(s.table),
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(int32(min(limit, 1<<30))),
	}
	if cursor != "" {
		in.ExclusiveStartKey = keyOf(cursor)
	}
	out, err := s.api.Scan(ctx, in)
	if err != nil {
		return lease.Page{}, fmt.Errorf("dynamodb list %q: %w", s.table, s.mapErr(err))
	}
	page := lease.Page{Records: make([]lease.Versioned, 0, len(out.Items))}
	for _, item := range out.Items {
		v, err := decodeItem(item)
		if errors.Is(err, lease.ErrCorrupt) {
			page.Unreadable = append(page.Unreadable, itemKey(item))
			continue
		}
		if err != nil {
			return lease.Page{}, fmt.Errorf("dynamodb list %q: %w", s.table, err)
		}
		page.Records = append(page.Records, v)
	}
	if out.LastEvaluatedKey != nil {
		next, ok := out.LastEvaluatedKey[attrKey].(*types.AttributeValueMemberS)
		if !ok || next.Value == "" || len(out.LastEvaluatedKey) != 1 {
			return lease.Page{}, fmt.Errorf("dynamodb list %q: LastEvaluatedKey %v is not this table's key; check the schema", s.table, out.LastEvaluatedKey)
		}
		page.Next = next.Value
	}
	return page, nil
}

// itemKey names an unreadable item for the operator: its partition key when
// that much is readable.
func itemKey(item map[string]types.AttributeValue) string {
	if k, ok := item[attrKey].(*types.AttributeValueMemberS); ok {
		return k.Value
	}
	return "(item without a string database_key)"
}
