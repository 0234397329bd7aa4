package client

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// NewAWS returns a client that signs with the standard AWS credential chain
// (environment, shared config and credentials files with profile, SSO, web
// identity, ECS and EC2 roles), as config.LoadDefaultConfig resolves it.
// An empty profile or region leaves the choice to that chain
// (AWS_PROFILE, AWS_REGION); a region still unknown is read from an API
// Gateway endpoint's host name. o.Endpoint is required; o.Credentials and
// o.Region are filled in.
func NewAWS(ctx context.Context, o Options, profile, region string) (*Client, error) {
	var opts []func(*config.LoadOptions) error
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("client: load AWS config: %w", err)
	}
	return NewFromAWSConfig(o, cfg)
}

// NewFromAWSConfig returns a signing client from an aws.Config the caller
// already has.
func NewFromAWSConfig(o Options, cfg aws.Config) (*Client, error) {
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("client: the AWS config has no credentials provider")
	}
	o.Credentials = cfg.Credentials
	if o.Region == "" {
		o.Region = cfg.Region
	}
	return New(o)
}

// RegionFromEndpoint reads the region out of an API Gateway host name
// ({id}.execute-api.{region}.amazonaws.com[.cn]); "" for any other host.
func RegionFromEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	labels := strings.Split(u.Hostname(), ".")
	for i := 0; i+2 < len(labels); i++ {
		if labels[i] == "execute-api" && labels[i+2] == "amazonaws" {
			return labels[i+1]
		}
	}
	return ""
}
