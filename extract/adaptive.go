package extract

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// AdaptiveLimiter is the rate limiter of a run: it lets requests go at the configured rate (its
// ceiling, never exceeded) until the API answers 429 more often than it does anyway, then finds
// the rate the API really accepts; and it goes back up when the 429s turn out not to depend on
// the rate (an API's load shedding, a sandbox's injected faults). See the package documentation
// for the rules.
//
// *AdaptiveLimiter is safe for concurrent use; one serves every request of a run, retries
// included.
type AdaptiveLimiter struct {
	limiter *rate.Limiter
	ceiling rate.Limit
	burst   int
	now     func() time.Time
	log     *logrus.Entry

	mu       sync.Mutex
	recent   [adaptiveWindow]answer // ring of the latest answers, in the order they came
	next     int                    // where the next answer goes in the ring
	level    level                  // the answers of the current rate
	ep       *episode               // the episode under way, nil between episodes
	base     tally                  // the answers of every check: the baseline share of 429s
	kept     []keptCut              // the episodes that kept their cut, latest last
	owed     rate.Limit             // the rate a capped restore still has to go back to
	cuts     int                    // times the rate went down on 429s
	restores int                    // times the 429s turned out random and the rate went back up
}

// answer is one answer the limiter was told about.
type answer struct {
	at        time.Time
	throttled bool
}

// tally counts answers and the 429s among them.
type tally struct{ n, k int }

func (t *tally) add(throttled bool) {
	t.n++
	if throttled {
		t.k++
	}
}

func (t *tally) addAll(o tally) { t.n, t.k = t.n+o.n, t.k+o.k }

// String is "k/n", the 429s among the answers.
func (t tally) String() string { return strconv.Itoa(t.k) + "/" + strconv.Itoa(t.n) }

// round2 rounds x to two decimals, for a log line.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// addEnded adds the answers of a sample that a 429 ended, that 429 left out: it was picked for
// being one, and would make the share look higher than it is.
func (t *tally) addEnded(o tally) { t.n, t.k = t.n+o.n-1, t.k+o.k-1 }

// level is what is known of the current rate: since when it holds and its answers, by the time
// their request was sent.
type level struct {
	start    time.Time
	all      tally
	accepted int           // answers of the level not 429
	lastSent time.Time     // the latest time a request of the level was sent
	since429 int           // answers of the level since its latest 429
	asked    time.Duration // the wait that 429 asked for (negative: none said)
	steady   int           // answers since the level started, or since a pause in sending
	check    tally         // the answers after the first adaptiveSettle steady ones
	first    tally         // the first adaptiveCheckMin of them: a sample of fixed length, for the baseline
	restored bool          // the rate an episode went back to
	below    rate.Limit    // from which, when restored
}

// episode is what a run of 429s taught so far.
type episode struct {
	start       time.Time  // when the request answered by the 429 that started it was sent
	answered    time.Time  // when that 429 came back: nothing sent since can have reached the API before it
	from        rate.Limit // the rate to restore when the 429s turn out random
	accepted    float64    // answers accepted whose request was sent since start (half for those in flight at answered)
	above       tally      // the episode's answers at rates above the current one
	sent        int        // answers whose request was sent since start
	paused      bool       // sending paused right after a 429 that asked for a wait: the API's 429s, not the demand, set the pace
	refinements int
	recuts      int   // checks that led to another cut
	lastCheck   tally // the latest of them
	checked     tally // their first adaptiveCheckMin answers, and those of checks a refinement cut short: for the baseline if the episode restores
}

// keptCut is an episode that kept its cut: the rate before it, and the answers above its check
// that made the 429s look like the rate's.
type keptCut struct {
	from  rate.Limit
	rate  rate.Limit // the rate kept
	above tally
}

