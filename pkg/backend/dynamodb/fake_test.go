package dynamodb

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/redlease/redlease/internal/awstest"
)

type item = map[string]types.AttributeValue

// fakeDynamoDB is an in-process table keyed by database_key with DynamoDB's
// semantics for what the store uses: PutItem evaluates its condition and
// writes atomically (so the conformance suite's races are real races),
// answers a failed condition with ConditionalCheckFailedException carrying
// the old item only when ALL_OLD was asked for, rejects expressions it does
// not understand and unused expression values as DynamoDB does, and Scan
// walks items in hash order with Limit counting evaluated items.
type fakeDynamoDB struct {
	awstest.Calls // counts every operation; FailNext scripts failures
	table         string
	// pageCap, when set, ends a Scan page after that many items even below
	// Limit, as DynamoDB's 1 MB page limit does.
	pageCap int

	mu      sync.Mutex
	items   map[string]item
	order   []string // the keys of items in Scan order (compareHashOrder)
	gets    []*awsddb.GetItemInput
	puts    []*awsddb.PutItemInput
	scans   []*awsddb.ScanInput
	applied map[string][]error // errors returned after the write was applied
	// readUnits adds up what every Scan consumed, as DynamoDB bills it.
	readUnits float64
	// unrecorded stops the fake keeping every request (benchmarks).
	unrecorded bool
}

func newFakeDynamoDB(table string) *fakeDynamoDB {
	return &fakeDynamoDB{
		table:   table,
		items:   map[string]item{},
		applied: map[string][]error{},
	}
}

// failAfterApplying makes the next PutItem apply its write and still return
// err, like a timeout after DynamoDB committed.
func (f *fakeDynamoDB) failAfterApplying(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied["PutItem"] = append(f.applied["PutItem"], err)
}

func (f *fakeDynamoDB) putRaw(it item) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.storeLocked(it[attrKey].(*types.AttributeValueMemberS).Value, it)
}

func (f *fakeDynamoDB) storeLocked(key string, it item) {
	if _, ok := f.items[key]; !ok {
		i, _ := slices.BinarySearchFunc(f.order, key, compareHashOrder)
		f.order = slices.Insert(f.order, i, key)
	}
	f.items[key] = copyItem(it)
}

