package extract

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// simConfig is a run against a simulated API on a fake clock: workers send requests one after
// the other through an AdaptiveLimiter, as a run's windows do, each request taking latency (plus
// up to jitter) there and back. The API refuses what its token bucket of limit requests per
// second (burst ⌈limit⌉, like the sandbox's; 0: no limit) has no token for with a 429 and
// Retry-After: 1, and answers a share faults of the rest 429 with Retry-After: 0 at random, like
// the sandbox's faults. A worker answered 429 waits the Retry-After and sends again, as
// RetryTransport does.
type simConfig struct {
	ceiling  float64 // --rate
	burst    int     // --burst
	limit    float64 // the API's real limit (0: none)
	faults   float64 // share of random 429s
	workers  int
	latency  time.Duration
	jitter   time.Duration
	requests int
	seed     uint64
	fixed    bool // the limiter is not told the answers: a fixed limiter, for reference
}

type simResult struct {
	requests, throttled int // requests sent, and those answered 429 (for any reason)
	limited             int // 429s of the API's limit
	elapsed             time.Duration
	rate                float64 // the limiter's rate at the end
	cuts, restores      int
}

// accepted is the rate of accepted answers, in requests per second.
func (s simResult) accepted() float64 {
	return float64(s.requests-s.throttled) / s.elapsed.Seconds()
}

// sent is the rate of requests, in requests per second.
func (s simResult) sent() float64 { return float64(s.requests) / s.elapsed.Seconds() }

// share is the share of answers that were 429.
func (s simResult) share() float64 { return float64(s.throttled) / float64(s.requests) }

type simEvent struct {
	at     time.Time
	seq    int // ties go in the order the events were made
	kind   int
	worker int
	sent   time.Time
	status int
	limit  bool // a 429 of the API's limit
}

const (
	simWake   = iota // a worker wants to send its next request
	simArrive        // a request reaches the API
	simAnswer        // an answer reaches the client
)

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() (x any) { old := *q; x = old[len(old)-1]; *q = old[:len(old)-1]; return x }

func simulate(t *testing.T, c simConfig) simResult {
	t.Helper()
	return simulateLog(t, c, nil)
}

func simulateLog(t *testing.T, c simConfig, log *logrus.Entry) simResult {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	lim := NewAdaptiveLimiter(c.ceiling, c.burst, func() time.Time { return now }, log)
	var api *rate.Limiter
	if c.limit > 0 {
		api = rate.NewLimiter(rate.Limit(c.limit), int(math.Max(1, math.Ceil(c.limit))))
	}
	rng := rand.New(rand.NewPCG(c.seed, 7))
	delay := func() time.Duration {
		d := c.latency / 2
		if c.jitter > 0 {
			d += time.Duration(rng.Int64N(int64(c.jitter)))
		}
		return d
	}
	q := &simQueue{}
	seq := 0
	push := func(e simEvent) {
		seq++
		e.seq = seq
		heap.Push(q, e)
	}
	for w := range c.workers {
		push(simEvent{at: start, kind: simWake, worker: w})
	}
	var s simResult
	var last time.Time
	for q.Len() > 0 {
		e := heap.Pop(q).(simEvent)
		now = e.at
		switch e.kind {
		case simWake:
			if s.requests >= c.requests {
				continue
			}
			s.requests++
			r := lim.limiter.ReserveN(now, 1)
			if !r.OK() {
				t.Fatal("the limiter refused a reservation")
			}
			sent := now.Add(r.DelayFrom(now))
			push(simEvent{at: sent.Add(delay()), kind: simArrive, worker: e.worker, sent: sent})
		case simArrive:
			e.status, e.kind = http.StatusOK, simAnswer
			switch {
			case api != nil && !api.AllowN(now, 1):
				e.status, e.limit = http.StatusTooManyRequests, true
			case c.faults > 0 && rng.Float64() < c.faults:
				e.status = http.StatusTooManyRequests
			}
			e.at = now.Add(delay())
			push(e)
		case simAnswer:
			last = now
			if !c.fixed {
				asked := time.Duration(-1)
				if e.status == http.StatusTooManyRequests {
					asked = 0 // the faults' Retry-After: 0
					if e.limit {
						asked = time.Second
					}
				}
				lim.observe(e.sent, e.status, asked)
			}
			next := now
			if e.status == http.StatusTooManyRequests {
				s.throttled++
				if e.limit {
					s.limited++
					next = now.Add(time.Second)
				}
			}
			push(simEvent{at: next, kind: simWake, worker: e.worker})
		}
	}
	s.elapsed = last.Sub(start)
	s.rate = lim.Limit()
	s.cuts, s.restores = lim.Cuts(), lim.Restores()
	return s
}

// simSeeds is how many runs of each simulation a test makes, with different jitter and faults.
const simSeeds = 10

// simulateSeeds runs c with seeds 0..simSeeds-1.
func simulateSeeds(t *testing.T, c simConfig) []simResult {
	t.Helper()
	out := make([]simResult, simSeeds)
	for seed := range out {
		c.seed = uint64(seed)
		out[seed] = simulate(t, c)
	}
	return out
}

