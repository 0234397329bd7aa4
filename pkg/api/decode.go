package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/redlease/redlease/pkg/internal/jsonstr"
	"github.com/redlease/redlease/pkg/lease"
)

// The decoders are strict on purpose: a lease service that guesses what a
// caller meant can hand out a lease nobody asked for. Anything but one JSON
// object with exactly the documented fields, each of its documented type, is
// refused with the offending field named. Range checks (TTL bounds, key
// syntax, term and generation at least 1) are the domain's and happen in
// lease.Service, so both report through lease.InvalidError.

// fieldBody names the whole body in errors that are not about one field.
const fieldBody = "body"

// fieldContentType names the Content-Type header in errors.
const fieldContentType = "content-type"

func invalidField(field, reason string) error {
	return &lease.InvalidError{Field: field, Reason: reason}
}

// checkContentType accepts application/json, with parameters, where the
// charset, if any, is UTF-8.
func checkContentType(h http.Header) error {
	v := h.Get("Content-Type")
	if v == "" {
		return invalidField(fieldContentType, "must be application/json")
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return invalidField(fieldContentType, "must be application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return invalidField(fieldContentType, "charset must be utf-8")
	}
	return nil
}

// object is a decoded top-level JSON object: each member's raw value, and
// which members were present.
type object map[string]json.RawMessage

// decodeObject parses body as exactly one JSON object whose members are all
// named in fields, each at most once.
func decodeObject(body []byte, fields []string) (object, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, invalidField(fieldBody, "must be a JSON object, got an empty body")
	}
	if !utf8.Valid(body) {
		return nil, invalidField(fieldBody, "must be valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalidField(fieldBody, "must be a JSON object")
	}
	obj := make(object, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		name, _ := tok.(string) // object keys are always strings
		if !slices.Contains(fields, name) {
			return nil, unknownField(name)
		}
		if _, dup := obj[name]; dup {
			return nil, invalidField(name, "appears more than once")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxError(err)
		}
		obj[name] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, syntaxError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalidField(fieldBody, "must hold exactly one JSON object, found data after it")
	}
	return obj, nil
}

// unknownField names the unknown member, unless its name is empty or too
// long to be a useful (or safe to echo) field name.
func unknownField(name string) error {
	if name == "" || len(name) > 64 {
		return invalidField(fieldBody, "has a member that is not a known field")
	}
	return invalidField(name, "is not a known field")
}

func syntaxError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return invalidField(fieldBody, "is not valid JSON: unexpected end of input")
	}
	return invalidField(fieldBody, "is not valid JSON: "+strings.TrimPrefix(err.Error(), "json: "))
}

// str returns a required string member.
func (o object) str(name string) (string, error) {
	raw, ok := o[name]
	if !ok {
		return "", invalidField(name, "is required")
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", invalidField(name, "must be a string, got "+describe(raw))
	}
	if jsonstr.UnpairedSurrogate(raw) {
		return "", invalidField(name, "must not contain an unpaired UTF-16 surrogate escape")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalidField(name, "must be a string")
	}
	return s, nil
}

// uint returns a required non-negative integer member.
func (o object) uint(name string) (uint64, error) {
	raw, ok := o[name]
	if !ok {
		return 0, invalidField(name, "is required")
	}
	return parseUint(name, raw)
}

// optUint returns an optional member that must be at least 1 when present;
// absent reads as 0.
func (o object) optUint(name string) (uint64, error) {
	raw, ok := o[name]
	if !ok {
		return 0, nil
	}
	v, err := parseUint(name, raw)
	if err != nil {
		return 0, err
	}
	if err := lease.ValidatePositive(name, v); err != nil {
		return 0, err
	}
	return v, nil
}

// parseUint accepts a JSON integer without sign, fraction or exponent that
// fits in 64 bits: the only numbers a lease record holds.
func parseUint(name string, raw json.RawMessage) (uint64, error) {
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, invalidField(name, "must be a non-negative integer, got "+describe(raw))
		}
	}
	v, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, invalidField(name, "is out of range")
	}
	return v, nil
}

// describe names what a raw value is instead of echoing it.
func describe(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch c := raw[0]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-':
		return "a negative number"
	case bytes.ContainsAny(raw, ".eE"):
		return "a fractional number"
	default:
		return fmt.Sprintf("%.20s", raw)
	}
}

// The members each body may have.
var (
	acquireFields = []string{"database_key", "holder_id", "ttl_ms", "term"}
	refreshFields = []string{"database_key", "holder_id", "generation", "ttl_ms", "current_term", "term"}
	releaseFields = []string{"database_key", "holder_id", "generation"}
	// The break-glass body is optional: the key is in the path, a reason
	// goes to the log.
	forceReleaseFields = []string{"database_key", "reason"}
)

// maxReasonBytes bounds a break-glass reason, which is logged as sent.
const maxReasonBytes = 256

