package cost

import "math"

// Workload is how a RedDB database uses its lease: RedDB's defaults are a
// 60 s TTL and a refresh every max(ttl/3, 1 s) = 20 s.
type Workload struct {
	TTLSeconds     float64 `json:"ttl_s"`
	RefreshSeconds float64 `json:"refresh_every_s"`
	MonthSeconds   float64 `json:"month_s"` // 30 days
	// Acquires per month (a restart takes the lease over once).
	Acquires float64 `json:"acquires_per_month"`
	// Databases share one sweep, which runs every SweepSeconds.
	Databases    int     `json:"databases"`
	SweepSeconds float64 `json:"sweep_every_s"`
}

// RedDBDefaults is the workload of the issue: one database holding its
// lease for a 30-day month, in a fleet of 10,000 sharing the sweep.
var RedDBDefaults = Workload{TTLSeconds: 60, RefreshSeconds: 20, MonthSeconds: 30 * 24 * 3600,
	Acquires: 1, Databases: 10000, SweepSeconds: 60}

// Refreshes is the refreshes per database-month.
func (w Workload) Refreshes() float64 { return w.MonthSeconds / w.RefreshSeconds }

// SweepRuns is the sweep runs per month.
func (w Workload) SweepRuns() float64 { return w.MonthSeconds / w.SweepSeconds }

// Op is what one lease operation costs in billable units.
type Op struct {
	// APIRequests go through API Gateway; Invocations are Lambda
	// invocations (an API request is one of each; the scheduled sweep is
	// an invocation alone). Both are 0 when the client talks to S3 itself.
	APIRequests float64 `json:"api_requests"`
	Invocations float64 `json:"invocations"`
	// LambdaMs is each invocation's handler time, billed rounded up to the
	// next millisecond, at LambdaMB.
	LambdaMs float64 `json:"lambda_ms"`
	LambdaMB int     `json:"lambda_mb"`
	// S3 requests by price class; DynamoDB request units.
	S3ClassA float64 `json:"s3_class_a"`
	S3ClassB float64 `json:"s3_class_b"`
	S3Free   float64 `json:"s3_free"`
	WRU      float64 `json:"wru"`
	RRU      float64 `json:"rru"`
}

// Scale multiplies every count (not the duration or memory).
func (o Op) Scale(k float64) Op {
	o.APIRequests *= k
	o.Invocations *= k
	o.S3ClassA *= k
	o.S3ClassB *= k
	o.S3Free *= k
	o.WRU *= k
	o.RRU *= k
	return o
}

// Breakdown is a cost in USD by service.
type Breakdown struct {
	APIGateway     float64 `json:"api_gateway"`
	LambdaRequests float64 `json:"lambda_requests"`
	LambdaDuration float64 `json:"lambda_duration"`
	S3             float64 `json:"s3"`
	DynamoDB       float64 `json:"dynamodb"`
}

// Total is the sum.
func (b Breakdown) Total() float64 {
	return b.APIGateway + b.LambdaRequests + b.LambdaDuration + b.S3 + b.DynamoDB
}

// Add sums two breakdowns.
func (b Breakdown) Add(o Breakdown) Breakdown {
	return Breakdown{b.APIGateway + o.APIGateway, b.LambdaRequests + o.LambdaRequests,
		b.LambdaDuration + o.LambdaDuration, b.S3 + o.S3, b.DynamoDB + o.DynamoDB}
}

// Times scales a breakdown.
func (b Breakdown) Times(k float64) Breakdown {
	return Breakdown{b.APIGateway * k, b.LambdaRequests * k, b.LambdaDuration * k, b.S3 * k, b.DynamoDB * k}
}

// BilledMs rounds a duration up to Lambda's 1 ms granularity.
func BilledMs(ms float64) float64 {
	if ms <= 0 || math.IsNaN(ms) {
		return 0
	}
	return math.Ceil(ms)
}

// Cost prices one operation.
func (b Book) Cost(o Op) Breakdown {
	gbs := o.Invocations * BilledMs(o.LambdaMs) / 1000 * float64(o.LambdaMB) / 1024
	return Breakdown{
		APIGateway:     o.APIRequests * b.APIGatewayHTTP.Each(),
		LambdaRequests: o.Invocations * b.LambdaRequest.Each(),
		LambdaDuration: gbs * b.LambdaArmGBs.Each(),
		S3:             o.S3ClassA*b.S3ClassA.Each() + o.S3ClassB*b.S3ClassB.Each() + o.S3Free*b.S3Delete.Each(),
		DynamoDB:       o.WRU*b.DynamoDBWrite.Each() + o.RRU*b.DynamoDBRead.Each(),
	}
}

// Units converts measured storage requests per operation (labels as
// package reqcount counts them) into billable units. itemBytes is a lease
// item's size, which sets the DynamoDB units per request.
func Units(counts map[string]float64, itemBytes int) Op {
	wru := math.Max(1, math.Ceil(float64(itemBytes)/1024))
	rru := math.Max(1, math.Ceil(float64(itemBytes)/4096))
	var o Op
	for label, n := range counts {
		switch label {
		case "PUT", "LIST", "POST", "COPY":
			o.S3ClassA += n
		case "GET", "HEAD":
			o.S3ClassB += n
		case "DELETE":
			o.S3Free += n
		case "PutItem", "UpdateItem", "DeleteItem":
			o.WRU += n * wru
		case "GetItem":
			o.RRU += n * rru
		}
	}
	return o
}

// WithFront adds the redlease face: front requests through API Gateway,
// each one invocation of a function of memMB whose handler takes ms.
func (o Op) WithFront(front, ms float64, memMB int) Op {
	o.APIRequests, o.Invocations, o.LambdaMs, o.LambdaMB = front, front, ms, memMB
	return o
}
