package donately

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

// ErrIncomplete is a listing that read fewer records than the API's own total, even after a
// second pass: records moved while it was read (offset paging over a changing list) or the API
// orders ties differently from one page to the next. Nothing of the listing should be committed;
// a later run reads it again.
var ErrIncomplete = errors.New("the listing read fewer records than the API's total")

// APIError is an answer of the Donately API that is an error: a non-2xx status, or a 2xx body
// {"success": false, ...}. Both error formats are read: 2022-12-15's {"type", "message", "code",
// "request_id"} and 2019-03-15's {"success": false, "error"}; a body that is neither (empty, HTML,
// cut short) leaves the fields but StatusCode empty. Messages are the API's, cleaned, bounded, and
// with the token and any Stripe client secret removed.
//
// 401 and 403 unwrap to extract.ErrForbidden (the token or the account is refused: the run stops
// at once, exit code 3), 404 to extract.ErrNotFound; 429 and 5xx are transient
// (extract.IsTransient), any other status is not.
type APIError struct {
	// StatusCode is the HTTP status (200 for a {"success": false} body).
	StatusCode int
	// Type is the error's type ("bad_request", "unauthorized", …), 2022-12-15 only.
	Type string
	// Code is the error's code as the API wrote it ("400"), 2022-12-15 only.
	Code string
	// Message is the API's description of the error, possibly empty.
	Message string
	// RequestID is the request's id (body's request_id, else a request id header), for the API's
	// support.
	RequestID string
}

// Error reads like "donately: 401 Unauthorized: the API refused the token; check
// DONATELY_API_TOKEN (or --api-key-file) and --donately-account: Invalid or missing API
// token. (type unauthorized, code 401) [request id req_1234567890123]".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("donately: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.StatusCode < 200 || e.StatusCode > 299 {
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteString(" ")
			b.WriteString(t)
		}
	} else {
		b.WriteString(" with an error body")
	}
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		b.WriteString(": the API refused the token or the account; check " + config.DonatelyTokenEnv + " (or --api-key-file) and --donately-account")
	case http.StatusNotFound:
		b.WriteString(": no API answers at this address; check --api-url")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	var detail []string
	if e.Type != "" {
		detail = append(detail, "type "+e.Type)
	}
	if e.Code != "" {
		detail = append(detail, "code "+e.Code)
	}
	if len(detail) > 0 {
		b.WriteString(" (" + strings.Join(detail, ", ") + ")")
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
	maxTypeLen      = 64
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
		Type      json.RawMessage `json:"type"`
		Message   json.RawMessage `json:"message"`
		Code      json.RawMessage `json:"code"`
		RequestID json.RawMessage `json:"request_id"`
		Error     json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Type = scalarText(env.Type, maxTypeLen)
		e.Code = scalarText(env.Code, maxTypeLen)
		e.RequestID = scalarText(env.RequestID, maxRequestIDLen)
		msg := messageText(env.Message)
		if msg == "" {
			msg = messageText(env.Error)
		}
		e.Message = extract.CleanMessage(msg, maxMessageLen)
	}
	if e.RequestID == "" && h != nil {
		e.RequestID = extract.HeaderValue(h, requestIDHeaders, maxRequestIDLen)
	}
	for _, f := range []*string{&e.Type, &e.Code, &e.Message, &e.RequestID} {
		*f = redactStripeSecrets(redact(*f))
	}
	return e
}

// scalarText is a JSON string or number as text, cleaned; anything else is "".
func scalarText(raw json.RawMessage, max int) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return extract.CleanMessage(s, max)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// messageText reads a message written as a string, a list of strings, or an object holding one
// ({"message": ...} first, then the other members' strings by name).
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
			var m string
			if json.Unmarshal(obj[k], &m) == nil && m != "" {
				parts = append(parts, k+": "+m)
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}
