package sweepbench

// PricesRead is the day the prices below were read, us-east-1.
const PricesRead = "2026-12-02"

// RunsPerMonth is one run a minute over AWS's 730-hour month.
const RunsPerMonth = 730 * 60

// Price is one list price, per unit, and where it was read.
type Price struct {
	Item   string
	USD    float64 // per Per units
	Per    float64
	Source string
}

// Each is the price of one unit.
func (p Price) Each() float64 { return p.USD / p.Per }

// The list prices the table uses. AWS's own pricing pages render their
// tables from scripts, so the stored text lacks the figures; each source
// is a dated page that states them, with the AWS page it reflects.
var (
	S3ClassA = Price{"S3 Standard PUT, COPY, POST, LIST requests", 0.005, 1000,
		"https://c3x.dev/blog/s3-request-fees-explained (S3 Standard matrix); https://aws.amazon.com/s3/pricing/"}
	S3ClassB = Price{"S3 Standard GET, SELECT and other requests", 0.0004, 1000,
		"https://c3x.dev/blog/s3-request-fees-explained; https://aws.amazon.com/s3/pricing/"}
	DynamoDBRead = Price{"DynamoDB on-demand read request unit (4 KB strongly consistent)", 0.125, 1e6,
		"https://airbyte.com/data-engineering-resources/dynamodb-pricing (us-east-1, after the 50 % cut of 2024-11-01); https://aws.amazon.com/dynamodb/pricing/on-demand/"}
	DynamoDBWrite = Price{"DynamoDB on-demand write request unit (1 KB)", 0.625, 1e6,
		"https://airbyte.com/data-engineering-resources/dynamodb-pricing; https://aws.amazon.com/dynamodb/pricing/on-demand/"}
	EventBridgeEvent = Price{"EventBridge custom event (64 KB chunk)", 1.00, 1e6,
		"https://cloudburn.io/blog/amazon-eventbridge-pricing (us-east-1, March 2026); https://aws.amazon.com/eventbridge/pricing/"}
)

// Prices lists them in the table's order.
func Prices() []Price {
	return []Price{S3ClassA, S3ClassB, DynamoDBRead, DynamoDBWrite, EventBridgeEvent}
}

// StorageCost is what a month of runs like r costs in storage requests.
// On S3 a listing call and a PUT are class A, a GET class B. On DynamoDB
// the listing is billed in read units (what the Scan read, 4 KB per unit),
// each GetItem (the state) one unit, each PutItem one write unit: a lease
// item or the state is under 1 KB.
func StorageCost(r Row) float64 {
	var run float64
	switch r.Backend {
	case "S3":
		run = (r.Metric("lists")+r.Metric("writes"))*S3ClassA.Each() + r.Metric("reads")*S3ClassB.Each()
	case "DynamoDB":
		run = (r.Metric("rru")+r.Metric("reads"))*DynamoDBRead.Each() + r.Metric("writes")*DynamoDBWrite.Each()
	}
	return run * RunsPerMonth
}

// EventCost is what a month of the run's events costs on EventBridge: the
// same before and after, since every expiry is published once.
func EventCost(r Row) float64 { return r.Metric("events") * EventBridgeEvent.Each() * RunsPerMonth }
