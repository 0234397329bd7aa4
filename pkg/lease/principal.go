package lease

import "strings"

// Principal is who makes a request, as the entry point established it: an
// IAM identity behind API Gateway, the name of a bearer token, or Anonymous
// on an open local server. The Service never authenticates; it only decides
// what the principal it is handed may do.
type Principal struct {
	// Name identifies the principal. It is stored in every record the
	// principal acquires and compared byte for byte on refresh and
	// release. It must not be empty: an empty Name is refused.
	Name string
	// Prefixes are the database-key prefixes the principal may touch.
	// "" matches every key. The match is a plain string prefix, so a
	// prefix should end in "/": "tenants/a" also matches "tenants/ab/x".
	Prefixes []string
	// Admin allows the break-glass operations (ForceRelease).
	Admin bool
}

// AnonymousName is the principal of every request to an open local server.
const AnonymousName = "anonymous"

// Anonymous is the principal of an open local server (redlease serve
// without tokens): every key, no break-glass. Its name is not stored: what
// it acquires is a record without a principal, byte for byte what RedDB
// writes. Entry points never give the name to any other caller. Treat it
// as read-only.
var Anonymous = Principal{Name: AnonymousName, Prefixes: []string{""}}

// Allows reports whether the principal may touch databaseKey: the key
// starts with one of its prefixes. A principal without a name allows
// nothing.
func (p Principal) Allows(databaseKey string) bool {
	if p.Name == "" {
		return false
	}
	for _, prefix := range p.Prefixes {
		if strings.HasPrefix(databaseKey, prefix) {
			return true
		}
	}
	return false
}

// authorize is the check every operation makes after validation and before
// any storage request, so that a refusal never depends on (and never
// reveals) what is stored.
func authorize(p Principal, key string) error {
	switch {
	case p.Name == "":
		return &ForbiddenError{Key: key, Reason: ReasonNoPrincipal}
	case !p.Allows(key):
		return &ForbiddenError{Principal: p.Name, Key: key, Reason: ReasonOutsidePrefixes}
	}
	return nil
}

// ownedByOther reports whether rec belongs to a principal other than p. A
// record without a principal (written before principals existed, or by
// RedDB itself) belongs to nobody, and behaves as it always did.
func ownedByOther(rec Record, p Principal) bool {
	return rec.Principal != "" && rec.Principal != p.Name
}
