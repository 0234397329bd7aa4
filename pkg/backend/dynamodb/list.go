package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/pkg/lease"
)

// defaultScanLimit is used when the caller names no page size.
const defaultScanLimit = 1000

// List implements lease.Lister with a parallel Scan: one strongly
// consistent Scan call per unfinished segment (Options.ScanSegments) and
// page, the page's Limit split between them, so that a table of any size
// is read in about 1/ScanSegments of the time one Scan would take. Every
// entry carries its whole item (no projection: the sweep marks exactly the
// record it listed, so an attribute left out, a principal or a member kept
// for a later version, would be erased by the mark; and a projection would
// not lower the read units, which DynamoDB bills on the items' size), so
// the sweep reads nothing more, and each page
// reports the read units DynamoDB says it consumed.
//
// The cursor is the JSON array of each segment's position: the
// database_key of its LastEvaluatedKey (the table's whole primary key),
// "" before its first page, null once done. It stays valid for as long as
// ScanSegments does; one from another segment count is refused with
// lease.ErrInvalid. A page also ends at 1 MB per segment, so it may hold
// fewer than limit records (even none) while Next is set. Order is
// DynamoDB's hash order.
func (s *Store) List(ctx context.Context, cursor string, limit int) (lease.Page, error) {
	if limit <= 0 {
		limit = defaultScanLimit
	}
	pos, err := s.parseCursor(cursor)
	if err != nil {
		return lease.Page{}, fmt.Errorf("dynamodb list %q: %w", s.table, err)
	}
	var active []int
	for seg, p := range pos {
		if p != nil {
			active = append(active, seg)
		}
	}
	// The page's limit split between the unfinished segments, the first
	// ones taking the remainder; a segment given none waits for a page
	// where the others are done.
	limit = min(limit, 1<<30)
	if len(active) > limit {
		active = active[:limit]
	}
	outs := make([]*awsddb.ScanOutput, len(pos))
	errs := make([]error, len(pos))
	var wg sync.WaitGroup
	for i, seg := range active {
		share := limit / len(active)
		if i < limit%len(active) {
			share++
		}
		wg.Go(func() { outs[seg], errs[seg] = s.scan(ctx, seg, *pos[seg], share) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return lease.Page{}, fmt.Errorf("dynamodb list %q: %w", s.table, err)
	}
	var page lease.Page
	for _, seg := range active {
		out := outs[seg]
		if out.ConsumedCapacity != nil {
			page.ReadUnits += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		for _, item := range out.Items {
			key := itemKey(item)
			if key == stateKey {
				continue
			}
			v, err := decodeItem(item)
			if err != nil {
				page.Unreadable = append(page.Unreadable, lease.Unreadable{Key: key, Err: err})
				continue
			}
			page.Entries = append(page.Entries, lease.Entry{Key: key, Tag: string(v.Version), Version: v.Version, Record: &v.Record})
		}
		pos[seg] = nil
		if out.LastEvaluatedKey != nil {
			next, ok := out.LastEvaluatedKey[attrKey].(*types.AttributeValueMemberS)
			if !ok || next.Value == "" || len(out.LastEvaluatedKey) != 1 {
				return lease.Page{}, fmt.Errorf("dynamodb list %q: LastEvaluatedKey %v is not this table's key; check the schema", s.table, out.LastEvaluatedKey)
			}
			pos[seg] = &next.Value
		}
	}
	if page.Next, err = formatCursor(pos); err != nil {
		return lease.Page{}, fmt.Errorf("dynamodb list %q: %w", s.table, err)
	}
	return page, nil
}

// scan runs one Scan call of segment seg after the key after ("" from the
// segment's start).
func (s *Store) scan(ctx context.Context, seg int, after string, limit int) (*awsddb.ScanOutput, error) {
	in := &awsddb.ScanInput{
		TableName:              aws.String(s.table),
		ConsistentRead:         aws.Bool(true),
		Limit:                  aws.Int32(int32(limit)), //nolint:gosec // limit <= 1<<30
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if n := s.opts.ScanSegments; n > 1 {
		in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(n)) //nolint:gosec // n <= maxScanSegments
	}
	if after != "" {
		in.ExclusiveStartKey = keyOf(after)
	}
	out, err := s.api.Scan(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("segment %d after %q: %w", seg, after, s.mapErr(err))
	}
	return out, nil
}

// parseCursor reads a cursor into one position per segment: nil once the
// segment is done, "" before its first page.
func (s *Store) parseCursor(cursor string) ([]*string, error) {
	pos := make([]*string, s.opts.ScanSegments)
	if cursor == "" {
		for i := range pos {
			pos[i] = new(string)
		}
		return pos, nil
	}
	var got []*string
	if err := json.Unmarshal([]byte(cursor), &got); err != nil || len(got) != len(pos) {
		return nil, &lease.InvalidError{Field: "cursor",
			Reason: fmt.Sprintf("%q is not a position in a scan of %d segments", cursor, len(pos))}
	}
	return got, nil
}

// formatCursor is the cursor of pos, or "" once every segment is done.
func formatCursor(pos []*string) (string, error) {
	for _, p := range pos {
		if p != nil {
			b, err := json.Marshal(pos)
			return string(b), err
		}
	}
	return "", nil
}

// itemKey names an unreadable item for the operator: its partition key when
// that much is readable.
func itemKey(item map[string]types.AttributeValue) string {
	if k, ok := item[attrKey].(*types.AttributeValueMemberS); ok {
		return k.Value
	}
	return "(item without a string database_key)"
}
