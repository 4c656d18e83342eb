package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Sleeper waits for d or until ctx is done, whichever comes first; it returns ctx.Err() when ctx
// ended the wait. Tests inject one that records the waits and returns at once.
type Sleeper func(ctx context.Context, d time.Duration) error

// SleepContext is the default Sleeper: a timer that stops at once when ctx is done.
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// BackoffObserver is told about every wait before a retry: the attempt that failed (from 1), its
// HTTP status (0 for a network error or timeout) and how long the transport is about to wait. A
// progress display uses it to show "backing off on 429". It must return quickly.
type BackoffObserver func(attempt, status int, wait time.Duration)

// Limiter is what RateLimitTransport needs of a rate limiter; *rate.Limiter implements it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// RateLimitTransport is an http.RoundTripper that waits for the limiter before every request it
// passes on. One limiter is shared by everything in a run, retries included.
type RateLimitTransport struct {
	next    http.RoundTripper
	limiter Limiter
}

// NewRateLimitTransport returns a RateLimitTransport sending through next.
func NewRateLimitTransport(next http.RoundTripper, limiter Limiter) *RateLimitTransport {
	return &RateLimitTransport{next: next, limiter: limiter}
}

// answerObserver is a limiter that wants to know when each request it let go was sent and how
// the API answered it (*AdaptiveLimiter).
type answerObserver interface {
	clock() time.Time
	observe(sent time.Time, status int, asked time.Duration)
}

// RoundTrip waits for the limiter (or the request's context) and sends the request; a limiter that
// observes answers (*AdaptiveLimiter) is told when the request was sent, the answer's status and
// the wait its Retry-After asks for.
func (t *RateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limiter.Wait(req.Context()); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &limiterError{err: err}
	}
	o, observes := t.limiter.(answerObserver)
	if !observes {
		return t.next.RoundTrip(req)
	}
	sent := o.clock()
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		asked := time.Duration(-1)
		if wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), sent); ok {
			asked = wait
		}
		o.observe(sent, resp.StatusCode, asked)
	}
	return resp, err
}

// limiterError is a wait for the rate limiter that failed: the context ended, or its deadline
// comes before the limiter would let the request go. The request was not sent; retrying is moot.
type limiterError struct{ err error }

func (e *limiterError) Error() string { return "waiting for the rate limiter: " + e.err.Error() }
func (e *limiterError) Unwrap() error { return e.err }

// DefaultMaxRetryAfter caps how long a Retry-After header can make the transport wait.
const DefaultMaxRetryAfter = 10 * time.Minute

// DefaultMaxBodyBytes caps the size of one response body (a page of 100 transactions is a few MB).
const DefaultMaxBodyBytes = 256 << 20

// RetryConfig shapes a RetryTransport. Zero fields take the defaults named on each.
type RetryConfig struct {
	// MaxAttempts caps the attempts of one request, the first included (default and minimum 1).
	MaxAttempts int
	// BackoffBase and BackoffMax shape the capped exponential backoff with full jitter used when
	// the API sent no Retry-After: the wait after attempt n is uniform in
	// [0, min(BackoffMax, BackoffBase·2^(n-1))).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxRetryAfter caps a Retry-After (default DefaultMaxRetryAfter). A Retry-After above
	// BackoffMax is honoured, and logged.
	MaxRetryAfter time.Duration
	// MaxBodyBytes caps one response body (default DefaultMaxBodyBytes); a larger body fails the
	// request.
	MaxBodyBytes int64
	// Sleeper waits between attempts (default SleepContext).
	Sleeper Sleeper
	// Rand returns a number in [0, 1) for the jitter (default math/rand/v2's Float64). Calls are
	// serialised, so a *rand.Rand's Float64 may be given.
	Rand func() float64
	// Now is the clock for Retry-After dates (default time.Now).
	Now func() time.Time
	// OnBackoff, when set, is told about every wait.
	OnBackoff BackoffObserver
	// ValidateBody, when set, checks the body of every 2xx answer; an error makes the attempt fail
	// with ErrInvalidBody and be retried like a 5xx.
	ValidateBody func(ctx context.Context, body []byte) error
	// Log receives a debug line per retry and a warning when giving up (default: discarded).
	Log *logrus.Entry
}

// RetryTransport is an http.RoundTripper that retries 429, 5xx, network errors and invalid 2xx
// bodies with capped exponential backoff and full jitter, honouring Retry-After (seconds or an
// HTTP date), up to MaxAttempts attempts. Any other status (400, 401, 403, 404, 422, ...) is
// returned at once. It reads every body into memory, so that a body cut short is retried too;
// the response it returns has its whole body buffered.
//
// When the attempts run out on a status, the last response is returned as it is (the caller turns
// it into an APIError); on a network error or an invalid body, the last error is returned. A
// cancelled context stops the waiting at once and returns the context's error.
//
// Wrap a RateLimitTransport with it, so that retries are throttled too. It is safe for concurrent
// use; its counters are shared by all requests.
type RetryTransport struct {
	next   http.RoundTripper
	cfg    RetryConfig
	log    *logrus.Entry
	randMu sync.Mutex

	requests      atomic.Int64
	retries       atomic.Int64
	throttled     atomic.Int64
	serverErrors  atomic.Int64
	invalidBodies atomic.Int64
	backoffNanos  atomic.Int64
}

