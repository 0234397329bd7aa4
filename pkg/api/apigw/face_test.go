package apigw_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apigw"
)

// recorder is a face that keeps what it was handed, body read in full.
type recorder struct {
	req     api.Request
	body    string
	bodyErr error
}

func (r *recorder) Serve(_ context.Context, req api.Request) api.Response {
	r.req = req
	b, err := io.ReadAll(req.Body)
	r.body, r.bodyErr = string(b), err
	return api.Response{Status: 201, Header: map[string]string{"ETag": `"e1"`}, Body: []byte("ok")}
}

// The adapter knows no route: a route that is in no table yet reaches the
// face as the gateway named it, with the stage taken off the raw path.
func TestAdapterPassesAnyRouteToTheFace(t *testing.T) {
	t.Parallel()
	f := &recorder{}
	a := apigw.New(f)
	resp, err := a.HandleV2(context.Background(), events.APIGatewayV2HTTPRequest{
		Version:         "2.0",
		RouteKey:        "PUT /v1/reddb/{proxy+}",
		RawPath:         "/prod/v1/reddb/clusters/dev/data.rdb",
		PathParameters:  map[string]string{"proxy": "clusters/dev/data.rdb"},
		Body:            base64.StdEncoding.EncodeToString([]byte("\x00\xffobject")),
		IsBase64Encoded: true,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: "prod", RequestID: "gw-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "PUT"},
		},
	})
	if err != nil || resp.StatusCode != 201 || resp.Headers["ETag"] != `"e1"` || resp.Body != "ok" {
		t.Fatalf("response %+v, %v: want the face's answer as it gave it", resp, err)
	}
	got := f.req
	if got.Method != "PUT" || got.Route != "/v1/reddb/{proxy+}" || got.Path != "/v1/reddb/clusters/dev/data.rdb" ||
		got.PathParams["proxy"] != "clusters/dev/data.rdb" || got.RequestID != "gw-1" {
		t.Errorf("request %+v: want method, route, path without the stage, parameters and id as sent", got)
	}
	if f.body != "\x00\xffobject" || f.bodyErr != nil {
		t.Errorf("body %q, %v: want the decoded bytes", f.body, f.bodyErr)
	}

	_, _ = a.HandleV1(context.Background(), events.APIGatewayProxyRequest{
		Resource: "/v1/reddb/{proxy+}", Path: "/v1/reddb/x", HTTPMethod: "HEAD",
		Body: "%%%", IsBase64Encoded: true,
	})
	var be *api.BodyError
	if f.req.Route != "/v1/reddb/{proxy+}" || f.req.Path != "/v1/reddb/x" || !errors.As(f.bodyErr, &be) ||
		!strings.Contains(be.Reason, "base64") {
		t.Errorf("REST event: route %q path %q body error %v; want both as sent and a BodyError naming base64",
			f.req.Route, f.req.Path, f.bodyErr)
	}
}

// streamer answers with a binary stream, as the RedDB face answers a GET.
type streamer struct{ data []byte }

func (s streamer) Serve(_ context.Context, req api.Request) api.Response {
	return api.Response{Status: 200, Stream: io.NopCloser(strings.NewReader(string(s.data))), StreamLength: int64(len(s.data))}
}

