// Package apigw adapts API Gateway's Lambda proxy events to the api core:
// HTTP API payload format 2.0 (events.APIGatewayV2HTTPRequest) and REST API
// proxy integration 1.0 (events.APIGatewayProxyRequest). It translates and
// nothing else, so a Lambda function answers exactly like the local server.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/redlease/redlease/pkg/api"
)

// Adapter turns API Gateway events into api.Requests for one core Handler.
type Adapter struct {
	core *api.Handler
}

// New returns an adapter for core.
func New(core *api.Handler) *Adapter { return &Adapter{core: core} }

// HandleV2 serves an HTTP API (payload format 2.0) event.
func (a *Adapter) HandleV2(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	req := api.Request{
		Method:     ev.RequestContext.HTTP.Method,
		Path:       pathV2(ev),
		PathParams: ev.PathParameters,
		Header:     header(ev.Headers, nil),
		RequestID:  requestID(ctx, ev.RequestContext.RequestID),
	}
	resp := a.serve(ctx, req, ev.Body, ev.IsBase64Encoded)
	return events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: resp.Header, Body: string(resp.Body)}, nil
}

// HandleV1 serves a REST API proxy (payload format 1.0) event.
func (a *Adapter) HandleV1(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	path := ev.Path
	if ev.Resource == api.PathGetRoute || isRoute(ev.Resource) {
		path = ev.Resource // the route template: the stage or base path is not in it
	}
	req := api.Request{
		Method:     ev.HTTPMethod,
		Path:       path,
		PathParams: ev.PathParameters,
		Header:     header(ev.Headers, ev.MultiValueHeaders),
		RequestID:  requestID(ctx, ev.RequestContext.RequestID),
	}
	resp := a.serve(ctx, req, ev.Body, ev.IsBase64Encoded)
	return events.APIGatewayProxyResponse{StatusCode: resp.Status, Headers: resp.Header, Body: string(resp.Body)}, nil
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
		return a.HandleV1(ctx, ev)
	}
	return nil, errors.New("apigw: payload is not an API Gateway event (no version 2.0, no httpMethod)")
}

// serve decodes the body and calls the core. A base64 body is checked
// against the limit before decoding, so an oversized one is never held
// twice.
func (a *Adapter) serve(ctx context.Context, req api.Request, body string, b64 bool) api.Response {
	switch {
	case !b64:
		req.Body = []byte(body)
	case base64.StdEncoding.DecodedLen(len(body)) > api.MaxBodyBytes+3:
		// Certainly over the limit: hand the core a body that is.
		req.Body = make([]byte, api.MaxBodyBytes+1)
	default:
		decoded, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			req.BodyInvalid = "is marked base64-encoded but is not valid base64"
		}
		req.Body = decoded
	}
	return a.core.Serve(ctx, req)
}

// pathV2 prefers the route key ("POST /v1/acquire"), which names the route
// without the stage, and falls back to the raw path for the $default route,
// with a named stage's prefix taken off.
func pathV2(ev events.APIGatewayV2HTTPRequest) string {
	if _, path, ok := strings.Cut(ev.RouteKey, " "); ok && (path == api.PathGetRoute || isRoute(path)) {
		return path
	}
	path := ev.RawPath
	if stage := ev.RequestContext.Stage; stage != "" && stage != "$default" {
		if rest, ok := strings.CutPrefix(path, "/"+stage+"/"); ok {
			path = "/" + rest
		}
	}
	return path
}

// isRoute reports whether p is one of the body-carrying routes.
func isRoute(p string) bool {
	return p == api.PathAcquire || p == api.PathRefresh || p == api.PathRelease
}

func header(single map[string]string, multi map[string][]string) http.Header {
	h := make(http.Header, len(single)+len(multi))
	for k, vs := range multi {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range single {
		if _, ok := h[http.CanonicalHeaderKey(k)]; !ok {
			h.Set(k, v)
		}
	}
	return h
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