const (
	adaptiveWindow          = 50                     // answers a cluster of 429s is looked for in
	adaptiveSpan            = 2 * time.Second        // the recent past the accepted rate is measured over, at most
	adaptiveRateAnswers     = 20                     // the latest answers it is measured over
	adaptiveRateMin         = 10                     // and how many of them at least
	adaptiveMargin          = 0.97                   // a cut goes to this fraction of the rate measured
	adaptiveBound           = 0.8                    // requests went at the limiter's rate when at this fraction of it at least
	adaptiveRefineMin       = 2                      // answers of a level before a 429 may refine it
	adaptiveMeasure         = 300 * time.Millisecond // a refinement measures the API's limit over this long at least
	adaptiveMeasureMin      = 5                      // and over this many accepted answers
	adaptiveRefinements     = 4                      // refinements of one episode at most
	adaptiveRecuts          = 3                      // cuts after a check, in one episode at most
	adaptiveRefineGap       = 0.8                    // a refinement goes below this fraction of the rate, or not at all
	adaptiveRefineFar       = 0.5                    // below this fraction, it need not wait for a long measure
	adaptivePrior           = 0.05                   // the share of 429s a level must clearly exceed to be refined
	adaptiveSettle          = 10                     // steady answers of a level before its check starts
	adaptiveCheckMin        = 20                     // answers of a check before it may find its 429s random
	adaptiveCheckKeep       = 40                     // answers of a check when it may keep the cut (and at adaptiveCheckMax)
	adaptiveCheckMax        = 150                    // answers of a check that decides whatever it found
	adaptiveRestoreMax      = 2                      // a restore goes this many times the rate at most
	adaptiveRestoreAfter    = 50                     // answers of a restored level without too many 429s before it goes on up
	adaptiveUndoBase        = 100                    // answers the baseline rests on, at least, to undo a kept cut
	adaptiveUndoP           = 0.05                   // and the chance of the cut's 429s above at the baseline share, at least
	adaptiveKept            = 8                      // kept cuts remembered, to undo when the baseline explains them
	adaptivePause           = 250 * time.Millisecond // a pause in sending is longer than this
	adaptivePauses          = 3                      // and than this many intervals of the rate
	adaptivePauseAfter      = 8                      // and comes this many answers after a 429 at most
	adaptiveKeepP           = 0.01                   // how unlikely the 429s above a check must be, were the shares equal, to keep the cut
	adaptiveKeepLongP       = 0.05                   // the same, for a check of adaptiveCheckMax answers without a 429
	adaptiveKeepLongOneP    = 0.02                   // the same, when there was a single 429 above
	adaptiveRecutP          = 0.05                   // how unlikely a check's 429s must be, were its share the next one's, to cut again
	adaptiveProbeLimitAfter = 1000                   // the same, to go above the limit a kept cut measured
	adaptiveProbeAfter      = 300                    // answers of a level before trying a higher rate
	adaptiveStep            = 1.02                   // how much higher a probe tries
	adaptiveFloor           = 0.1                    // never below this many requests per second
	adaptiveClusterZ        = 3                      // standard deviations above the baseline that make a cluster
	adaptiveCheckZ          = 1                      // standard deviations above the baseline that make a check's 429s too many
	adaptiveRefineZ         = 2                      // standard deviations above adaptivePrior (or the baseline) that refine a cut
	adaptiveMaxBaseline     = 0.5                    // the baseline share taken out of a measured rate at most
)

// NewAdaptiveLimiter returns a limiter of r requests per second (the ceiling it never goes above)
// and burst b. now is its clock (nil: time.Now); log (nil: discarded) receives a debug line for
// every change of rate.
func NewAdaptiveLimiter(r float64, b int, now func() time.Time, log *logrus.Entry) *AdaptiveLimiter {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = DiscardLog()
	}
	a := &AdaptiveLimiter{limiter: rate.NewLimiter(rate.Limit(r), b), ceiling: rate.Limit(r), burst: b, now: now, log: log}
	a.level.start, a.level.since429 = now(), adaptivePauseAfter+1
	return a
}

// Wait blocks until the limiter lets a request go, or ctx ends.
func (a *AdaptiveLimiter) Wait(ctx context.Context) error { return a.limiter.Wait(ctx) }

// Limit is the rate the limiter lets requests go at now, in requests per second.
func (a *AdaptiveLimiter) Limit() float64 { return float64(a.limiter.Limit()) }

// Ceiling is the configured rate, which the limiter never goes above.
func (a *AdaptiveLimiter) Ceiling() float64 { return float64(a.ceiling) }

