package extract

import (
	"context"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AdaptiveLimiter is the rate limiter of a run: it lets requests go at the configured rate (its
// ceiling) until the API answers 429, and then finds the API's real limit instead of being
// throttled all run long.
//
// A 429 starts an episode: the limiter goes down at once to adaptiveMargin of the rate of the
// answers it accepted over the last adaptiveSpan (half its rate when too few were accepted to
// measure), with a burst of one. From then on the API's bucket is empty, so the API accepts
// requests at exactly its own rate: a 429 at least adaptiveMeasure after the last cut lowers the
// rate to adaptiveMargin of the rate accepted since the episode began. Requests in flight that
// meet the same 429 cut once. Every adaptiveProbeAfter accepted answers without a 429 the limiter
// tries adaptiveStep more, up to the ceiling, so that a limit that was lifted, or measured low, is
// found again. A limiter whose ceiling is infinite never adapts.
//
// *AdaptiveLimiter is safe for concurrent use; one serves every request of a run, retries
// included.
type AdaptiveLimiter struct {
	limiter *rate.Limiter
	ceiling rate.Limit
	now     func() time.Time

	mu           sync.Mutex
	accepted     [adaptiveWindow]time.Time // ring of the latest accepted answers
	next         int                       // where the next accepted answer goes in the ring
	sinceChange  int                       // accepted answers since the rate last changed
	episode      time.Time                 // when the current episode of 429s began
	lastCut      time.Time                 // when a 429 last lowered the rate
	sinceEpisode int                       // accepted answers since the episode began
	cuts         int
}

const (
	adaptiveWindow     = 256                    // accepted answers remembered
	adaptiveSpan       = 2 * time.Second        // the recent past the accepted rate is measured over
	adaptiveEpisode    = 10 * time.Second       // a 429 this long after an episode began starts another
	adaptiveMeasure    = 150 * time.Millisecond // the shortest measure of the API's rate in an episode
	adaptiveMargin     = 0.97                   // a cut goes to this fraction of the accepted rate
	adaptiveProbeAfter = 100                    // accepted answers before trying a higher rate
	adaptiveStep       = 1.02                   // how much higher a probe tries
	adaptiveFloor      = 0.1                    // never below this many requests per second
	adaptiveFallback   = 0.5                    // a first cut with no measurable accepted rate halves the rate
	adaptiveMinSpan    = 100 * time.Millisecond // shorter measurements are too noisy to trust
)

// NewAdaptiveLimiter returns a limiter of r requests per second (the ceiling it never goes above)
// and burst b. now is its clock (nil: time.Now).
func NewAdaptiveLimiter(r float64, b int, now func() time.Time) *AdaptiveLimiter {
	if now == nil {
		now = time.Now
	}
	return &AdaptiveLimiter{limiter: rate.NewLimiter(rate.Limit(r), b), ceiling: rate.Limit(r), now: now}
}

// Wait blocks until the limiter lets a request go, or ctx ends.
func (a *AdaptiveLimiter) Wait(ctx context.Context) error { return a.limiter.Wait(ctx) }

// Limit is the rate the limiter lets requests go at now, in requests per second.
func (a *AdaptiveLimiter) Limit() float64 { return float64(a.limiter.Limit()) }

// Cuts is how many times a 429 lowered the rate.
func (a *AdaptiveLimiter) Cuts() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cuts
}

// Observe is told the HTTP status of every answer the API sent (RateLimitTransport calls it).
func (a *AdaptiveLimiter) Observe(status int) {
	if math.IsInf(float64(a.ceiling), 1) {
		return
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	current := a.limiter.Limit()
	if status != http.StatusTooManyRequests {
		a.accepted[a.next] = now
		a.next = (a.next + 1) % adaptiveWindow
		a.sinceChange++
		a.sinceEpisode++
		if current < a.ceiling && a.sinceChange >= adaptiveProbeAfter {
			a.limiter.SetLimitAt(now, min(a.ceiling, current*adaptiveStep))
			a.sinceChange = 0
		}
		return
	}
	var target rate.Limit
	switch {
	case a.episode.IsZero() || now.Sub(a.episode) >= adaptiveEpisode:
		// A new episode: what was accepted lately is an upper bound of the API's rate.
		target = current * adaptiveFallback
		if r, ok := a.acceptedRate(now); ok && r*adaptiveMargin < current {
			target = r * adaptiveMargin
		}
		a.episode, a.sinceEpisode = now, 0
	case now.Sub(a.lastCut) >= adaptiveMeasure:
		// Within an episode the API's bucket is empty: it accepts at its own rate. n accepted
		// answers in T say the rate is between n/T and (n+1)/T: the middle is taken, and the
		// next 429 of the episode measures again, over a longer time.
		measured := rate.Limit((float64(a.sinceEpisode) + 0.5) / now.Sub(a.episode).Seconds())
		if measured*adaptiveMargin >= current {
			return
		}
		target = measured * adaptiveMargin
	default:
		return // a request that was in flight when the rate was cut
	}
	target = max(target, min(a.ceiling, adaptiveFloor))
	a.limiter.SetLimitAt(now, target)
	a.limiter.SetBurstAt(now, 1)
	a.lastCut, a.sinceChange = now, 0
	a.cuts++
}

// acceptedRate is the rate of accepted answers over the last adaptiveSpan (or since the first one
// remembered, when that is later), and whether there were enough of them to measure it.
func (a *AdaptiveLimiter) acceptedRate(now time.Time) (rate.Limit, bool) {
	since := now.Add(-adaptiveSpan)
	var n int
	first := now
	for _, t := range a.accepted {
		if t.IsZero() || !t.After(since) {
			continue
		}
		n++
		if t.Before(first) {
			first = t
		}
	}
	span := now.Sub(first)
	if n < 2 || span < adaptiveMinSpan {
		return 0, false
	}
	return rate.Limit(float64(n) / span.Seconds()), true
}
