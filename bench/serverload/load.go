package serverload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// The operations the load generator drives, in the order each round runs
// them over its keys.
const (
	OpAcquire = "acquire"
	OpRefresh = "refresh"
	OpRelease = "release"
)

// Ops lists them in order.
var Ops = []string{OpAcquire, OpRefresh, OpRelease}

// phase is one operation over a batch of distinct keys at a concurrency.
type phase struct {
	latencies []time.Duration
	elapsed   time.Duration
	errors    int
	firstErr  error
}

type leaseBody struct {
	DatabaseKey string `json:"database_key"`
	HolderID    string `json:"holder_id"`
	TTLMs       uint64 `json:"ttl_ms,omitempty"`
	Generation  uint64 `json:"generation,omitempty"`
}

// run sends op for every key, concurrency requests in flight, and records
// each request's latency. gens carries the generation acquire got to the
// refresh and release of the same key.
func run(ctx context.Context, client *http.Client, base, op string, keys []string, gens []uint64, concurrency int) phase {
	var (
		mu  sync.Mutex
		ph  phase
		wg  sync.WaitGroup
		idx = make(chan int)
	)
	ph.latencies = make([]time.Duration, 0, len(keys))
	start := time.Now()
	for range min(concurrency, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				body := leaseBody{DatabaseKey: keys[i], HolderID: "load", TTLMs: 60000, Generation: gens[i]}
				if op == OpRelease {
					body.TTLMs = 0
				}
				t0 := time.Now()
				gen, err := post(ctx, client, base+"/v1/"+op, body)
				took := time.Since(t0)
				mu.Lock()
				if err != nil {
					ph.errors++
					if ph.firstErr == nil {
						ph.firstErr = fmt.Errorf("%s %s: %w", op, keys[i], err)
					}
				} else {
					ph.latencies = append(ph.latencies, took)
					gens[i] = gen
				}
				mu.Unlock()
			}
		}()
	}
	for i := range keys {
		idx <- i
	}
	close(idx)
	wg.Wait()
	ph.elapsed = time.Since(start)
	return ph
}

// post sends one JSON request and returns the lease generation answered.
func post(ctx context.Context, client *http.Client, url string, body leaseBody) (uint64, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	var ans struct {
		Lease struct {
			Generation uint64 `json:"generation"`
		} `json:"lease"`
	}
	if err := json.Unmarshal(data, &ans); err != nil {
		return 0, err
	}
	return ans.Lease.Generation, nil
}
