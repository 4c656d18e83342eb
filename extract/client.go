package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// DefaultMaxPages bounds the pages of one window: an API that never returns a short page must not
// keep a run going forever.
const DefaultMaxPages = 100_000

// checkWindow is the window Check asks for: one second, long ago, so the answer is tiny.
var checkWindow = Window{
	Stream: StreamDate,
	Start:  time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
	End:    time.Date(2000, 1, 1, 0, 0, 1, 0, time.UTC),
}

// errNoID is a transaction without a readable numeric id: it cannot be deduplicated or versioned,
// so the page it is on is invalid.
var errNoID = errors.New("a transaction has no readable numeric id")

// Client reads GET /v2/private/transactions. It is safe for concurrent use: windows fetched at the
// same time share its rate limiter (and that of any client given the same WithLimiter), its
// connections and its counters.
type Client struct {
	endpoint  string
	userAgent string
	pageSize  int
	log       *logrus.Entry
	hc        *http.Client
	retry     *RetryTransport
	pages     atomic.Int64

	// The key lives only in these closures, so that no formatting of a Client can print it.
	authorize func(h http.Header)
	redact    func(s string) string

	opts clientOptions
}

type clientOptions struct {
	base     http.RoundTripper
	sleeper  Sleeper
	rand     func() float64
	now      func() time.Time
	observer BackoffObserver
	limiter  *rate.Limiter
	version  string
	maxPages int
}

// Option configures a Client.
type Option func(*Client)

// WithTransport sets the transport the client sends through, below its rate limiter and retries
// (default: a clone of http.DefaultTransport).
func WithTransport(base http.RoundTripper) Option { return func(c *Client) { c.opts.base = base } }

// WithSleeper sets how the client waits between attempts (default SleepContext).
func WithSleeper(s Sleeper) Option { return func(c *Client) { c.opts.sleeper = s } }

// WithRand sets the source of the backoff's jitter, a function returning numbers in [0, 1) such as
// a *rand.Rand's Float64 (calls are serialised).
func WithRand(f func() float64) Option { return func(c *Client) { c.opts.rand = f } }

// WithClock sets the clock Retry-After dates are read against (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.opts.now = now } }

// WithObserver sets a function told about every backoff, for progress displays.
func WithObserver(o BackoffObserver) Option { return func(c *Client) { c.opts.observer = o } }

// WithLimiter shares a rate limiter between clients (default: a limiter of cfg.Rate, cfg.Burst).
func WithLimiter(l *rate.Limiter) Option { return func(c *Client) { c.opts.limiter = l } }

// WithVersion sets the version in the User-Agent "ccsync/<version>" (default: the module's
// version from the build information, or "dev").
func WithVersion(v string) Option { return func(c *Client) { c.opts.version = v } }

// WithMaxPages sets the most pages one window may have (default DefaultMaxPages).
func WithMaxPages(n int) Option { return func(c *Client) { c.opts.maxPages = n } }

