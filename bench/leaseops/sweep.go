package leaseops

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/reqcount"
	"github.com/redlease/redlease/bench/stats"
	ddbstore "github.com/redlease/redlease/pkg/backend/dynamodb"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/sweep"
)

// SweepFigures are the storage requests of one sweep run over Records
// held leases, which the cost model scales to a fleet.
type SweepFigures struct {
	Backend string `json:"backend"`
	Records int    `json:"records"`
	Runs    int    `json:"runs"`
	// Requests is the mean per run, by label.
	Requests map[string]float64 `json:"requests"`
	// PageSize is the sweep's listing page (sweep.DefaultPageSize).
	PageSize int `json:"page_size"`
	// ItemBytes is the DynamoDB size of one lease item, for read units.
	ItemBytes int `json:"item_bytes,omitempty"`
	// RunMs is the duration of a run in this process.
	RunMs stats.Summary `json:"run_ms"`
	// Published counts events the runs published (none: every lease is held).
	Published int `json:"published"`
}

// countingPublisher accepts every event and counts them.
type countingPublisher struct{ n int }

func (p *countingPublisher) Publish(_ context.Context, evs []sweep.ExpiredEvent) []error {
	p.n += len(evs)
	return make([]error, len(evs))
}

// MeasureSweep fills store (which must hold nothing else) with records held
// leases, then runs the real sweep runs times over it and counts what each
// run sends. Before each run every lease is refreshed, as the workload's
// holders refresh every 20 s, so that each run meets every record changed
// (the sweep reads only records written since its previous run); the
// refreshes are not counted.
func MeasureSweep(ctx context.Context, backend string, store lease.ListingStore, c *reqcount.Counter, records, runs int) (SweepFigures, error) {
	svc, err := lease.New(lease.Config{Store: store})
	if err != nil {
		return SweepFigures{}, err
	}
	held := make([]lease.Lease, records)
	for i := range records {
		if held[i], err = svc.Acquire(ctx, lease.AcquireRequest{Principal: lease.Anonymous, DatabaseKey: fmt.Sprintf("sweep/%05d", i),
			HolderID: "bench", TTLMs: 3600_000, Term: 1}); err != nil {
			return SweepFigures{}, err
		}
	}
	refresh := func() error {
		for _, l := range held {
			if _, err := svc.Refresh(ctx, lease.RefreshRequest{Principal: lease.Anonymous, DatabaseKey: l.DatabaseKey, HolderID: l.HolderID,
				Generation: l.Generation, TTLMs: 3600_000}); err != nil {
				return err
			}
		}
		c.Take()
		return nil
	}
	pub := &countingPublisher{}
	sw, err := sweep.New(sweep.Config{Store: store, Publisher: pub})
	if err != nil {
		return SweepFigures{}, err
	}
	fig := SweepFigures{Backend: backend, Records: records, Runs: runs, PageSize: sweep.DefaultPageSize}
	c.Take()
	var took []time.Duration
	var per []reqcount.Counts
	for range runs {
		if err := refresh(); err != nil {
			return SweepFigures{}, err
		}
		start := time.Now()
		res, err := sw.Run(ctx)
		if err != nil {
			return SweepFigures{}, err
		}
		took = append(took, time.Since(start))
		per = append(per, c.Take())
		if res.Listed != records {
			return SweepFigures{}, fmt.Errorf("sweep listed %d records, want %d", res.Listed, records)
		}
	}
	fig.Requests, _ = typicalCounts(per)
	fig.RunMs = stats.Summarize(stats.Millis(took))
	fig.Published = pub.n
	return fig, nil
}

// SweepRows measures the sweep on S3 (its own prefix) and on DynamoDB (its
// own table, since a Scan reads the whole table).
func SweepRows(ctx context.Context, e emulators.Env, records, runs int) ([]SweepFigures, error) {
	base := "bench/" + e.Run + "/"
	s3c := reqcount.New()
	s3, err := e.S3Store(ctx, s3c, base+"sweep/leases/")
	if err != nil {
		return nil, err
	}
	s3fig, err := MeasureSweep(ctx, "S3", s3, s3c, records, runs)
	if err != nil {
		return nil, fmt.Errorf("sweep on S3: %w", err)
	}
	ddbc := reqcount.New()
	client, err := e.DynamoDBClient(ctx, ddbc)
	if err != nil {
		return nil, err
	}
	table := "redlease-bench-sweep-" + e.Run
	if _, err := client.CreateTable(ctx, ddbstore.CreateTableInput(table)); err != nil {
		return nil, fmt.Errorf("create table %s: %w", table, err)
	}
	ddb, err := ddbstore.New(client, ddbstore.Options{Table: table})
	if err != nil {
		return nil, err
	}
	ddbfig, err := MeasureSweep(ctx, "DynamoDB", ddb, ddbc, records, runs)
	if err != nil {
		return nil, fmt.Errorf("sweep on DynamoDB: %w", err)
	}
	out, err := client.GetItem(ctx, &awsddb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"database_key": &types.AttributeValueMemberS{Value: "sweep/00000"}}})
	if err != nil {
		return nil, err
	}
	ddbfig.ItemBytes = ItemBytes(out.Item)
	return []SweepFigures{s3fig, ddbfig}, nil
}

// ItemBytes is an item's size as DynamoDB bills it: each attribute's name
// plus its value, a string by its UTF-8 length, a number at one byte per
// two significant digits plus one, a boolean or null one byte.
func ItemBytes(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += numberBytes(v.Value)
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
			n++
		}
	}
	return n
}

// numberBytes counts significant digits (leading and trailing zeros
// trimmed), at one byte per two, plus one.
func numberBytes(s string) int {
	digits := []rune{}
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	i, j := 0, len(digits)
	for i < j && digits[i] == '0' {
		i++
	}
	for j > i && digits[j-1] == '0' {
		j--
	}
	sig := j - i
	return (sig+1)/2 + 1
}
