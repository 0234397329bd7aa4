package reddb_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/reddb"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

// A RedDB's first acquire through the face: HEAD finds no lease object,
// the PUT with If-None-Match: * is decided by the lease service (the times
// stored are the service's, the TTL is learnt), and a HEAD afterwards
// gives the ETag RedDB compares, always with Content-Length: 0.
func Example() {
	svc, _ := lease.New(lease.Config{Store: memory.New(memory.Options{})})
	face, _ := reddb.New(reddb.Config{Service: svc, Objects: memory.NewObjects(memory.ObjectsOptions{Reserved: lease.DefaultPrefix})})
	serve := func(method string, header http.Header, body string) api.Response {
		return face.Serve(context.Background(), api.Request{
			Method: method, Path: "/v1/reddb/leases/clusters/dev/data.rdb.lease.json", Header: header,
			Body: strings.NewReader(body), ContentLength: int64(len(body)), Principal: lease.Anonymous,
		})
	}
	head := serve(http.MethodHead, http.Header{}, "")
	fmt.Println(head.Status, head.Header["Content-Length"])
	put := serve(http.MethodPut, http.Header{"If-None-Match": {"*"}},
		`{"acquired_at_ms":1,"database_key":"clusters/dev/data.rdb","expires_at_ms":3001,"generation":1,"holder_id":"red-a","term":1}`)
	fmt.Println(put.Status)
	head = serve(http.MethodHead, http.Header{}, "")
	fmt.Println(head.Status, head.Header["ETag"] == put.Header["ETag"], head.Header["Content-Length"])
	// Output:
	// 404 0
	// 200
	// 200 true 0
}