// NewClient returns a client for the API that cfg describes. Unset fields of cfg take their
// defaults; the configuration must then be valid (a plain http:// base URL is refused unless its
// host is a loopback address). Requests go through Retry(RateLimit(base)); cfg.Timeout bounds each
// attempt, body included, not the time spent waiting for the limiter or backing off.
func NewClient(cfg config.API, log *logrus.Entry, opts ...Option) (*Client, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring the CrowdChange client: %w", err)
	}
	base, err := cfg.BaseURL()
	if err != nil {
		return nil, fmt.Errorf("configuring the CrowdChange client: %w", err)
	}
	if log == nil {
		log = discardLog()
	}
	key := cfg.Key.Reveal()
	c := &Client{
		endpoint:  base + TransactionsPath,
		pageSize:  cfg.PageSize,
		log:       log,
		authorize: func(h http.Header) { h.Set("Authorization", "Bearer "+key) },
		redact:    func(s string) string { return redactKey(s, key) },
	}
	for _, o := range opts {
		o(c)
	}
	if c.opts.maxPages <= 0 {
		c.opts.maxPages = DefaultMaxPages
	}
	version := c.opts.version
	if version == "" {
		version = buildVersion()
	}
	c.userAgent = "ccsync/" + version
	limiter := c.opts.limiter
	if limiter == nil {
		limiter = rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst)
	}
	rt := c.opts.base
	if rt == nil {
		rt = defaultBaseTransport()
	}
	c.retry = NewRetryTransport(
		NewRateLimitTransport(&timeoutTransport{next: rt, timeout: cfg.Timeout}, limiter),
		RetryConfig{
			MaxAttempts:  cfg.MaxAttempts,
			BackoffBase:  cfg.BackoffBase,
			BackoffMax:   cfg.BackoffMax,
			Sleeper:      c.opts.sleeper,
			Rand:         c.opts.rand,
			Now:          c.opts.now,
			OnBackoff:    c.opts.observer,
			ValidateBody: validatePage,
			Log:          log,
		})
	c.hc = &http.Client{
		Transport: c.retry,
		// The API has no reason to redirect; following one could send the key elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Stats are a client's counters since it was made.
type Stats struct {
	// Requests are the HTTP requests sent (every attempt).
	Requests int64
	// Retries are the attempts after a failed one.
	Retries int64
	// Throttled are the 429 answers.
	Throttled int64
	// ServerErrors are the 5xx answers.
	ServerErrors int64
	// InvalidBodies are the 2xx answers whose body was truncated or not a valid page.
	InvalidBodies int64
	// Pages are the pages fetched successfully.
	Pages int64
	// BackoffTotal is the time spent waiting between attempts.
	BackoffTotal time.Duration
}

// Stats returns the client's counters so far.
func (c *Client) Stats() Stats {
	s := c.retry.Stats()
	s.Pages = c.pages.Load()
	return s
}

// WindowResult is everything a window holds.
type WindowResult struct {
	Window Window
	// Transactions are in the API's order, each id once (the first time it was seen).
	Transactions []Fetched
	// Pages is the number of pages read.
	Pages int
	// Duplicates counts the transactions dropped because their id was already seen in the window.
	Duplicates int
	// Requests is the number of HTTP requests sent for the window, retries included.
	Requests int
}

// FetchWindow reads every page of the window, from page 1 with limit cfg.PageSize, until a page
// shorter than the limit (the answer's count is never trusted), and returns its transactions
// deduplicated by id. Every request is retried as RetryTransport says; a page whose body is
// truncated or invalid is retried like a 5xx. A transaction without a readable numeric id fails
// the window. The window must be valid (Window.Validate).
func (c *Client) FetchWindow(ctx context.Context, w Window) (*WindowResult, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("fetching window %s: %w", w, err)
	}
	log := c.log.WithField("window", w.String())
	res := &WindowResult{Window: w}
	seen := make(map[int64]struct{})
	for page := 1; ; page++ {
		if page > c.opts.maxPages {
			return nil, fmt.Errorf("fetching window %s: still no page shorter than %d transactions after %d pages; giving up", w, c.pageSize, c.opts.maxPages)
		}
		p, attempts, err := c.fetchPage(ctx, w, page, c.pageSize)
		res.Requests += int(attempts)
		if err != nil {
			return nil, err
		}
		res.Pages++
		for i, raw := range p.Data {
			f, err := decodeItem(raw)
			if err != nil {
				return nil, fmt.Errorf("fetching window %s: page %d, item %d: %w", w, page, i+1, err)
			}
			if _, dup := seen[f.ID]; dup {
				res.Duplicates++
				log.WithFields(logrus.Fields{"id": f.ID, "page": page}).
					Warn("duplicate transaction in the window; keeping the first")
				continue
			}
			seen[f.ID] = struct{}{}
			if f.Err != nil {
				log.WithFields(logrus.Fields{"id": f.ID, "page": page, "error": f.Err.Error()}).
					Warn("transaction only partly decoded; its raw JSON is kept")
			}
			res.Transactions = append(res.Transactions, f)
		}
		log.WithFields(logrus.Fields{"page": page, "items": len(p.Data), "attempts": attempts}).Debug("fetched a page")
		if len(p.Data) > c.pageSize {
			log.WithFields(logrus.Fields{"page": page, "items": len(p.Data), "limit": c.pageSize}).
				Warn("the API sent more transactions than the limit; reading on")
		}
		if len(p.Data) < c.pageSize {
			break
		}
	}
	log.WithFields(logrus.Fields{
		"pages": res.Pages, "transactions": len(res.Transactions), "duplicates": res.Duplicates, "requests": res.Requests,
	}).Debug("fetched a window")
	return res, nil
}

// FetchPage reads one page (from 1) of the window with limit cfg.PageSize.
func (c *Client) FetchPage(ctx context.Context, w Window, page int) (*Page, error) {
	p, _, err := c.fetchPage(ctx, w, page, c.pageSize)
	return p, err
}

// Check makes one cheap request (a one-second window, limit 1) to fail fast on a bad key or base
// URL before any work. On a refused key the error wraps ErrForbidden.
func (c *Client) Check(ctx context.Context) error {
	if _, _, err := c.fetchPage(ctx, checkWindow, 1, 1); err != nil {
		return fmt.Errorf("checking access to the API: %w", err)
	}
	return nil
}

