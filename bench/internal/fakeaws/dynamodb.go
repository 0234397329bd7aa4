package fakeaws

import (
	"encoding/json"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// DynamoDB is an in-memory DynamoDB endpoint for tables whose partition
// key is database_key (a string), which is redlease's schema.
type DynamoDB struct {
	mu     sync.Mutex
	tables map[string]map[string]item
}

// item is an item as it travels on the wire: attribute name -> {"S": "x"}.
type item = map[string]map[string]string

// NewDynamoDB starts a DynamoDB endpoint; it stops when the test ends.
func NewDynamoDB(tb interface{ Cleanup(func()) }) (*DynamoDB, string) {
	d := &DynamoDB{tables: map[string]map[string]item{}}
	srv := httptest.NewServer(d)
	tb.Cleanup(srv.Close)
	return d, srv.URL
}

const keyAttr = "database_key"

type request struct {
	TableName                           string
	Key                                 item
	Item                                item
	ConditionExpression                 string
	ExpressionAttributeValues           item
	ReturnValuesOnConditionCheckFailure string
	Limit                               int
	ExclusiveStartKey                   item
	Segment, TotalSegments              int
}

func ddbError(w http.ResponseWriter, typ, msg string, extra map[string]any) {
	body := map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + typ, "message": msg}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, http.StatusBadRequest, body)
}

// writeJSON answers with the CRC32 header the SDK checks DynamoDB bodies by.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ServeHTTP implements http.Handler.
func (d *DynamoDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		ddbError(w, "SerializationException", err.Error(), nil)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	table := d.tables[req.TableName]
	if table == nil {
		table = map[string]item{}
		d.tables[req.TableName] = table
	}
	var out any
	switch op {
	case "GetItem":
		res := map[string]any{}
		if it, ok := table[req.Key[keyAttr]["S"]]; ok {
			res["Item"] = it
		}
		out = res
	case "PutItem":
		k := req.Item[keyAttr]["S"]
		cur, exists := table[k]
		if ok, known := holds(req, cur, exists); !known {
			ddbError(w, "ValidationException", "unsupported condition "+req.ConditionExpression, nil)
			return
		} else if !ok {
			var extra map[string]any
			if exists && req.ReturnValuesOnConditionCheckFailure == "ALL_OLD" {
				extra = map[string]any{"Item": cur}
			}
			ddbError(w, "ConditionalCheckFailedException", "The conditional request failed", extra)
			return
		}
		table[k] = req.Item
		out = map[string]any{}
	case "Scan":
		out = scan(table, req)
	case "CreateTable", "DescribeTable":
		desc := map[string]any{"TableName": req.TableName, "TableStatus": "ACTIVE"}
		out = map[string]any{"TableDescription": desc, "Table": desc}
	default:
		ddbError(w, "UnknownOperationException", op, nil)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// holds evaluates the two conditions redlease's store sends; known is
// false for any other expression.
func holds(req request, cur item, exists bool) (ok, known bool) {
	switch c := req.ConditionExpression; {
	case c == "":
		return true, true
	case c == "attribute_not_exists("+keyAttr+")":
		return !exists, true
	case strings.HasSuffix(c, " = :expected"):
		attr := strings.TrimSuffix(c, " = :expected")
		want := req.ExpressionAttributeValues[":expected"]
		return exists && cur[attr]["N"] != "" && cur[attr]["N"] == want["N"], true
	}
	return false, false
}

func scan(table map[string]item, req request) map[string]any {
	keys := make([]string, 0, len(table))
	after := req.ExclusiveStartKey[keyAttr]["S"]
	for k := range table {
		// A parallel Scan's segment holds a share of the keys.
		if k > after && (req.TotalSegments <= 1 || int64(crc32.ChecksumIEEE([]byte(k)))%int64(req.TotalSegments) == int64(req.Segment)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	res := map[string]any{}
	if req.Limit > 0 && len(keys) > req.Limit {
		keys = keys[:req.Limit]
		res["LastEvaluatedKey"] = item{keyAttr: {"S": keys[len(keys)-1]}}
	}
	items := make([]item, 0, len(keys))
	for _, k := range keys {
		items = append(items, table[k])
	}
	res["Items"], res["Count"], res["ScannedCount"] = items, len(items), len(items)
	return res
}
