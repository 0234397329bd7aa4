package awstest

import (
	"errors"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// APIError is a service's answer shaped as the SDK returns it: an
// OperationError around a ResponseError with the HTTP status, around
// apiErr (a modelled error such as *types.NoSuchKey, or a
// *smithy.GenericAPIError).
func APIError(service, op string, status int, apiErr error) error {
	return &smithy.OperationError{
		ServiceID:     service,
		OperationName: op,
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
				Err:      apiErr,
			},
			RequestID: "fake-request",
		},
	}
}

// CodeError is APIError with an unmodelled error code ("" for none).
func CodeError(service, op string, status int, code string) error {
	return APIError(service, op, status, &smithy.GenericAPIError{Code: code, Message: "fake " + code})
}

// TransportError is what the SDK returns when no response arrived.
func TransportError(service, op string) error {
	return &smithy.OperationError{
		ServiceID:     service,
		OperationName: op,
		Err:           &smithyhttp.RequestSendError{Err: errors.New("dial tcp 127.0.0.1:9: connect: connection refused")},
	}
}
