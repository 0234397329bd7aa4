package s3

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewClient builds an S3 client from cfg. pathStyle addresses buckets as
// {endpoint}/{bucket}/{key}, which LocalStack and moto need (set from
// REDLEASE_S3_PATH_STYLE); the endpoint itself comes from cfg, where
// config.LoadDefaultConfig puts AWS_ENDPOINT_URL_S3. optFns are applied last.
func NewClient(cfg aws.Config, pathStyle bool, optFns ...func(*awss3.Options)) *awss3.Client {
	return awss3.NewFromConfig(cfg, append([]func(*awss3.Options){func(o *awss3.Options) {
		o.UsePathStyle = pathStyle
	}}, optFns...)...)
}