// Bodies that are not UTF-8 leave the adapter base64-encoded, both event
// formats, streams included, and decode back to the exact bytes; text
// stays text. The request's query and length reach the face.
func TestBinaryBodiesRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	binary := []byte("\x00\x01\xfe\xff\r\n page \x80")
	a := apigw.New(streamer{data: binary})
	v2, err := a.HandleV2(ctx, events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/v1/reddb/x",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}})
	if err != nil || !v2.IsBase64Encoded {
		t.Fatalf("v2: %+v, %v; want a base64 body", v2, err)
	}
	if got, err := base64.StdEncoding.DecodeString(v2.Body); err != nil || string(got) != string(binary) {
		t.Errorf("v2 body decodes to %q (%v), want %q", got, err, binary)
	}
	v1, err := a.HandleV1(ctx, events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/v1/reddb/x"})
	if got, _ := base64.StdEncoding.DecodeString(v1.Body); err != nil || !v1.IsBase64Encoded || string(got) != string(binary) {
		t.Errorf("v1: %+v, %v; want the bytes base64-encoded", v1, err)
	}
	text, _ := apigw.New(streamer{data: []byte(`{"a":"é"}`)}).HandleV2(ctx, events.APIGatewayV2HTTPRequest{Version: "2.0",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}})
	if text.IsBase64Encoded || text.Body != `{"a":"é"}` {
		t.Errorf("UTF-8 body: %+v, want it as text", text)
	}

	f := &recorder{}
	body := base64.StdEncoding.EncodeToString(binary)
	if _, err := apigw.New(f).HandleV2(ctx, events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/v1/reddb/", RawQueryString: "list=a%2Fb",
		Body: body, IsBase64Encoded: true,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "PUT"}}}); err != nil {
		t.Fatal(err)
	}
	if f.req.Query != "list=a%2Fb" || f.req.ContentLength != int64(len(binary)) || f.body != string(binary) {
		t.Errorf("v2 request: query %q, length %d, body %q; want the raw query, %d and the bytes", f.req.Query, f.req.ContentLength, f.body, len(binary))
	}
	if _, err := apigw.New(f).HandleV1(ctx, events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/v1/reddb/",
		MultiValueQueryStringParameters: map[string][]string{"list": {"a/b"}}}); err != nil {
		t.Fatal(err)
	}
	if f.req.Query != "list=a%2Fb" {
		t.Errorf("v1 query %q, want list=a%%2Fb", f.req.Query)
	}
}

// The RedDB routes' object keys may hold percent-encoded bytes: a function
// URL's rawPath (the RedDB face's deployment) reaches the face encoded as
// sent, an HTTP API's is encoded again, and a REST API's path goes as it
// is; in each the face decodes the key once.
func TestRedDBPathsReachTheFaceEncodedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	get := events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}
	tests := []struct {
		name string
		ev   events.APIGatewayV2HTTPRequest
		want string
	}{
		{"function URL: encoded as sent", events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default",
			RawPath: "/v1/reddb/clusters/dev/wal/50%25%2Fx%20y.log",
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: get, Stage: "$default",
				DomainName: "r3ddbfunctionurlid0000000000000a.lambda-url.eu-west-1.on.aws"}},
			"/v1/reddb/clusters/dev/wal/50%25%2Fx%20y.log"},
		{"HTTP API: decoded, encoded again", events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default",
			RawPath: "/v1/reddb/clusters/dev/wal/50%/x y.log",
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: get, Stage: "$default",
				DomainName: "abc123def4.execute-api.eu-west-1.amazonaws.com"}},
			"/v1/reddb/clusters/dev/wal/50%25/x%20y.log"},
	}
	for _, tc := range tests {
		f := &recorder{}
		if _, err := apigw.New(f).HandleV2(ctx, tc.ev); err != nil {
			t.Fatal(err)
		}
		if f.req.Path != tc.want {
			t.Errorf("%s: the face got path %q, want %q", tc.name, f.req.Path, tc.want)
		}
	}
	f := &recorder{}
	if _, err := apigw.New(f).HandleV1(ctx, events.APIGatewayProxyRequest{HTTPMethod: "GET", Resource: "/v1/reddb/{proxy+}",
		Path: "/v1/reddb/clusters/dev/a%252Fb", PathParameters: map[string]string{"proxy": "clusters/dev/a%2Fb"}}); err != nil {
		t.Fatal(err)
	}
	if f.req.Path != "/v1/reddb/clusters/dev/a%252Fb" || f.req.PathParams["proxy"] != "clusters/dev/a%252Fb" {
		t.Errorf("REST: the face got %q %v, want the path as sent", f.req.Path, f.req.PathParams)
	}
}
