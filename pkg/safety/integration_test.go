//go:build integration

package safety_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/redlease/redlease/internal/awstest"
	"github.com/redlease/redlease/pkg/backend/dynamodb"
	"github.com/redlease/redlease/pkg/backend/faulty"
	"github.com/redlease/redlease/pkg/backend/s3"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/safety"
)

// itTTLs leave room for emulator round trips of a few ms to tens of ms.
var itTTLs = []uint64{150, 300, 600}

// itFaults are randomFaults without the injected timeouts, which wait for
// the call's whole deadline; real timeouts against the emulators stay
// possible and are treated alike (ambiguous, in flight).
func itFaults() []faulty.Rule {
	var rules []faulty.Rule
	for _, r := range randomFaults(0.03) {
		if r.Kind != faulty.Timeout && r.Kind != faulty.TimeoutAfter {
			rules = append(rules, r)
		}
	}
	return rules
}

// runIntegration runs the workload on the real clock against stores made
// by newStore: each Service instance gets its own store (and SDK client),
// as separate Lambda instances would. With faults, each store is wrapped.
func runIntegration(t *testing.T, name string, newStore func(t *testing.T) lease.ListingStore) {
	perClient := envInt(t, "REDLEASE_IT_LIN_OPS", 200, 30)
	base := seed(t)
	for _, faults := range []bool{false, true} {
		t.Run(fmt.Sprintf("faults=%v", faults), func(t *testing.T) {
			run := fmt.Sprintf("it-%d", time.Now().UnixNano())
			keys := []string{"safety/" + run + "/a", "safety/" + run + "/b"}
			var svcs []*lease.Service
			for i := range 3 {
				store := newStore(t)
				if faults {
					store = faulty.New(store, faulty.Options{Seed: base + uint64(i), Rules: itFaults()})
				}
				svc, err := lease.New(lease.Config{Store: store, Limits: realLimits(), CacheSize: 1 - i})
				if err != nil {
					t.Fatal(err)
				}
				svcs = append(svcs, svc)
			}
			ops := safety.Workload{
				Clients: 8, OpsPerClient: perClient, Keys: keys, Holders: testHolders, TTLs: itTTLs,
				Seed: base, Services: svcs, CallTimeout: 3 * time.Second,
				Recorder: safety.NewRecorder(safety.SeqStamp(), func() uint64 { return lease.UnixMs(time.Now()) }),
			}.Run(background(t))
			// A request that timed out may still land on the emulator
			// later: ambiguous writes stay in flight.
			requireSafe(t, name, ops, safety.LinOptions{InFlight: true}, safety.InvariantOptions{SharedClock: true})
		})
	}
}

func TestIntegrationLinearizableS3(t *testing.T) {
	env := awstest.Emulators(t, "REDLEASE_IT_S3_ENDPOINT", "REDLEASE_IT_BUCKET")
	prefix := fmt.Sprintf("leases-safety-%d/", time.Now().UnixNano())
	runIntegration(t, "s3", func(t *testing.T) lease.ListingStore {
		client := s3.NewClient(awstest.Config(t, env["AWS_REGION"]), true, func(o *awss3.Options) {
			o.BaseEndpoint = aws.String(env["REDLEASE_IT_S3_ENDPOINT"])
		})
		store, err := s3.New(client, s3.Options{Bucket: env["REDLEASE_IT_BUCKET"], Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return store
	})
}

func TestIntegrationLinearizableDynamoDB(t *testing.T) {
	env := awstest.Emulators(t, "REDLEASE_IT_DYNAMODB_ENDPOINT", "REDLEASE_IT_TABLE")
	runIntegration(t, "dynamodb", func(t *testing.T) lease.ListingStore {
		client := awsddb.NewFromConfig(awstest.Config(t, env["AWS_REGION"]), func(o *awsddb.Options) {
			o.BaseEndpoint = aws.String(env["REDLEASE_IT_DYNAMODB_ENDPOINT"])
		})
		store, err := dynamodb.New(client, dynamodb.Options{Table: env["REDLEASE_IT_TABLE"]})
		if err != nil {
			t.Fatal(err)
		}
		return store
	})
}
