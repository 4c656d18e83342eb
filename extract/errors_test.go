package extract_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/ccsync/ccsync/extract"
)

// platformError is a platform's API error, which says itself whether it is transient.
type platformError int

func (e platformError) Error() string   { return fmt.Sprintf("status %d", int(e)) }
func (e platformError) Transient() bool { return e == 429 || e >= 500 }

func TestIsTransient(t *testing.T) {
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"429", platformError(429), true},
		{"500", platformError(500), true},
		{"503 wrapped", fmt.Errorf("fetching page 2: %w", platformError(503)), true},
		{"400", platformError(400), false},
		{"401", platformError(401), false},
		{"403", platformError(403), false},
		{"404", platformError(404), false},
		{"422", platformError(422), false},
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

// Each status maps to one sentinel and one transience, for every platform's APIError alike.
func TestStatusClassification(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status    int
		sentinel  error
		transient bool
	}{
		{200, nil, false}, {400, nil, false}, {401, extract.ErrForbidden, false}, {403, extract.ErrForbidden, false},
		{404, extract.ErrNotFound, false}, {418, nil, false}, {429, nil, true}, {500, nil, true}, {503, nil, true},
	} {
		if got := extract.StatusError(tt.status); got != tt.sentinel {
			t.Errorf("StatusError(%d) = %v, want %v", tt.status, got, tt.sentinel)
		}
		if got := extract.TransientStatus(tt.status); got != tt.transient {
			t.Errorf("TransientStatus(%d) = %v, want %v", tt.status, got, tt.transient)
		}
	}
}

// HeaderValue takes the first header of the list that carries a value, cleaned and bounded.
func TestHeaderValue(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Request-Id", "  req\x01-2  ")
	h.Set("Cf-Ray", "ray-ray-ray")
	names := []string{"X-Request-Id", "Request-Id", "Cf-Ray"}
	if got := extract.HeaderValue(h, names, 128); got != extract.CleanMessage("  req\x01-2  ", 128) || got == "" {
		t.Errorf("HeaderValue = %q", got)
	}
	if got := extract.HeaderValue(h, names[2:], 5); got != "ra…" {
		t.Errorf("bounded HeaderValue = %q", got)
	}
	if got := extract.HeaderValue(h, names[2:], 2); got != "" {
		t.Errorf("HeaderValue bounded below the ellipsis = %q", got)
	}
	if got := extract.HeaderValue(nil, names, 128); got != "" {
		t.Errorf("HeaderValue of no headers = %q", got)
	}
}
