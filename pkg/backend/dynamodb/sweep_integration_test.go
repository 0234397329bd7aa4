//go:build integration

package dynamodb

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/internal/awstest"
	"github.com/redlease/redlease/pkg/sweep"
	"github.com/redlease/redlease/pkg/sweep/sweeptest"
)

// BenchmarkSweepEmulator is `make bench-sweep`'s moto row: the steady
// state at 10,000 keys in a table of its own (a Scan reads the whole
// table), each request counted once by the real SDK client.
func BenchmarkSweepEmulator(b *testing.B) {
	const n = 10_000
	// The table belongs to the whole benchmark: Go runs the sub-benchmark
	// twice (b.N = 1, then N) on the same steady state.
	var calls awstest.Calls
	client, _ := itClient(b, &calls)
	table := itTable(b, client, "redlease-bench-sweep")
	var st *sweeptest.Steady
	b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
		sweeptest.Bench(b, sweeptest.Once(&st, func() *sweeptest.Steady {
			s, err := New(billedScans{client}, Options{Table: table})
			if err != nil {
				b.Fatal(err)
			}
			return sweeptest.New(b, s, calls.Take, n, sweep.Config{})
		}), sweeptest.Columns{List: "Scan", Read: "GetItem", Write: "PutItem"})
	})
}

// billedScans puts on every Scan answer the read units DynamoDB would
// bill for it, since moto answers a constant: one unit per 4 KB of the
// items read, strongly consistent, on their full size (the projection
// leaves out write_id, 32 hex digits on every item).
type billedScans struct{ *awsddb.Client }

func (c billedScans) Scan(ctx context.Context, in *awsddb.ScanInput, optFns ...func(*awsddb.Options)) (*awsddb.ScanOutput, error) {
	out, err := c.Client.Scan(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	size := 0
	for _, it := range out.Items {
		size += itemBytes(it)
		if _, ok := it[attrWriteID]; !ok {
			size += len(attrWriteID) + 32
		}
	}
	out.ConsumedCapacity = &types.ConsumedCapacity{TableName: in.TableName, CapacityUnits: aws.Float64(max(float64((size+4095)/4096), 0.5))}
	return out, nil
}
