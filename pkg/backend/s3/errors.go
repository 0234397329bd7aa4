package s3

import (
	"errors"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/redlease/redlease/pkg/backend/internal/transport"
)

// outcome is what an SDK error means for the lease store.
type outcome int

const (
	outcomeOther        outcome = iota // a bug or misconfiguration: surface it
	outcomeNotFound                    // no such object
	outcomePrecondition                // the condition of a write did not hold
	outcomeConflict                    // 409: a concurrent conditional write was in flight
	outcomeUnavailable                 // throttled, 5xx, timed out, transport failure
)

// classify reads the S3 error code first, because one status can mean
// different things (404 NoSuchKey against NoSuchBucket), then falls back on
// the HTTP status, then on the transport.
func classify(err error) outcome {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "PreconditionFailed":
			return outcomePrecondition
		case "ConditionalRequestConflict", "OperationAborted":
			return outcomeConflict
		case "NoSuchKey":
			return outcomeNotFound
		case "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			return outcomeOther
		case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
			"Throttling", "ThrottlingException", "TooManyRequestsException":
			return outcomeUnavailable
		}
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		switch status := respErr.HTTPStatusCode(); {
		case status == http.StatusPreconditionFailed:
			return outcomePrecondition
		case status == http.StatusConflict:
			return outcomeConflict
		case status == http.StatusNotFound:
			return outcomeNotFound
		case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
			return outcomeUnavailable
		case status >= 300:
			return outcomeOther
		}
		// A 2xx that failed afterwards: the body broke off while being read.
	}
	if transport.Failed(err) {
		return outcomeUnavailable
	}
	return outcomeOther
}
