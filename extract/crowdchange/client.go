package crowdchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/sirupsen/logrus"
)

// checkWindow is the window Check asks for: one second, long ago, so the answer is tiny.
var checkWindow = extract.Window{
	Stream: StreamDate,
	Start:  time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
	End:    time.Date(2000, 1, 1, 0, 0, 1, 0, time.UTC),
}

// errNoID is an item without a readable numeric id: it cannot be deduplicated or versioned, so it
// is quarantined (WindowResult.Quarantined).
var errNoID = errors.New("no readable numeric id")

// Client reads GET /v2/private/transactions. It is safe for concurrent use: windows fetched at the
// same time share its HTTP machinery (NewHTTP): its rate limiter (and that of any client given the
// same WithLimiter), its retries, its connections and its counters.
type Client struct {
	endpoint string
	pageSize int
	log      *logrus.Entry
	http     *extract.HTTP
	maxPages int
	paging   extract.Paging
	pageCap  atomic.Int64 // the page size the API was seen to cap pages at (0: none seen)
	pages    *PageDecoder

	// The key lives only in these closures, so that no formatting of a Client can print it.
	authorize func(h http.Header)
	redact    func(s string) string
}

// NewClient returns a client for the API that cfg describes. Unset fields of cfg take their
// defaults; the configuration must then be valid (a plain http:// base URL is refused unless its
// host is a loopback address). Requests go through the shared machinery of NewHTTP
// (Retry(RateLimit(timeout(base)))), whose 2xx bodies must be valid pages; cfg.Timeout bounds each
// attempt, body included, not the time spent waiting for the limiter or backing off.
func NewClient(cfg config.API, log *logrus.Entry, opts ...extract.Option) (*Client, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring the CrowdChange client: %w", err)
	}
	base, err := cfg.BaseURL()
	if err != nil {
		return nil, fmt.Errorf("configuring the CrowdChange client: %w", err)
	}
	if log == nil {
		log = extract.DiscardLog()
	}
	hcfg := extract.HTTPConfigOf("crowdchange", cfg)
	var pages *PageDecoder
	// The retry transport's check of a 2xx body: a complete, valid page, or the attempt is
	// retried. The decoded page is handed back in Response.Decoded, so the body is decoded once.
	hcfg.ValidateBody = func(body []byte) (any, error) {
		p, err := pages.DecodePage(body)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	h, err := extract.NewHTTP(hcfg, log, opts...)
	if err != nil {
		return nil, fmt.Errorf("configuring the CrowdChange client: %w", err)
	}
	pages = NewPageDecoder(h.KnownLeaves())
	key := cfg.Key.Reveal()
	return &Client{
		pages:     pages,
		endpoint:  base + TransactionsPath,
		pageSize:  cfg.PageSize,
		log:       log,
		http:      h,
		maxPages:  h.MaxPages(),
		paging:    h.Paging(),
		authorize: func(h http.Header) { h.Set("Authorization", "Bearer "+key) },
		redact:    func(s string) string { return redactKey(s, key) },
	}, nil
}

// Stats returns the client's counters so far.
func (c *Client) Stats() extract.Stats { return c.http.Stats() }

// WindowResult is everything a window holds.
type WindowResult struct {
	Window extract.Window
	// Transactions are in the API's order, each id once (the first time it was seen).
	Transactions []Fetched
	// Quarantined are the items of the window that are not transactions ccsync can keep as
	// versions (no readable numeric id), whole and in the API's order.
	Quarantined []extract.Quarantined
	// Pages is the number of pages read.
	Pages int
	// Duplicates counts the transactions dropped because their id was already seen in the window.
	Duplicates int
	// Requests is the number of HTTP requests sent for the window, retries included.
	Requests int
}

// maxStalePages is how many pages in a row may bring no transaction not already seen in the
// window before the window fails with ErrPagingBroken.
const maxStalePages = 2