// Cuts is how many times 429s lowered the rate.
func (a *AdaptiveLimiter) Cuts() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cuts
}

// Restores is how many times the limiter found that 429s did not depend on the rate and went
// back to the rate it had before cutting.
func (a *AdaptiveLimiter) Restores() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.restores
}

// Baseline is the share of 429s the API answered below the rate it accepted (429s that do not
// depend on the rate), as the checks found it: with no check yet, 0.
func (a *AdaptiveLimiter) Baseline() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.baseline()
}

// baseline is the share of 429s expected whatever the rate: the checks' share (0 before the first
// check).
func (a *AdaptiveLimiter) baseline() float64 {
	if a.base.n == 0 {
		return 0
	}
	return float64(a.base.k) / float64(a.base.n)
}

// clock is the time a request is sent at, for Observe (RateLimitTransport reads it).
func (a *AdaptiveLimiter) clock() time.Time { return a.now() }

// Observe is told, for every answer of the API, when its request was sent (after the limiter let
// it go) and the answer's HTTP status. RateLimitTransport tells it more (observe).
func (a *AdaptiveLimiter) Observe(sent time.Time, status int) { a.observe(sent, status, -1) }

// observe is Observe with the wait a 429 asked for in its Retry-After (negative: none said).
func (a *AdaptiveLimiter) observe(sent time.Time, status int, asked time.Duration) {
	if math.IsInf(float64(a.ceiling), 1) {
		return
	}
	now := a.now()
	throttled := status == http.StatusTooManyRequests
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recent[a.next] = answer{at: now, throttled: throttled}
	a.next = (a.next + 1) % adaptiveWindow
	if a.ep != nil && sent.After(a.ep.start) {
		a.ep.sent++
		switch {
		case throttled:
		case sent.After(a.ep.answered):
			a.ep.accepted++
		default:
			a.ep.accepted += 0.5 // it may have reached the API before that 429, or after
		}
		if sent.Before(a.level.start) {
			a.ep.above.add(throttled) // in flight when the episode cut the rate
		}
	}
	if sent.Before(a.level.start) {
		return // sent at an earlier rate: it tells nothing of this one
	}
	l := &a.level
	l.all.add(throttled)
	if !throttled {
		l.accepted++
	}
	pause := max(adaptivePause, time.Duration(adaptivePauses*float64(time.Second)/float64(a.limiter.Limit())))
	if sent.Sub(l.lastSent) > pause && l.since429 <= adaptivePauseAfter && (l.asked < 0 || l.asked >= pause) {
		// Nothing was sent for a while right after a 429 that asked for a wait, or did not
		// say (429s made every worker wait their Retry-After, or back off): the API's bucket
		// filled up meanwhile, and answers without 429 prove little until it is empty again.
		l.steady, l.check, l.first = 0, tally{}, tally{}
		if a.ep != nil {
			a.ep.paused = true
		}
	}
	if throttled {
		l.since429, l.asked = 0, asked
	} else {
		l.since429++
	}
	if sent.After(l.lastSent) {
		l.lastSent = sent
	}
	l.steady++
	if l.steady > adaptiveSettle {
		l.check.add(throttled)
		if l.check.n <= adaptiveCheckMin {
			l.first.add(throttled)
		}
	}
	if a.ep == nil {
		a.between(now, sent, throttled)
		return
	}
	a.during(now, sent, throttled)
}

// between handles an answer of the current level when no episode is under way: a cluster of
// 429s starts one, and a level without one is probed higher now and then.
func (a *AdaptiveLimiter) between(now, sent time.Time, throttled bool) {
	current := a.limiter.Limit()
	if throttled {
		if a.cluster() {
			a.startEpisode(now, sent, current)
		}
		return
	}
	switch {
	case a.owed > current && a.level.restored && a.level.all.n >= adaptiveRestoreAfter && !a.excess(a.level.all, adaptiveCheckZ):
		a.restore(now, a.owed)
	case current < a.ceiling && a.level.all.n >= a.probeAfter(current) && !a.excess(a.level.all, adaptiveCheckZ):
		a.setRate(now, min(a.ceiling, current*adaptiveStep), false)
	}
}