// fetchPage reads one page and returns how many attempts it took.
func (c *Client) fetchPage(ctx context.Context, w Window, page, limit int) (*Page, int64, error) {
	if err := w.Validate(); err != nil {
		return nil, 0, fmt.Errorf("fetching page %d: %w", page, err)
	}
	if page < 1 {
		return nil, 0, fmt.Errorf("fetching page %d of window %s: pages start at 1", page, w)
	}
	call := &callInfo{log: c.log.WithField("window", w.String())}
	attempts := &call.attempts
	u := c.endpoint + "?" + w.Query(page, limit).Encode()
	req, err := http.NewRequestWithContext(withCall(ctx, call), http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("fetching page %d of window %s: %w", page, w, err)
	}
	c.authorize(req.Header)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL adds nothing but noise
		}
		return nil, attempts.Load(), fmt.Errorf("fetching page %d of window %s: %w", page, w, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // already in memory: the RetryTransport buffered it
	if err != nil {
		return nil, attempts.Load(), fmt.Errorf("fetching page %d of window %s: %w: %w", page, w, ErrInvalidBody, err)
	}
	n := attempts.Load()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := decodeAPIError(resp.StatusCode, resp.Header, body)
		c.redactError(apiErr)
		err := error(apiErr)
		if IsTransient(apiErr) {
			err = fmt.Errorf("giving up after %s: %w", plural(int(n), "attempt"), apiErr)
		}
		return nil, n, fmt.Errorf("fetching page %d of window %s: %w", page, w, err)
	}
	p := call.page // decoded once, by the retry transport's validation
	if p == nil {
		if p, err = decodePage(body); err != nil {
			return nil, n, fmt.Errorf("fetching page %d of window %s: %w: %w", page, w, ErrInvalidBody, err)
		}
	}
	c.pages.Add(1)
	return p, n, nil
}

// redactError removes the API key from what the API wrote into an error, should it echo it.
func (c *Client) redactError(e *APIError) {
	e.Message = c.redact(e.Message)
	e.RequestID = c.redact(e.RequestID)
	for name, msgs := range e.Fields {
		clean := make([]string, len(msgs))
		for i, m := range msgs {
			clean[i] = c.redact(m)
		}
		delete(e.Fields, name)
		e.Fields[c.redact(name)] = clean
	}
}

// minRedactLen is the shortest key redacted from error messages: replacing a shorter string would
// mangle them (and no real key is that short).
const minRedactLen = 6

func redactKey(s, key string) string {
	if len(key) < minRedactLen {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}

// validatePage is the retry transport's check of a 2xx body: a complete, valid page, or the attempt
// is retried. The decoded page is handed to the call, which then need not decode the body again.
func validatePage(ctx context.Context, body []byte) error {
	p, err := decodePage(body)
	if err != nil {
		return err
	}
	if ci := callOf(ctx); ci != nil {
		ci.page = p
	}
	return nil
}

// decodePage decodes the page envelope {dt_start, dt_end, count, data[]}, leniently except for
// data: it must be there, as a list (or null for an empty page). count and the dates are kept
// when they have the expected type and never relied on. Errors never quote the body.
func decodePage(body []byte) (*Page, error) {
	var env struct {
		DTStart json.RawMessage `json:"dt_start"`
		DTEnd   json.RawMessage `json:"dt_end"`
		Count   json.RawMessage `json:"count"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("not valid JSON (cut short?) at byte %d", se.Offset)
		}
		return nil, errors.New("not a JSON object")
	}
	p := &Page{}
	switch d := bytes.TrimSpace(env.Data); {
	case len(d) == 0:
		return nil, errors.New(`no "data" member`)
	case string(d) == "null":
	case d[0] == '[':
		if err := json.Unmarshal(d, &p.Data); err != nil {
			return nil, errors.New(`"data" is not a list`)
		}
	default:
		return nil, errors.New(`"data" is not a list`)
	}
	_ = json.Unmarshal(env.DTStart, &p.DTStart) // informative only
	_ = json.Unmarshal(env.DTEnd, &p.DTEnd)
	_ = json.Unmarshal(env.Count, &p.Count) // never trusted
	return p, nil
}

// decodeItem reads one transaction: its id (required), then the typed model, keeping what decoded.
func decodeItem(raw json.RawMessage) (Fetched, error) {
	var probe struct {
		ID json.Number `json:"id"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Fetched{}, errNoID
	}
	id, err := probe.ID.Int64()
	if err != nil || id <= 0 {
		return Fetched{}, errNoID
	}
	f := Fetched{ID: id, Raw: raw}
	if err := json.Unmarshal(raw, &f.Tx); err != nil {
		f.Err = valueFreeDecodeError(err)
	}
	f.Tx.ID = id
	return f, nil
}

// valueFreeDecodeError rewrites a decoding error so that it names the field but not the value
// (encoding/json quotes numbers in its type errors).
func valueFreeDecodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		kind, _, _ := strings.Cut(te.Value, " ")
		field := te.Field
		if field == "" {
			field = "(the transaction)"
		}
		return fmt.Errorf("decoding the transaction: field %s: a JSON %s does not fit %v", field, kind, te.Type)
	}
	// The model's own types (Money, DateTime, Date, JSONText) never put the value in their errors.
	return fmt.Errorf("decoding the transaction: %w", err)
}

func defaultBaseTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32 // windows are fetched concurrently from one host
	return t
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
