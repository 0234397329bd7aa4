package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Op names one operation of the contract; it is also the route's name in
// logs and metrics.
type Op string

// The operations of the contract.
const (
	OpAcquire Op = "acquire"
	OpRefresh Op = "refresh"
	OpRelease Op = "release"
	OpGet     Op = "get"
	// OpForceRelease is the break-glass release of an admin principal.
	OpForceRelease Op = "force_release"
	// OpRedDBObject is every request of RedDB's object protocol (the RedDB
	// face, pkg/api/reddb): HEAD, GET, PUT and DELETE of an object, and
	// listings.
	OpRedDBObject Op = "reddb"
)

// The Lambda functions that serve the routes; each is also the folder
// functions/<name> and the stack's function of that name.
const (
	FnAcquire = "acquire"
	FnRefresh = "refresh"
	FnRelease = "release"
	FnLease   = "lease"
	// FnAdmin serves the break-glass route only, so that its IAM policy
	// (and its role) is apart from every caller's.
	FnAdmin = "admin"
	FnRedDB = "reddb"
)

// The faces the routes belong to: the JSON lease API (Handler), and
// RedDB's object protocol (pkg/api/reddb), which the deployed stack serves
// from a Lambda function URL rather than an API Gateway route.
const (
	FaceLease = "lease"
	FaceRedDB = "reddb"
)

// KeyIn says where a route carries the database key.
type KeyIn string

// Where the key is.
const (
	KeyInBody KeyIn = "body" // the JSON body's database_key member
	KeyInPath KeyIn = "path" // the route's greedy path parameter
)

// Route paths. KeyParam is the greedy path parameter of the routes that
// carry the key in the path; the Path*Key templates are those routes as API
// Gateway names them, so that an IAM policy on
// ".../POST/v1/acquire/tenants/a/*" grants one operation on one prefix.
// PathAcquire, PathRefresh and PathRelease carry the key in the body and
// cannot be scoped that way.
const (
	PathAcquire      = "/v1/acquire"
	PathRefresh      = "/v1/refresh"
	PathRelease      = "/v1/release"
	PathLeases       = "/v1/leases/"
	PathAdminRelease = "/v1/admin/release/"
	KeyParam         = "database_key"
	keyTemplate      = "{" + KeyParam + "+}"
	PathGetRoute     = PathLeases + keyTemplate
	PathAcquireKey   = PathAcquire + "/" + keyTemplate
	PathRefreshKey   = PathRefresh + "/" + keyTemplate
	PathReleaseKey   = PathRelease + "/" + keyTemplate
	PathForceRelease = PathAdminRelease + keyTemplate
	// PathRedDB is the RedDB face's prefix: RED_HTTP_BACKEND_URL is the
	// endpoint plus "/v1/reddb". ObjectKeyParam is its greedy parameter.
	PathRedDB      = "/v1/reddb/"
	ObjectKeyParam = "key"
	PathRedDBRoute = PathRedDB + "{" + ObjectKeyParam + "+}"
)

// Route is one route of the HTTP API.
type Route struct {
	Methods []string
	// Path is the template as API Gateway writes it; a parameter may only
	// be the last segment, greedy ("{database_key+}").
	Path     string
	Op       Op
	Function string // the Lambda function that serves it
	Key      KeyIn
}

var (
	post          = []string{http.MethodPost}
	get           = []string{http.MethodGet}
	objectMethods = []string{http.MethodHead, http.MethodGet, http.MethodPut, http.MethodDelete}
)

// routes is the one declaration of the HTTP API's routes. The Handler
// routes by it, the Lambda functions serve the operations of their rows,
// and tests hold api/openapi.yaml, the stack's routes (infra/stack), the
// functions/ folders and the Makefile to it. A new route is one row.
var routes = []Route{
	{post, PathAcquire, OpAcquire, FnAcquire, KeyInBody},
	{post, PathAcquireKey, OpAcquire, FnAcquire, KeyInPath},
	{post, PathRefresh, OpRefresh, FnRefresh, KeyInBody},
	{post, PathRefreshKey, OpRefresh, FnRefresh, KeyInPath},
	{post, PathRelease, OpRelease, FnRelease, KeyInBody},
	{post, PathReleaseKey, OpRelease, FnRelease, KeyInPath},
	{get, PathGetRoute, OpGet, FnLease, KeyInPath},
	{post, PathForceRelease, OpForceRelease, FnAdmin, KeyInPath},
	{objectMethods, PathRedDBRoute, OpRedDBObject, FnRedDB, KeyInPath},
}

// Routes returns the route table, in declaration order; the copy is the
// caller's.
func Routes() []Route {
	out := make([]Route, len(routes))
	for i, r := range routes {
		r.Methods = slices.Clone(r.Methods)
		out[i] = r
	}
	return out
}

// Face is the face a route belongs to: the RedDB face for the routes
// under PathRedDB, the JSON lease API for the others.
func (r Route) Face() string {
	if strings.HasPrefix(r.Path, PathRedDB) {
		return FaceRedDB
	}
	return FaceLease
}

// OpsOfFace returns the operations of one face, in table order.
func OpsOfFace(face string) []Op {
	return distinct(func(r Route) (Op, bool) { return r.Op, r.Face() == face })
}

// Ops returns every operation once, in table order.
func Ops() []Op { return distinct(func(r Route) (Op, bool) { return r.Op, true }) }

// Functions returns every Lambda function that serves a route, once each,
// in table order.
func Functions() []string { return distinct(func(r Route) (string, bool) { return r.Function, true }) }

// OpsOf returns the operations the Lambda function fn serves (none for a
// function that serves no route).
func OpsOf(fn string) []Op {
	return distinct(func(r Route) (Op, bool) { return r.Op, r.Function == fn })
}

// distinct collects one value of each route that pick keeps, each value
// once, in table order.
func distinct[T comparable](pick func(Route) (T, bool)) []T {
	var out []T
	for _, r := range routes {
		if v, ok := pick(r); ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Param splits a template ending in a greedy parameter into the literal
// part before it and the parameter's name; ok is false for a template
// without one.
func (r Route) Param() (prefix, name string, ok bool) {
	open := strings.LastIndexByte(r.Path, '{')
	if open < 0 || !strings.HasSuffix(r.Path, "+}") {
		return r.Path, "", false
	}
	return r.Path[:open], r.Path[open+1 : len(r.Path)-2], true
}

// lookup finds the route of a request: by the template the gateway
// matched when that is one of the table's, else by the path as sent, where
// a template without parameters matches itself and one with a greedy
// parameter matches every path starting with its literal part. raw is the
// parameter's value, still percent-encoded.
func lookup(req Request) (r *Route, raw string, ok bool) {
	if req.Route != "" {
		for i := range routes {
			if routes[i].Path == req.Route {
				_, name, _ := routes[i].Param()
				return &routes[i], req.PathParams[name], true
			}
		}
	}
	for i := range routes {
		prefix, _, greedy := routes[i].Param()
		if !greedy && req.Path == prefix {
			return &routes[i], "", true
		}
		if rest, found := strings.CutPrefix(req.Path, prefix); greedy && found {
			return &routes[i], rest, true
		}
	}
	return nil, "", false
}

func unescapeKey(raw string) (string, error) {
	key, err := url.PathUnescape(raw)
	if err != nil {
		return "", invalidField(KeyParam, "is not a valid percent-encoded path")
	}
	return key, nil
}
