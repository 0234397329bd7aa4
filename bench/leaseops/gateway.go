package leaseops

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/redlease/redlease/bench/emulators"
	"github.com/redlease/redlease/bench/reqcount"
	"github.com/redlease/redlease/pkg/lease"
)

// Gateway builds redlease's RedDB face (/v1/reddb, RedDB's http
// remote-backend protocol) over a store; see GatewayFace.
//
// ───────────────────────────── PLUGGABLE ROW ─────────────────────────────
// Gateway is nil until that face lands; the report then shows the gateway
// rows as pending and estimates their cost from RedDB's request counts.
// To measure them, set it to a function that wires the faces exactly as
// `redlease serve` does (wire.App on the store, App.Face, whose api.Mux
// then serves /v1/reddb/ too, behind httpserver.Handler), for example in
// gateway_face.go:
//
//	func init() {
//		Gateway = func(store lease.ListingStore) (http.Handler, string, error) {
//			svc, err := lease.New(lease.Config{Store: store})
//			if err != nil {
//				return nil, "", err
//			}
//			app := &wire.App{Store: store, Service: svc}
//			face, err := app.Face(ctx, slog.New(slog.DiscardHandler), nil, wire.FaceOptions{})
//			if err != nil {
//				return nil, "", err
//			}
//			return httpserver.Handler(face), "/v1/reddb/", nil
//		}
//	}
//
// Nothing else changes: the rows below replay RedDB's exact sequences over
// HTTP (objects_http.go) against that handler on a loopback server, count
// the requests RedDB sends (Front) and the storage requests behind them
// (Storage), and the cost model picks the measured counts up by name.
// ──────────────────────────────────────────────────────────────────────────
var Gateway GatewayFace

// GatewayFace builds the face over store and returns its handler and the
// base URL path RedDB would be configured with (RED_HTTP_BACKEND_URL's
// path plus RED_HTTP_BACKEND_PREFIX), e.g. "/v1/reddb/".
type GatewayFace func(store lease.ListingStore) (handler http.Handler, basePath string, err error)

const gatewayPending = "redlease's /v1/reddb face is not built yet (it lands with the RedDB issue); set leaseops.Gateway to measure this row"

// gatewayRows returns the measured gateway rows when Gateway is set, else
// their pending infos.
func gatewayRows(ctx context.Context, e emulators.Env, base string) ([]Subject, []RowInfo, error) {
	infos := []RowInfo{
		{Name: RowGatewayS3, Backend: "S3", Kind: KindGateway},
		{Name: RowGatewayDynamoDB, Backend: "DynamoDB", Kind: KindGateway},
	}
	if Gateway == nil {
		for i := range infos {
			infos[i].Pending = gatewayPending
		}
		return nil, infos, nil
	}
	var rows []Subject
	for _, info := range infos {
		storage := reqcount.New()
		var (
			store lease.ListingStore
			err   error
		)
		if info.Backend == "S3" {
			store, err = e.S3Store(ctx, storage, base+"gateway-s3/leases/")
		} else {
			store, err = e.DynamoDBStore(ctx, storage, e.Table)
		}
		if err != nil {
			return nil, nil, err
		}
		row, err := NewGatewayRow(info, store, storage, base+"gateway-"+info.Backend+"/")
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil, nil
}

// NewGatewayRow serves Gateway over store on a loopback server and returns
// the row that replays RedDB's protocol against it. The server lives as
// long as the process (one per row, a handful per run).
func NewGatewayRow(info RowInfo, store lease.ListingStore, storage *reqcount.Counter, keyPrefix string) (*RedDBRow, error) {
	if Gateway == nil {
		return nil, fmt.Errorf("%s: %s", info.Name, gatewayPending)
	}
	h, basePath, err := Gateway(store)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", info.Name, err)
	}
	srv := httptest.NewServer(h)
	front := reqcount.New()
	info.Kind = KindGateway
	api := httpObjects{base: srv.URL + basePath, client: srv.Client(), front: front}
	return NewRedDBRow(info, api, storage, front, RedDBOptions{KeyPrefix: keyPrefix}), nil
}