func (f *fakeDynamoDB) GetItem(ctx context.Context, in *awsddb.GetItemInput, _ ...func(*awsddb.Options)) (*awsddb.GetItemOutput, error) {
	if err := f.Begin("GetItem"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.unrecorded {
		f.gets = append(f.gets, in)
	}
	if err := f.checkTable(in.TableName, "GetItem"); err != nil {
		return nil, err
	}
	key, err := keyValue(in.Key, "GetItem")
	if err != nil {
		return nil, err
	}
	it, ok := f.items[key]
	if !ok {
		return &awsddb.GetItemOutput{}, nil
	}
	return &awsddb.GetItemOutput{Item: copyItem(it)}, nil
}

func (f *fakeDynamoDB) PutItem(ctx context.Context, in *awsddb.PutItemInput, _ ...func(*awsddb.Options)) (*awsddb.PutItemOutput, error) {
	if err := f.Begin("PutItem"); err != nil {
		return nil, err
	}
	// The request is in flight: let other writers run.
	runtime.Gosched()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.unrecorded {
		f.puts = append(f.puts, in)
	}
	if err := f.checkTable(in.TableName, "PutItem"); err != nil {
		return nil, err
	}
	key, err := keyValue(in.Item, "PutItem")
	if err != nil {
		return nil, err
	}
	old, exists := f.items[key]
	ok, err := evalCondition(aws.ToString(in.ConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues, old, exists)
	if err != nil {
		return nil, err
	}
	if !ok {
		failed := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
		if exists && in.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld {
			failed.Item = copyItem(old)
		}
		return nil, ddbError("PutItem", http.StatusBadRequest, failed)
	}
	f.storeLocked(key, in.Item)
	if q := f.applied["PutItem"]; len(q) > 0 {
		f.applied["PutItem"] = q[1:]
		return nil, q[0]
	}
	return &awsddb.PutItemOutput{}, nil
}

func (f *fakeDynamoDB) Scan(ctx context.Context, in *awsddb.ScanInput, _ ...func(*awsddb.Options)) (*awsddb.ScanOutput, error) {
	if err := f.Begin("Scan"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.unrecorded {
		f.scans = append(f.scans, in)
	}
	if err := f.checkTable(in.TableName, "Scan"); err != nil {
		return nil, err
	}
	lo, hi, err := segmentRange(f.order, in.Segment, in.TotalSegments)
	if err != nil {
		return nil, err
	}
	start := lo
	if in.ExclusiveStartKey != nil {
		after, err := keyValue(in.ExclusiveStartKey, "Scan")
		if err != nil {
			return nil, err
		}
		start, _ = slices.BinarySearchFunc(f.order[:hi], after, compareHashOrder)
		if start < hi && f.order[start] == after {
			start++
		}
		start = max(start, lo)
	}
	limit := math.MaxInt
	if in.Limit != nil {
		if *in.Limit <= 0 {
			return nil, validation("Scan", "Limit must be at least 1")
		}
		limit = int(*in.Limit)
	}
	if f.pageCap > 0 {
		limit = min(limit, f.pageCap)
	}
	project, err := projection(in.ProjectionExpression, in.ExpressionAttributeNames)
	if err != nil {
		return nil, err
	}
	out := &awsddb.ScanOutput{}
	bytes := 0
	i := start
	for ; i < hi && len(out.Items) < limit && bytes < scanPageBytes; i++ {
		it := f.items[f.order[i]]
		bytes += itemBytes(it)
		out.Items = append(out.Items, project(it))
	}
	if len(out.Items) > 0 && (i < hi || len(out.Items) == limit) {
		// DynamoDB stops at the limit or 1 MB and names the last item
		// evaluated, whether or not anything follows.
		out.LastEvaluatedKey = keyOf(f.order[i-1])
	}
	units := float64((bytes + 4095) / 4096)
	if !aws.ToBool(in.ConsistentRead) {
		units /= 2
	}
	units = max(units, 0.5)
	f.readUnits += units
	if in.ReturnConsumedCapacity == types.ReturnConsumedCapacityTotal {
		out.ConsumedCapacity = &types.ConsumedCapacity{TableName: in.TableName, CapacityUnits: aws.Float64(units)}
	}
	out.Count, out.ScannedCount = int32(len(out.Items)), int32(len(out.Items))
	return out, nil
}

// scanPageBytes is where DynamoDB ends a Scan page.
const scanPageBytes = 1 << 20

// segmentRange is the part of order (all keys in Scan order) that segment
// seg of total covers: DynamoDB splits the hash space into equal ranges.
func segmentRange(order []string, seg, total *int32) (lo, hi int, err error) {
	if (seg == nil) != (total == nil) {
		return 0, 0, validation("Scan", "Segment and TotalSegments go together")
	}
	if total == nil || *total == 1 {
		return 0, len(order), nil
	}
	n, s := uint64(*total), uint64(*seg)
	if n < 1 || s >= n {
		return 0, 0, validation("Scan", "Segment must be below TotalSegments")
	}
	width := math.MaxUint64/n + 1
	at := func(h uint64) int {
		i, _ := slices.BinarySearchFunc(order, h, func(k string, h uint64) int { return cmp.Compare(fnv64(k), h) })
		return i
	}
	lo = at(s * width)
	hi = len(order)
	if s+1 < n {
		hi = at((s + 1) * width)
	}
	return lo, hi, nil
}

// projection returns what ProjectionExpression keeps of an item.
func projection(expr *string, names map[string]string) (func(item) item, error) {
	if expr == nil {
		return copyItem, nil
	}
	var keep []string
	for _, part := range strings.Split(*expr, ",") {
		name := strings.TrimSpace(part)
		if strings.HasPrefix(name, "#") {
			real, ok := names[name]
			if !ok {
				return nil, validation("Scan", "An expression attribute name used in the document path is not defined; attribute name: "+name)
			}
			name = real
		}
		keep = append(keep, name)
	}
	return func(it item) item {
		out := item{}
		for _, name := range keep {
			if v, ok := it[name]; ok {
				out[name] = v
			}
		}
		return copyItem(out)
	}, nil
}

// itemBytes is an item's size as DynamoDB bills it: each attribute's name
// and value; a string or binary by its length, a number at one byte per
// two significant digits, plus one.
func itemBytes(it item) int {
	n := 0
	for name, v := range it {
		n += len(name)
		switch x := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(x.Value)
		case *types.AttributeValueMemberB:
			n += len(x.Value)
		case *types.AttributeValueMemberN:
			digits := strings.Trim(strings.TrimLeft(x.Value, "-"), "0")
			n += (len(strings.ReplaceAll(digits, ".", ""))+1)/2 + 1
		default:
			n++
		}
	}
	return n
}

func (f *fakeDynamoDB) checkTable(name *string, op string) error {
	if aws.ToString(name) != f.table {
		return ddbError(op, http.StatusBadRequest, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")})
	}
	return nil
}

// compareHashOrder orders keys the way a Scan walks them: by a hash, not
// by key, so nothing can rely on sorted listings.
func compareHashOrder(a, b string) int {
	ha, hb := fnv64(a), fnv64(b)
	switch {
	case ha < hb:
		return -1
	case ha > hb:
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fnv64 is FNV-1a with a final mix, so that keys that differ only in their
// last bytes spread over the whole range, as DynamoDB's partition hash
// spreads them over the segments of a parallel Scan.
func fnv64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func keyValue(key item, op string) (string, error) {
	v, ok := key[attrKey].(*types.AttributeValueMemberS)
	if !ok || v.Value == "" {
		return "", validation(op, "The provided key element does not match the schema")
	}
	if op != "PutItem" && len(key) != 1 {
		return "", validation(op, "The provided key element does not match the schema")
	}
	return v.Value, nil
}

var (
	reNotExists = regexp.MustCompile(`^attribute_not_exists\(\s*(#?[A-Za-z_][A-Za-z0-9_]*)\s*\)$`)
	reEquals    = regexp.MustCompile(`^(#?[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(:[A-Za-z0-9_]+)$`)
)

// evalCondition understands the two forms the store sends, and refuses
// anything else as DynamoDB refuses what it cannot parse.
func evalCondition(expr string, names map[string]string, values map[string]types.AttributeValue, old item, exists bool) (bool, error) {
	resolve := func(n string) (string, error) {
		if n[0] != '#' {
			return n, nil
		}
		real, ok := names[n]
		if !ok {
			return "", validation("PutItem", "An expression attribute name used in the document path is not defined; attribute name: "+n)
		}
		return real, nil
	}
	usedValues := map[string]bool{}
	var result bool
	switch {
	case expr == "":
		result = true
	case reNotExists.MatchString(expr):
		name, err := resolve(reNotExists.FindStringSubmatch(expr)[1])
		if err != nil {
			return false, err
		}
		_, has := old[name]
		result = !exists || !has
	case reEquals.MatchString(expr):
		m := reEquals.FindStringSubmatch(expr)
		name, err := resolve(m[1])
		if err != nil {
			return false, err
		}
		want, ok := values[m[2]]
		if !ok {
			return false, validation("PutItem", "An expression attribute value used in expression is not defined; attribute value: "+m[2])
		}
		usedValues[m[2]] = true
		result = exists && sameValue(old[name], want)
	default:
		return false, validation("PutItem", fmt.Sprintf("the fake does not understand ConditionExpression %q", expr))
	}
	for k := range values {
		if !usedValues[k] {
			return false, validation("PutItem", "Value provided in ExpressionAttributeValues unused in expressions: keys: {"+k+"}")
		}
	}
	return result, nil
}

// sameValue compares as DynamoDB does: numbers by value, strings by bytes.
func sameValue(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		if !ok {
			return false
		}
		rx, okx := new(big.Rat).SetString(x.Value)
		ry, oky := new(big.Rat).SetString(y.Value)
		return okx && oky && rx.Cmp(ry) == 0
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	}
	return false
}

// copyItem deep-copies the attribute kinds the store uses, so that nobody
// shares memory with the table.
func copyItem(it item) item {
	if it == nil {
		return nil
	}
	out := make(item, len(it))
	for k, v := range it {
		switch x := v.(type) {
		case *types.AttributeValueMemberS:
			out[k] = &types.AttributeValueMemberS{Value: x.Value}
		case *types.AttributeValueMemberN:
			out[k] = &types.AttributeValueMemberN{Value: x.Value}
		case *types.AttributeValueMemberBOOL:
			out[k] = &types.AttributeValueMemberBOOL{Value: x.Value}
		default:
			out[k] = v
		}
	}
	return out
}

func validation(op, msg string) error {
	return ddbError(op, http.StatusBadRequest, &smithy.GenericAPIError{Code: "ValidationException", Message: msg})
}

// ddbError is DynamoDB's answer apiErr as the SDK returns it.
func ddbError(op string, status int, apiErr error) error {
	return awstest.APIError("DynamoDB", op, status, apiErr)
}

func codeError(op string, status int, code string) error {
	return awstest.CodeError("DynamoDB", op, status, code)
}

func transportError(op string) error { return awstest.TransportError("DynamoDB", op) }
