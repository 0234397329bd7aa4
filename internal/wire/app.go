package wire

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/redlease/redlease/internal/config"
	"github.com/redlease/redlease/pkg/api"
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

// Face builds what the HTTP adapters serve: the JSON lease API on the
// service, restricted to ops (all of them when empty; a Lambda function
// serves its routes' operations), behind the Mux that routes faces by path
// prefix, behind a.Auth (when set) so that every face gets its principal
// the same way. log and metrics receive one line each per request; nil
// metrics emits none.
func (a *App) Face(log *slog.Logger, metrics *observe.Metrics, ops []api.Op) (api.Face, error) {
	jsonAPI, err := api.New(api.Config{Service: a.Service, Logger: log, Metrics: metrics, Ops: ops})
	if err != nil {
		return nil, fmt.Errorf("lease API: %w", err)
	}
	var face api.Face = api.NewMux(jsonAPI)
	if a.Auth != nil {
		face = api.Authenticate(face, a.Auth)
	}
	return face, nil
}
