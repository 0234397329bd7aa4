package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/redlease/redlease/pkg/backend/internal/transport"
)

func TestFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), true},
		{"cancelled", context.Canceled, true},
		{"body cut short", io.ErrUnexpectedEOF, true},
		{"send failed", &smithyhttp.RequestSendError{Err: errors.New("connection refused")}, true},
		{"network", &net.OpError{Op: "dial", Err: errors.New("refused")}, true},
		{"canceled by smithy", &smithy.CanceledError{Err: errors.New("x")}, true},
		{"an answer", &smithy.GenericAPIError{Code: "AccessDenied"}, false},
		{"a bug", errors.New("boom"), false},
	}
	for _, tc := range tests {
		if got := transport.Failed(tc.err); got != tc.want {
			t.Errorf("%s: Failed(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