// reader reads members in the order its methods are called and keeps the
// first error, so that a decoder is one struct literal (whose calls Go
// evaluates left to right: the first problem in documented order wins).
type reader struct {
	obj object
	err error
}

func (r *reader) str(name string) string {
	if r.err != nil {
		return ""
	}
	v, err := r.obj.str(name)
	r.err = err
	return v
}

// key reads database_key: the body's on a route with the key in the body;
// on a route with the key in the path (pathKey non-nil) the path's, which
// the body may repeat but not contradict.
func (r *reader) key(pathKey *string) string {
	if pathKey == nil {
		return r.str("database_key")
	}
	if _, ok := r.obj["database_key"]; !ok || r.err != nil {
		return *pathKey
	}
	if v := r.str("database_key"); r.err == nil && v != *pathKey {
		r.err = invalidField("database_key", "differs from the key in the path; leave it out of the body or send the same key")
	}
	return *pathKey
}

func (r *reader) uint(name string) uint64 {
	if r.err != nil {
		return 0
	}
	v, err := r.obj.uint(name)
	r.err = err
	return v
}

func (r *reader) optUint(name string) uint64 {
	if r.err != nil {
		return 0
	}
	v, err := r.obj.optUint(name)
	r.err = err
	return v
}

// DecodeAcquire parses an acquire body. term defaults to lease.DefaultTerm.
func DecodeAcquire(body []byte) (lease.AcquireRequest, error) { return decodeAcquire(body, nil) }

// decodeAcquire parses an acquire body, for the key in the path when
// pathKey is not nil. The principal is the caller's, set by the handler.
func decodeAcquire(body []byte, pathKey *string) (lease.AcquireRequest, error) {
	obj, err := decodeObject(body, acquireFields)
	if err != nil {
		return lease.AcquireRequest{}, err
	}
	rd := reader{obj: obj}
	r := lease.AcquireRequest{
		DatabaseKey: rd.key(pathKey),
		HolderID:    rd.str("holder_id"),
		TTLMs:       rd.uint("ttl_ms"),
		Term:        rd.optUint("term"),
	}
	if rd.err != nil {
		return lease.AcquireRequest{}, rd.err
	}
	if r.Term == 0 {
		r.Term = lease.DefaultTerm
	}
	return r, nil
}

// DecodeRefresh parses a refresh body. current_term and term are 0 when
// absent (no fence, no term check).
func DecodeRefresh(body []byte) (lease.RefreshRequest, error) { return decodeRefresh(body, nil) }

func decodeRefresh(body []byte, pathKey *string) (lease.RefreshRequest, error) {
	obj, err := decodeObject(body, refreshFields)
	if err != nil {
		return lease.RefreshRequest{}, err
	}
	rd := reader{obj: obj}
	r := lease.RefreshRequest{
		DatabaseKey: rd.key(pathKey),
		HolderID:    rd.str("holder_id"),
		Generation:  rd.uint("generation"),
		TTLMs:       rd.uint("ttl_ms"),
		CurrentTerm: rd.optUint("current_term"),
		Term:        rd.optUint("term"),
	}
	if rd.err != nil {
		return lease.RefreshRequest{}, rd.err
	}
	return r, nil
}

// DecodeRelease parses a release body.
func DecodeRelease(body []byte) (lease.ReleaseRequest, error) { return decodeRelease(body, nil) }

func decodeRelease(body []byte, pathKey *string) (lease.ReleaseRequest, error) {
	obj, err := decodeObject(body, releaseFields)
	if err != nil {
		return lease.ReleaseRequest{}, err
	}
	rd := reader{obj: obj}
	r := lease.ReleaseRequest{
		DatabaseKey: rd.key(pathKey),
		HolderID:    rd.str("holder_id"),
		Generation:  rd.uint("generation"),
	}
	if rd.err != nil {
		return lease.ReleaseRequest{}, rd.err
	}
	return r, nil
}

// decodeForceRelease parses the optional break-glass body: nothing, or an
// object with an optional reason (logged) and at most the path's key.
func decodeForceRelease(body []byte, pathKey string) (lease.ForceReleaseRequest, string, error) {
	r := lease.ForceReleaseRequest{DatabaseKey: pathKey}
	if len(bytes.TrimSpace(body)) == 0 {
		return r, "", nil
	}
	obj, err := decodeObject(body, forceReleaseFields)
	if err != nil {
		return lease.ForceReleaseRequest{}, "", err
	}
	rd := reader{obj: obj}
	r.DatabaseKey = rd.key(&pathKey)
	var reason string
	if _, ok := obj["reason"]; ok {
		reason = rd.str("reason")
	}
	if rd.err != nil {
		return lease.ForceReleaseRequest{}, "", rd.err
	}
	if len(reason) > maxReasonBytes || !utf8.ValidString(reason) || strings.ContainsFunc(reason, unicode.IsControl) {
		return lease.ForceReleaseRequest{}, "", invalidField("reason", fmt.Sprintf("must be at most %d bytes without control characters", maxReasonBytes))
	}
	return r, reason, nil
}
