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

	// A SigV4-signed request: its principal is the role, not the session.

	resp, _ := a.HandleV2(context.Background(), events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "GET /v1/leases/{database_key+}",
		RawPath:        "/v1/leases/clusters/dev/data.rdb",
		PathParameters: map[string]string{"database_key": "clusters/dev/data.rdb"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "Xk3pbgTboAMEbaw=",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
					UserARN: "arn:aws:sts::123456789012:assumed-role/reddb-writer/i-0abc12345",
				},
			},
		},
	})
	fmt.Println(resp.StatusCode, resp.Headers["X-Request-Id"], resp.Body)
	// Output:
	// 404 Xk3pbgTboAMEbaw= {"error":{"code":"not_found","message":"no lease record exists for this database_key"}}
}

func ExampleIAMPrincipalName() {
	for _, arn := range []string{
		"arn:aws:sts::123456789012:assumed-role/reddb-writer/i-0abc12345",
		"arn:aws:iam::123456789012:user/ops/alice",
		"arn:aws:iam::123456789012:root",
		"arn:aws:sts::123456789012:federated-user/bob",
		"",
	} {
		fmt.Println(apigw.IAMPrincipalName(arn))
	}
	// Output:
	// arn:aws:sts::123456789012:assumed-role/reddb-writer true
	// arn:aws:iam::123456789012:user/ops/alice true
	// arn:aws:iam::123456789012:root true
	// arn:aws:sts::123456789012:federated-user/bob true
	//  false
}
