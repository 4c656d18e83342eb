package extract

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// simulation drives an AdaptiveLimiter against a token-bucket API on a fake clock: each request
// leaves when the client's limiter lets it (a reservation at the simulated time), the API accepts
// it if its own bucket has a token then, and the limiter is told the answer. A 429 is retried,
// like RetryTransport does, through the same limiter.
type simulation struct {
	requests, throttled int
	elapsed             time.Duration
	limit               float64 // the limiter's rate at the end
}

func simulate(t *testing.T, ceiling float64, burst int, apiRPS float64, requests int) simulation {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	lim := NewAdaptiveLimiter(ceiling, burst, func() time.Time { return now })
	api := rate.NewLimiter(rate.Limit(apiRPS), int(math.Max(1, math.Ceil(apiRPS))))
	var s simulation
	for s.requests < requests {
		r := lim.limiter.ReserveN(now, 1)
		if !r.OK() {
			t.Fatal("the limiter refused a reservation")
		}
		now = now.Add(r.DelayFrom(now))
		s.requests++
		status := http.StatusOK
		if !api.AllowN(now, 1) {
			status = http.StatusTooManyRequests
			s.throttled++
		}
		lim.Observe(status)
	}
	s.elapsed = now.Sub(start)
	s.limit = lim.Limit()
	return s
}

// Above the API's real limit, the limiter converges to it: at least 95% of the limit used and at
// most 2% of the answers 429 over 300 requests and more; at or below the limit, no 429 at all.
func TestAdaptiveLimiterConvergesToTheAPIsLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		ceiling        float64 // --rate
		burst          int     // --burst
		apiRPS         float64 // the API's real limit
		requests       int
		minUse         float64 // accepted requests per second / the API's limit
		maxThrottled   float64 // share of answers that were 429
		wantAdaptation bool
	}{
		{"25/s against 20/s", 25, 5, 20, 300, 0.95, 0.02, true},
		{"25/s against 20/s, long run", 25, 5, 20, 3000, 0.95, 0.02, true},
		{"100/s against 20/s", 100, 100, 20, 600, 0.95, 0.02, true},
		{"40/s against 20/s", 40, 5, 20, 300, 0.95, 0.02, true},
		// Far above the limit, the first quarter of a second at half the ceiling costs 429s that a
		// longer run makes up for.
		{"200/s against 7/s, long run", 200, 10, 7, 3000, 0.95, 0.02, true},
		{"at the limit", 20, 1, 20, 600, 0.99, 0, false},
		{"below the limit", 5, 5, 20, 300, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := simulate(t, tt.ceiling, tt.burst, tt.apiRPS, tt.requests)
			accepted := float64(s.requests - s.throttled)
			use := accepted / s.elapsed.Seconds() / tt.apiRPS
			share := float64(s.throttled) / float64(s.requests)
			t.Logf("%d requests in %s: %.1f%% of the limit used, %d answered 429 (%.2f%%), rate at the end %.2f/s",
				s.requests, s.elapsed.Round(time.Millisecond), 100*use, s.throttled, 100*share, s.limit)
			if use < tt.minUse {
				t.Errorf("used %.1f%% of the API's limit, want at least %.0f%%", 100*use, 100*tt.minUse)
			}
			if share > tt.maxThrottled {
				t.Errorf("%.2f%% of the answers were 429, want at most %.0f%%", 100*share, 100*tt.maxThrottled)
			}
			if adapted := s.limit < tt.ceiling; adapted != tt.wantAdaptation {
				t.Errorf("the rate ended at %.2f/s of a ceiling of %.0f/s: adapted %v, want %v", s.limit, tt.ceiling, adapted, tt.wantAdaptation)
			}
			if s.limit > tt.ceiling {
				t.Errorf("the rate went above the ceiling: %.2f/s", s.limit)
			}
		})
	}
}

// Requests in flight that meet the same 429 lower the rate once; a 429 with nothing accepted to
// measure halves it; the rate never goes below a tenth of a request per second; an infinite ceiling
// never adapts; after enough accepted answers the limiter tries a higher rate again.
func TestAdaptiveLimiterSteps(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	lim := NewAdaptiveLimiter(10, 10, clock)
	lim.Observe(http.StatusTooManyRequests)
	lim.Observe(http.StatusTooManyRequests)
	if got := lim.Limit(); got != 5 || lim.Cuts() != 1 {
		t.Fatalf("after two 429s at once: rate %v, %d cuts; want 5 (halved once), 1", got, lim.Cuts())
	}
	for range 10 {
		now = now.Add(20 * time.Second) // each 429 a new episode, with nothing accepted to measure
		lim.Observe(http.StatusTooManyRequests)
	}
	if got := lim.Limit(); got != 0.1 {
		t.Fatalf("after many 429s the rate is %v, want the floor 0.1", got)
	}
	// Accepted answers at 4/s, then a 429: the rate goes to 97% of 4/s.
	lim = NewAdaptiveLimiter(10, 10, clock)
	for range 8 {
		now = now.Add(250 * time.Millisecond)
		lim.Observe(http.StatusOK)
	}
	lim.Observe(http.StatusTooManyRequests)
	if got := lim.Limit(); math.Abs(got-0.97*8/1.75) > 1e-9 {
		t.Fatalf("rate after a 429 = %v, want 97%% of the accepted rate (%v)", got, 0.97*8/1.75)
	}
	cut := lim.Limit()
	for range adaptiveProbeAfter {
		now = now.Add(300 * time.Millisecond)
		lim.Observe(http.StatusOK)
	}
	if got := lim.Limit(); math.Abs(got-cut*adaptiveStep) > 1e-9 {
		t.Fatalf("after %d accepted answers the rate is %v, want a probe at %v", adaptiveProbeAfter, got, cut*adaptiveStep)
	}

	inf := NewAdaptiveLimiter(math.Inf(1), 1, clock)
	inf.Observe(http.StatusTooManyRequests)
	if !math.IsInf(inf.Limit(), 1) || inf.Cuts() != 0 {
		t.Fatalf("an infinite ceiling adapted: %v, %d cuts", inf.Limit(), inf.Cuts())
	}
	if err := inf.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}
