package extract_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/extracttest"
)

// countingLimiter lets everything through and counts the waits.
type countingLimiter struct{ waits atomic.Int64 }

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.waits.Add(1)
	return ctx.Err()
}

func newRetryClient(next http.RoundTripper, limiter extract.Limiter, cfg extract.RetryConfig) (*http.Client, *extract.RetryTransport, *extracttest.SleepRecorder) {
	rec := &extracttest.SleepRecorder{}
	cfg.Sleeper = rec.Sleep
	cfg.Rand = func() float64 { return 0.5 }
	rt := extract.NewRetryTransport(extract.NewRateLimitTransport(next, limiter), cfg)
	return &http.Client{Transport: rt}, rt, rec
}

// Every attempt, retries included, waits for the limiter before it is sent.
func TestRetryTransportThrottlesEveryAttempt(t *testing.T) {
	limiter := &countingLimiter{}
	var outOfOrder atomic.Bool
	api := extracttest.NewFakeAPI(t, func(n int, r *http.Request) extracttest.Reply {
		if limiter.waits.Load() != int64(n) {
			outOfOrder.Store(true)
		}
		switch n {
		case 1:
			return extracttest.Reply{Status: 503}
		case 2:
			return extracttest.Reply{Status: 429, Header: map[string]string{"Retry-After": "0"}}
		case 3:
			return extracttest.Reply{Drop: true}
		}
		return extracttest.Reply{Body: []byte(`{"ok":true}`)}
	})
	// Fresh connections: net/http itself resends a GET once when a reused keep-alive connection
	// turns out closed, which would hide the dropped connection from the RetryTransport.
	base := &http.Transport{DisableKeepAlives: true}
	hc, rt, rec := newRetryClient(base, limiter, extract.RetryConfig{MaxAttempts: 5, BackoffBase: time.Second, BackoffMax: time.Minute})
	resp, err := hc.Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
	if got := limiter.waits.Load(); got != 4 {
		t.Errorf("%d limiter waits, want 4 (one per attempt)", got)
	}
	if outOfOrder.Load() {
		t.Error("a request reached the API before its limiter wait")
	}
	if got, want := fmt.Sprint(rec.Waits()), fmt.Sprint([]time.Duration{500 * time.Millisecond, 0, 2 * time.Second}); got != want {
		t.Errorf("waits %s, want %s", got, want)
	}
	want := extract.Stats{Requests: 4, Retries: 3, Throttled: 1, ServerErrors: 1, BackoffTotal: 2500 * time.Millisecond}
	if got := rt.Stats(); got != want {
		t.Errorf("stats %+v\nwant  %+v", got, want)
	}
}

// When the attempts run out on a status, the last response is handed back, body readable.
func TestRetryTransportExhaustedReturnsLastResponse(t *testing.T) {
	api := extracttest.NewFakeAPI(t, func(n int, _ *http.Request) extracttest.Reply {
		return extracttest.Reply{Status: 500 + n, Body: []byte(`{"status":"error","message":"attempt"}`)}
	})
	hc, _, rec := newRetryClient(http.DefaultTransport, &countingLimiter{}, extract.RetryConfig{MaxAttempts: 3})
	resp, err := hc.Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "attempt") {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if len(rec.Waits()) != 2 || len(api.Requests()) != 3 {
		t.Errorf("%d waits, %d requests", len(rec.Waits()), len(api.Requests()))
	}
}

// A request body is sent again on every attempt when it can be rewound, and never retried when it
// cannot.
func TestRetryTransportRequestBody(t *testing.T) {
	var bodies []string
	api := extracttest.NewFakeAPI(t, func(n int, r *http.Request) extracttest.Reply {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b)) // requests are sequential
		if n%2 == 1 {
			return extracttest.Reply{Status: 502}
		}
		return extracttest.Reply{Body: []byte(`{}`)}
	})
	hc, _, _ := newRetryClient(http.DefaultTransport, &countingLimiter{}, extract.RetryConfig{MaxAttempts: 3})

	resp, err := hc.Post(api.URL, "application/json", bytes.NewReader([]byte(`{"a":1}`))) // GetBody set
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || strings.Join(bodies, "|") != `{"a":1}|{"a":1}` {
		t.Errorf("status %d, bodies %q", resp.StatusCode, bodies)
	}

	bodies = nil
	resp, err = hc.Post(api.URL, "application/json", io.MultiReader(strings.NewReader(`{"b":2}`))) // no GetBody
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 502 || len(bodies) != 1 {
		t.Errorf("status %d after %d attempts: a body that cannot be rewound must not be retried", resp.StatusCode, len(bodies))
	}
}

// A body above the cap fails the request without a retry.
func TestRetryTransportMaxBody(t *testing.T) {
	api := extracttest.NewFakeAPI(t, extracttest.Always(extracttest.Reply{Body: bytes.Repeat([]byte("x"), 2048)}))
	hc, rt, _ := newRetryClient(http.DefaultTransport, &countingLimiter{}, extract.RetryConfig{MaxAttempts: 3, MaxBodyBytes: 1024})
	_, err := hc.Get(api.URL)
	if err == nil || !strings.Contains(err.Error(), "too large") || extract.IsTransient(err) {
		t.Fatalf("got %v", err)
	}
	if s := rt.Stats(); s.Requests != 1 || s.Retries != 0 {
		t.Errorf("stats %+v", s)
	}
}

// A limiter that refuses (its context is done) stops the request before it is sent.
func TestRateLimitTransportRefusal(t *testing.T) {
	api := extracttest.NewFakeAPI(t, extracttest.Always(extracttest.Reply{Body: []byte(`{}`)}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.URL, nil)
	_, err := extract.NewRateLimitTransport(http.DefaultTransport, &countingLimiter{}).RoundTrip(req)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "rate limiter") {
		t.Fatalf("got %v", err)
	}
	if n := len(api.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}
