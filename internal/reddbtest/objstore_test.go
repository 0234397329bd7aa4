package reddbtest_test

// objectServer is the test fixture: a naive object store that speaks RedDB's
// http remote-backend protocol (docs/reddb-protocol.md) and nothing more. It
// applies no lease rules; it stores what RedDB sends, compares ETags, and
// records every request so tests can check the exact sequences RedDB makes.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// basePath is where the fixture serves objects; RED_HTTP_BACKEND_URL is the
// server's URL plus this.
const basePath = "/store"

// headLength says what Content-Length a HEAD answer carries.
type headLength int

const (
	headZero headLength = iota // Content-Length: 0, what RedDB's curl needs
	headSize                   // the object's size, as S3 sends it
)

type object struct {
	data []byte
	etag string
}

// request is one recorded request and the status it got.
type request struct {
	Method      string
	Key         string // object key, or the list path for a list
	List        string // the list= value; empty if not a list
	IsList      bool
	IfMatch     string
	IfNoneMatch string
	ContentType string
	Auth        string
	Body        []byte // PUT bodies of lease objects only
	Status      int
}

// String renders the request as the docs write sequences: "PUT If-Match 200".
func (r request) String() string {
	var b strings.Builder
	b.WriteString(r.Method)
	if r.IsList {
		b.WriteString(" ?list=" + r.List)
	}
	if r.IfNoneMatch != "" {
		b.WriteString(" If-None-Match:" + r.IfNoneMatch)
	}
	if r.IfMatch != "" {
		b.WriteString(" If-Match")
	}
	b.WriteString(" " + strconv.Itoa(r.Status))
	return b.String()
}

type objectServer struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	objects  map[string]object
	log      []request
	version  int
	headMode headLength
	// fail, when set, is asked before a request touches the store; a
	// non-zero status is answered as is and nothing is stored.
	fail func(r request) int
	// rewrite, when set, replaces the bytes of a successful PUT to key
	// before they are stored (used to restamp lease times).
	rewrite func(key string, body []byte) []byte
	// hang, when set, is asked before anything else; a request it picks
	// gets no answer until the test ends (a partition, a stuck proxy).
	hang    func(r request) bool
	stopped chan struct{}
}

func newObjectServer(t *testing.T) *objectServer {
	t.Helper()
	s := &objectServer{t: t, objects: map[string]object{}, stopped: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.stopped) // let hung requests go before Close waits for them
		s.Close()
	})
	return s
}

func (s *objectServer) setHang(f func(r request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = f
}

// BaseURL is the value for RED_HTTP_BACKEND_URL.
func (s *objectServer) BaseURL() string { return s.URL + basePath }

func (s *objectServer) setHeadMode(m headLength) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.headMode = m
}

func (s *objectServer) setFail(f func(r request) int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = f
}

func (s *objectServer) setRewrite(f func(key string, body []byte) []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rewrite = f
}

// put stores an object directly, as another writer would.
func (s *objectServer) put(key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(key, data)
}

// get returns an object's bytes and whether it exists.
func (s *objectServer) get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	return append([]byte(nil), o.data...), ok
}

// requests returns the recorded requests from index from on.
func (s *objectServer) requests(from int) []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from > len(s.log) {
		from = len(s.log)
	}
	return append([]request(nil), s.log[from:]...)
}

// mark is the index the next recorded request will get.
func (s *objectServer) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

// store writes under the lock and returns the new ETag. ETags are strong
// and change on every write, even of the same bytes.
func (s *objectServer) store(key string, data []byte) string {
	s.version++
	sum := sha256.Sum256(data)
	etag := fmt.Sprintf(`"%d-%s"`, s.version, hex.EncodeToString(sum[:6]))
	s.objects[key] = object{data: append([]byte(nil), data...), etag: etag}
	return etag
}

