package s3_test

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	s3backend "github.com/redlease/redlease/pkg/backend/s3"
	"github.com/redlease/redlease/pkg/lease"
)

// An entry point loads the SDK configuration once from the environment
// (config.LoadDefaultConfig; AWS_ENDPOINT_URL_S3 points it at LocalStack),
// builds the client with NewClient, and hands it to the store, which the
// lease service then uses. New itself sends no request.
func ExampleNew() {
	client := s3backend.NewClient(awsConfig(), true)
	store, err := s3backend.New(client, s3backend.Options{Bucket: "my-lease-bucket", Prefix: "tenants/blue/"})
	if err != nil {
		fmt.Println(err)
		return
	}
	svc, err := lease.New(lease.Config{Store: store})
	fmt.Println(svc != nil, err)
	fmt.Println(store.ObjectKey("clusters/dev/data.rdb"))
	// Output:
	// true <nil>
	// tenants/blue/clusters/dev/data.rdb.lease.json
}

func ExampleStore_ObjectKey() {
	store, _ := s3backend.New(s3backend.NewClient(awsConfig(), true), s3backend.Options{Bucket: "my-lease-bucket"})
	fmt.Println(store.ObjectKey("clusters/dev/data.rdb"))
	// Output: leases/clusters/dev/data.rdb.lease.json
}

// awsConfig stands for the configuration an entry point loads.
func awsConfig() aws.Config { return aws.Config{Region: "us-east-1"} }
