package bqtest

import (
	"encoding/json"
	"fmt"
	"net/http"

	bq "google.golang.org/api/bigquery/v2"
)

// Error reasons, as BigQuery spells them in errors[].reason and status.errorResult.reason.
const (
	ReasonInvalid           = "invalid"
	ReasonInvalidQuery      = "invalidQuery"
	ReasonNotFound          = "notFound"
	ReasonDuplicate         = "duplicate"
	ReasonBackendError      = "backendError"
	ReasonRateLimitExceeded = "rateLimitExceeded"
	ReasonQuotaExceeded     = "quotaExceeded"
	ReasonConditionNotMet   = "conditionNotMet"
	ReasonStopped           = "stopped"
	ReasonNotImplemented    = "notImplemented"
)

// apiError is an error answered in BigQuery's JSON error envelope:
//
//	{"error":{"code":..,"message":..,"errors":[{"reason":..,"message":..,"location":..}],"status":..}}
type apiError struct {
	code     int
	reason   string
	message  string
	location string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.code, e.reason, e.message)
}

// proto is the error as it appears in a job's status.errorResult / status.errors.
func (e *apiError) proto() *bq.ErrorProto {
	return &bq.ErrorProto{Reason: e.reason, Message: e.message, Location: e.location}
}

func errInvalid(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, reason: ReasonInvalid, message: fmt.Sprintf(format, args...)}
}

func errInvalidQuery(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, reason: ReasonInvalidQuery, message: fmt.Sprintf(format, args...)}
}

func errNotFound(format string, args ...any) *apiError {
	return &apiError{code: http.StatusNotFound, reason: ReasonNotFound, message: fmt.Sprintf(format, args...)}
}

func errDuplicate(format string, args ...any) *apiError {
	return &apiError{code: http.StatusConflict, reason: ReasonDuplicate, message: fmt.Sprintf(format, args...)}
}

func errBackend() *apiError {
	return &apiError{code: http.StatusServiceUnavailable, reason: ReasonBackendError,
		message: "Error encountered during execution. Retrying may solve the problem."}
}

func errNotImplemented(format string, args ...any) *apiError {
	return &apiError{code: http.StatusNotImplemented, reason: ReasonNotImplemented,
		message: "bqtest does not emulate this: " + fmt.Sprintf(format, args...)}
}

// statusName is the google.rpc status BigQuery reports next to an HTTP code.
func statusName(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ALREADY_EXISTS"
	case http.StatusPreconditionFailed:
		return "FAILED_PRECONDITION"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	}
	if code >= 500 {
		return "INTERNAL"
	}
	return "UNKNOWN"
}

type errorItem struct {
	Domain   string `json:"domain"`
	Reason   string `json:"reason"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
	// LocationType is "parameter" or "other" in BigQuery's answers; set when Location is.
	LocationType string `json:"locationType,omitempty"`
}

type errorBody struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Errors  []errorItem `json:"errors"`
	Status  string      `json:"status"`
}

type errorEnvelope struct {
	Error errorBody `json:"error"`
}

func (e *apiError) envelope() errorEnvelope {
	item := errorItem{Domain: "global", Reason: e.reason, Message: e.message, Location: e.location}
	if e.location != "" {
		item.LocationType = "other"
	}
	return errorEnvelope{Error: errorBody{
		Code:    e.code,
		Message: e.message,
		Errors:  []errorItem{item},
		Status:  statusName(e.code),
	}}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value answered is built by this package from plain types; a failure is a bug.
		http.Error(w, "bqtest: encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.code, e.envelope())
}