// NewRetryTransport returns a RetryTransport sending through next.
func NewRetryTransport(next http.RoundTripper, cfg RetryConfig) *RetryTransport {
	if cfg.MaxAttempts < 1 {
		cfg.MaxAttempts = 1
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 500 * time.Millisecond
	}
	if cfg.BackoffMax < cfg.BackoffBase {
		cfg.BackoffMax = cfg.BackoffBase
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Sleeper == nil {
		cfg.Sleeper = SleepContext
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = DiscardLog()
	}
	return &RetryTransport{next: next, cfg: cfg, log: log}
}

// Stats returns the transport's counters so far (Pages is left at 0: the client counts pages).
func (t *RetryTransport) Stats() Stats {
	return Stats{
		Requests:      t.requests.Load(),
		Retries:       t.retries.Load(),
		Throttled:     t.throttled.Load(),
		ServerErrors:  t.serverErrors.Load(),
		InvalidBodies: t.invalidBodies.Load(),
		BackoffTotal:  time.Duration(t.backoffNanos.Load()),
	}
}

// outcome is the result of one attempt.
type outcome struct {
	resp    *http.Response // a response with its body buffered, when there is one to return
	err     error          // the attempt's error, when there is no response to return
	retry   bool           // another attempt may succeed
	status  int            // the HTTP status, 0 without a response
	wait    time.Duration  // the Retry-After, when hasWait
	hasWait bool
}

// RoundTrip sends the request, retrying as described on RetryTransport.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	maxAttempts := t.cfg.MaxAttempts
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		maxAttempts = 1 // the body cannot be sent twice
	}
	log := t.log
	if ci := callOf(ctx); ci != nil && ci.log != nil {
		log = ci.log
	}
	if page := req.URL.Query().Get("page"); page != "" {
		log = log.WithField("page", page)
	}
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("rewinding the request body: %w", err)
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		o := t.try(ctx, r)
		if !o.retry {
			return o.resp, o.err
		}
		if attempt >= maxAttempts {
			fields := logrus.Fields{"status": o.status, "attempts": attempt}
			if o.err != nil {
				fields["error"] = o.err.Error()
			}
			log.WithFields(fields).Warn("giving up on a request to the API")
			if o.resp != nil {
				return o.resp, nil
			}
			return nil, fmt.Errorf("giving up after %s: %w", plural(attempt, "attempt"), o.err)
		}
		wait := t.waitAfter(attempt, o, log)
		fields := logrus.Fields{"status": o.status, "attempt": attempt, "wait": wait, "cause": retryCause(o)}
		if o.err != nil {
			fields["error"] = o.err.Error()
		}
		log.WithFields(fields).Info("retrying a request to the API")
		t.retries.Add(1)
		if t.cfg.OnBackoff != nil {
			t.cfg.OnBackoff(attempt, o.status, wait)
		}
		if err := t.cfg.Sleeper(ctx, wait); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		t.backoffNanos.Add(int64(wait))
	}
}

