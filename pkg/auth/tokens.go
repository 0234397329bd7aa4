package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/redlease/redlease/pkg/lease"
)

// MaxDocumentBytes bounds a tokens document (about 7,000 tokens).
const MaxDocumentBytes = 1 << 20

// MaxNameBytes bounds a token's name, the principal stored in leases.
const MaxNameBytes = 128

// Token is one entry of the tokens document.
type Token struct {
	// Name is the principal: stored in the leases the token acquires.
	// Letters, digits and . _ @ + - only, so that it can never read as an
	// IAM ARN (the other kind of principal); "anonymous" is reserved.
	Name string `json:"name"`
	// SHA256 is the hex SHA-256 of the token (64 digits, any case).
	SHA256 string `json:"sha256"`
	// Prefixes are the database-key prefixes the token may touch: "" for
	// every key, otherwise a prefix ending in "/".
	Prefixes []string `json:"prefixes"`
	// Admin allows the break-glass release.
	Admin bool `json:"admin,omitempty"`
}

// Document is the tokens document.
type Document struct {
	Tokens []Token `json:"tokens"`
}

// Set is a validated tokens document, ready to authenticate. It is
// immutable and safe for concurrent use.
type Set struct {
	byHash map[[sha256.Size]byte]lease.Principal
}

// Parse reads and validates a tokens document: one JSON object with a
// "tokens" array (unknown members refused, so that a misspelt "prefix" is
// not silently ignored), unique names, unique hashes, valid prefixes. An
// error names the entry by index and name.
func Parse(data []byte) (*Set, error) {
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("tokens document: %d bytes, at most %d", len(data), MaxDocumentBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc struct {
		Tokens *[]json.RawMessage `json:"tokens"`
	}
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("tokens document: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("tokens document: data after the JSON object")
	}
	if doc.Tokens == nil {
		return nil, errors.New(`tokens document: no "tokens" array (write {"tokens": []} for none)`)
	}
	s := &Set{byHash: make(map[[sha256.Size]byte]lease.Principal, len(*doc.Tokens))}
	names := map[string]int{}
	for i, raw := range *doc.Tokens {
		t, err := decodeToken(raw)
		entry := fmt.Sprintf("tokens[%d] %q", i, t.Name)
		if err != nil {
			return nil, fmt.Errorf("tokens document: %s: %w", entry, err)
		}
		if err := checkName(t.Name); err != nil {
			return nil, fmt.Errorf("tokens document: %s: %w", entry, err)
		}
		if j, dup := names[t.Name]; dup {
			return nil, fmt.Errorf("tokens document: %s: name already used by tokens[%d]", entry, j)
		}
		names[t.Name] = i
		hash, err := parseHash(t.SHA256)
		if err != nil {
			return nil, fmt.Errorf("tokens document: %s: %w", entry, err)
		}
		if other, dup := s.byHash[hash]; dup {
			return nil, fmt.Errorf("tokens document: %s: sha256 already used by %q", entry, other.Name)
		}
		if err := checkPrefixes(t.Prefixes); err != nil {
			return nil, fmt.Errorf("tokens document: %s: %w", entry, err)
		}
		s.byHash[hash] = lease.Principal{Name: t.Name, Prefixes: slices.Clone(t.Prefixes), Admin: t.Admin}
	}
	return s, nil
}

// Len is the number of tokens in the set.
func (s *Set) Len() int { return len(s.byHash) }

// Lookup returns the principal of a token, by its hash.
func (s *Set) Lookup(token string) (lease.Principal, bool) {
	p, ok := s.byHash[sha256.Sum256([]byte(token))]
	if !ok {
		return lease.Principal{}, false
	}
	p.Prefixes = slices.Clone(p.Prefixes) // the caller's copy
	return p, true
}

// Hash is the document's sha256 of a token: what to write in the tokens
// document for it.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// decodeToken reads one entry strictly: an object of the documented
// members only. Whatever name it could read comes back for the error.
func decodeToken(raw json.RawMessage) (Token, error) {
	var t Token
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return t, errors.New("an entry must be an object, got null")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return t, nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("name is required")
	case len(name) > MaxNameBytes:
		return fmt.Errorf("name must be at most %d bytes", MaxNameBytes)
	case name == lease.AnonymousName:
		return fmt.Errorf("name %q is reserved for the open server's callers", lease.AnonymousName)
	}
	for i := range len(name) {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !letter && (i == 0 || !strings.ContainsRune("._@+-", rune(c))) {
			return errors.New("name must start with a letter or digit and hold only letters, digits and . _ @ + -")
		}
	}
	return nil
}

func parseHash(h string) ([sha256.Size]byte, error) {
	var out [sha256.Size]byte
	if len(h) != hex.EncodedLen(sha256.Size) {
		return out, fmt.Errorf("sha256 must be the %d hex digits of the token's SHA-256, got %d characters",
			hex.EncodedLen(sha256.Size), len(h))
	}
	if _, err := hex.Decode(out[:], []byte(h)); err != nil {
		return out, errors.New("sha256 must hold hex digits only")
	}
	return out, nil
}

// checkPrefixes accepts "" (every key) and prefixes that end in "/" and
// are, without that "/", a key the service accepts (NFC, no look-alike
// slashes, no empty, "." or ".." segments): anything else could never
// match a valid key, or would match more than it says ("tenants/a" also
// matches "tenants/ab/x").
func checkPrefixes(prefixes []string) error {
	if len(prefixes) == 0 {
		return errors.New(`prefixes is required: list the key prefixes the token may touch ("" for every key)`)
	}
	limits := lease.DefaultLimits()
	for _, p := range prefixes {
		if p == "" {
			continue
		}
		if !strings.HasSuffix(p, "/") {
			return fmt.Errorf("prefix %q must end in \"/\" (or be \"\" for every key)", p)
		}
		if err := limits.ValidateKey(strings.TrimSuffix(p, "/")); err != nil {
			var inv *lease.InvalidError
			if errors.As(err, &inv) {
				return fmt.Errorf("prefix %q is not a valid key prefix: it %s", p, inv.Reason)
			}
			return fmt.Errorf("prefix %q: %w", p, err)
		}
	}
	return nil
}
