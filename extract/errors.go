package extract

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrForbidden is what an APIError with status 403 (or 401) unwraps to: the API refused the key.
// Nothing is retried after it; the command line exits with code 3.
var ErrForbidden = errors.New("the API refused the key (403 Forbidden)")

// ErrNotFound is what an APIError with status 404 unwraps to: the base URL does not serve the
// API (a wrong --api-url or --region). It is a configuration error: the command line exits with
// code 2.
var ErrNotFound = errors.New("the API has no such endpoint (404 Not Found)")

// ErrInvalidBody is a 2xx answer whose body is not a complete, valid page (truncated, not JSON,
// not the page envelope). It is retried like a 5xx, within the same attempt budget.
var ErrInvalidBody = errors.New("the API sent an invalid or truncated body")

// IsTransient reports whether err may go away by trying again later: 429, 5xx, network errors,
// timeouts of one request, and truncated or invalid bodies are transient; 400, 401, 403, 404, 422
// (any other status), a cancelled context and anything else are not. A platform's API error says
// so itself with a method Transient() bool.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var pe interface{ Transient() bool } // a platform's API error
	if errors.As(err, &pe) {
		return pe.Transient()
	}
	var te *transientError
	if errors.Is(err, ErrInvalidBody) || errors.As(err, &te) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	return hasNetError(err)
}

// hasNetError reports whether err's chain holds a net.Error other than a *url.Error, which
// implements net.Error whatever it wraps (an http.Client wraps every error in one).
func hasNetError(err error) bool {
	for err != nil {
		if _, isURL := err.(*url.Error); !isURL {
			if _, ok := err.(net.Error); ok {
				return true
			}
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if hasNetError(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// transientError marks the error of one attempt that another attempt may cure: a network error or
// the timeout of one request.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// CleanMessage makes a message an API wrote safe for one log line, as APIError's are: valid
// UTF-8, control characters as spaces, spaces collapsed, at most max bytes. Other platforms'
// clients clean their API's messages with it.
func CleanMessage(s string, max int) string { return clean(s, max) }

// clean makes s safe for one log line: valid UTF-8, control characters as spaces, spaces
// collapsed, at most max bytes (cut on a rune boundary, with an ellipsis).
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	if cut <= 0 {
		return "" // no room for even the ellipsis
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// StatusError is what a platform's APIError of an HTTP status unwraps to: ErrForbidden for 401
// and 403 (the key is missing or refused), ErrNotFound for 404, nil for any other status.
func StatusError(status int) error {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	}
	return nil
}

// TransientStatus reports whether an answer of an HTTP status may succeed when tried again: 429
// and 5xx. RetryTransport retries them; a platform's APIError.Transient says the same.
func TransientStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// HeaderValue is the first of the headers names (most specific first) that h carries, cleaned
// (CleanMessage) to at most max bytes; "" when h carries none of them.
func HeaderValue(h http.Header, names []string, max int) string {
	for _, name := range names {
		if v := clean(h.Get(name), max); v != "" {
			return v
		}
	}
	return ""
}
