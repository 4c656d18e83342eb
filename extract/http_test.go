package extract_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/extracttest"
	"golang.org/x/time/rate"
)

func TestNewHTTPValidates(t *testing.T) {
	good := extract.HTTPConfig{Platform: "test", Rate: 1, Burst: 1, Timeout: time.Second, MaxAttempts: 1, BackoffBase: time.Second, BackoffMax: time.Second}
	tests := []struct {
		name string
		mod  func(*extract.HTTPConfig)
		want string
	}{
		{"rate", func(c *extract.HTTPConfig) { c.Rate = 0 }, "rate: 0"},
		{"burst", func(c *extract.HTTPConfig) { c.Burst = 0 }, "burst: 0"},
		{"timeout", func(c *extract.HTTPConfig) { c.Timeout = 0 }, "timeout: 0s"},
		{"attempts", func(c *extract.HTTPConfig) { c.MaxAttempts = 0 }, "max_attempts: 0"},
		{"backoff", func(c *extract.HTTPConfig) { c.BackoffMax = time.Millisecond }, "backoff_base, backoff_max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			_, err := extract.NewHTTP(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "the test API") {
				t.Fatalf("err = %v, want it to name %q and the platform", err, tt.want)
			}
		})
	}
	// The shared settings come from config.API's defaults.
	var api config.API
	api.SetDefaults()
	if _, err := extract.NewHTTP(extract.HTTPConfigOf("test", api), nil); err != nil {
		t.Errorf("HTTPConfigOf(defaults): %v", err)
	}
}

// TestHTTPDo drives the shared machinery without a platform's client: the User-Agent, the body
// validation's value handed back, retries of invalid bodies and of 5xx, answers of any status
// returned as they are, and the counters.
func TestHTTPDo(t *testing.T) {
	api := extracttest.NewFakeAPI(t, extracttest.Scripted(
		extracttest.Always(extracttest.Reply{Status: http.StatusTeapot, Body: []byte("no")}),
		extracttest.Reply{Body: []byte("cut")},                                        // invalid: retried
		extracttest.Reply{Status: 503, Header: map[string]string{"Retry-After": "3"}}, // retried after 3s
		extracttest.Reply{Body: []byte("good")},
	))
	sleeps := &extracttest.SleepRecorder{}
	cfg := extract.HTTPConfig{
		Platform: "test", Rate: 1, Burst: 1, Timeout: time.Second, MaxAttempts: 4, BackoffBase: time.Second, BackoffMax: 4 * time.Second,
		ValidateBody: func(body []byte) (any, error) {
			if string(body) != "good" && string(body) != "no" {
				return nil, errors.New("not good")
			}
			return strings.ToUpper(string(body)), nil
		},
	}
	h, err := extract.NewHTTP(cfg, nil,
		extract.WithSleeper(sleeps.Sleep), extract.WithRand(func() float64 { return 0.5 }),
		extract.WithLimiter(rate.NewLimiter(rate.Inf, 1)), extract.WithVersion("9.9.9"), extract.WithMaxPages(7))
	if err != nil {
		t.Fatal(err)
	}
	if h.MaxPages() != 7 || h.UserAgent() != "ccsync/9.9.9" || h.Client() == nil {
		t.Errorf("MaxPages %d, UserAgent %q", h.MaxPages(), h.UserAgent())
	}
	do := func() *extract.Response {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, api.URL+"/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.Do(req, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := do()
	if resp.StatusCode != 200 || string(resp.Body) != "good" || resp.Decoded != "GOOD" || resp.Attempts != 3 {
		t.Errorf("first call: %d %q decoded %v after %d attempts; want 200 good GOOD after 3", resp.StatusCode, resp.Body, resp.Decoded, resp.Attempts)
	}
	resp = do()
	if resp.StatusCode != http.StatusTeapot || string(resp.Body) != "no" || resp.Decoded != nil || resp.Attempts != 1 {
		t.Errorf("second call: %d %q decoded %v after %d attempts; want 418 no <nil> after 1", resp.StatusCode, resp.Body, resp.Decoded, resp.Attempts)
	}
	for i, r := range api.Requests() {
		if ua := r.Header.Get("User-Agent"); ua != "ccsync/9.9.9" {
			t.Errorf("request %d: User-Agent %q", i+1, ua)
		}
	}
	if got := sleeps.Waits(); len(got) != 2 || got[0] != 500*time.Millisecond || got[1] != 3*time.Second {
		t.Errorf("waits %v, want [500ms 3s]", got)
	}
	want := extract.Stats{Requests: 4, Retries: 2, ServerErrors: 1, InvalidBodies: 1, Pages: 1, BackoffTotal: 3500 * time.Millisecond}
	if got := h.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

// An HTTP adapts its default limiter to the API's 429s: the limiter is told every answer with the
// time its request was sent, a 429 lowers the rate below the configured one, and Stats says so. A
// limiter given with WithLimiter that does not adapt (a *rate.Limiter) is left as it is, and one
// that does (an *AdaptiveLimiter, shared) reports through every HTTP that uses it.
func TestHTTPAdaptsItsRateTo429(t *testing.T) {
	t.Parallel()
	cfg := extract.HTTPConfig{Platform: "test", Rate: 1000, Burst: 1, Timeout: time.Second, MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond}
	tests := []struct {
		name         string
		opts         []extract.Option
		wantAdaptive bool
	}{
		{"default limiter", nil, true},
		{"shared adaptive limiter", []extract.Option{extract.WithLimiter(extract.NewAdaptiveLimiter(1000, 1, nil, nil))}, true},
		{"fixed limiter", []extract.Option{extract.WithLimiter(rate.NewLimiter(1000, 1))}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := extracttest.NewFakeAPI(t, extracttest.Scripted(
				extracttest.Always(extracttest.Reply{Body: []byte("ok")}),
				extracttest.Reply{Body: []byte("ok")},
				extracttest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "0"}},
			))
			sleeps := &extracttest.SleepRecorder{}
			h, err := extract.NewHTTP(cfg, nil, append([]extract.Option{extract.WithSleeper(sleeps.Sleep)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, api.URL+"/x", nil)
				if err != nil {
					t.Fatal(err)
				}
				if resp, err := h.Do(req, nil); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("Do: %v", err)
				}
			}
			st := h.Stats()
			if st.Throttled != 1 || st.Rate.Adaptive != tt.wantAdaptive {
				t.Fatalf("Stats: %d throttled, rate %+v; want 1, adaptive %v", st.Throttled, st.Rate, tt.wantAdaptive)
			}
			if tt.wantAdaptive && (st.Rate.Cuts != 1 || st.Rate.Ceiling != 1000 || st.Rate.Limit > st.Rate.Ceiling) {
				t.Errorf("rate after the 429: %+v; want one cut, within the ceiling 1000", st.Rate)
			}
		})
	}
}
