// Package eventbus publishes the sweep's "Lease Expired" events to Amazon
// EventBridge. It implements sweep.Publisher on top of the one call it
// needs, PutEvents, and reports the outcome per event so that the sweep
// marks exactly the records whose event EventBridge accepted.
//
// PutEvents takes at most ten entries and 256 KiB per call and can accept
// some entries while refusing others; both limits are honoured here and
// each refused entry is mapped back to its event. A call that fails as a
// whole (throttled, network, credentials) fails every event it carried, and
// the events after it are not attempted: the sweep's next run retries them
// all, because none of their records was marked.
package eventbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/redlease/redlease/pkg/sweep"
)

// API is the part of *eventbridge.Client the publisher uses.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// EventBridge's limits of one PutEvents call.
const (
	MaxEntries      = 10
	MaxRequestBytes = 256 * 1024
)

var (
	// ErrThrottled matches a call or an entry refused for throttling.
	ErrThrottled = errors.New("eventbridge throttled")
	// ErrNotAttempted matches events left unsent after an earlier call of
	// the same Publish failed.
	ErrNotAttempted = errors.New("not attempted after an earlier failure")
	// ErrTooLarge matches an event that alone exceeds the request limit.
	ErrTooLarge = errors.New("event exceeds the PutEvents size limit")
)

// EntryError is EventBridge's refusal of one entry.
type EntryError struct {
	Code    string
	Message string
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("eventbridge entry refused: %s: %s", e.Code, e.Message)
}

// Is makes throttling codes match ErrThrottled.
func (e *EntryError) Is(target error) bool { return target == ErrThrottled && isThrottleCode(e.Code) }

func isThrottleCode(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "LimitExceededException":
		return true
	}
	return false
}

// throttledError wraps a whole-call failure whose API error code is a
// throttling code.
type throttledError struct{ err error }

func (e *throttledError) Error() string        { return e.err.Error() }
func (e *throttledError) Unwrap() error        { return e.err }
func (e *throttledError) Is(target error) bool { return target == ErrThrottled }

// Publisher implements sweep.Publisher on EventBridge.
type Publisher struct {
	api API
	bus string
}

var _ sweep.Publisher = (*Publisher)(nil)

// New returns a publisher to the named bus (name or ARN; "" is the default
// bus).
func New(api API, busName string) *Publisher { return &Publisher{api: api, bus: busName} }

// entry is one prepared request entry and the index of its event.
type entry struct {
	index int
	req   types.PutEventsRequestEntry
	size  int
}

// Publish implements sweep.Publisher: errs[i] is nil when EventBridge
// accepted events[i].
func (p *Publisher) Publish(ctx context.Context, events []sweep.ExpiredEvent) []error {
	errs := make([]error, len(events))
	var batch []entry
	batchBytes := 0
	var stop error
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if stop == nil {
			stop = p.put(ctx, batch, errs)
		} else {
			for _, e := range batch {
				errs[e.index] = fmt.Errorf("publish %s: %w: %w", events[e.index].EventID, ErrNotAttempted, stop)
			}
		}
		batch, batchBytes = batch[:0], 0
	}
	for i, ev := range events {
		e, err := p.entry(i, ev)
		if err != nil {
			errs[i] = err
			continue
		}
		if len(batch) == MaxEntries || batchBytes+e.size > MaxRequestBytes {
			flush()
		}
		batch = append(batch, e)
		batchBytes += e.size
	}
	flush()
	return errs
}

func (p *Publisher) entry(i int, ev sweep.ExpiredEvent) (entry, error) {
	detail, err := ev.Detail()
	if err != nil {
		return entry{}, fmt.Errorf("publish %s: encode detail: %w", ev.EventID, err)
	}
	req := types.PutEventsRequestEntry{
		Source:     aws.String(sweep.Source),
		DetailType: aws.String(sweep.DetailType),
		Detail:     aws.String(detail),
	}
	if p.bus != "" {
		req.EventBusName = aws.String(p.bus)
	}
	// EventBridge counts source, detail-type and detail (and time and
	// resources, which are not sent); the bus name is added to stay on the
	// safe side.
	size := len(sweep.Source) + len(sweep.DetailType) + len(detail) + len(p.bus)
	if size > MaxRequestBytes {
		return entry{}, fmt.Errorf("publish %s for %q: %w (%d bytes)", ev.EventID, ev.DatabaseKey, ErrTooLarge, size)
	}
	return entry{index: i, req: req, size: size}, nil
}

// put sends one batch and records each entry's outcome in errs. It returns
// the call's error when the call failed as a whole.
func (p *Publisher) put(ctx context.Context, batch []entry, errs []error) error {
	in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(batch))}
	for i, e := range batch {
		in.Entries[i] = e.req
	}
	out, err := p.api.PutEvents(ctx, in)
	if err == nil && out == nil {
		err = errors.New("PutEvents returned no output")
	}
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && isThrottleCode(api.ErrorCode()) {
			err = &throttledError{err: err}
		}
		err = fmt.Errorf("eventbridge PutEvents of %d entries: %w", len(batch), err)
		for _, e := range batch {
			errs[e.index] = err
		}
		return err
	}
	refused := 0
	for i := range out.Entries {
		if i < len(batch) && aws.ToString(out.Entries[i].ErrorCode) != "" {
			refused++
		}
	}
	// Results come back in request order. When they do not account for
	// every entry, or FailedEntryCount claims more failures than they
	// show, an entry without an event id cannot be trusted as accepted.
	trustAll := len(out.Entries) == len(batch) && int(out.FailedEntryCount) <= refused
	for i, e := range batch {
		switch {
		case i >= len(out.Entries):
			errs[e.index] = fmt.Errorf("eventbridge PutEvents: no result for entry %d of %d", i, len(batch))
		case aws.ToString(out.Entries[i].ErrorCode) != "":
			errs[e.index] = &EntryError{Code: aws.ToString(out.Entries[i].ErrorCode), Message: aws.ToString(out.Entries[i].ErrorMessage)}
		case !trustAll && aws.ToString(out.Entries[i].EventId) == "":
			errs[e.index] = fmt.Errorf("eventbridge PutEvents: entry %d has no event id and %d entries failed", i, out.FailedEntryCount)
		}
	}
	return nil
}
