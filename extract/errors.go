package extract

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
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

// APIError is a non-2xx answer of the API, decoded from either of its error envelopes: 422
// {"message": ..., "errors": {field: [...]}} and the others {"status": "error", "message":
// {"error": [...]}}. A body that is neither (empty, HTML, truncated) leaves Message empty. Messages
// are the API's, cleaned of control characters and cut to a bounded length; the client removes its
// own API key from them should the API echo it.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the API's description of the error, possibly empty.
	Message string
	// Fields are the validation messages of a 422, by query parameter.
	Fields map[string][]string
	// RequestID is the request's id when a response header gave one, for the API's support.
	RequestID string
}

// Error reads like "crowdchange: 422 Unprocessable Entity: The given data was invalid. (limit:
// must be <= 100)". It never includes the API key.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("crowdchange: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	switch {
	case errors.Is(e, ErrForbidden):
		b.WriteString(": the API refused the key; check CROWDCHANGE_API_KEY (or --api-key-file) and the region")
	case errors.Is(e, ErrNotFound):
		b.WriteString(": no API answers at this address; check --api-url or --region")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		names := make([]string, 0, len(e.Fields))
		for name := range e.Fields {
			names = append(names, name)
		}
		sort.Strings(names)
		b.WriteString(" (")
		for i, name := range names {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(name)
			b.WriteString(": ")
			b.WriteString(strings.Join(e.Fields[name], ", "))
		}
		b.WriteString(")")
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(e.RequestID)
		b.WriteString("]")
	}
	return b.String()
}

// Unwrap returns ErrForbidden for 403 (and 401, which also means the key is missing or wrong) and
// ErrNotFound for 404, so that errors.Is tells a refused key and a wrong address apart.
func (e *APIError) Unwrap() error {
	switch e.StatusCode {
	case http.StatusForbidden, http.StatusUnauthorized:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	}
	return nil
}

// IsTransient reports whether err may go away by trying again later: 429, 5xx, network errors,
// timeouts of one request, and truncated or invalid bodies are transient; 400, 401, 403, 404, 422
// (any other status), a cancelled context and anything else are not. Another platform's API error
// says so itself with a method Transient() bool.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode >= 500
	}
	var pe interface{ Transient() bool } // another platform's API error
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

// Bounds on what an error envelope may put into an APIError (and so into logs).
const (
	maxMessageLen = 300
	maxFields     = 20
	maxFieldMsgs  = 5
	maxFieldLen   = 200
	maxNameLen    = 64
	maxRequestID  = 128
)

// requestIDHeaders are the headers that may carry a request id, most specific first.
var requestIDHeaders = []string{"X-Request-Id", "Request-Id", "X-Correlation-Id", "X-Amzn-Requestid", "Cf-Ray"}

// decodeAPIError builds the APIError of a non-2xx answer, leniently: any body, however malformed,
// gives an APIError with at least the status.
func decodeAPIError(status int, h http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	for _, name := range requestIDHeaders {
		if v := clean(h.Get(name), maxRequestID); v != "" {
			e.RequestID = v
			break
		}
	}
	var env struct {
		Message json.RawMessage `json:"message"`
		Errors  json.RawMessage `json:"errors"`
		Error   json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return e // empty, HTML, truncated, or not an object: the status says it all
	}
	msg := messageText(env.Message)
	if msg == "" {
		msg = messageText(env.Error)
	}
	e.Message = clean(msg, maxMessageLen)
	e.Fields = fieldMessages(env.Errors)
	return e
}

// messageText flattens a message that may be a string, a list of strings, or an object of either
// (the {"error": [...]} envelope): the "error" key first, then the others by name.
func messageText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if msgs := stringList(raw); msgs != nil {
		return strings.Join(msgs, "; ")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "error") != (keys[j] == "error") {
			return keys[i] == "error"
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, stringList(obj[k])...)
	}
	return strings.Join(parts, "; ")
}

// fieldMessages decodes {"field": ["message", ...]} (a single string per field is accepted too).
func fieldMessages(raw json.RawMessage) map[string][]string {
	var obj map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &obj) != nil || len(obj) == 0 {
		return nil
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	fields := make(map[string][]string)
	for _, k := range names {
		if len(fields) == maxFields {
			break
		}
		name := clean(k, maxNameLen)
		if name == "" {
			continue
		}
		var msgs []string
		for _, m := range stringList(obj[k]) {
			if len(msgs) == maxFieldMsgs {
				break
			}
			if m = clean(m, maxFieldLen); m != "" {
				msgs = append(msgs, m)
			}
		}
		if len(msgs) > 0 {
			fields[name] = append(fields[name], msgs...)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return fields
}

// stringList decodes a JSON string or a list (its string elements); anything else is nil.
func stringList(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []string
	for _, item := range list {
		var m string // fresh each time: null leaves it untouched
		if json.Unmarshal(item, &m) == nil && m != "" {
			out = append(out, m)
		}
	}
	return out
}

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
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