// probeAfter is how many answers a level at rate r needs before a probe: adaptiveProbeAfter, or
// adaptiveProbeLimitAfter when the probe would go above the limit the latest kept cut measured
// (it is likely still there).
func (a *AdaptiveLimiter) probeAfter(r rate.Limit) int {
	if n := len(a.kept); n > 0 && r*adaptiveStep > a.kept[n-1].rate/adaptiveMargin {
		return adaptiveProbeLimitAfter
	}
	return adaptiveProbeAfter
}

// startEpisode cuts the rate on a cluster of 429s, to what the API accepted lately.
func (a *AdaptiveLimiter) startEpisode(now, sent time.Time, current rate.Limit) {
	a.ep = &episode{start: sent, answered: now, from: max(current, a.owed)}
	if a.level.restored {
		// The rate an episode went back to: its answers up to this 429 tell how often the API
		// refuses it. That 429 counts: sampling until a 429, n answers hold k of them or more
		// exactly when the k-th comes within n answers, so the tests take such samples as
		// they are (refinements and checks end on more than a 429, and leave theirs out).
		a.ep.above.addAll(a.level.all)
	}
	target := current
	if r, ok := a.acceptedRate(now); ok {
		target = min(current, a.target(r))
	}
	if a.level.restored && a.level.all.n < adaptiveRestoreAfter {
		// The 429s came back soon after the rate went back up: down to the rate whose check
		// had found too few to tell.
		target = min(target, a.level.below)
	}
	a.setRate(now, target, true)
}

// during handles an answer of the current level within an episode: a 429 may refine the cut, and
// the level's check may decide the episode.
func (a *AdaptiveLimiter) during(now, sent time.Time, throttled bool) {
	ep, l := a.ep, &a.level
	current := a.limiter.Limit()
	if throttled && ep.refinements < adaptiveRefinements && l.all.n >= adaptiveRefineMin && a.refinable(l.all) {
		// The API's bucket was empty when the episode started and is again now: the answers
		// it accepted since are its limit times the time, give or take one (a request sent
		// before the 429 that started it came back may have reached the API first, and taken
		// a token from before the bucket was empty: it counts half). That holds while
		// requests went at the limiter's rate, or the 429s made every worker wait their
		// Retry-After: when they come slower for no such reason, what the API accepted is
		// what was asked of it. Only a large correction is made (random 429s,
		// the baseline taken out, never call for one), and over a long enough measure unless
		// it is very large.
		span := sent.Sub(ep.start)
		measured := (ep.accepted + 0.5) / span.Seconds()
		target := a.target(measured)
		measuredWell := span >= adaptiveMeasure && ep.accepted >= adaptiveMeasureMin
		bound := float64(ep.sent) >= adaptiveBound*float64(current)*span.Seconds()
		if (bound || ep.paused) && target < adaptiveRefineGap*current && (measuredWell || target < adaptiveRefineFar*current) {
			ep.above.addEnded(l.all)
			if l.first.n > 0 && l.first.n < adaptiveCheckMin {
				ep.checked.addEnded(l.first) // a check this 429 cut short
			} else {
				ep.checked.addAll(l.first)
			}
			ep.refinements++
			a.setRate(now, target, true)
			return
		}
	}
	c := l.check
	if c.n < adaptiveCheckMin {
		return
	}
	switch {
	case c.k >= 2 && a.excess(c, adaptiveCheckZ):
		// More 429s than the baseline explains at this rate too. The first time, or when the
		// last cut lowered their share from the check before, the rate may still be above the
		// API's limit, which the check measured: one more cut tells. Otherwise the 429s do not
		// depend on the rate.
		if ep.recuts < adaptiveRecuts && (ep.recuts == 0 || fisherTail(ep.lastCheck, c) < adaptiveRecutP) {
			measured := float64(l.accepted) / now.Sub(l.start).Seconds()
			if r, ok := a.acceptedRate(now); ok && r > measured {
				measured = r // requests came in bursts: a cut must not hold a burst back
			}
			if throttled {
				ep.above.addEnded(l.all)
			} else {
				ep.above.addAll(l.all)
			}
			ep.recuts++
			ep.lastCheck = c
			ep.checked.addAll(l.first)
			a.setRate(now, min(adaptiveMargin*current, a.target(measured)), true)
			return
		}
		a.verdict(now, false)
	case c.n >= adaptiveCheckKeep && (c.n == adaptiveCheckKeep || throttled || c.n >= adaptiveCheckMax):
		// A check is tested for keeping the cut when it reaches adaptiveCheckKeep answers, and
		// after that only on a 429 or at adaptiveCheckMax: testing it after every answer would
		// keep a cut on any lucky run without 429. One with two 429s or more that is not
		// clearly below the rates above ends the episode; one with fewer goes on, for more
		// evidence (a rate just above the API's limit may show its first 429 late, once a
		// bucket filled meanwhile is empty again), to adaptiveCheckMax, where less is asked of
		// one without a 429.
		p := adaptiveKeepP
		if c.n >= adaptiveCheckMax && c.k == 0 {
			p = adaptiveKeepLongP
			if ep.above.k < 2 {
				p = adaptiveKeepLongOneP // one 429 above proves little unless it came at once
			}
		}
		switch {
		case fisherTail(ep.above, c) < p:
			a.verdict(now, true)
		case c.k > 1 || c.n >= adaptiveCheckMax:
			a.verdict(now, false)
		}
	}
}

