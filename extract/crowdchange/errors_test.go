package crowdchange_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
)

func TestAPIErrorError(t *testing.T) {
	tests := []struct {
		err           crowdchange.APIError
		want          string
		wantForbidden bool
	}{
		{crowdchange.APIError{StatusCode: 422, Message: "The given data was invalid.", Fields: map[string][]string{"limit": {"must be <= 100"}}},
			"crowdchange: 422 Unprocessable Entity: The given data was invalid. (limit: must be <= 100)", false},
		{crowdchange.APIError{StatusCode: 422, Fields: map[string][]string{"page": {"a", "b"}, "limit": {"c"}}},
			"crowdchange: 422 Unprocessable Entity (limit: c; page: a, b)", false},
		{crowdchange.APIError{StatusCode: 403, Message: "Forbidden", RequestID: "r-1"}, "crowdchange: 403 Forbidden: the API refused the key; check CROWDCHANGE_API_KEY (or --api-key-file) and the region: Forbidden [request id r-1]", true},
		{crowdchange.APIError{StatusCode: 401}, "crowdchange: 401 Unauthorized: the API refused the key; check CROWDCHANGE_API_KEY (or --api-key-file) and the region", true},
		{crowdchange.APIError{StatusCode: 599}, "crowdchange: 599", false},
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

// The API's errors say which statuses are worth another try: 429 and 5xx, never a refusal.
func TestAPIErrorTransient(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   bool
	}{{429, true}, {500, true}, {503, true}, {400, false}, {401, false}, {403, false}, {404, false}, {422, false}} {
		err := fmt.Errorf("fetching page 2: %w", &crowdchange.APIError{StatusCode: tt.status})
		if got := extract.IsTransient(err); got != tt.want {
			t.Errorf("IsTransient(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
}
