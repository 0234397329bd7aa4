package dynamodb_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	ddbbackend "github.com/redlease/redlease/pkg/backend/dynamodb"
	"github.com/redlease/redlease/pkg/lease"
)

// An entry point builds the client once, from the environment
// (AWS_ENDPOINT_URL_DYNAMODB points it at LocalStack), and hands it to the
// store.
func ExampleNew() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	store, err := ddbbackend.New(awsddb.NewFromConfig(cfg), ddbbackend.Options{Table: "redlease-leases"})
	if err != nil {
		fmt.Println(err)
		return
	}
	svc, err := lease.New(lease.Config{Store: store})
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := svc.Acquire(ctx, lease.AcquireRequest{
		DatabaseKey: "clusters/dev/data.rdb", HolderID: "reddb-0-1", TTLMs: 60000, Term: lease.DefaultTerm,
	})
	fmt.Println(l.Generation, err)
}

func ExampleCreateTableInput() {
	in := ddbbackend.CreateTableInput("redlease-leases")
	fmt.Println(aws.ToString(in.TableName), aws.ToString(in.KeySchema[0].AttributeName), in.KeySchema[0].KeyType,
		in.AttributeDefinitions[0].AttributeType, in.BillingMode)
	// Output: redlease-leases database_key HASH S PAY_PER_REQUEST
}
