package reddb

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

// class is what a request addresses.
type class int

const (
	classLease class = iota + 1 // {lease prefix}{K}.lease.json
	classData                   // any other object
	classList                   // GET {dir}?list={sub-prefix}
)

func (c class) String() string {
	switch c {
	case classLease:
		return "lease"
	case classData:
		return "data"
	case classList:
		return "list"
	}
	return "none"
}

// request is one decoded request of RedDB's object protocol.
type request struct {
	method string
	class  class
	// key is the object key (lease and data objects).
	key string
	// databaseKey is the lease object's database key, or the database
	// whose lease fences a data object.
	databaseKey string
	// listBase is the directory a listing answers relative to ("" or
	// "dir/"), listPrefix the full prefix it lists.
	listBase, listPrefix string
	cond                 objects.Condition
}

// methods are the methods the face serves, as the Allow header lists them.
var methods = []string{http.MethodHead, http.MethodGet, http.MethodPut, http.MethodDelete}

const allowHeader = "HEAD, GET, PUT, DELETE"

// refusal is a request the decoder turns down with its own status.
type refusal struct {
	status        int
	code, message string
	allow         string
}

func (r *refusal) Error() string { return r.message }

func invalidField(field, format string, args ...any) error {
	return &lease.InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// decoder holds the settings the classification depends on.
type decoder struct {
	leasePrefix string
	dataFile    string
}

// decode reads a request: path (percent-decoded once), query, method and
// conditional headers. It touches no storage.
func (d decoder) decode(req api.Request) (request, error) {
	rest, ok := strings.CutPrefix(req.Path, api.PathRedDB)
	if !ok {
		return request{}, &refusal{status: http.StatusNotFound, code: api.CodeNotFound, message: "no such route"}
	}
	key, err := url.PathUnescape(rest)
	if err != nil {
		return request{}, invalidField(objects.FieldKey, "is not a valid percent-encoded path")
	}
	if !slices.Contains(methods, req.Method) {
		return request{}, &refusal{status: http.StatusMethodNotAllowed, code: api.CodeMethodNotAllowed,
			message: fmt.Sprintf("method %s is not allowed here; use %s", req.Method, allowHeader), allow: allowHeader}
	}
	r := request{method: req.Method}
	listed, sub, err := listParam(req.Query)
	if err != nil {
		return request{}, err
	}
	if r.cond, err = condition(req.Header); err != nil {
		return request{}, err
	}
	if (req.Method == http.MethodGet || req.Method == http.MethodHead) && !r.cond.Unconditional() {
		return request{}, invalidField("if-match", "conditional reads are not supported; If-Match and If-None-Match are for PUT and DELETE")
	}
	if listed {
		return d.list(r, key, sub)
	}
	if key == "" {
		return request{}, invalidField(objects.FieldKey, "the path names no object (GET %s?list=<prefix> lists)", api.PathRedDB)
	}
	return d.object(r, key)
}

// listParam reads the query: nothing, or exactly one list parameter.
func listParam(raw string) (listed bool, sub string, err error) {
	if raw == "" {
		return false, "", nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return false, "", invalidField("query", "is not a valid query string")
	}
	for name, values := range q {
		switch {
		case name != "list":
			return false, "", invalidField("query", "parameter %q is not known; the only one is list", name)
		case len(values) != 1:
			return false, "", invalidField("list", "must be given once")
		}
	}
	values, ok := q["list"]
	if !ok {
		return false, "", nil
	}
	return true, values[0], nil
}

func (d decoder) list(r request, dir, sub string) (request, error) {
	if r.method != http.MethodGet {
		return request{}, invalidField("list", "lists are read with GET")
	}
	if dir != "" {
		if err := objects.ValidateKey(dir); err != nil {
			return request{}, err
		}
		dir += "/"
	}
	r.class, r.listBase, r.listPrefix = classList, dir, dir+sub
	if err := objects.ValidatePrefix(r.listPrefix); err != nil {
		return request{}, invalidField("list", "%s", strings.TrimPrefix(err.Error(), "invalid key: "))
	}
	return r, nil
}

func (d decoder) object(r request, key string) (request, error) {
	r.key = key
	if rest, ok := strings.CutPrefix(key, d.leasePrefix); ok {
		k, ok := strings.CutSuffix(rest, lease.ObjectSuffix)
		if !ok || k == "" {
			return request{}, invalidField(objects.FieldKey, "only lease objects (%s<database key>%s) live under %q",
				d.leasePrefix, lease.ObjectSuffix, d.leasePrefix)
		}
		r.class, r.databaseKey = classLease, k
		return r, nil
	}
	if strings.HasSuffix(key, lease.ObjectSuffix) {
		return request{}, invalidField(objects.FieldKey,
			"lease objects live under %q only, where the lease rules apply: set RED_LEASE_PREFIX=%s (or leave it unset) and leave RED_HTTP_BACKEND_PREFIX empty",
			d.leasePrefix, d.leasePrefix)
	}
	if err := objects.ValidateKey(key); err != nil {
		return request{}, err
	}
	r.class, r.databaseKey = classData, objects.DatabaseKey(key, d.dataFile)
	return r, nil
}

// condition reads If-None-Match and If-Match: at most one of them, once;
// If-None-Match only as "*", If-Match as one entity-tag (a weak one is
// taken and never matches, as strong comparison says).
func condition(h http.Header) (objects.Condition, error) {
	inm, im := h.Values("If-None-Match"), h.Values("If-Match")
	switch {
	case len(inm) > 1 || len(im) > 1:
		return objects.Condition{}, invalidField("if-match", "If-Match and If-None-Match may each be sent once")
	case len(inm) == 1 && len(im) == 1:
		return objects.Condition{}, invalidField("if-match", "send If-Match or If-None-Match, not both")
	case len(inm) == 1:
		if strings.TrimSpace(inm[0]) != "*" {
			return objects.Condition{}, invalidField("if-none-match", "only If-None-Match: * is supported")
		}
		return objects.Condition{IfNoneMatch: true}, nil
	case len(im) == 1:
		tag := strings.TrimSpace(im[0])
		if tag == "*" {
			return objects.Condition{}, invalidField("if-match", "If-Match: * is not supported; name the ETag")
		}
		if _, ok := lease.Version(strings.TrimPrefix(tag, "W/")).Token(); !ok {
			return objects.Condition{}, invalidField("if-match", "must be one entity-tag in double quotes, as ETag gives it")
		}
		return objects.Condition{IfMatch: lease.Version(tag)}, nil
	}
	return objects.Condition{}, nil
}
