package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/redlease/redlease/pkg/api"
)

// The answers a transport gives itself (api.ProtocolError) conform to
// api/openapi.yaml on every route, as the face's do.
func TestProtocolErrorsConformToOpenAPI(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	ctx := context.Background()
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	cases := []struct {
		status   int
		wantCode string
	}{
		{400, api.CodeMalformedRequest},
		{431, api.CodeHeadersTooLarge},
		{501, api.CodeNotImplemented},
		{505, api.CodeHTTPVersionNotSupported},
		{503, api.CodeOverloaded},
		{418, api.CodeMalformedRequest}, // any other status is a 400
	}
	for _, c := range cases {
		resp := api.ProtocolError("", c.status, "why, for people", 1500*time.Millisecond)
		if want := api.ErrorCodes()[c.wantCode]; resp.Status != want {
			t.Errorf("ProtocolError(%d) status = %d, want %d", c.status, resp.Status, want)
		}
		for _, r := range api.Routes() {
			req := api.Request{Method: r.Methods[0], Path: r.Path, Header: http.Header{}}
			if _, _, greedy := r.Param(); greedy {
				prefix, _, _ := r.Param()
				req.Path = prefix + "k"
			}
			route, params := specRoute(t, doc, req)
			httpReq, err := http.NewRequest(req.Method, "http://127.0.0.1:8080"+req.Path, nil)
			if err != nil {
				t.Fatal(err)
			}
			header := http.Header{}
			for k, v := range resp.Header {
				header.Set(k, v)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: httpReq, PathParams: params, Route: route, Options: opts},
				Status:                 resp.Status, Header: header, Options: opts}
			in.SetBodyBytes(resp.Body)
			if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
				t.Errorf("%s %s: %d %s does not conform to api/openapi.yaml: %v", req.Method, r.Path, resp.Status, resp.Body, err)
			}
		}
	}
}
