// Package cost turns measured request counts and durations into dollars
// per database-month at AWS list prices: what a RedDB database holding its
// lease for a month costs with RedDB's own S3 lease, with redlease on S3 or
// DynamoDB, and through redlease's /v1/reddb gateway, plus the sweep's
// share of a fleet. It is pure arithmetic; the prices carry their sources.
package cost

// PricesRead is the day the prices below were read.
const PricesRead = "2026-12-02"

// Region is the region the prices are for.
const Region = "us-east-1"

// Price is one list price and where it was read.
type Price struct {
	Service string  `json:"service"`
	Item    string  `json:"item"`
	USD     float64 `json:"usd"`
	Per     float64 `json:"per"` // USD is per this many units
	Unit    string  `json:"unit"`
	Source  string  `json:"source"`
	Read    string  `json:"read"`
	Note    string  `json:"note,omitempty"`
}

// Each is the price of one unit.
func (p Price) Each() float64 { return p.USD / p.Per }

// Book is the price list the model uses. Tiers are the first (lowest
// volume) tier: a fleet large enough to reach the next tier pays less.
type Book struct {
	APIGatewayHTTP Price `json:"api_gateway_http"`
	LambdaRequest  Price `json:"lambda_request"`
	LambdaArmGBs   Price `json:"lambda_arm_gb_s"`
	S3ClassA       Price `json:"s3_put_copy_post_list"`
	S3ClassB       Price `json:"s3_get_head"`
	S3Delete       Price `json:"s3_delete"`
	DynamoDBWrite  Price `json:"dynamodb_wru"`
	DynamoDBRead   Price `json:"dynamodb_rru"`
}

// List returns the prices in report order.
func (b Book) List() []Price {
	return []Price{b.APIGatewayHTTP, b.LambdaRequest, b.LambdaArmGBs, b.S3ClassA, b.S3ClassB, b.S3Delete, b.DynamoDBWrite, b.DynamoDBRead}
}

// ListPrices are the us-east-1 on-demand list prices as published when
// read (PricesRead). AWS's own pricing pages render their tables from
// scripts, so where the stored page text lacks the figure the source is
// the AWS document or the dated secondary page that states it, with the
// AWS page it cites.
var ListPrices = Book{
	APIGatewayHTTP: Price{Service: "API Gateway", Item: "HTTP API request (first 300 million a month)",
		USD: 1.00, Per: 1e6, Unit: "requests",
		Source: "https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html (Table 4, us-east-1); https://aws.amazon.com/api-gateway/pricing/",
		Read:   PricesRead, Note: "HTTP APIs are metered in 512 KB increments; every lease request is one."},
	LambdaRequest: Price{Service: "Lambda", Item: "request", USD: 0.20, Per: 1e6, Unit: "requests",
		Source: "https://aws.amazon.com/lambda/pricing/; https://cloudchipr.com/blog/aws-lambda-pricing (us-east-1 table)",
		Read:   PricesRead},
	LambdaArmGBs: Price{Service: "Lambda", Item: "duration, Arm (first 7.5 billion GB-s a month)",
		USD: 0.0000133334, Per: 1, Unit: "GB-s",
		Source: "https://cloudchipr.com/blog/aws-lambda-pricing (us-east-1, Arm tier 1); https://aws.amazon.com/lambda/pricing/",
		Read:   PricesRead, Note: "billed per 1 ms, rounded up; init is billed too (custom runtimes always were, managed runtimes since 2025-08-01)"},
	S3ClassA: Price{Service: "S3 Standard", Item: "PUT, COPY, POST, LIST request", USD: 0.005, Per: 1000, Unit: "requests",
		Source: "https://c3x.dev/blog/s3-request-fees-explained (S3 Standard request matrix); https://aws.amazon.com/s3/pricing/",
		Read:   PricesRead},
	S3ClassB: Price{Service: "S3 Standard", Item: "GET, HEAD (and all other) request", USD: 0.0004, Per: 1000, Unit: "requests",
		Source: "https://c3x.dev/blog/s3-request-fees-explained; https://aws.amazon.com/s3/pricing/",
		Read:   PricesRead, Note: "a conditional PUT that fails (412) is still a request; this model bills it as one"},
	S3Delete: Price{Service: "S3 Standard", Item: "DELETE request", USD: 0, Per: 1000, Unit: "requests",
		Source: "https://aws.amazon.com/s3/faqs/ (DELETE requests are not charged)", Read: PricesRead},
	DynamoDBWrite: Price{Service: "DynamoDB on-demand", Item: "write request unit (1 KB)", USD: 0.625, Per: 1e6, Unit: "WRU",
		Source: "https://airbyte.com/data-engineering-resources/dynamodb-pricing (us-east-1, after the 2024-11-01 50% cut); units: https://aws.amazon.com/dynamodb/pricing/on-demand/",
		Read:   PricesRead, Note: "a conditional write that fails still consumes its write units"},
	DynamoDBRead: Price{Service: "DynamoDB on-demand", Item: "read request unit (4 KB strongly consistent)", USD: 0.125, Per: 1e6, Unit: "RRU",
		Source: "https://airbyte.com/data-engineering-resources/dynamodb-pricing; https://aws.amazon.com/dynamodb/pricing/on-demand/",
		Read:   PricesRead, Note: "redlease reads strongly consistent: 1 RRU per 4 KB (an eventually consistent read is half)"},
}

// Memory sizes and the sweep's timeout of the stack's functions
// (infra/stack/props.go, DefaultAPIMemoryMB, DefaultSweepMemoryMB and
// DefaultSweepTimeout; a test keeps them equal).
const (
	APIMemoryMB         = 256
	SweepMemoryMB       = 512
	SweepTimeoutSeconds = 50
)
