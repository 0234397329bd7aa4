//go:build reddb

package reddb

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// proxy stands between one RedDB and the service, as a network would: it
// forwards every request, and can hold the ones a test picks (a partition,
// a paused machine's in-flight request) until it lets them go.
type proxy struct {
	*httptest.Server
	upstream string

	mu      sync.Mutex
	hold    func(r *http.Request) bool
	held    []chan struct{}
	arrived int // held requests that arrived
	stopped chan struct{}
	log     []string
}

func newProxy(t *testing.T, upstream string) *proxy {
	t.Helper()
	p := &proxy{upstream: upstream, stopped: make(chan struct{})}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		close(p.stopped)
		p.Close()
	})
	return p
}

// backendURL is RED_HTTP_BACKEND_URL through the proxy.
func (p *proxy) backendURL() string { return p.URL + "/v1/reddb" }

// holdWhere starts holding the requests pred picks (nil: none).
func (p *proxy) holdWhere(pred func(r *http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = pred
}

// releaseAll lets every held request go on to the service, and holds no
// more.
func (p *proxy) releaseAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = nil
	for _, c := range p.held {
		close(c)
	}
	p.held = nil
}

// heldCount is how many requests were held so far.
func (p *proxy) heldCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.arrived
}

// requests returns "METHOD path status" of every forwarded request.
func (p *proxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	var wait chan struct{}
	if p.hold != nil && p.hold(r) {
		wait = make(chan struct{})
		p.held = append(p.held, wait)
		p.arrived++
	}
	p.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-p.stopped:
			return
		case <-r.Context().Done():
			return
		}
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "proxy", http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Length", "0")
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
	p.mu.Lock()
	p.log = append(p.log, r.Method+" "+r.URL.RequestURI()+" "+strconv.Itoa(resp.StatusCode))
	p.mu.Unlock()
}

// isLeaseRequest picks the requests for lease objects.
func isLeaseRequest(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, ".lease.json") }

// isDataUpload picks data uploads of the database.
func isDataUpload(r *http.Request) bool {
	return r.Method == http.MethodPut && !isLeaseRequest(r)
}

// statusesOf returns the statuses of the forwarded requests matching prefix
// ("PUT /v1/reddb/clusters/dev/").
func statusesOf(reqs []string, prefix string) []string {
	var out []string
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r[strings.LastIndexByte(r, ' ')+1:])
		}
	}
	return out
}