func (s *objectServer) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, basePath+"/")
	if !ok {
		http.Error(w, "outside the store", http.StatusNotFound)
		return
	}
	rec := request{
		Method:      r.Method,
		Key:         rest,
		IfMatch:     r.Header.Get("If-Match"),
		IfNoneMatch: r.Header.Get("If-None-Match"),
		ContentType: r.Header.Get("Content-Type"),
		Auth:        r.Header.Get("Authorization"),
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "bad query", http.StatusBadRequest)
		return
	}
	if _, ok := q["list"]; ok {
		rec.IsList, rec.List = true, q.Get("list")
	}
	var body []byte
	if r.Method == http.MethodPut {
		body, err = io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		if strings.HasSuffix(rec.Key, ".lease.json") {
			rec.Body = body
		}
	}

	s.mu.Lock()
	if s.hang != nil && s.hang(rec) {
		rec.Status = 0 // never answered
		s.log = append(s.log, rec)
		s.mu.Unlock()
		select {
		case <-s.stopped:
		case <-r.Context().Done():
		}
		return
	}
	defer s.mu.Unlock()
	rec.Status = s.answer(w, rec, body)
	s.log = append(s.log, rec)
}

// answer handles one request under the lock and returns its status.
func (s *objectServer) answer(w http.ResponseWriter, rec request, body []byte) int {
	if rec.Method == http.MethodHead {
		// Every HEAD answer, 404 and errors included: Go's server sends no
		// Content-Length on a HEAD unless told, and RedDB's `curl -X HEAD`
		// then waits for a body until the connection closes.
		w.Header().Set("Content-Length", "0")
	}
	if s.fail != nil {
		if code := s.fail(rec); code != 0 {
			w.WriteHeader(code)
			return code
		}
	}
	cur, exists := s.objects[rec.Key]
	switch {
	case rec.Method == http.MethodGet && rec.IsList:
		// The list path is RED_HTTP_BACKEND_PREFIX without its trailing
		// slash; the answer names keys relative to it, in the form RedDB
		// passes back to GET.
		root := rec.Key
		if root != "" {
			root += "/"
		}
		var lines []string
		for k := range s.objects {
			if rel, ok := strings.CutPrefix(k, root); ok && strings.HasPrefix(rel, rec.List) {
				lines = append(lines, rel)
			}
		}
		sort.Strings(lines)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		for _, l := range lines {
			io.WriteString(w, l+"\n")
		}
		return http.StatusOK
	case rec.Method == http.MethodHead:
		if !exists {
			w.WriteHeader(http.StatusNotFound)
			return http.StatusNotFound
		}
		w.Header().Set("ETag", cur.etag)
		if s.headMode == headSize {
			w.Header().Set("Content-Length", strconv.Itoa(len(cur.data)))
		}
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	case rec.Method == http.MethodGet:
		if !exists {
			w.WriteHeader(http.StatusNotFound)
			return http.StatusNotFound
		}
		w.Header().Set("ETag", cur.etag)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		w.Write(cur.data)
		return http.StatusOK
	case rec.Method == http.MethodPut:
		if code := precondition(rec, cur, exists); code != 0 {
			w.WriteHeader(code)
			return code
		}
		if s.rewrite != nil {
			body = s.rewrite(rec.Key, body)
		}
		w.Header().Set("ETag", s.store(rec.Key, body))
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	case rec.Method == http.MethodDelete:
		if code := precondition(rec, cur, exists); code != 0 {
			w.WriteHeader(code)
			return code
		}
		delete(s.objects, rec.Key)
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed
	}
}

// precondition checks If-None-Match: * and If-Match (strong comparison)
// and returns 412 when one fails, 0 when the write may go ahead.
func precondition(rec request, cur object, exists bool) int {
	switch {
	case rec.IfNoneMatch == "*" && exists:
		return http.StatusPreconditionFailed
	case rec.IfNoneMatch != "" && rec.IfNoneMatch != "*":
		return http.StatusBadRequest
	case rec.IfMatch != "" && (!exists || rec.IfMatch != cur.etag):
		return http.StatusPreconditionFailed
	}
	return 0
}

// filter keeps the requests for one key (lists excluded).
func filter(reqs []request, key string) []request {
	var out []request
	for _, r := range reqs {
		if !r.IsList && r.Key == key {
			out = append(out, r)
		}
	}
	return out
}

// sequence renders requests as strings for comparison.
func sequence(reqs []request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.String()
	}
	return out
}
