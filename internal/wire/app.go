package wire

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/pkg/api"
	"github.com/redlease/redlease/pkg/api/reddb"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/observe"
)

// App is what every entry point builds once at start, in one order:
// configuration, then the AWS SDK configuration (only when something
// needs it: its credential chain costs cold-start time), then the store,
// then the lease service on it. The Lambda functions (internal/lambdafn)
// and `redlease serve` all start through Load.
type App struct {
	Config config.Config
	// AWS is the zero aws.Config unless the backend or the caller needed it.
	AWS aws.Config
	// Store is the store itself; the sweep lists it.
	Store lease.ListingStore
	// Service is the lease service on Store, with its storage calls timed.
	Service *lease.Service
	// Auth establishes the principal of a request the transport did not
	// (bearer tokens: LoadAuth; api.Open for an open local server). Nil:
	// only transport principals (IAM) get through, every other request
	// is 401.
	Auth api.Authenticator
}

// Load builds the App for cfg. withAWS loads the SDK configuration even
// when the backend does not need it (the sweep publishes to EventBridge).
func Load(ctx context.Context, cfg config.Config, withAWS bool) (*App, error) {
	a := &App{Config: cfg}
	if withAWS || cfg.NeedsAWS() {
		var err error
		if a.AWS, err = AWSConfig(ctx); err != nil {
			return nil, err
		}
	}
	store, err := Store(ctx, cfg, a.AWS)
	if err != nil {
		return nil, err
	}
	a.Store = store
	if a.Service, err = Service(cfg, store); err != nil {
		return nil, err
	}
	return a, nil
}

// FaceOptions tune the faces App.Face builds.
type FaceOptions struct {
	// Ops restricts the faces to some operations (a Lambda function serves
	// its routes' operations, api.OpsOf); all of them when empty. The JSON
	// lease API is built for its operations, the RedDB face for
	// api.OpRedDBObject; a face with none of its operations is not built,
	// and its paths answer 404.
	Ops []api.Op
	// MaxObjectBytes bounds the RedDB face's objects (a Lambda function's
	// payload limit); 0 for none. SizeAdvice completes its 413 message.
	MaxObjectBytes int64
	SizeAdvice     string
}

// Face builds what the HTTP adapters serve: the JSON lease API and the
// RedDB face (/v1/reddb/) on the service, behind the Mux that routes faces
// by path prefix. The RedDB face's object store is built here, only when
// that face is, so that functions that do not serve it neither need its
// bucket nor hold its client. log and metrics receive one line each per
// request; nil metrics emits none.
func (a *App) Face(ctx context.Context, log *slog.Logger, metrics *observe.Metrics, opts FaceOptions) (api.Face, error) {
	leaseOps, redOps := splitOps(opts.Ops)
	var fallback api.Face = notFound{}
	if len(leaseOps) > 0 {
		jsonAPI, err := api.New(api.Config{Service: a.Service, Logger: log, Metrics: metrics, Ops: leaseOps})
		if err != nil {
			return nil, fmt.Errorf("lease API: %w", err)
		}
		fallback = jsonAPI
	}
	mux := api.NewMux(fallback)
	if !redOps {
		return a.authenticated(mux), nil
	}
	objs, err := Objects(ctx, a.Config, a.AWS)
	if err != nil {
		return nil, fmt.Errorf("RedDB face: %w", err)
	}
	red, err := reddb.New(reddb.Config{
		Service:        a.Service,
		Objects:        objs,
		LeasePrefix:    LeasePrefix(a.Config),
		DataFile:       a.Config.RedDB.DataFile,
		RequireLease:   a.Config.RedDB.RequireLease,
		FenceMargin:    a.Config.RedDB.FenceMargin,
		MaxObjectBytes: opts.MaxObjectBytes,
		SizeAdvice:     opts.SizeAdvice,
		Logger:         log,
		Metrics:        metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("RedDB face: %w", err)
	}
	return a.authenticated(mux.Handle(api.PathRedDB, red)), nil
}

// authenticated puts a.Auth (when set) in front of face, so that every face
// gets its principal the same way; without it a request has none and is
// refused.
func (a *App) authenticated(face api.Face) api.Face {
	if a.Auth == nil {
		return face
	}
	return api.Authenticate(face, a.Auth)
}

// splitOps sorts ops into the lease API's and whether the RedDB face's is
// among them; no ops means all of both.
func splitOps(ops []api.Op) (leaseOps []api.Op, redDB bool) {
	if len(ops) == 0 {
		return api.OpsOfFace(api.FaceLease), true
	}
	for _, op := range ops {
		if op == api.OpRedDBObject {
			redDB = true
		} else {
			leaseOps = append(leaseOps, op)
		}
	}
	return leaseOps, redDB
}

// notFound is the fallback of a Mux that serves no lease API operation.
type notFound struct{}

func (notFound) Serve(_ context.Context, req api.Request) api.Response {
	id := req.RequestID
	if id == "" {
		id = api.NewRequestID()
	}
	return api.RefusalResponse(id, http.StatusNotFound, api.CodeNotFound, "no such route", "")
}
