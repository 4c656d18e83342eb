package crowdtilt

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
)

// ErrIncomplete is a listing that read fewer records than the API's own total (the pagination
// object's total_entries), even after a second pass: records moved while it was read, or the
// API's pages overlap. Nothing of the listing should be committed; a later run reads it again.
var ErrIncomplete = errors.New("the listing read fewer records than the API's total")

// ErrUnknownID is a record the API does not know (404 on GET /v1/users/:id): the id a payment
// named is gone. An error wrapping it also wraps the *APIError (and so extract.ErrNotFound); a
// caller that fetches users one by one can skip such a user and go on.
var ErrUnknownID = errors.New("the API knows no record of this id")

// errEnvelope is a 2xx answer that is valid JSON but not the envelope asked for.
var errEnvelope = errors.New("the API answered another envelope than the one asked for")

// APIError is an answer of the Crowdtilt API that is an error: a non-2xx status, or a 2xx body
// holding an "error" member. The seed's error shape {"error": "..." (or an object or list
// describing the errors), "request_id": "REQ…", "status": 401} is read leniently; a body that is
// not that shape (empty, HTML, cut short) leaves the fields but StatusCode empty. Messages are
// the API's, cleaned, bounded, and rid of the client's credentials and of anything shaped like a
// card number or card token.
//
// 401 and 403 unwrap to extract.ErrForbidden (the key or secret is refused: the run stops at
// once, exit code 3), 404 to extract.ErrNotFound; 429 and 5xx are transient (extract.IsTransient),
// any other status is not.
type APIError struct {
	// StatusCode is the HTTP status; for a 2xx body holding an error, the body's "status" when it
	// is an error status, else the HTTP status.
	StatusCode int
	// Message is the API's description of the error, possibly empty.
	Message string
	// RequestID is the request's id (the body's request_id, else a request id header), for the
	// API's support.
	RequestID string
}

// Error reads like "crowdtilt: 401 Unauthorized: the API refused the key or secret; check
// CROWDTILT_API_KEY and CROWDTILT_API_SECRET: Unauthorized [request id REQ…]".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("crowdtilt: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		b.WriteString(": the API refused the key or secret; check " + config.CrowdtiltKeyEnv + " and " + config.CrowdtiltSecretEnv)
	case http.StatusNotFound:
		b.WriteString(": no such resource (a wrong --api-url, or an id the API does not know)")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request id " + e.RequestID + "]")
	}
	return b.String()
}

// Unwrap returns extract.ErrForbidden for 401 and 403 and extract.ErrNotFound for 404.
func (e *APIError) Unwrap() error { return extract.StatusError(e.StatusCode) }

// Transient reports whether trying again later may succeed: 429 and 5xx (extract.IsTransient
// asks it).
func (e *APIError) Transient() bool { return extract.TransientStatus(e.StatusCode) }

// Bounds on what an error body may put into an APIError (and so into logs).
const (
	maxMessageLen   = 300
	maxRequestIDLen = 128
)

// requestIDHeaders may carry a request id when the body does not.
var requestIDHeaders = []string{"X-Request-Id", "Request-Id"}

// decodeAPIError builds the APIError of an error answer, leniently: any body, however malformed,
// gives an APIError with at least the status. redact removes the client's credentials from what
// the API wrote.
func decodeAPIError(status int, h http.Header, body []byte, redact func(string) string) *APIError {
	e := &APIError{StatusCode: status}
	var env struct {
		Error     json.RawMessage `json:"error"`
		Message   json.RawMessage `json:"message"`
		RequestID json.RawMessage `json:"request_id"`
		Status    json.RawMessage `json:"status"`
	}
	if json.Unmarshal(body, &env) == nil {
		msg := messageText(env.Error)
		if msg == "" {
			msg = messageText(env.Message)
		}
		e.Message = extract.CleanMessage(msg, maxMessageLen)
		var rid string
		if json.Unmarshal(env.RequestID, &rid) == nil {
			e.RequestID = extract.CleanMessage(rid, maxRequestIDLen)
		}
		if n, ok := count(env.Status); ok && status >= 200 && status <= 299 && n >= 400 && n <= 599 {
			e.StatusCode = int(n)
		}
	}
	if e.RequestID == "" && h != nil {
		e.RequestID = extract.HeaderValue(h, requestIDHeaders, maxRequestIDLen)
	}
	e.Message = redactCardData(redact(e.Message))
	e.RequestID = redactCardData(redact(e.RequestID))
	return e
}

// messageText reads a message written as a string, a list of messages, or an object of them
// ({"message": ...} first, else "name: message" for each member by name), as the seed's "error"
// may be "a string or an object describing the error(s)".
func messageText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var parts []string
		for _, it := range list {
			if m := messageText(it); m != "" && len(parts) < 10 {
				parts = append(parts, m)
			}
		}
		return strings.Join(parts, "; ")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		if m := messageText(obj["message"]); m != "" {
			return m
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if m := messageText(obj[k]); m != "" && len(parts) < 10 {
				parts = append(parts, k+": "+m)
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}
