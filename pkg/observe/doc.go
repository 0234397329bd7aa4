// Package observe is redlease's telemetry: structured JSON logs through
// log/slog, and CloudWatch Embedded Metric Format (EMF) lines, which Lambda
// ships to CloudWatch Logs and CloudWatch turns into metrics without any
// API call or agent. Both write to an io.Writer (stdout in Lambda), so tests
// read exactly what production emits.
package observe
