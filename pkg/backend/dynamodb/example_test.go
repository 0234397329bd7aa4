package dynamodb_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	ddbbackend "github.com/redlease/redlease/pkg/backend/dynamodb"
	"github.com/redlease/redlease/pkg/lease"
)

// An entry point builds the client once, from the environment
// (AWS_ENDPOINT_URL_DYNAMODB points it at an emulator), and hands it to the
// store. Every record comes back with its version, the item's counter in
// double quotes ("1", "2", ...).
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
	v, err := store.Load(ctx, "clusters/dev/data.rdb")
	switch {
	case errors.Is(err, lease.ErrNotFound):
		fmt.Println("no lease yet")
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(v.Record.HolderID, v.Record.Generation, v.Version)
	}
}

func ExampleCreateTableInput() {
	in := ddbbackend.CreateTableInput("redlease-leases")
	fmt.Println(aws.ToString(in.TableName), aws.ToString(in.KeySchema[0].AttributeName), in.KeySchema[0].KeyType,
		in.AttributeDefinitions[0].AttributeType, in.BillingMode)
	// Output: redlease-leases database_key HASH S PAY_PER_REQUEST
}
