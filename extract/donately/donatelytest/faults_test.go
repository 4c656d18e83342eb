package donatelytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/donately/donatelytest"
)

// Faults hit list answers only, every kind occurs and is counted as it was served, a client that
// retries MaxPerRequest+1 times always gets through, and the same requests meet the same faults.
func TestFaultsCounted(t *testing.T) {
	t.Parallel()
	run := func() (donatelytest.ServerStats, map[donatelytest.FaultKind]int64, int) {
		s, base := sandbox(t, donatelytest.Options{Seed: 13, Donations: 200, From: rangeFrom, To: rangeTo,
			Now: func() time.Time { return settled }, Faults: donatelytest.Faults{Rate: 0.5, SlowDelay: time.Millisecond}})
		seen := map[donatelytest.FaultKind]int64{}
		attempts := 0
		for _, version := range []string{donatelytest.Version2022, ""} {
			c := newClient(base, version)
			for _, path := range []string{"/v2/donations", "/v2/campaigns", "/v2/people"} {
				for offset := 0; offset < 100; offset += 10 {
					q := url.Values{"limit": {"10"}, "offset": {strconv.Itoa(offset)}}
					ok := false
					for attempt := 0; attempt < 3 && !ok; attempt++ {
						attempts++
						a := c.get(t, path, q)
						switch {
						case a.status == http.StatusTooManyRequests:
							seen[donatelytest.Fault429]++
							if a.header.Get("Retry-After") != "0" {
								t.Errorf("429 fault with Retry-After %q", a.header.Get("Retry-After"))
							}
							checkError(t, a, version, http.StatusTooManyRequests, "rate_limited")
						case a.status == http.StatusInternalServerError:
							seen[donatelytest.Fault500]++
							checkError(t, a, version, http.StatusInternalServerError, "internal_server_error")
						case a.status == http.StatusBadGateway:
							seen[donatelytest.Fault502]++
						case a.status == http.StatusServiceUnavailable:
							seen[donatelytest.Fault503]++
							checkError(t, a, version, http.StatusServiceUnavailable, "service_unavailable")
						case a.status == http.StatusOK && !json.Valid(a.body):
							seen[donatelytest.FaultTruncated]++
							if a.header.Get("Content-Length") != strconv.Itoa(len(a.body)) {
								t.Errorf("truncated answer with Content-Length %s for %d bytes", a.header.Get("Content-Length"), len(a.body))
							}
						case a.status == http.StatusOK:
							ok = true
						default:
							t.Fatalf("status %d: %s", a.status, a.body)
						}
					}
					if !ok {
						t.Fatalf("%s %v: no answer after 3 attempts", path, q)
					}
				}
			}
		}
		// Single objects are never faulted.
		for k := 0; k < 20; k++ {
			attempts++
			if a := newClient(base, "").get(t, "/v2/accounts/mine", nil); a.status != http.StatusOK {
				t.Fatalf("accounts/mine: status %d", a.status)
			}
		}
		return s.Stats(), seen, attempts
	}
	st, seen, attempts := run()
	for _, k := range donatelytest.AllFaultKinds() {
		if st.Faults[k] == 0 {
			t.Errorf("no %s fault in %d attempts", k, attempts)
		}
		if k != donatelytest.FaultSlow && st.Faults[k] != seen[k] {
			t.Errorf("%s: %d counted, %d served", k, st.Faults[k], seen[k])
		}
	}
	complete := st.Pages + st.Objects
	if st.Requests != int64(attempts) || complete+st.TotalFaults()-st.Faults[donatelytest.FaultSlow] != int64(attempts) {
		t.Errorf("%d attempts: stats %+v", attempts, st)
	}
	again, _, _ := run()
	if again.TotalFaults() != st.TotalFaults() || again.Faults[donatelytest.Fault502] != st.Faults[donatelytest.Fault502] {
		t.Errorf("faults differ between identical runs: %v and %v", st.Faults, again.Faults)
	}
}

// A slow answer ends when the client gives up: the request's context bounds it.
func TestSlowFaultBoundedByContext(t *testing.T) {
	t.Parallel()
	s, ts := donatelytest.Start(donatelytest.Options{Seed: 1, Donations: 10, From: rangeFrom, To: rangeTo,
		Now:    func() time.Time { return settled },
		Faults: donatelytest.Faults{Rate: 1, Kinds: []donatelytest.FaultKind{donatelytest.FaultSlow}, SlowDelay: time.Hour}})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := newClient(ts.URL, donatelytest.Version2022).do(ctx, http.MethodGet, "/v2/donations", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the deadline", err)
	}
	ts.Close() // waits for the handler: it would hang for an hour if the context did not bound it
	if st := s.Stats(); st.Faults[donatelytest.FaultSlow] != 1 || st.Pages != 0 {
		t.Errorf("stats %+v", st)
	}
}