// try makes one attempt and classifies it. The body of any response is read whole and closed.
func (t *RetryTransport) try(ctx context.Context, req *http.Request) outcome {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		var le *limiterError
		if errors.As(err, &le) {
			return outcome{err: err} // not sent: the context is done or its deadline too near
		}
		t.requests.Add(1)
		countAttempt(ctx)
		if ctx.Err() != nil {
			return outcome{err: ctx.Err()}
		}
		return outcome{err: &transientError{err: err}, retry: true}
	}
	t.requests.Add(1)
	countAttempt(ctx)
	status := resp.StatusCode
	switch {
	case status == http.StatusTooManyRequests:
		t.throttled.Add(1)
	case status >= 500:
		t.serverErrors.Add(1)
	}
	body, rerr := readBody(resp.Body, t.cfg.MaxBodyBytes)
	_ = resp.Body.Close()
	ok := status >= 200 && status < 300
	if rerr != nil {
		switch {
		case ctx.Err() != nil:
			return outcome{err: ctx.Err()}
		case errors.Is(rerr, errBodyTooLarge):
			return outcome{err: fmt.Errorf("a %d response: %w", status, rerr)}
		case ok:
			t.invalidBodies.Add(1)
			return outcome{err: fmt.Errorf("%w: reading the body of a %d response: %w", ErrInvalidBody, status, rerr), retry: true, status: status}
		default:
			body = nil // the status is what matters
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	switch {
	case ok:
		if t.cfg.ValidateBody != nil {
			if verr := t.cfg.ValidateBody(ctx, body); verr != nil {
				t.invalidBodies.Add(1)
				return outcome{err: fmt.Errorf("%w: a %d response of %d bytes: %w", ErrInvalidBody, status, len(body), verr), retry: true, status: status}
			}
		}
		return outcome{resp: resp}
	case TransientStatus(status):
		wait, has := parseRetryAfter(resp.Header.Get("Retry-After"), t.cfg.Now())
		return outcome{resp: resp, retry: true, status: status, wait: wait, hasWait: has}
	default:
		return outcome{resp: resp}
	}
}

// retryCause names why an attempt is retried, for the log: its status, or what went wrong.
func retryCause(o outcome) string {
	switch {
	case o.status == http.StatusTooManyRequests:
		return "throttled (429)"
	case o.status >= 500:
		return fmt.Sprintf("server error (%d)", o.status)
	case errors.Is(o.err, context.DeadlineExceeded):
		return "timed out (--timeout)"
	case errors.Is(o.err, ErrInvalidBody):
		return "invalid or truncated body"
	case o.err != nil:
		return "network error"
	}
	return "unknown"
}

// waitAfter is the wait after the failed attempt (from 1): the Retry-After when the API sent one
// (capped at MaxRetryAfter), else the jittered backoff.
func (t *RetryTransport) waitAfter(attempt int, o outcome, log *logrus.Entry) time.Duration {
	if o.hasWait {
		w := o.wait
		switch {
		case w > t.cfg.MaxRetryAfter:
			log.WithFields(logrus.Fields{"status": o.status, "retry_after": w, "wait": t.cfg.MaxRetryAfter}).
				Warn("the API asked to wait longer than the cap; waiting the cap")
			w = t.cfg.MaxRetryAfter
		case w > t.cfg.BackoffMax:
			log.WithFields(logrus.Fields{"status": o.status, "wait": w}).
				Info("honouring a Retry-After longer than the maximum backoff")
		}
		return w
	}
	return t.backoff(attempt)
}

// backoff is the jittered wait after the failed attempt n (from 1): uniform in
// [0, min(BackoffMax, BackoffBase·2^(n-1))).
func (t *RetryTransport) backoff(n int) time.Duration {
	ceiling := t.cfg.BackoffBase
	for i := 1; i < n && ceiling < t.cfg.BackoffMax; i++ {
		ceiling *= 2
	}
	if ceiling > t.cfg.BackoffMax {
		ceiling = t.cfg.BackoffMax
	}
	t.randMu.Lock()
	f := t.cfg.Rand()
	t.randMu.Unlock()
	if f < 0 {
		f = 0
	}
	if f > 1 {
		f = 1
	}
	return time.Duration(f * float64(ceiling))
}

// parseRetryAfter reads a Retry-After: delay seconds (0 included) or an HTTP date. A date in the
// past is a wait of 0. A malformed value is ignored (false).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(365*24*time.Hour/time.Second) {
			return 365 * 24 * time.Hour, true // absurdly long: the cap applies
		}
		return time.Duration(secs) * time.Second, true
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := when.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

var errBodyTooLarge = errors.New("the body is too large")

// readBody reads a whole body of at most max bytes.
func readBody(body io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", errBodyTooLarge, max)
	}
	return b, nil
}

// timeoutTransport bounds one attempt, from sending the request to closing the body (which the
// RetryTransport reads whole). It sits below the rate limiter: waiting for a token does not eat
// into the timeout.
type timeoutTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timedOut := ctx.Err() != nil && req.Context().Err() == nil
		cancel()
		if timedOut {
			return nil, fmt.Errorf("no response within %v: %w", t.timeout, err)
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases the attempt's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// callInfo is what a caller of the RetryTransport learns about, and tells it about, one call: the
// attempts it took, and the logger (with the caller's fields, such as the window) for its lines.
type callInfo struct {
	attempts atomic.Int64
	log      *logrus.Entry
	decoded  atomic.Pointer[decodedBody] // what the body validation decoded, so the caller need not decode it again
}

type callKey struct{}

// withCall attaches ci to the requests made with ctx.
func withCall(ctx context.Context, ci *callInfo) context.Context {
	return context.WithValue(ctx, callKey{}, ci)
}

func callOf(ctx context.Context) *callInfo {
	ci, _ := ctx.Value(callKey{}).(*callInfo)
	return ci
}

func countAttempt(ctx context.Context) {
	if ci := callOf(ctx); ci != nil {
		ci.attempts.Add(1)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// GivingUp wraps the last error of a request that took attempts tries: "giving up after 3
// attempts: …".
func GivingUp(attempts int, err error) error {
	return fmt.Errorf("giving up after %s: %w", plural(attempts, "attempt"), err)
}

// DiscardLog is the logger of a client given none: it writes nowhere.
func DiscardLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}