// FetchWindow reads every page of the window, from page 1 with limit cfg.PageSize, and returns
// its transactions deduplicated by id, and the items without a readable id in Quarantined.
//
// When the window ends (the client's Paging, PagingShortPage unless WithPaging): a page of at
// least the limit (or of the page size the API was seen to cap pages at) is followed by the next
// one; an empty page ends the window; a shorter page ends it when the answer's count is the
// number of items read so far, and is followed by the next page when the count says more exist.
// Without a usable count, a short page whose length looks like a cap (a multiple of 10 or 25) is
// confirmed by one more request; if that page has rows, the API caps its pages, the client
// remembers the cap for every later window, and reads on.
//
// A page identical to the previous one, or maxStalePages pages in a row without a new id, fail
// the window with ErrPagingBroken. Every request is retried as RetryTransport says; a page whose
// body is truncated or invalid is retried like a 5xx. The window must be valid (Window.Validate).
func (c *Client) FetchWindow(ctx context.Context, w extract.Window) (*WindowResult, error) {
	if err := ValidateWindow(w); err != nil {
		return nil, fmt.Errorf("fetching window %s: %w", w, err)
	}
	log := c.log.WithField("window", w.String())
	res := &WindowResult{Window: w}
	seen := make(map[int64]struct{})
	var (
		read      int64             // items on the pages so far, whatever became of them
		prev      []json.RawMessage // the previous page's items
		stale     int               // pages in a row without a new id
		shortPrev int               // length of the previous page when it was short and not empty
	)
	for page := 1; ; page++ {
		if page > c.maxPages {
			return nil, fmt.Errorf("fetching window %s: %w: still no last page after %d pages; giving up", w, extract.ErrPagingBroken, c.maxPages)
		}
		p, attempts, err := c.fetchPage(ctx, w, page, c.pageSize)
		res.Requests += int(attempts)
		if err != nil {
			return nil, err
		}
		res.Pages++
		n := len(p.Data)
		read += int64(n)
		if n > 0 && extract.SamePage(p.Data, prev) {
			return nil, fmt.Errorf("fetching window %s: %w: page %d is the same as page %d (does the API ignore %q?)", w, extract.ErrPagingBroken, page, page-1, ParamPage)
		}
		prev = p.Data
		fresh := 0 // items new to the window: transactions not seen yet, and quarantined items
		txs, quarantined := p.Transactions, p.Quarantined
		for i := range n {
			if len(quarantined) > 0 && quarantined[0].Position == i {
				q := quarantined[0]
				quarantined = quarantined[1:]
				fresh++
				q.Page = page
				res.Quarantined = append(res.Quarantined, q)
				log.WithFields(logrus.Fields{"page": page, "position": i, "reason": q.Reason}).
					Warn("an item has no readable id; quarantined")
				continue
			}
			f := txs[0]
			txs = txs[1:]
			if _, dup := seen[f.ID]; dup {
				res.Duplicates++
				log.WithFields(logrus.Fields{"id": f.ID, "page": page}).
					Warn("duplicate transaction in the window; keeping the first")
				continue
			}
			seen[f.ID] = struct{}{}
			fresh++
			if f.Err != nil {
				log.WithFields(logrus.Fields{"id": f.ID, "page": page, "error": f.Err.Error()}).
					Warn("transaction only partly decoded; its raw JSON is kept")
			}
			res.Transactions = append(res.Transactions, f)
		}
		if n > 0 && fresh == 0 {
			if stale++; stale >= maxStalePages {
				return nil, fmt.Errorf("fetching window %s: %w: %d pages in a row brought no new transaction (does the API ignore %q?)", w, extract.ErrPagingBroken, stale, ParamPage)
			}
		} else {
			stale = 0
		}
		log.WithFields(logrus.Fields{"page": page, "items": n, "attempts": attempts}).Debug("fetched a page")
		if n > c.pageSize {
			log.WithFields(logrus.Fields{"page": page, "items": n, "limit": c.pageSize}).
				Warn("the API sent more transactions than the limit; reading on")
		}
		if shortPrev > 0 && n > 0 && c.learnCap(shortPrev) {
			log.WithFields(logrus.Fields{"page": page - 1, "items": shortPrev, "limit": c.pageSize}).
				Warn("the API caps its pages below the limit; reading on, and treating pages of this length as full from now on")
		}
		if !c.morePages(n, p.Count, read, log.WithField("page", page)) {
			break
		}
		shortPrev = 0
		if n > 0 && n < c.fullPage() {
			shortPrev = n
		}
	}
	log.WithFields(logrus.Fields{
		"pages": res.Pages, "transactions": len(res.Transactions), "duplicates": res.Duplicates,
		"quarantined": len(res.Quarantined), "requests": res.Requests,
	}).Debug("fetched a window")
	return res, nil
}

// fullPage is the length of a page that may have a successor: the limit, or the cap the API was
// seen to put on pages.
func (c *Client) fullPage() int {
	if capped := int(c.pageCap.Load()); capped > 0 && capped < c.pageSize {
		return capped
	}
	return c.pageSize
}

// learnCap remembers that the API caps pages at n rows; it reports whether that is news.
func (c *Client) learnCap(n int) bool {
	for {
		old := c.pageCap.Load()
		if old != 0 && int(old) <= n {
			return false
		}
		if c.pageCap.CompareAndSwap(old, int64(n)) {
			return true
		}
	}
}