// Above the API's real limit, the limiter converges to it: at least 95% of the limit used and at
// most 2% of the answers 429 over 300 requests and more, whatever the jitter; at or below the
// limit, no 429 at all. Four workers send one request after the other, each waiting the
// Retry-After: 1 of the API's 429s, as a run's windows do. Far above the limit, the first contact
// costs seven 429s however long the run (the four workers meet the empty bucket at once, and again
// when their Retry-After ends, before any measure of the limit): those runs are of 400 requests.
func TestAdaptiveLimiterConvergesToTheAPIsLimit(t *testing.T) {
	t.Parallel()
	const latency, jitter = 4 * time.Millisecond, 2 * time.Millisecond
	tests := []struct {
		name     string
		ceiling  float64 // --rate
		burst    int     // --burst
		limit    float64 // the API's
		requests int
		minUse   float64 // accepted requests per second / the API's limit
		max429   float64 // share of answers that were 429
	}{
		{"25/s against 20/s", 25, 5, 20, 300, 0.95, 0.02},
		{"40/s against 20/s", 40, 5, 20, 300, 0.95, 0.02},
		{"100/s against 20/s", 100, 5, 20, 400, 0.95, 0.02},
		// The client's burst of 100 meets the API's empty bucket before anything is measured: in
		// one run of ten, the first episode's evidence is too weak and the rate goes back up to
		// 100/s once, which costs 19 429s of 400.
		{"100/s, burst 100, against 20/s", 100, 100, 20, 400, 0.95, 0.05},
		{"1000/s against 20/s", 1000, 5, 20, 400, 0.90, 0.02},
		{"25/s against 20/s, long run", 25, 5, 20, 3000, 0.97, 0.015},
		{"at the limit", 20, 5, 20, 600, 0.99, 0},
		{"below the limit", 15, 5, 20, 600, 0.74, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for seed, s := range simulateSeeds(t, simConfig{ceiling: tt.ceiling, burst: tt.burst, limit: tt.limit, workers: 4, latency: latency, jitter: jitter, requests: tt.requests}) {
				use := s.accepted() / tt.limit
				if use < tt.minUse || s.share() > tt.max429 || s.rate > tt.ceiling {
					t.Errorf("seed %d: %d requests in %s: %.1f%% of the limit used (want %.0f%% at least), %d answered 429 (%.2f%%, want %.1f%% at most), rate at the end %.2f/s of %v/s",
						seed, s.requests, s.elapsed.Round(time.Millisecond), 100*use, 100*tt.minUse, s.throttled, 100*s.share(), 100*tt.max429, s.rate, tt.ceiling)
				}
			}
		})
	}
}

// 429s that do not depend on the rate (an API's load shedding, the sandbox's injected faults)
// leave the rate where it was: requests go at 90% of --rate at least, or 90% of what a fixed
// limiter achieves when the workers, not the limiter, set the pace; with no limit of the API's
// as with one above --rate.
func TestAdaptiveLimiterIgnoresRandom429s(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		c          simConfig
		minSent    float64 // requests sent per second / --rate
		minOfFixed float64 // accepted answers per second / a fixed limiter's
	}{
		{"8% at 20/s", simConfig{ceiling: 20, burst: 5, faults: 0.08, requests: 1000}, 0.90, 0.90},
		{"8% at 20/s, below a limit of 30/s", simConfig{ceiling: 20, burst: 5, limit: 30, faults: 0.08, requests: 1000}, 0.90, 0.90},
		{"1.3% at 20/s (the sandbox's --sandbox-faults 0.08)", simConfig{ceiling: 20, burst: 5, faults: 0.013, requests: 1000}, 0.95, 0.95},
		// More than twice the 8% the limiter is built for: the first episodes cost more, as random
		// 429s this frequent look like a limit 20% below the rate.
		{"20% at 20/s", simConfig{ceiling: 20, burst: 5, faults: 0.2, requests: 1000}, 0.70, 0.70},
		{"8% at 2000/s, the workers' pace", simConfig{ceiling: 2000, burst: 100, faults: 0.08, latency: 10 * time.Millisecond, jitter: 5 * time.Millisecond, requests: 3000}, 0, 0.80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.c
			c.workers = 4
			if c.latency == 0 {
				c.latency, c.jitter = 4*time.Millisecond, 2*time.Millisecond
			}
			adaptive := simulateSeeds(t, c)
			c.fixed = true
			fixed := simulateSeeds(t, c)
			for seed, s := range adaptive {
				sent, ofFixed := s.sent()/c.ceiling, s.accepted()/fixed[seed].accepted()
				if sent < tt.minSent || ofFixed < tt.minOfFixed {
					t.Errorf("seed %d: %d requests at %.2f/s (%.1f%% of --rate, want %.0f%% at least), %.1f%% of a fixed limiter's accepted rate (want %.0f%% at least); %d cuts, %d restores",
						seed, s.requests, s.sent(), 100*sent, 100*tt.minSent, 100*ofFixed, 100*tt.minOfFixed, s.cuts, s.restores)
				}
			}
		})
	}
}

