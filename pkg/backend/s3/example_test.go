package s3_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	s3backend "github.com/redlease/redlease/pkg/backend/s3"
	"github.com/redlease/redlease/pkg/lease"
)

// An entry point builds the client once, from the environment
// (AWS_ENDPOINT_URL_S3 points it at LocalStack), and hands it to the store.
func ExampleNew() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	store, err := s3backend.New(s3backend.NewClient(cfg, true), s3backend.Options{Bucket: "my-lease-bucket", Prefix: "leases/"})
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

func ExampleStore_ObjectKey() {
	store, _ := s3backend.New(s3backend.NewClient(awsConfig(), true), s3backend.Options{Bucket: "my-lease-bucket"})
	fmt.Println(store.ObjectKey("clusters/dev/data.rdb"))
	// Output: leases/clusters/dev/data.rdb.lease.json
}

func awsConfig() aws.Config { return aws.Config{Region: "us-east-1"} }