// verdict ends the episode: the rate is kept, or goes back to where it was before the episode.
// The first adaptiveCheckMin answers of the checks join the baseline (whole checks would not do:
// a check ends sooner the more 429s it has): every check's of the episode when the 429s went on
// at the lowest rate (they were random), else the last check's only (those before may have been
// above the API's limit). Cuts kept
// earlier that the baseline now explains (their 429s above were not too many for it) are undone
// too, latest first. A restore goes adaptiveRestoreMax times higher at most (random 429s do not
// cut that deep; a limit far below, whose evidence was too weak yet, then costs fewer 429s), and
// on up after adaptiveRestoreAfter answers without too many 429s.
func (a *AdaptiveLimiter) verdict(now time.Time, keep bool) {
	ep, c := a.ep, a.level.check
	a.base.addAll(a.level.first)
	if !keep && c.k > 0 {
		a.base.addAll(ep.checked)
	}
	a.ep = nil
	a.log.WithFields(logrus.Fields{
		"rate": round2(float64(a.limiter.Limit())), "from": round2(float64(ep.from)), "kept": keep,
		"above": ep.above.String(), "check": c.String(), "baseline": round2(a.baseline()),
	}).Debug("rate episode ended")
	if keep {
		a.owed = 0
		if len(a.kept) == adaptiveKept {
			a.kept = a.kept[1:]
		}
		a.kept = append(a.kept, keptCut{from: ep.from, rate: a.limiter.Limit(), above: ep.above})
		return
	}
	to := max(a.limiter.Limit(), ep.from)
	for len(a.kept) > 0 {
		k := a.kept[len(a.kept)-1]
		if a.base.n < adaptiveUndoBase || binomialTail(k.above.n, k.above.k, a.baseline()) < adaptiveUndoP {
			break
		}
		to = max(to, k.from)
		a.kept = a.kept[:len(a.kept)-1]
	}
	a.restores++
	a.restore(now, to)
}

// restore goes back up towards rate r, adaptiveRestoreMax times higher at most; the rest is owed,
// for when the level shows no more 429s than the baseline explains.
func (a *AdaptiveLimiter) restore(now time.Time, r rate.Limit) {
	a.owed = r
	below := a.limiter.Limit()
	a.setRate(now, min(r, adaptiveRestoreMax*below), false)
	a.level.restored, a.level.below = true, below
}

// binomialTail is the chance of k or more 429s among n answers when each is one with chance p.
func binomialTail(n, k int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	if k > n || p <= 0 {
		return 0
	}
	term := math.Pow(1-p, float64(n)) // the chance of none
	below := 0.0
	for i := 0; i < k; i++ {
		below += term
		term *= float64(n-i) / float64(i+1) * p / (1 - p)
	}
	return max(0, 1-below)
}

