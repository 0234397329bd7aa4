package dynamodb

import (
	"errors"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/redlease/redlease/pkg/backend/internal/transport"
)

// transient reports whether a failed request is worth retrying later:
// throttling, transaction conflicts, server errors, timeouts and transport
// failures. DynamoDB answers throttling with 400 and a code, so the code is
// read first; the status only decides for codes not listed.
func transient(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException",
			"RequestLimitExceeded", "TransactionConflictException",
			"InternalServerError", "ServiceUnavailable", "RequestTimeout",
			"RequestTimeoutException", "TransactionInProgressException":
			return true
		case "ResourceNotFoundException", "ValidationException",
			"AccessDeniedException", "UnrecognizedClientException",
			"ConditionalCheckFailedException":
			return false
		}
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		status := respErr.HTTPStatusCode()
		if status >= 300 {
			return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
		}
		// A 2xx that failed afterwards: the body broke off while being read.
	}
	return transport.Failed(err)
}