// morePages says whether the page after one of n items (the answer's count, read items on the
// pages so far) must be read.
func (c *Client) morePages(n int, count, read int64, log *logrus.Entry) bool {
	switch {
	case n == 0:
		if count > read {
			log.WithFields(logrus.Fields{"count": count, "read": read}).
				Warn("the API's count says more transactions exist than it sent; it sent an empty page, so the window ends")
		}
		return false
	case n >= c.fullPage():
		return true
	case c.paging == extract.PagingUntilEmpty:
		return true
	case count > read:
		return true // the count says more exist: a page shorter than the limit is a capped one
	case count == read:
		return false // the count confirms that every row was read
	}
	// No usable count (absent, or less than the rows read): a short page of a round length may
	// be a cap, which one more request tells.
	return n%10 == 0 || n%25 == 0
}

// FetchPage reads one page (from 1) of the window with limit cfg.PageSize.
func (c *Client) FetchPage(ctx context.Context, w extract.Window, page int) (*Page, error) {
	p, _, err := c.fetchPage(ctx, w, page, c.pageSize)
	if err != nil {
		return nil, err
	}
	return &p.Page, nil
}

// Check makes one cheap request (a one-second window, limit 1) to fail fast on a bad key or base
// URL before any work. On a refused key the error wraps ErrForbidden.
func (c *Client) Check(ctx context.Context) error {
	if _, _, err := c.fetchPage(ctx, checkWindow, 1, 1); err != nil {
		return fmt.Errorf("checking access to the API: %w", err)
	}
	return nil
}

// fetchPage reads one page, decoded (DecodePage), and returns how many attempts it took.
func (c *Client) fetchPage(ctx context.Context, w extract.Window, page, limit int) (*DecodedPage, int64, error) {
	if err := ValidateWindow(w); err != nil {
		return nil, 0, fmt.Errorf("fetching page %d: %w", page, err)
	}
	if page < 1 {
		return nil, 0, fmt.Errorf("fetching page %d of window %s: pages start at 1", page, w)
	}
	u := c.endpoint + "?" + WindowQuery(w, page, limit).Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("fetching page %d of window %s: %w", page, w, err)
	}
	c.authorize(req.Header)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req, c.log.WithField("window", w.String()))
	if err != nil {
		return nil, 0, fmt.Errorf("fetching page %d of window %s: %w", page, w, err)
	}
	n := int64(resp.Attempts)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := decodeAPIError(resp.StatusCode, resp.Header, resp.Body)
		c.redactError(apiErr)
		err := error(apiErr)
		if extract.IsTransient(apiErr) {
			err = extract.GivingUp(int(n), apiErr)
		}
		return nil, n, fmt.Errorf("fetching page %d of window %s: %w", page, w, err)
	}
	p, _ := resp.Decoded.(*DecodedPage) // decoded once, by the retry transport's validation
	if p == nil {
		if p, err = c.pages.DecodePage(resp.Body); err != nil {
			return nil, n, fmt.Errorf("fetching page %d of window %s: %w: %w", page, w, extract.ErrInvalidBody, err)
		}
	}
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

func redactKey(s, key string) string {
	if len(key) < minRedactLen {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
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

// decodeItem reads one transaction: its id (required: an item without one is quarantined), then
// the typed model, field by field where the whole does not decode (see decodeTransaction).
func decodeItem(raw json.RawMessage) (Fetched, error) {
	id, err := itemID(raw)
	if err != nil {
		return Fetched{}, err
	}
	f := Fetched{ID: id, Raw: raw}
	f.Err = decodeTransaction(raw, &f.Tx)
	f.Tx.ID = id
	return f, nil
}

// itemID reads an item's "id": a positive integer, as a JSON number or a string of digits. Its
// errors wrap errNoID and name no value.
func itemID(raw json.RawMessage) (int64, error) {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return 0, fmt.Errorf("%w: the item is not a JSON object", errNoID)
	}
	b := bytes.TrimSpace(probe.ID)
	switch {
	case len(b) == 0:
		return 0, fmt.Errorf("%w: the item has no \"id\"", errNoID)
	case string(b) == "null":
		return 0, fmt.Errorf("%w: \"id\" is null", errNoID)
	}
	if b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return 0, fmt.Errorf("%w: \"id\" is not a string that can be read", errNoID)
		}
		b = []byte(s)
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: \"id\" is not a positive integer", errNoID)
	}
	return id, nil
}

// Counts implements WindowFetch.
func (r *WindowResult) Counts() extract.WindowCounts {
	return extract.WindowCounts{Window: r.Window, Records: len(r.Transactions), Pages: r.Pages, Duplicates: r.Duplicates}
}

// minRedactLen is the shortest key redacted from error messages: replacing a shorter string would
// mangle them (and no real key is that short).
const minRedactLen = 6
