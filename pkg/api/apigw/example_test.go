package apigw_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/apigw"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

func ExampleAdapter_HandleV2() {
	svc, _ := lease.New(lease.Config{Store: memory.New(memory.Options{})})
	core, _ := api.New(api.Config{Service: svc, Ops: []api.Op{api.OpGet}})
	a := apigw.New(core) // lambda.Start(a.Handle) in a function's main

	resp, _ := a.HandleV2(context.Background(), events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "GET /v1/leases/{database_key+}",
		RawPath:        "/v1/leases/clusters/dev/data.rdb",
		PathParameters: map[string]string{"database_key": "clusters/dev/data.rdb"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "Xk3pbgTboAMEbaw=",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"},
		},
	})
	fmt.Println(resp.StatusCode, resp.Headers["X-Request-Id"], resp.Body)
	// Output:
	// 404 Xk3pbgTboAMEbaw= {"error":{"code":"not_found","message":"no lease record exists for this database_key"}}
}
