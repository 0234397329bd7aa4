package leaseops

import (
	"context"
	"fmt"
	"strings"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/reqcount"
	"github.com/redlease/redlease/pkg/lease"
)

// Rows builds every row of the lease-operation table on the emulators:
// the runnable subjects, plus the infos of rows still pending (the gateway
// until its face lands).
func Rows(ctx context.Context, e emulators.Env) ([]Subject, []RowInfo, error) {
	base := "bench/" + e.Run + "/"
	var subjects []Subject

	// RedDB's own S3 lease, replayed with the Go SDK.
	reddbCount := reqcount.New()
	client, err := e.S3Client(ctx, reddbCount)
	if err != nil {
		return nil, nil, err
	}
	condDelete, err := ProbeConditionalDelete(ctx, client, e.Bucket, base+"probe-conditional-delete")
	if err != nil {
		return nil, nil, err
	}
	reddbInfo := RowInfo{Name: RowRedDB, Backend: "S3",
		Notes: []string{"RedDB keeps no version cache: its warm, cold and stale-cache refreshes send the same sequence, as do its two releases."}}
	if !condDelete {
		reddbInfo.Notes = append(reddbInfo.Notes, "LocalStack answers DeleteObject with If-Match with 501 Not Implemented, "+
			"so release sends the same DELETE without If-Match: one request, as RedDB's would be, but unconditional.")
	}
	subjects = append(subjects, NewRedDBRow(reddbInfo, s3Objects{api: client, bucket: e.Bucket}, reddbCount, nil,
		RedDBOptions{KeyPrefix: base + "reddb/", UnconditionalDelete: !condDelete}))

	for _, r := range []struct {
		info     RowInfo
		oneWrite bool
	}{
		{RowInfo{Name: RowRedleaseS3, Backend: "S3"}, false},
		{RowInfo{Name: RowRedleaseDynamoDB, Backend: "DynamoDB"}, false},
		{RowInfo{Name: RowOneWriteS3, Backend: "S3"}, true},
		{RowInfo{Name: RowOneWriteDynamoDB, Backend: "DynamoDB"}, true},
	} {
		s, err := serviceRow(ctx, e, r.info, r.oneWrite, base)
		if err != nil {
			return nil, nil, err
		}
		subjects = append(subjects, s)
	}

	gw, pending, err := gatewayRows(ctx, e, base)
	if err != nil {
		return nil, nil, err
	}
	return append(subjects, gw...), pending, nil
}

func serviceRow(ctx context.Context, e emulators.Env, info RowInfo, oneWrite bool, base string) (Subject, error) {
	c := reqcount.New()
	dir := base + "redlease-" + strings.ToLower(info.Backend) + "/"
	newRow := NewServiceRow
	if oneWrite {
		dir = base + "one-write-" + strings.ToLower(info.Backend) + "/"
		newRow = NewOneWriteRow
	}
	var (
		store lease.Store
		keys  string
		err   error
	)
	switch info.Backend {
	case "S3":
		store, err = e.S3Store(ctx, c, dir+"leases/") // the prefix keeps rows apart
	case "DynamoDB":
		store, err = e.DynamoDBStore(ctx, c, e.Table)
		keys = dir // one table: the keys keep rows apart
	default:
		err = fmt.Errorf("unknown backend %q", info.Backend)
	}
	if err != nil {
		return nil, err
	}
	return newRow(info, store, c, keys), nil
}
