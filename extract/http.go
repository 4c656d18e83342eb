package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/sirupsen/logrus"
)

// HTTPConfig shapes the HTTP machinery every platform's client sends through (NewHTTP): the
// shared settings of config.API and the platform's own check of a 2xx body.
type HTTPConfig struct {
	// Platform names the API in errors ("crowdchange", "donately").
	Platform string
	// Rate is the requests per second allowed (attempts included); Burst the bucket size. Both
	// are ignored when a limiter is shared with WithLimiter.
	Rate  float64
	Burst int
	// Timeout bounds one attempt, body included; waiting for the limiter and backing off are not
	// part of it.
	Timeout time.Duration
	// MaxAttempts caps the attempts of one request, the first included.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the capped exponential backoff with full jitter between
	// attempts when the API sent no Retry-After.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// ValidateBody, when set, checks the body of every 2xx answer and returns what it decoded
	// from it, handed back in Response.Decoded so that the body is decoded once. An error makes
	// the attempt fail with ErrInvalidBody and be retried like a 5xx; it must not quote the body.
	ValidateBody func(body []byte) (any, error)
}

// HTTPConfigOf takes the shared HTTP settings (rate, burst, timeout, attempts, backoff) of api,
// which must have its defaults set.
func HTTPConfigOf(platform string, api config.API) HTTPConfig {
	return HTTPConfig{
		Platform:    platform,
		Rate:        api.Rate,
		Burst:       api.Burst,
		Timeout:     api.Timeout,
		MaxAttempts: api.MaxAttempts,
		BackoffBase: api.BackoffBase,
		BackoffMax:  api.BackoffMax,
	}
}

// Validate checks the settings; errors name the setting as config.API does.
func (c HTTPConfig) Validate() error {
	var errs []error
	if c.Rate <= 0 {
		errs = append(errs, fmt.Errorf("rate: %v must be > 0", c.Rate))
	}
	if c.Burst < 1 {
		errs = append(errs, fmt.Errorf("burst: %d must be >= 1", c.Burst))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: %v must be > 0", c.Timeout))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("max_attempts: %d must be >= 1", c.MaxAttempts))
	}
	if c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase {
		errs = append(errs, fmt.Errorf("backoff_base, backoff_max: need 0 < base (%v) <= max (%v)", c.BackoffBase, c.BackoffMax))
	}
	return errors.Join(errs...)
}

// HTTP is the machinery a platform's client sends through:
//
//	http.Client → RetryTransport → RateLimitTransport → per-attempt timeout → base transport
//
// with its counters (Stats). The RetryTransport retries 429, 5xx, network errors, timeouts and 2xx
// bodies that HTTPConfig.ValidateBody refuses, honouring Retry-After; the limiter is shared by
// every request of the HTTP, retries included, and by any other HTTP given the same WithLimiter.
// Redirects are never followed: one could carry the credentials elsewhere. It is safe for
// concurrent use.
type HTTP struct {
	hc        *http.Client
	retry     *RetryTransport
	log       *logrus.Entry
	userAgent string
	pages     atomic.Int64
	opts      options
	adaptive  *AdaptiveLimiter // the limiter, when it adapts (its figures go into Stats)
}

// NewHTTP builds the machinery that cfg describes. log (nil: discarded) receives the retry lines;
// opts are those of NewClient (WithMaxPages and WithPaging are kept for the platform's client,
// see MaxPages).
func NewHTTP(cfg HTTPConfig, log *logrus.Entry, opts ...Option) (*HTTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring the HTTP client of the %s API: %w", cfg.Platform, err)
	}
	if log == nil {
		log = DiscardLog()
	}
	h := &HTTP{log: log}
	for _, o := range opts {
		o(&h.opts)
	}
	if h.opts.maxPages <= 0 {
		h.opts.maxPages = DefaultMaxPages
	}
	version := h.opts.version
	if version == "" {
		version = buildVersion()
	}
	h.userAgent = "ccsync/" + version
	limiter := h.opts.limiter
	if limiter == nil {
		h.adaptive = NewAdaptiveLimiter(cfg.Rate, cfg.Burst, nil, log)
		limiter = h.adaptive
	} else if a, ok := limiter.(*AdaptiveLimiter); ok {
		h.adaptive = a
	}
	base := h.opts.base
	if base == nil {
		base = defaultBaseTransport()
	}
	var validate func(ctx context.Context, body []byte) error
	if cfg.ValidateBody != nil {
		validate = func(ctx context.Context, body []byte) error {
			v, err := cfg.ValidateBody(body)
			if err != nil {
				return err
			}
			if ci := callOf(ctx); ci != nil {
				ci.decoded.Store(&decodedBody{v: v})
			}
			return nil
		}
	}
	h.retry = NewRetryTransport(
		NewRateLimitTransport(&timeoutTransport{next: base, timeout: cfg.Timeout}, limiter),
		RetryConfig{
			MaxAttempts:  cfg.MaxAttempts,
			BackoffBase:  cfg.BackoffBase,
			BackoffMax:   cfg.BackoffMax,
			Sleeper:      h.opts.sleeper,
			Rand:         h.opts.rand,
			Now:          h.opts.now,
			OnBackoff:    h.opts.observer,
			ValidateBody: validate,
			Log:          log,
		})
	h.hc = &http.Client{
		Transport:     h.retry,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h, nil
}

