// Package eventsink delivers the sweep's "Lease Expired" events where
// EventBridge is not: as JSON lines in a log (Log), or POSTed to an HTTP
// endpoint (Webhook), for `redlease serve --sweep-every` and
// `redlease sweep`. Both implement sweep.Publisher; pkg/eventbus is the one
// the deployed sweep uses.
//
// An event is delivered once the sink says so, and only then is its
// record marked; an event the sink refuses is published again by the next
// run, with the same event_id (see pkg/sweep).
package eventsink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/redlease/redlease/pkg/sweep"
)

var (
	_ sweep.Publisher = (*Log)(nil)
	_ sweep.Publisher = (*Webhook)(nil)
)

// Envelope is one event as EventBridge hands it to a rule's target, less
// the account, region and resources: what a consumer written for the
// deployed service already reads. Id is the event's deterministic event_id
// rather than EventBridge's random one, so that a receiver can drop the
// duplicates at-least-once delivery allows by Id alone.
type Envelope struct {
	Version    string             `json:"version"`
	ID         string             `json:"id"`
	DetailType string             `json:"detail-type"`
	Source     string             `json:"source"`
	Time       string             `json:"time"`
	Detail     sweep.ExpiredEvent `json:"detail"`
}

// NewEnvelope wraps e as published at t.
func NewEnvelope(e sweep.ExpiredEvent, t time.Time) Envelope {
	return Envelope{Version: "0", ID: e.EventID, DetailType: sweep.DetailType, Source: sweep.Source,
		Time: t.UTC().Format(time.RFC3339), Detail: e}
}

// Log writes every event as one log record at level Info, message
// sweep.DetailType, with the envelope's fields; with a JSON handler that is
// one JSON line per event. Writing to a log cannot be refused, so every
// event counts as delivered.
type Log struct {
	log *slog.Logger
	now func() time.Time
}

// NewLog returns a sink writing to log.
func NewLog(log *slog.Logger) *Log { return &Log{log: log, now: time.Now} }

// Publish implements sweep.Publisher.
func (l *Log) Publish(ctx context.Context, events []sweep.ExpiredEvent) []error {
	now := l.now()
	for _, e := range events {
		env := NewEnvelope(e, now)
		l.log.LogAttrs(ctx, slog.LevelInfo, sweep.DetailType,
			slog.String("source", env.Source), slog.String("detail-type", env.DetailType),
			slog.String("id", env.ID), slog.String("event_time", env.Time), slog.Any("detail", env.Detail))
	}
	return make([]error, len(events))
}

// DefaultWebhookTimeout bounds one POST.
const DefaultWebhookTimeout = 10 * time.Second

// Webhook POSTs each batch of events to a URL as a JSON array of
// envelopes (Content-Type application/json). A 2xx answer delivers the
// whole batch; any other answer, or no answer, delivers none of it.
type Webhook struct {
	url    string
	client *http.Client
	now    func() time.Time
}

// NewWebhook returns a sink posting to url with client (a client with
// DefaultWebhookTimeout when nil).
func NewWebhook(url string, client *http.Client) *Webhook {
	if client == nil {
		client = &http.Client{Timeout: DefaultWebhookTimeout}
	}
	return &Webhook{url: url, client: client, now: time.Now}
}

// Publish implements sweep.Publisher.
func (w *Webhook) Publish(ctx context.Context, events []sweep.ExpiredEvent) []error {
	errs := make([]error, len(events))
	if err := w.post(ctx, events); err != nil {
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

func (w *Webhook) post(ctx context.Context, events []sweep.ExpiredEvent) error {
	now := w.now()
	body := make([]Envelope, len(events))
	for i, e := range events {
		body[i] = NewEnvelope(e, now)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("webhook: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: %s answered %s: %q", w.url, resp.Status, snippet)
	}
	return nil
}