// The statistics the verdicts rest on.
func TestAdaptiveStatistics(t *testing.T) {
	t.Parallel()
	binomial := []struct {
		n, k int
		p    float64
		want float64
	}{
		{10, 0, 0.3, 1},
		{10, 1, 0.5, 1 - math.Pow(0.5, 10)},
		{3, 3, 0.5, 0.125},
		{4, 5, 0.5, 0},
		{4, 1, 0, 0},
		{20, 2, 0.1, 1 - math.Pow(0.9, 20) - 20*0.1*math.Pow(0.9, 19)},
	}
	for _, tt := range binomial {
		if got := binomialTail(tt.n, tt.k, tt.p); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("binomialTail(%d, %d, %v) = %v, want %v", tt.n, tt.k, tt.p, got, tt.want)
		}
	}
	fisher := []struct {
		above, check tally
		want         float64
	}{
		{tally{n: 10, k: 0}, tally{n: 10, k: 5}, 1},      // no 429 above: nothing to explain
		{tally{n: 1, k: 1}, tally{n: 1, k: 0}, 0.5},      // one 429 in two answers, above by chance half the time
		{tally{n: 3, k: 3}, tally{n: 5, k: 0}, 1.0 / 56}, // all three 429s of eight answers above: 1 in C(8,3)
		{tally{n: 28, k: 3}, tally{n: 150, k: 0}, 3276.0 / 924176},
		{tally{n: 2, k: 1}, tally{n: 2, k: 1}, 5.0 / 6}, // two 429s of four answers: not both below, 5 times in 6
	}
	for _, tt := range fisher {
		if got := fisherTail(tt.above, tt.check); math.Abs(got-tt.want) > 1e-4 {
			t.Errorf("fisherTail(%v, %v) = %v, want %v", tt.above, tt.check, got, tt.want)
		}
	}
}

// The limiter's steps, answer by answer on a fake clock.
func TestAdaptiveLimiterSteps(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		ceiling float64
		// answers: every interval, one request sent and answered at once, 429 when its index is in throttled
		interval  time.Duration
		answers   int
		throttled func(i int) bool
		wantLimit func(t *testing.T, a *AdaptiveLimiter)
	}{
		{"no 429: the ceiling", 10, 100 * time.Millisecond, 200, func(int) bool { return false }, func(t *testing.T, a *AdaptiveLimiter) {
			if a.Limit() != 10 || a.Cuts() != 0 {
				t.Errorf("rate %v after %d cuts, want 10 and none", a.Limit(), a.Cuts())
			}
		}},
		{"an infinite ceiling never adapts", math.Inf(1), time.Millisecond, 100, func(int) bool { return true }, func(t *testing.T, a *AdaptiveLimiter) {
			if !math.IsInf(a.Limit(), 1) || a.Cuts() != 0 {
				t.Errorf("rate %v after %d cuts, want +Inf and none", a.Limit(), a.Cuts())
			}
		}},
		{"a first 429 cuts to what the API accepted", 100, 50 * time.Millisecond, 21, func(i int) bool { return i == 20 }, func(t *testing.T, a *AdaptiveLimiter) {
			// The latest 20 answers, 50 ms apart, the 429 the last of them: 19 accepted (and
			// one more counted) in the 0.95 s between the first and the last, at 97%.
			if want := 0.97 * 20 / 0.95; a.Cuts() != 1 || math.Abs(a.Limit()-want) > 1e-9 {
				t.Errorf("rate %v after %d cuts, want %v after 1", a.Limit(), a.Cuts(), want)
			}
		}},
		{"429s at the same share at every rate: restored", 20, 50 * time.Millisecond, 400, func(i int) bool { return i%10 == 9 }, func(t *testing.T, a *AdaptiveLimiter) {
			if a.Limit() != 20 || a.Restores() == 0 || math.Abs(a.Baseline()-0.1) > 0.03 {
				t.Errorf("rate %v after %d cuts and %d restores, baseline %v; want 20, restored, about 0.1", a.Limit(), a.Cuts(), a.Restores(), a.Baseline())
			}
		}},
		{"429s that stop below the rate: kept", 20, 50 * time.Millisecond, 400, func(i int) bool { return i >= 20 && i < 40 && i%3 == 0 }, func(t *testing.T, a *AdaptiveLimiter) {
			if a.Limit() >= 20 || a.Restores() != 0 {
				t.Errorf("rate %v after %d cuts and %d restores; want below 20, kept", a.Limit(), a.Cuts(), a.Restores())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := start
			a := NewAdaptiveLimiter(tt.ceiling, 1, func() time.Time { return now }, nil)
			for i := range tt.answers {
				now = now.Add(tt.interval)
				status := http.StatusOK
				if tt.throttled(i) {
					status = http.StatusTooManyRequests
				}
				a.Observe(now, status)
				if a.Limit() > tt.ceiling {
					t.Fatalf("answer %d: rate %v above the ceiling %v", i, a.Limit(), tt.ceiling)
				}
			}
			tt.wantLimit(t, a)
		})
	}
}
