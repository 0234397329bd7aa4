// Package transport recognises AWS SDK failures that happened on the way to
// or from the service, before any answer was read: the cases a backend
// reports as lease.ErrUnavailable (and, for a write, as ambiguous).
package transport

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Failed reports whether err is a timeout, a cancellation, a connection or
// send failure, or a response that broke off while being read.
func Failed(err error) bool {
	var (
		sendErr   *smithyhttp.RequestSendError
		deserErr  *smithy.DeserializationError
		cancelErr *smithy.CanceledError
		netErr    net.Error
	)
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &sendErr) ||
		errors.As(err, &deserErr) ||
		errors.As(err, &cancelErr) ||
		errors.As(err, &netErr)
}
