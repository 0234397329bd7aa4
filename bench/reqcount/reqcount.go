// Package reqcount counts the storage requests an AWS SDK client puts on
// the wire. It wraps the client's HTTP transport, so every attempt counts,
// retries included, and nothing the store does can hide a request from it.
//
// S3 requests are labelled by HTTP method (HEAD, GET, PUT, DELETE) and LIST
// for a listing, as REDDB-INTEROP.md names them; DynamoDB requests by the
// operation in X-Amz-Target (GetItem, PutItem, Scan).
package reqcount

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Counts is requests per label.
type Counts map[string]int

// Total is the number of requests of every label.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Labels returns the labels in a stable order.
func (c Counts) Labels() []string {
	return slices.Sorted(maps.Keys(c))
}

// String renders the counts as "GET 1 + PUT 1".
func (c Counts) String() string {
	if len(c) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(c))
	for _, l := range c.Labels() {
		parts = append(parts, l+" "+strconv.Itoa(c[l]))
	}
	return strings.Join(parts, " + ")
}

// Counter counts requests through the HTTP clients it wraps. It is safe
// for concurrent use.
type Counter struct {
	mu     sync.Mutex
	counts Counts
}

// New returns an empty Counter.
func New() *Counter { return &Counter{counts: Counts{}} }

// Add counts one request under label.
func (c *Counter) Add(label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[label]++
}

// Take returns the counts since the previous Take and starts again.
func (c *Counter) Take() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = Counts{}
	return out
}

// Wrap returns an SDK HTTP client that counts each request and sends it
// with next. Set it as aws.Config.HTTPClient after config.LoadDefaultConfig
// (whose loader insists on its own client type) and before building the
// S3 or DynamoDB client.
func (c *Counter) Wrap(next aws.HTTPClient) aws.HTTPClient {
	return counting{next: next, c: c}
}

type counting struct {
	next aws.HTTPClient
	c    *Counter
}

func (t counting) Do(r *http.Request) (*http.Response, error) {
	t.c.Add(Label(r))
	return t.next.Do(r)
}

// Label names a storage request: the DynamoDB operation when the request
// has an X-Amz-Target, LIST for an S3 listing, else the HTTP method.
func Label(r *http.Request) string {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if _, op, ok := strings.Cut(target, "."); ok {
			return op
		}
		return target
	}
	if r.Method == http.MethodGet && r.URL.Query().Has("list-type") {
		return "LIST"
	}
	return r.Method
}
