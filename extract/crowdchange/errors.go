package crowdchange

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/ccsync/ccsync/extract"
)

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
	case errors.Is(e, extract.ErrForbidden):
		b.WriteString(": the API refused the key; check CROWDCHANGE_API_KEY (or --api-key-file) and the region")
	case errors.Is(e, extract.ErrNotFound):
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

// Transient reports whether the request may succeed when tried again: 429 and 5xx
// (extract.IsTransient asks).
func (e *APIError) Transient() bool { return extract.TransientStatus(e.StatusCode) }

// Unwrap returns ErrForbidden for 403 (and 401, which also means the key is missing or wrong) and
// ErrNotFound for 404, so that errors.Is tells a refused key and a wrong address apart.
func (e *APIError) Unwrap() error { return extract.StatusError(e.StatusCode) }

// requestIDHeaders are the headers that may carry a request id, most specific first.
var requestIDHeaders = []string{"X-Request-Id", "Request-Id", "X-Correlation-Id", "X-Amzn-Requestid", "Cf-Ray"}

// decodeAPIError builds the APIError of a non-2xx answer, leniently: any body, however malformed,
// gives an APIError with at least the status.
func decodeAPIError(status int, h http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	e.RequestID = extract.HeaderValue(h, requestIDHeaders, maxRequestID)
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
	e.Message = extract.CleanMessage(msg, maxMessageLen)
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
		name := extract.CleanMessage(k, maxNameLen)
		if name == "" {
			continue
		}
		var msgs []string
		for _, m := range stringList(obj[k]) {
			if len(msgs) == maxFieldMsgs {
				break
			}
			if m = extract.CleanMessage(m, maxFieldLen); m != "" {
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

// Bounds on what an error envelope may put into an APIError (and so into logs).
const (
	maxMessageLen = 300
	maxFields     = 20
	maxFieldMsgs  = 5
	maxFieldLen   = 200
	maxNameLen    = 64
	maxRequestID  = 128
)
