package crowdchangetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"

	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

// complete reports whether an answer is a whole 200 page: a truncated body is not valid JSON
// and is exactly as long as its Content-Length says.
func complete(t *testing.T, a answer) bool {
	t.Helper()
	if cl := a.header.Get("Content-Length"); cl != strconv.Itoa(len(a.body)) {
		t.Errorf("Content-Length %s for a body of %d bytes", cl, len(a.body))
	}
	return a.status == http.StatusOK && json.Valid(a.body)
}

// The faults injected do not depend on the order or concurrency of the requests, and a client
// with MaxPerRequest+1 attempts always gets through.
func TestFaultsDeterministic(t *testing.T) {
	t.Parallel()
	var requests []url.Values
	for _, order := range [][2]string{{"id", "asc"}, {"id", "desc"}, {"date", "asc"}, {"date", "desc"}} {
		for _, limit := range []int{10, 30} {
			for page := 1; page <= 100/limit; page++ {
				requests = append(requests, url.Values{"dt_start": {qt(yearStart)}, "dt_end": {qt(yearEnd)}, "limit": {strconv.Itoa(limit)},
					"page": {strconv.Itoa(page)}, "sort": {order[0]}, "direction": {order[1]}})
			}
		}
	}
	run := func(workers int, reverse bool) (crowdchangetest.ServerStats, map[string][]byte) {
		s, base := sandbox(t, crowdchangetest.Options{Seed: 11, Transactions: 100, From: yearStart, To: yearEnd,
			Now: func() time.Time { return yearEnd }, Faults: crowdchangetest.Faults{Rate: 0.3, SlowDelay: time.Millisecond}})
		var mu sync.Mutex
		bodies := map[string][]byte{}
		var g errgroup.Group
		g.SetLimit(workers)
		for n := range requests {
			q := requests[n]
			if reverse {
				q = requests[len(requests)-1-n]
			}
			g.Go(func() error {
				for attempt := 1; attempt <= 3; attempt++ {
					a, err := doCtx(context.Background(), http.MethodGet, txURL(base, q), "Bearer "+key, nil)
					if err != nil {
						return err
					}
					if a.status == http.StatusTooManyRequests && a.header.Get("Retry-After") != "0" {
						t.Errorf("429 with Retry-After %q", a.header.Get("Retry-After"))
					}
					if complete(t, a) {
						mu.Lock()
						bodies[q.Encode()] = a.body
						mu.Unlock()
						return nil
					}
				}
				return errors.New("no answer after 3 attempts: " + q.Encode())
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		return s.Stats(), bodies
	}
	st1, b1 := run(1, false)
	st2, b2 := run(8, true)
	if st1.TotalFaults() == 0 || len(st1.Faults) < 4 {
		t.Errorf("faults at rate 0.3 over %d requests: %v", len(requests), st1.Faults)
	}
	for _, k := range crowdchangetest.AllFaultKinds() {
		if st1.Faults[k] != st2.Faults[k] {
			t.Errorf("fault %s: %d sequentially, %d concurrently", k, st1.Faults[k], st2.Faults[k])
		}
	}
	if st1.Requests != st2.Requests || st1.Pages != int64(len(requests)) {
		t.Errorf("requests %d and %d, pages %d", st1.Requests, st2.Requests, st1.Pages)
	}
	for k, b := range b1 {
		if !bytes.Equal(b, b2[k]) {
			t.Errorf("%s: different answers", k)
		}
	}
}

// Each kind of fault looks like what it simulates, and a request is faulted at most
// MaxPerRequest times.
func TestFaultKinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind        crowdchangetest.FaultKind
		status      int
		contentType string
	}{
		{crowdchangetest.Fault429, http.StatusTooManyRequests, "application/json"},
		{crowdchangetest.Fault500, http.StatusInternalServerError, "application/json"},
		{crowdchangetest.Fault502, http.StatusBadGateway, "text/html"},
		{crowdchangetest.Fault503, http.StatusServiceUnavailable, "application/json"},
		{crowdchangetest.FaultTruncated, http.StatusOK, "application/json"},
	} {
		s, base := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 50, From: yearStart, To: yearEnd,
			Now: func() time.Time { return yearEnd }, Faults: crowdchangetest.Faults{Rate: 1, Kinds: []crowdchangetest.FaultKind{tc.kind},
				RetryAfter: "1", MaxPerRequest: 2}})
		u := txURL(base, url.Values{"limit": {"10"}, "dt_start": {qt(yearStart)}})
		for attempt := 1; attempt <= 3; attempt++ {
			a := do(t, http.MethodGet, u, "Bearer "+key, nil)
			ok := complete(t, a)
			if attempt < 3 {
				if ok || a.status != tc.status || !strings.HasPrefix(a.header.Get("Content-Type"), tc.contentType) {
					t.Errorf("%s attempt %d: status %d, %s", tc.kind, attempt, a.status, a.header.Get("Content-Type"))
				}
				if tc.kind == crowdchangetest.Fault429 && a.header.Get("Retry-After") != "1" {
					t.Errorf("429 with Retry-After %q", a.header.Get("Retry-After"))
				}
				if tc.kind == crowdchangetest.FaultTruncated && len(a.body) < 100 {
					t.Errorf("truncated to %d bytes", len(a.body))
				}
				continue
			}
			if !ok {
				t.Errorf("%s: attempt 3 failed with %d", tc.kind, a.status)
			}
		}
		if st := s.Stats(); st.Faults[tc.kind] != 2 || st.TotalFaults() != 2 || st.Pages != 1 {
			t.Errorf("%s: stats %+v", tc.kind, st)
		}
	}
}

