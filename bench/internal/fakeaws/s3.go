package fakeaws

import (
	"crypto/md5" //nolint:gosec // an S3 ETag is an MD5, not a secret
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// S3 is an in-memory, path-style S3 endpoint.
type S3 struct {
	mu      sync.Mutex
	objects map[string]object // "bucket/key"
	// ConditionalDelete501 makes DELETE with If-Match answer 501, as
	// LocalStack 4.14 does.
	ConditionalDelete501 bool
}

type object struct {
	body []byte
	etag string
}

// NewS3 starts an S3 endpoint; it stops when the test ends.
func NewS3(tb interface{ Cleanup(func()) }) (*S3, string) {
	s := &S3{objects: map[string]object{}}
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	return s, srv.URL
}

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "<Error><Code>"+code+"</Code><Message>"+code+"</Message></Error>")
}

// ServeHTTP implements http.Handler.
func (s *S3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method == http.MethodGet && r.URL.Query().Has("list-type") {
		s.list(w, r, bucket)
		return
	}
	id := bucket + "/" + key
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, exists := s.objects[id]
	switch r.Method {
	case http.MethodHead, http.MethodGet:
		if !exists {
			s3Error(w, http.StatusNotFound, "NoSuchKey")
			return
		}
		w.Header().Set("ETag", cur.etag)
		w.Header().Set("Content-Length", strconv.Itoa(len(cur.body)))
		w.Header().Set("X-Amz-Checksum-Crc32", crc32Base64(cur.body)) // the SDK validates it
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(cur.body)
		}
	case http.MethodPut:
		if r.Header.Get("If-None-Match") == "*" && exists {
			s3Error(w, http.StatusPreconditionFailed, "PreconditionFailed")
			return
		}
		if m := r.Header.Get("If-Match"); m != "" {
			if !exists {
				s3Error(w, http.StatusNotFound, "NoSuchKey")
				return
			}
			if m != cur.etag {
				s3Error(w, http.StatusPreconditionFailed, "PreconditionFailed")
				return
			}
		}
		body, err := readBody(r)
		if err != nil {
			s3Error(w, http.StatusBadRequest, "IncompleteBody")
			return
		}
		sum := md5.Sum(body) //nolint:gosec // see the import
		o := object{body: body, etag: `"` + hex.EncodeToString(sum[:]) + `"`}
		s.objects[id] = o
		w.Header().Set("ETag", o.etag)
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		if m := r.Header.Get("If-Match"); m != "" {
			if s.ConditionalDelete501 {
				s3Error(w, http.StatusNotImplemented, "NotImplemented")
				return
			}
			if !exists || m != cur.etag {
				s3Error(w, http.StatusPreconditionFailed, "PreconditionFailed")
				return
			}
		}
		delete(s.objects, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		s3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed")
	}
}

// readBody reads a PUT body, decoding aws-chunked framing (the SDK's
// streaming checksums) when the request uses it.
func readBody(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		return raw, nil
	}
	var out []byte
	for {
		line, rest, ok := strings.Cut(string(raw), "\r\n")
		if !ok {
			return out, nil
		}
		sizeHex, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil || n == 0 || int(n) > len(rest) {
			return out, nil //nolint:nilerr // the terminal chunk and trailers follow
		}
		out = append(out, rest[:n]...)
		raw = []byte(strings.TrimPrefix(rest[n:], "\r\n"))
	}
}

type listResult struct {
	XMLName               xml.Name     `xml:"ListBucketResult"`
	Name                  string       `xml:"Name"`
	Prefix                string       `xml:"Prefix"`
	KeyCount              int          `xml:"KeyCount"`
	MaxKeys               int          `xml:"MaxKeys"`
	IsTruncated           bool         `xml:"IsTruncated"`
	NextContinuationToken string       `xml:"NextContinuationToken,omitempty"`
	Contents              []listObject `xml:"Contents"`
}

type listObject struct {
	Key  string `xml:"Key"`
	ETag string `xml:"ETag"`
	Size int    `xml:"Size"`
}

func (s *S3) list(w http.ResponseWriter, r *http.Request, bucket string) {
	q := r.URL.Query()
	prefix, after := q.Get("prefix"), q.Get("continuation-token")
	if after == "" {
		after = q.Get("start-after")
	}
	maxKeys, err := strconv.Atoi(q.Get("max-keys"))
	if err != nil || maxKeys <= 0 || maxKeys > 1000 {
		maxKeys = 1000
	}
	s.mu.Lock()
	var keys []string
	for id := range s.objects {
		if k, ok := strings.CutPrefix(id, bucket+"/"); ok && strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	res := listResult{Name: bucket, Prefix: prefix, MaxKeys: maxKeys}
	if len(keys) > maxKeys {
		keys, res.IsTruncated, res.NextContinuationToken = keys[:maxKeys], true, keys[maxKeys-1]
	}
	for _, k := range keys {
		o := s.objects[bucket+"/"+k]
		res.Contents = append(res.Contents, listObject{Key: k, ETag: o.etag, Size: len(o.body)})
	}
	s.mu.Unlock()
	res.KeyCount = len(res.Contents)
	w.Header().Set("Content-Type", "application/xml")
	_ = xml.NewEncoder(w).Encode(res)
}

// crc32Base64 is an S3 CRC32 checksum header value.
func crc32Base64(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(sum[:])
}