// Response is one answer, read whole.
type Response struct {
	StatusCode int
	Header     http.Header
	// Body is the whole body as the API sent it. A platform whose bodies may hold secrets reads
	// Decoded instead, which its ValidateBody cleaned.
	Body []byte
	// Decoded is what HTTPConfig.ValidateBody returned for a 2xx body (nil otherwise).
	Decoded any
	// Attempts is the number of attempts the request took.
	Attempts int
}

// Do sends req with the User-Agent "ccsync/<version>" and returns the answer whatever its status
// (the platform's client turns a non-2xx answer into its own error), after the retries that
// RetryTransport makes. It returns an error only when there is no answer to return: the
// attempts ran out on network errors, timeouts or invalid bodies (IsTransient), the context
// ended, or the body was too large. log (nil: the HTTP's logger) receives the lines about this
// request, so that they carry the caller's fields. A 2xx answer counts as a page in Stats.
func (h *HTTP) Do(req *http.Request, log *logrus.Entry) (*Response, error) {
	if log == nil {
		log = h.log
	}
	call := &callInfo{log: log}
	req = req.WithContext(withCall(req.Context(), call))
	req.Header.Set("User-Agent", h.userAgent)
	resp, err := h.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL adds nothing but noise
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // already in memory: the RetryTransport buffered it
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBody, err)
	}
	r := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body, Attempts: int(call.attempts.Load())}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if d := call.decoded.Load(); d != nil {
			r.Decoded = d.v
		}
		h.pages.Add(1)
	}
	return r, nil
}

// Client is the http.Client of the machinery, for requests that Do does not suit; its answers
// are not counted as pages.
func (h *HTTP) Client() *http.Client { return h.hc }

// MaxPages is the most pages one listing may read (WithMaxPages, default DefaultMaxPages).
func (h *HTTP) MaxPages() int { return h.opts.maxPages }

// Paging is how a listing tells that it has no more pages (WithPaging, default PagingShortPage).
func (h *HTTP) Paging() Paging { return h.opts.paging }

// KnownLeaves are the known leaf paths given with WithKnownLeaves (nil: none given); the
// platform's client decodes with them.
func (h *HTTP) KnownLeaves() []string { return h.opts.known }

// UserAgent is what Do sends as the User-Agent.
func (h *HTTP) UserAgent() string { return h.userAgent }

// Stats returns the counters so far, with the rate limiter's figures when it adapts.
func (h *HTTP) Stats() Stats {
	s := h.retry.Stats()
	s.Pages = h.pages.Load()
	if a := h.adaptive; a != nil {
		s.Rate = RateStats{Adaptive: true, Ceiling: a.Ceiling(), Limit: a.Limit(), Cuts: a.Cuts(), Restores: a.Restores(), Baseline: a.Baseline()}
	}
	return s
}

// decodedBody boxes what a ValidateBody returned, for an atomic.Pointer.
type decodedBody struct{ v any }

// options are what Option sets; NewHTTP reads them all but maxPages and paging, which the
// platform's client reads.
type options struct {
	base     http.RoundTripper
	sleeper  Sleeper
	rand     func() float64
	now      func() time.Time
	observer BackoffObserver
	limiter  Limiter
	version  string
	maxPages int
	paging   Paging
	known    []string
}

// Option configures an HTTP (NewHTTP) and the clients built on one (NewClient, and the other
// platforms' clients).
type Option func(*options)

// WithTransport sets the transport the client sends through, below its rate limiter and retries
// (default: a clone of http.DefaultTransport).
func WithTransport(base http.RoundTripper) Option { return func(o *options) { o.base = base } }

// WithSleeper sets how the client waits between attempts (default SleepContext).
func WithSleeper(s Sleeper) Option { return func(o *options) { o.sleeper = s } }

// WithRand sets the source of the backoff's jitter, a function returning numbers in [0, 1) such as
// a *rand.Rand's Float64 (calls are serialised).
func WithRand(f func() float64) Option { return func(o *options) { o.rand = f } }

// WithClock sets the clock Retry-After dates are read against (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithObserver sets a function told about every backoff, for progress displays.
func WithObserver(ob BackoffObserver) Option { return func(o *options) { o.observer = ob } }

// WithLimiter shares a rate limiter between clients, of one platform or several (default: an
// AdaptiveLimiter of the configuration's Rate and Burst, one per client). A *rate.Limiter keeps its
// rate whatever the API answers; an *AdaptiveLimiter adapts to the API's 429s.
func WithLimiter(l Limiter) Option { return func(o *options) { o.limiter = l } }

// WithVersion sets the version in the User-Agent "ccsync/<version>" (default: the module's
// version from the build information, or "dev").
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithMaxPages sets the most pages one window (or listing) may have (default DefaultMaxPages).
func WithMaxPages(n int) Option { return func(o *options) { o.maxPages = n } }

// WithPaging sets how the CrowdChange client tells that a window has no more pages (default
// PagingShortPage).
func WithPaging(p Paging) Option { return func(o *options) { o.paging = p } }

// WithKnownLeaves gives a client the JSON paths of the leaves of its records that have a home
// (transform's JSON-path map), so that it finds each record's unknown leaves while it decodes the
// record (UnknownLeaves) and transform need not walk the record again. Without it, transform
// walks every record.
func WithKnownLeaves(paths []string) Option {
	return func(o *options) { o.known = slices.Clone(paths) }
}