// A slow answer comes after SlowDelay, and gives up when the client does.
func TestFaultSlow(t *testing.T) {
	t.Parallel()
	opts := func(d time.Duration) crowdchangetest.Options {
		return crowdchangetest.Options{Seed: 1, Transactions: 50, From: yearStart, To: yearEnd, Now: func() time.Time { return yearEnd },
			Faults: crowdchangetest.Faults{Rate: 1, Kinds: []crowdchangetest.FaultKind{crowdchangetest.FaultSlow}, SlowDelay: d}}
	}
	s, base := sandbox(t, opts(time.Millisecond))
	if a := do(t, http.MethodGet, txURL(base, url.Values{}), "Bearer "+key, nil); !complete(t, a) {
		t.Errorf("slow answer: status %d", a.status)
	}
	if n := s.Stats().Faults[crowdchangetest.FaultSlow]; n != 1 {
		t.Errorf("%d slow faults", n)
	}
	_, base = sandbox(t, opts(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := doCtx(ctx, http.MethodGet, txURL(base, url.Values{}), "Bearer "+key, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a slow answer ignored the client giving up: %v", err)
	}
}

// RPS is a real limit: over it, 429 with Retry-After 1.
func TestRateLimit(t *testing.T) {
	s, base := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 10, From: yearStart, To: yearEnd,
		Now: func() time.Time { return yearEnd }, RPS: 0.01})
	u := txURL(base, url.Values{})
	if a := do(t, http.MethodGet, u, "Bearer "+key, nil); a.status != http.StatusOK {
		t.Fatalf("first request: %d", a.status)
	}
	a := do(t, http.MethodGet, u, "Bearer "+key, nil)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "1" {
		t.Errorf("second request: %d, Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	assertErrorEnvelope(t, a.body)
	if st := s.Stats(); st.RateLimited != 1 || st.TotalFaults() != 0 {
		t.Errorf("stats %+v", st)
	}
}

// The request log has one debug line per request, without the key.
func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetLevel(logrus.DebugLevel)
	l.SetFormatter(&logrus.JSONFormatter{})
	_, base := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 10, From: yearStart, To: yearEnd,
		Now: func() time.Time { return yearEnd }, Log: logrus.NewEntry(l)})
	do(t, http.MethodGet, txURL(base, url.Values{"limit": {"5"}}), "Bearer "+key, nil)
	do(t, http.MethodGet, txURL(base, url.Values{}), "Bearer wrong-secret", nil)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || strings.Contains(buf.String(), key) || strings.Contains(buf.String(), "wrong-secret") {
		t.Fatalf("log:\n%s", buf.String())
	}
	var line struct {
		Level  string `json:"level"`
		Status int    `json:"status"`
		Query  string `json:"query"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &line); err != nil || line.Level != "debug" || line.Status != http.StatusForbidden {
		t.Errorf("log line %s (%v)", lines[1], err)
	}
}