// target is the rate a cut goes to when the API accepted measured requests per second: the
// baseline share of 429s is taken out (those would have been accepted at a lower rate no more),
// and a margin below.
func (a *AdaptiveLimiter) target(measured float64) rate.Limit {
	p := min(a.baseline(), adaptiveMaxBaseline)
	return rate.Limit(adaptiveMargin * measured / (1 - p))
}

// setRate starts a new level at rate r (kept within the floor and the ceiling); a cut also sets
// the burst to one, and the ceiling gets the configured burst back.
func (a *AdaptiveLimiter) setRate(now time.Time, r rate.Limit, cut bool) {
	r = min(max(r, min(a.ceiling, adaptiveFloor)), a.ceiling)
	a.log.WithFields(logrus.Fields{
		"from": round2(float64(a.limiter.Limit())), "rate": round2(float64(r)), "cut": cut, "answers": a.level.all.String(),
	}).Debug("rate changed")
	a.limiter.SetLimitAt(now, r)
	switch {
	case cut:
		a.limiter.SetBurstAt(now, 1)
		a.cuts++
	case r == a.ceiling:
		a.limiter.SetBurstAt(now, a.burst)
	}
	a.level = level{start: now, lastSent: now, since429: a.level.since429, asked: a.level.asked}
}

// cluster tells whether the 429s among the latest answers are more than the baseline explains.
func (a *AdaptiveLimiter) cluster() bool {
	var t tally
	for _, r := range a.recent {
		if !r.at.IsZero() {
			t.add(r.throttled)
		}
	}
	return a.excess(t, adaptiveClusterZ)
}

// excess tells whether t has more 429s than the baseline share explains, by z standard
// deviations (0: more than the share itself); while the checks found no 429, any is too many.
func (a *AdaptiveLimiter) excess(t tally, z float64) bool {
	p := a.baseline()
	n := float64(t.n)
	return float64(t.k) > p*n+z*math.Sqrt(p*(1-p)*n)
}

// refinable tells whether a level has more 429s than could be random: before the first check,
// any; after it, adaptiveRefineZ standard deviations above the baseline, or adaptivePrior when
// that is higher.
func (a *AdaptiveLimiter) refinable(t tally) bool {
	if a.base.n == 0 {
		return t.k > 0
	}
	p := max(a.baseline(), adaptivePrior)
	n := float64(t.n)
	return float64(t.k) > p*n+adaptiveRefineZ*math.Sqrt(p*(1-p)*n)
}

// fisherTail is how likely it is, were 429s as frequent above a check as in it, that at least as
// many of them fall among the answers above (Fisher's exact test, one-sided): the smaller, the
// surer that the 429s were the rate's.
func fisherTail(above, check tally) float64 {
	if above.k == 0 {
		return 1
	}
	n, k, draws := above.n+check.n, above.k+check.k, above.n
	total := lchoose(n, draws)
	var p float64
	for x := above.k; x <= min(draws, k); x++ {
		p += math.Exp(lchoose(k, x) + lchoose(n-k, draws-x) - total)
	}
	return min(p, 1)
}

// lchoose is the logarithm of n choose k.
func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// acceptedRate is the rate of accepted answers among the latest adaptiveRateAnswers (those of
// the last adaptiveSpan at most), over the time they took, counting one more (a measure that errs
// on the high side, so that a cut to it is never too deep); and whether there were enough of them
// to measure it (adaptiveRateMin). The time is that between answers, each gap adaptivePause at
// most: when requests come in bursts (the API is not what holds them back), the rate of a burst,
// not the average with the pauses between, is what a cut must not hold back.
func (a *AdaptiveLimiter) acceptedRate(now time.Time) (float64, bool) {
	since := now.Add(-adaptiveSpan)
	var n, accepted int
	var span time.Duration
	later := now
	for i := 1; i <= adaptiveRateAnswers; i++ {
		r := a.recent[(a.next-i+adaptiveWindow)%adaptiveWindow]
		if r.at.IsZero() || !r.at.After(since) {
			break
		}
		n++
		if !r.throttled {
			accepted++
		}
		if n > 1 {
			span += min(later.Sub(r.at), adaptivePause)
		}
		later = r.at
	}
	if n < adaptiveRateMin || accepted == 0 || span <= 0 {
		return 0, false
	}
	return float64(accepted+1) / span.Seconds(), true
}
