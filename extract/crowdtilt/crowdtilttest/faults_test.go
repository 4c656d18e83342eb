package crowdtilttest_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
)

// Faults hit list answers only, every kind occurs and is counted as it was served, a client that
// retries MaxPerRequest+1 times always gets through, and the same requests meet the same faults.
func TestFaults(t *testing.T) {
	t.Parallel()
	run := func() (crowdtilttest.ServerStats, map[crowdtilttest.FaultKind]int64, []int) {
		s, base := sandbox(t, crowdtilttest.Options{Seed: 13, Campaigns: 8, Payments: 300, From: rangeFrom, To: rangeTo,
			Now: func() time.Time { return later }, Faults: crowdtilttest.Faults{Rate: 0.5, RetryAfter: "3"}})
		c := newClient(base)
		seen := map[crowdtilttest.FaultKind]int64{}
		var statuses []int // every answer's status, in order: the same requests meet the same faults
		tr := s.Truth()
		paths := []string{"/v1/campaigns", "/v1/users"}
		for _, id := range tr.Campaigns {
			paths = append(paths, "/v1/campaigns/"+id+"/payments")
		}
		for _, path := range paths {
			for page := 1; page <= 3; page++ {
				q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {"20"}}
				ok := false
				for attempt := 0; attempt < 3 && !ok; attempt++ {
					a := c.get(t, path, q)
					statuses = append(statuses, a.status)
					switch {
					case a.status == http.StatusTooManyRequests:
						seen[crowdtilttest.Fault429]++
						checkError(t, a, a.status)
						if a.header.Get("Retry-After") != "3" {
							t.Errorf("429 fault with Retry-After %q", a.header.Get("Retry-After"))
						}
					case a.status == http.StatusInternalServerError, a.status == http.StatusServiceUnavailable:
						seen[map[int]crowdtilttest.FaultKind{500: crowdtilttest.Fault500, 503: crowdtilttest.Fault503}[a.status]]++
						checkError(t, a, a.status)
					case a.status == http.StatusBadGateway:
						seen[crowdtilttest.Fault502]++
						if a.header.Get("Content-Type") != "text/html" || json.Valid(a.body) {
							t.Errorf("502 fault: %s %s", a.header.Get("Content-Type"), a.body)
						}
					case a.status == http.StatusOK && !json.Valid(a.body):
						seen[crowdtilttest.FaultTruncated]++
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
		// Single objects and errors are never faulted.
		for range 20 {
			if a := c.get(t, "/v1/campaigns/"+tr.Campaigns[0], nil); a.status != http.StatusOK {
				t.Fatalf("GET one campaign: status %d", a.status)
			}
			checkError(t, c.get(t, "/v1/campaigns", url.Values{"page": {"0"}}), http.StatusBadRequest)
		}
		return s.Stats(), seen, statuses
	}
	st, seen, statuses := run()
	for _, k := range crowdtilttest.AllFaultKinds() {
		if st.Faults[k] == 0 || st.Faults[k] != seen[k] {
			t.Errorf("%s: %d counted, %d served", k, st.Faults[k], seen[k])
		}
	}
	if st.Requests != int64(len(statuses))+40 || st.Pages+st.Objects+st.TotalFaults()+st.BadRequests != st.Requests {
		t.Errorf("%d answers: stats %+v", len(statuses), st)
	}
	again, _, statuses2 := run()
	if !maps.Equal(again.Faults, st.Faults) || len(statuses) != len(statuses2) {
		t.Fatalf("faults differ between identical runs: %v and %v", st.Faults, again.Faults)
	}
	for i := range statuses {
		if statuses[i] != statuses2[i] {
			t.Fatalf("answer %d: status %d, then %d", i, statuses[i], statuses2[i])
		}
	}
}

// Kinds and MaxPerRequest: a request faulted every time is faulted exactly MaxPerRequest times.
func TestFaultsMaxPerRequest(t *testing.T) {
	t.Parallel()
	s, base := sandbox(t, crowdtilttest.Options{Seed: 14, Campaigns: 3, Payments: 30, From: rangeFrom, To: rangeTo,
		Now: func() time.Time { return later }, Faults: crowdtilttest.Faults{Rate: 1, Kinds: []crowdtilttest.FaultKind{crowdtilttest.Fault503}, MaxPerRequest: 3}})
	c := newClient(base)
	for i := range 3 {
		checkError(t, c.get(t, "/v1/campaigns", nil), http.StatusServiceUnavailable)
		_ = i
	}
	if a := c.get(t, "/v1/campaigns", nil); a.status != http.StatusOK {
		t.Fatalf("the fourth attempt: status %d", a.status)
	}
	// Another query is another request.
	checkError(t, c.get(t, "/v1/campaigns", url.Values{"per_page": {"100"}}), http.StatusServiceUnavailable)
	if st := s.Stats(); st.Faults[crowdtilttest.Fault503] != 4 || st.Pages != 1 {
		t.Errorf("stats %+v", st)
	}
}
