// Package apigw adapts API Gateway's Lambda proxy events to an api.Face:
// HTTP API payload format 2.0 (events.APIGatewayV2HTTPRequest) and REST API
// proxy integration 1.0 (events.APIGatewayProxyRequest). It translates and
// nothing else, so a Lambda function answers exactly like the local server.
// It knows no route: it hands over the path as sent (a named stage's
// prefix taken off) and the route template the gateway matched, and the
// face routes.
//
// It establishes the principal of a SigV4-signed request from the IAM
// identity in the request context (IAMPrincipalName); a request without
// one goes on without a principal, for an api.Authenticator (bearer
// tokens) to establish or for the face to refuse with 401.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/redlease/redlease/pkg/api"
)

// Adapter turns API Gateway events into api.Requests for one face.
type Adapter struct {
	face api.Face
	opts Options
}

// Options tune an Adapter.
type Options struct {
	// IAMAdmin makes IAM callers admin principals (break-glass). Set it
	// only for a function that serves the admin route alone: the IAM
	// policy that lets a caller invoke that route is then the admin check.
	IAMAdmin bool
}

// New returns an adapter for face (an *api.Handler, or an *api.Mux of
// faces).
func New(face api.Face) *Adapter { return NewWithOptions(face, Options{}) }

// NewWithOptions returns an adapter for face with opts.
func NewWithOptions(face api.Face, opts Options) *Adapter { return &Adapter{face: face, opts: opts} }

// HandleV2 serves an HTTP API (payload format 2.0) event, or a Lambda
// function URL's (the same format). An HTTP API hands over the path and its
// parameters percent-decoded, and the adapter encodes them again for the
// face; a function URL's rawPath is still encoded, and goes as it is (see
// request.go).
func (a *Adapter) HandleV2(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	v2 := func(resp api.Response) (events.APIGatewayV2HTTPResponse, error) {
		out, b64 := responseBody(resp)
		return events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: resp.Header, Body: out, IsBase64Encoded: b64}, nil
	}
	id := requestID(ctx, ev.RequestContext.RequestID)
	if ev.RequestContext.HTTP.Method == "" {
		return v2(noMethod(id, "requestContext.http.method"))
	}
	hdr, err := header(ev.Headers, nil)
	if err != nil {
		resp, _ := api.ErrorResponse(ensureID(id), err)
		return v2(resp)
	}
	path, params := fromHTTPAPI(withoutStage(ev.RawPath, ev.RequestContext.Stage)), encodeParams(ev.PathParameters)
	if functionURL(ev.RequestContext.DomainName) {
		path, params = ev.RawPath, ev.PathParameters // encoded as sent
	}
	b, length := body(ev.Body, ev.IsBase64Encoded)
	req := api.Request{
		Method:        ev.RequestContext.HTTP.Method,
		Path:          path,
		Route:         routeOf(ev.RouteKey),
		PathParams:    params,
		Query:         ev.RawQueryString,
		Header:        hdr,
		Body:          b,
		ContentLength: length,
		RequestID:     id,
	}
	if az := ev.RequestContext.Authorizer; az != nil && az.IAM != nil {
		req.Principal = a.iamPrincipal(az.IAM.UserARN)
	}
	return v2(a.face.Serve(ctx, req))
}

// HandleV1 serves a REST API proxy (payload format 1.0) event, whose path
// is still percent-encoded.
func (a *Adapter) HandleV1(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return a.handleV1(ctx, ev, false)
}

// handleV1 serves a payload 1.0 event: a REST API's, or an HTTP API's
// (decoded, like its 2.0 events).
func (a *Adapter) handleV1(ctx context.Context, ev events.APIGatewayProxyRequest, decoded bool) (events.APIGatewayProxyResponse, error) {
	v1 := func(resp api.Response) (events.APIGatewayProxyResponse, error) {
		out, b64 := responseBody(resp)
		return events.APIGatewayProxyResponse{StatusCode: resp.Status, Headers: resp.Header, Body: out, IsBase64Encoded: b64}, nil
	}
	id := requestID(ctx, ev.RequestContext.RequestID)
	if ev.HTTPMethod == "" {
		return v1(noMethod(id, "httpMethod"))
	}
	hdr, err := header(ev.Headers, ev.MultiValueHeaders)
	if err != nil {
		resp, _ := api.ErrorResponse(ensureID(id), err)
		return v1(resp)
	}
	path, params := ev.Path, restParams(ev.Resource, ev.Path, ev.PathParameters)
	if decoded {
		path, params = fromHTTPAPI(ev.Path), encodeParams(ev.PathParameters)
	}
	b, length := body(ev.Body, ev.IsBase64Encoded)
	req := api.Request{
		Method: ev.HTTPMethod,
		Path:   path,
		// The resource template: the stage and any base path are not in it.
		Route:         ev.Resource,
		PathParams:    params,
		Query:         query(ev.QueryStringParameters, ev.MultiValueQueryStringParameters),
		Header:        hdr,
		Body:          b,
		ContentLength: length,
		RequestID:     id,
		Principal:     a.iamPrincipal(ev.RequestContext.Identity.UserArn),
	}
	return v1(a.face.Serve(ctx, req))
}

