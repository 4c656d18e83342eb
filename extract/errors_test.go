package extract_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"

	"github.com/ccsync/ccsync/extract"
)

func TestIsTransient(t *testing.T) {
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"429", &extract.APIError{StatusCode: 429}, true},
		{"500", &extract.APIError{StatusCode: 500}, true},
		{"503 wrapped", fmt.Errorf("fetching page 2: %w", &extract.APIError{StatusCode: 503}), true},
		{"400", &extract.APIError{StatusCode: 400}, false},
		{"401", &extract.APIError{StatusCode: 401}, false},
		{"403", &extract.APIError{StatusCode: 403}, false},
		{"404", &extract.APIError{StatusCode: 404}, false},
		{"422", &extract.APIError{StatusCode: 422}, false},
		{"invalid body", fmt.Errorf("page 3: %w", extract.ErrInvalidBody), true},
		{"network error", netErr, true},
		{"network error in a url.Error", &url.Error{Op: "Get", URL: "https://x", Err: netErr}, true},
		{"unexpected EOF", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true},
		{"cancelled", context.Canceled, false},
		{"cancelled in a url.Error", &url.Error{Op: "Get", URL: "https://x", Err: context.Canceled}, false},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"forbidden sentinel", extract.ErrForbidden, false},
		{"anything else", errors.New("boom"), false},
		{"anything else in a url.Error", &url.Error{Op: "Get", URL: "https://x", Err: errors.New("boom")}, false},
		{"network error joined", errors.Join(errors.New("a"), netErr), true},
	}
	for _, tt := range tests {
		if got := extract.IsTransient(tt.err); got != tt.want {
			t.Errorf("%s: IsTransient(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestAPIErrorError(t *testing.T) {
	tests := []struct {
		err           extract.APIError
		want          string
		wantForbidden bool
	}{
		{extract.APIError{StatusCode: 422, Message: "The given data was invalid.", Fields: map[string][]string{"limit": {"must be <= 100"}}},
			"crowdchange: 422 Unprocessable Entity: The given data was invalid. (limit: must be <= 100)", false},
		{extract.APIError{StatusCode: 422, Fields: map[string][]string{"page": {"a", "b"}, "limit": {"c"}}},
			"crowdchange: 422 Unprocessable Entity (limit: c; page: a, b)", false},
		{extract.APIError{StatusCode: 403, Message: "Forbidden", RequestID: "r-1"}, "crowdchange: 403 Forbidden: the API refused the key; check CROWDCHANGE_API_KEY (or --api-key-file) and the region: Forbidden [request id r-1]", true},
		{extract.APIError{StatusCode: 401}, "crowdchange: 401 Unauthorized: the API refused the key; check CROWDCHANGE_API_KEY (or --api-key-file) and the region", true},
		{extract.APIError{StatusCode: 599}, "crowdchange: 599", false},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant %q", got, tt.want)
		}
		var err error = fmt.Errorf("wrapped: %w", &tt.err)
		if errors.Is(err, extract.ErrForbidden) != tt.wantForbidden {
			t.Errorf("%d: errors.Is(ErrForbidden) = %v", tt.err.StatusCode, !tt.wantForbidden)
		}
	}
}