// Handle accepts either payload format, told apart by the event's "version"
// field ("2.0"; REST events have none, HTTP API 1.0 events say "1.0"), so
// one binary serves whichever integration it is attached to. It is the
// function given to lambda.Start. A payload that is no API Gateway event is
// an invocation error, not an HTTP answer: there is no HTTP caller to
// answer.
func (a *Adapter) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Version    *string `json:"version"`
		HTTPMethod string  `json:"httpMethod"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("apigw: payload is not an API Gateway event: %w", err)
	}
	switch {
	case probe.Version != nil && *probe.Version == "2.0":
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("apigw: decode payload 2.0 event: %w", err)
		}
		return a.HandleV2(ctx, ev)
	case probe.HTTPMethod != "":
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("apigw: decode payload 1.0 event: %w", err)
		}
		// An HTTP API's 1.0 events say so; a REST API's have no version.
		return a.handleV1(ctx, ev, probe.Version != nil)
	}
	return nil, errors.New("apigw: payload is not an API Gateway event (no version 2.0, no httpMethod)")
}

// invalidBase64 is what the client is told about a body API Gateway marked
// base64-encoded that is not.
const invalidBase64 = "is marked base64-encoded but is not valid base64"

// body hands the event's body to the face as a reader, with its length. A
// base64 body is decoded as the face reads it, so an oversized one is never
// held twice; its length is what the encoding's length implies (padding
// counted), and a decoding error surfaces as an *api.BodyError.
func body(s string, b64 bool) (io.Reader, int64) {
	if !b64 {
		return strings.NewReader(s), int64(len(s))
	}
	n := int64(base64.StdEncoding.DecodedLen(len(s)))
	if strings.HasSuffix(s, "==") {
		n -= 2
	} else if strings.HasSuffix(s, "=") {
		n--
	}
	return base64Body{base64.NewDecoder(base64.StdEncoding, strings.NewReader(s))}, n
}

// responseBody renders the face's answer for the event: as text when it is
// valid UTF-8 (JSON carries that losslessly), base64 otherwise, which API
// Gateway and function URLs decode back to the exact bytes. A stream is
// read whole: a Lambda response is one buffered payload, and the face
// keeps streams within what it can carry.
func responseBody(resp api.Response) (string, bool) {
	b := resp.Body
	if resp.Stream != nil {
		var err error
		b, err = io.ReadAll(resp.Stream)
		resp.Stream.Close()
		if err != nil {
			// The status line is already decided; a truncated body is
			// what a broken connection would have given too.
			b = nil
		}
	}
	if utf8.Valid(b) {
		return string(b), false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

// query renders REST API (1.0) query parameters as a raw query string.
func query(single map[string]string, multi map[string][]string) string {
	v := url.Values{}
	for k, vs := range multi {
		v[k] = append([]string(nil), vs...)
	}
	for k, s := range single {
		if _, ok := v[k]; !ok {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// base64Body reports invalid base64 as an *api.BodyError.
type base64Body struct{ r io.Reader }

func (b base64Body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &api.BodyError{Reason: invalidBase64}
	}
	return n, err
}

// routeOf is the path of a route key ("POST /v1/acquire" -> "/v1/acquire");
// empty for the $default route.
func routeOf(routeKey string) string {
	if _, path, ok := strings.Cut(routeKey, " "); ok {
		return path
	}
	return ""
}

// withoutStage takes a named stage's prefix off the raw path ("/prod/v1/x"
// -> "/v1/x"); the $default stage has none.
func withoutStage(path, stage string) string {
	if stage != "" && stage != "$default" {
		if rest, ok := strings.CutPrefix(path, "/"+stage+"/"); ok {
			return "/" + rest
		}
	}
	return path
}

// requestID is API Gateway's request id (what its access logs and the
// apigw-requestid header show), else the Lambda invocation's.
func requestID(ctx context.Context, fromGateway string) string {
	if fromGateway != "" {
		return fromGateway
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
