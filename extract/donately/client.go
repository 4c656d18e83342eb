package donately

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/sirupsen/logrus"
)

// The request headers of every request besides Authorization, and the version the client asks for.
const (
	VersionHeader = "Donately-Version"
	AccountHeader = "Donately-Account"
	// Version is the API version the client speaks: its list envelope {object, data, summary,
	// params} and its structured errors.
	Version = "2022-12-15"
)

// PageLimit is the limit of every list request: the API's largest page.
const PageLimit = 100

// maxStalePages is how many pages in a row of one pass may bring no record not already seen in
// that pass before the listing fails with extract.ErrPagingBroken.
const maxStalePages = 2

// maxIDLen bounds a record id: ids are logged, so one that is not a short plain identifier is not
// taken as an id.
const maxIDLen = 128

// Client reads the Donately REST API v2 (seed 004) for one account: donations, campaigns and
// people. It sends through the shared machinery of extract.NewHTTP (rate limiter, retries,
// backoff, counters), so that a run that reads several platforms shares one limiter when given
// the same extract.WithLimiter. It is safe for concurrent use.
type Client struct {
	base    string
	account string
	log     *logrus.Entry
	http    *extract.HTTP

	// The token lives only in these closures, so that no formatting of a Client can print it.
	authorize func(h http.Header)
	redact    func(s string) string
}

// NewClient returns a client for the account cfg names. Unset fields of cfg and api take their
// defaults; cfg must then be valid (a token, an act_ account, https or a loopback http URL), and
// so must api's HTTP settings (rate, burst, timeout, attempts, backoff), which are shared with the
// other platforms. api's CrowdChange key and URL are not used.
func NewClient(cfg config.Donately, api config.API, log *logrus.Entry, opts ...extract.Option) (*Client, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring the Donately client: %w", err)
	}
	base, err := cfg.BaseURL()
	if err != nil {
		return nil, fmt.Errorf("configuring the Donately client: %w", err)
	}
	if log == nil {
		log = extract.DiscardLog()
	}
	api.SetDefaults()
	hcfg := extract.HTTPConfigOf("donately", api)
	hcfg.ValidateBody = decodeListBody
	h, err := extract.NewHTTP(hcfg, log, opts...)
	if err != nil {
		return nil, fmt.Errorf("configuring the Donately client: %w", err)
	}
	token := cfg.Token.Reveal()
	credential := base64.StdEncoding.EncodeToString([]byte(token + ":"))
	account := cfg.Account
	return &Client{
		base:    base,
		account: account,
		log:     log,
		http:    h,
		authorize: func(hd http.Header) {
			hd.Set("Authorization", "Basic "+credential)
			hd.Set(AccountHeader, account)
			hd.Set(VersionHeader, Version)
			hd.Set("Accept", "application/json")
		},
		redact: func(s string) string {
			for _, secret := range []string{credential, token} {
				if len(secret) >= minRedactLen {
					s = strings.ReplaceAll(s, secret, "[redacted]")
				}
			}
			return s
		},
	}, nil
}

// minRedactLen is the shortest token removed from the API's messages: replacing a shorter string
// would mangle them (and no real token is that short).
const minRedactLen = 6

// Stats returns the counters of the client's HTTP machinery so far (Pages counts every 2xx answer,
// Check's included).
func (c *Client) Stats() extract.Stats { return c.http.Stats() }

// Check makes one cheap request (the account's donations, limit 1) so that a wrong token, account
// or URL stops a run before any work. A refused token or account wraps extract.ErrForbidden.
func (c *Client) Check(ctx context.Context) error {
	q := c.query(donations, Filter{}, 0, 1)
	if _, _, err := c.fetchPage(ctx, donations, q, c.log.WithField("resource", donations.name)); err != nil {
		return fmt.Errorf("checking access to the Donately API (account %s): %w", c.account, err)
	}
	return nil
}

// Record is one listed record: its id, its raw JSON as the API sent it less the payment intent
// secret, and the typed model decoded from it (one of Donation, Campaign, Person, by the list).
type Record struct {
	// ID is the record's id (dnt_…, cmp_…, per_…); always set.
	ID string
	// CreatedAt and UpdatedAt are the record's timestamps, zero when absent or unreadable.
	CreatedAt, UpdatedAt time.Time
	// Raw is the record's JSON object byte for byte as the API sent it, but for any
	// payment_intent_secret member, removed at any depth with its value and one comma.
	Raw json.RawMessage
	// Donation, Campaign and Person: the typed model of the list's kind; when Err is set it
	// holds what could be decoded (and ID).
	Donation *Donation
	Campaign *Campaign
	Person   *Person
	// Err says which fields could not be decoded (an *extract.DecodeError naming fields, never
	// values); the record is kept whole in Raw.
	Err error
}

// Result is everything one listing read.
type Result struct {
	// Records are in the API's order, each id once (the first time it was read) and each in the
	// filter's [After, Before).
	Records []Record
	// Quarantined are the items without a usable id (absent, not a string, not a short plain
	// identifier): they can be neither deduplicated nor versioned, so they are kept apart, whole.
	Quarantined []extract.Quarantined
	// Pages is the number of pages read; Requests the HTTP requests sent for them, retries
	// included; Passes the passes over the listing (2 when the first read fewer records than the
	// API's total).
	Pages, Requests, Passes int
	// Duplicates counts the records dropped because their id was already read in the same pass.
	Duplicates int
	// OutsideWindow counts the records the API sent whose timestamp is outside the filter's
	// [After, Before) (dropped: the adjacent window has them).
	OutsideWindow int
}

// resource is one list endpoint.
type resource struct {
	name string // "donations", for errors and logs
	path string // "/v2/donations"
	kind string // "donation", for decoding errors
	// serverFilter: the API filters the list by created/updated; otherwise the whole list is read
	// and filtered by the client.
	serverFilter bool
	// ordered: the API takes order_by and sort.
	ordered bool
}

var (
	donations = resource{name: "donations", path: "/v2/donations", kind: "donation", serverFilter: true, ordered: true}
	campaigns = resource{name: "campaigns", path: "/v2/campaigns", kind: "campaign", ordered: true}
	people    = resource{name: "people", path: "/v2/people", kind: "person"}
)

// Donations lists the account's donations whose f.Field timestamp is in [f.After, f.Before) (all of
// them for an empty Filter), filtered by the API (see Filter) and checked by the client.
func (c *Client) Donations(ctx context.Context, f Filter) (*Result, error) {
	return c.list(ctx, donations, f)
}

// Campaigns lists the account's campaigns. The API has no date filter for campaigns: the whole
// list is read and f is applied by the client (a campaign without a readable timestamp is kept by
// the window without an After bound only).
func (c *Client) Campaigns(ctx context.Context, f Filter) (*Result, error) {
	return c.list(ctx, campaigns, f)
}

// People lists the account's people (donors, contacts). The API has neither a date filter nor an
// order for people: the whole list is read in the API's order and f is applied by the client, as
// for Campaigns.
func (c *Client) People(ctx context.Context, f Filter) (*Result, error) {
	return c.list(ctx, people, f)
}

// query is the request for one page: the account, limit and offset, the order (created_at
// ascending, where the list takes one) and the API's filter (where it has one).
func (c *Client) query(rs resource, f Filter, offset, limit int) url.Values {
	q := url.Values{}
	q.Set("account_id", c.account)
	q.Set("limit", strconv.Itoa(limit))
	q.Set("offset", strconv.Itoa(offset))
	if rs.ordered {
		// created_at never changes: a record updated while the list is read keeps its place,
		// where ordering by updated_at would move it to the end and shift the rest.
		q.Set("order_by", "created_at")
		q.Set("sort", "ASC")
	}
	if rs.serverFilter {
		f.setAPIParams(q)
	}
	return q
}

// listing is one run of list.
type listing struct {
	c       *Client
	rs      resource
	f       Filter
	log     *logrus.Entry
	res     *Result
	seen    map[string]struct{} // ids read so far, in any pass
	seenRaw map[string]struct{} // quarantined items read so far, by their bytes
}

func (l *listing) distinct() int64 { return int64(len(l.seen) + len(l.seenRaw)) }

// list reads every page of a list (see the package documentation: Paging).
func (c *Client) list(ctx context.Context, rs resource, f Filter) (*Result, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("listing %s: %w", rs.name, err)
	}
	l := &listing{
		c: c, rs: rs, f: f,
		log:     c.log.WithFields(logrus.Fields{"resource": rs.name, "filter": f.String()}),
		res:     &Result{},
		seen:    map[string]struct{}{},
		seenRaw: map[string]struct{}{},
	}
	for pass := 1; ; pass++ {
		total, known, err := l.pass(ctx, pass)
		if err != nil {
			return nil, fmt.Errorf("listing %s (%s): %w", rs.name, f, err)
		}
		l.res.Passes = pass
		if !known || l.distinct() >= total {
			break
		}
		if pass == 2 {
			return nil, fmt.Errorf("listing %s (%s): %w: the API's total is %d, %d distinct records were read in two passes",
				rs.name, f, ErrIncomplete, total, l.distinct())
		}
		l.log.WithFields(logrus.Fields{"total": total, "read": l.distinct()}).
			Warn("the listing read fewer records than the API's total (records moved, or ties ordered differently between pages); reading it once more")
	}
	l.log.WithFields(logrus.Fields{
		"records": len(l.res.Records), "pages": l.res.Pages, "passes": l.res.Passes, "duplicates": l.res.Duplicates,
		"outside_window": l.res.OutsideWindow, "quarantined": len(l.res.Quarantined), "requests": l.res.Requests,
	}).Debug("listed")
	return l.res, nil
}

// pass reads the list once from offset 0 and returns the API's total as the last page gave it.
func (l *listing) pass(ctx context.Context, pass int) (total int64, known bool, err error) {
	passSeen := map[string]struct{}{}
	passRaw := map[string]struct{}{}
	var prev []json.RawMessage
	stale := 0
	offset := 0
	for {
		if l.res.Pages >= l.c.http.MaxPages() {
			return 0, false, fmt.Errorf("%w: still no last page after %d pages; giving up", extract.ErrPagingBroken, l.res.Pages)
		}
		log := l.log.WithFields(logrus.Fields{"offset": offset, "pass": pass})
		p, attempts, err := l.c.fetchPage(ctx, l.rs, l.c.query(l.rs, l.f, offset, PageLimit), log)
		l.res.Requests += attempts
		if err != nil {
			return 0, false, fmt.Errorf("reading offset %d: %w", offset, err)
		}
		l.res.Pages++
		if p.offsetKnown && p.offset != int64(offset) {
			return 0, false, fmt.Errorf("%w: asked for offset %d, the API answered for offset %d", extract.ErrPagingBroken, offset, p.offset)
		}
		n := len(p.items)
		if n > 0 && extract.SamePage(p.items, prev) {
			return 0, false, fmt.Errorf("%w: the page at offset %d is the same as the one before it (does the API ignore offset?)", extract.ErrPagingBroken, offset)
		}
		prev = p.items
		fresh := 0 // items new to this pass
		for i, raw := range p.items {
			rec, err := decodeRecord(l.rs, raw)
			if err != nil {
				key := string(raw)
				if _, ok := passRaw[key]; !ok {
					passRaw[key] = struct{}{}
					fresh++
				}
				if _, ok := l.seenRaw[key]; ok {
					continue
				}
				l.seenRaw[key] = struct{}{}
				l.res.Quarantined = append(l.res.Quarantined, extract.Quarantined{Raw: raw, Page: l.res.Pages, Position: i, Reason: err.Error()})
				log.WithFields(logrus.Fields{"position": i, "reason": err.Error()}).Warn("an item has no usable id; quarantined")
				continue
			}
			if _, ok := passSeen[rec.ID]; ok {
				l.res.Duplicates++
				log.WithField("id", rec.ID).Warn("a record appeared twice in the listing; keeping the first")
				continue
			}
			passSeen[rec.ID] = struct{}{}
			fresh++
			if _, ok := l.seen[rec.ID]; ok {
				continue // read by the first pass
			}
			l.seen[rec.ID] = struct{}{}
			if !l.keep(&rec) {
				l.res.OutsideWindow++
				log.WithField("id", rec.ID).Warn("the API sent a record outside the window; dropped (the adjacent window has it)")
				continue
			}
			if rec.Err != nil {
				log.WithFields(logrus.Fields{"id": rec.ID, "error": rec.Err.Error()}).Warn("record only partly decoded; its raw JSON is kept")
			}
			l.res.Records = append(l.res.Records, rec)
		}
		if n > 0 && fresh == 0 {
			if stale++; stale >= maxStalePages {
				return 0, false, fmt.Errorf("%w: %d pages in a row brought no new record (does the API ignore offset?)", extract.ErrPagingBroken, stale)
			}
		} else {
			stale = 0
		}
		if p.totalKnown {
			total, known = p.total, true
		}
		log.WithFields(logrus.Fields{"items": n, "attempts": attempts}).Debug("read a page")
		if n > PageLimit {
			log.WithFields(logrus.Fields{"items": n, "limit": PageLimit}).Warn("the API sent more records than the limit; reading on")
		}
		more := morePages(n, p, int64(offset), log)
		offset += n
		if !more {
			return total, known, nil
		}
	}
}

// keep reports whether a record belongs to the filter's window. A record whose timestamp cannot
// be read is kept where the API put it, or, for a list the client filters itself, only by the
// window without an After bound (so that it lands in one window of a series).
func (l *listing) keep(r *Record) bool {
	if l.f.Field == "" {
		return true
	}
	t := l.f.timeOf(r)
	if t.IsZero() {
		return l.rs.serverFilter || l.f.After.IsZero()
	}
	return l.f.contains(t)
}

// morePages says whether the page after one of n items at offset must be read. An empty page
// ends the list. Any signal that more exist (a full page, summary.has_more, summary.total_count
// beyond the records so far) reads on; a full page ends the list only when both has_more and the
// total say it is the last. A short page ends it unless a signal says more, or, without any
// summary, when its length looks like a cap below the limit (a multiple of 10 or 25), which one
// more request confirms.
func morePages(n int, p *listPage, offset int64, log *logrus.Entry) bool {
	end := offset + int64(n)
	saysMore := (p.hasMoreKnown && p.hasMore) || (p.totalKnown && end < p.total)
	switch {
	case n == 0:
		if p.totalKnown && p.total > offset {
			log.WithFields(logrus.Fields{"total": p.total, "read": offset}).
				Warn("the API's total says more records exist than it sent; it sent an empty page, so the listing ends")
		}
		return false
	case saysMore:
		return true
	case n >= PageLimit:
		return !(p.hasMoreKnown && p.totalKnown) // both say it is the last page
	case p.hasMoreKnown || p.totalKnown:
		return false
	}
	return n%10 == 0 || n%25 == 0
}

// fetchPage reads one page and returns the attempts it took.
func (c *Client) fetchPage(ctx context.Context, rs resource, q url.Values, log *logrus.Entry) (*listPage, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+rs.path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, 0, err
	}
	c.authorize(req.Header)
	resp, err := c.http.Do(req, log)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := decodeAPIError(resp.StatusCode, resp.Header, resp.Body, c.redact)
		if apiErr.Transient() {
			return nil, resp.Attempts, extract.GivingUp(resp.Attempts, apiErr)
		}
		return nil, resp.Attempts, apiErr
	}
	p, _ := resp.Decoded.(*listPage) // decoded, and cleaned of secrets, by the retry transport's validation
	if p == nil {
		return nil, resp.Attempts, fmt.Errorf("%w: the body was not validated", extract.ErrInvalidBody)
	}
	if p.failure != nil {
		return nil, resp.Attempts, decodeAPIError(resp.StatusCode, resp.Header, p.failure, c.redact)
	}
	return p, resp.Attempts, nil
}

// listPage is one answer of a list endpoint, cleaned of secrets.
type listPage struct {
	items []json.RawMessage
	// total is summary.total_count (or summary.total); hasMore summary.has_more; offset
	// params.offset: each only when the answer has it.
	total, offset                         int64
	totalKnown, hasMoreKnown, offsetKnown bool
	hasMore                               bool
	// failure is a 2xx body {"success": false, ...}: an error, not a page.
	failure []byte
}

// decodeListBody is the retry transport's check of a 2xx body (extract.HTTPConfig.ValidateBody):
// it removes every payment intent secret, then decodes the list envelope {object, data, summary,
// params} (or 2019-03-15's {success, data}); data must be there, as a list (or null). A body that
// is not valid JSON, or not the envelope, is retried. Errors never quote the body.
func decodeListBody(body []byte) (any, error) {
	clean, _, err := removeSecrets(body)
	if err != nil {
		return nil, err
	}
	var env struct {
		Data    json.RawMessage `json:"data"`
		Summary json.RawMessage `json:"summary"`
		Params  json.RawMessage `json:"params"`
		Success json.RawMessage `json:"success"`
	}
	if json.Unmarshal(clean, &env) != nil {
		return nil, errors.New("not a JSON object")
	}
	p := &listPage{}
	if string(bytes.TrimSpace(env.Success)) == "false" {
		p.failure = clean
		return p, nil
	}
	switch d := bytes.TrimSpace(env.Data); {
	case len(d) == 0:
		return nil, errors.New(`no "data" member`)
	case string(d) == "null":
	case d[0] == '[':
		if json.Unmarshal(d, &p.items) != nil {
			return nil, errors.New(`"data" is not a list`)
		}
	default:
		return nil, errors.New(`"data" is not a list`)
	}
	var summary struct {
		TotalCount json.RawMessage `json:"total_count"`
		Total      json.RawMessage `json:"total"`
		HasMore    json.RawMessage `json:"has_more"`
	}
	if json.Unmarshal(env.Summary, &summary) == nil {
		if p.total, p.totalKnown = count(summary.TotalCount); !p.totalKnown {
			p.total, p.totalKnown = count(summary.Total)
		}
		p.hasMoreKnown = json.Unmarshal(summary.HasMore, &p.hasMore) == nil
	}
	var params struct {
		Offset json.RawMessage `json:"offset"`
	}
	if json.Unmarshal(env.Params, &params) == nil {
		p.offset, p.offsetKnown = count(params.Offset)
	}
	return p, nil
}

// count reads a non-negative integer written as a JSON number or a string of digits.
func count(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		raw = []byte(s)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// decodeRecord reads one item: its id (an item without a usable one is an error: quarantined),
// then the typed model of the list's kind, field by field where the whole does not decode.
func decodeRecord(rs resource, raw json.RawMessage) (Record, error) {
	id, err := itemID(raw)
	if err != nil {
		return Record{}, err
	}
	r := Record{ID: id, Raw: raw}
	switch rs.kind {
	case "donation":
		d := &Donation{}
		r.Err = extract.DecodeLenient(raw, d, rs.kind)
		d.ID, r.Donation = id, d
		r.CreatedAt, r.UpdatedAt = d.CreatedAt.Time, d.UpdatedAt.Time
	case "campaign":
		m := &Campaign{}
		r.Err = extract.DecodeLenient(raw, m, rs.kind)
		m.ID, r.Campaign = id, m
		r.CreatedAt, r.UpdatedAt = m.CreatedAt.Time, m.UpdatedAt.Time
	case "person":
		m := &Person{}
		r.Err = extract.DecodeLenient(raw, m, rs.kind)
		m.ID, r.Person = id, m
		r.CreatedAt, r.UpdatedAt = m.CreatedAt.Time, m.UpdatedAt.Time
	}
	return r, nil
}

// itemID reads an item's "id": a non-empty JSON string of at most maxIDLen bytes of printable
// characters without spaces. Its errors name no value.
func itemID(raw json.RawMessage) (string, error) {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return "", errors.New("the item is not a JSON object")
	}
	b := bytes.TrimSpace(probe.ID)
	switch {
	case len(b) == 0:
		return "", errors.New(`the item has no "id"`)
	case string(b) == "null":
		return "", errors.New(`"id" is null`)
	case b[0] != '"':
		return "", errors.New(`"id" is not a string`)
	}
	var id string
	if json.Unmarshal(b, &id) != nil {
		return "", errors.New(`"id" is not a string that can be read`)
	}
	switch {
	case id == "":
		return "", errors.New(`"id" is empty`)
	case len(id) > maxIDLen:
		return "", fmt.Errorf(`"id" is longer than %d bytes`, maxIDLen)
	case !utf8.ValidString(id) || strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) || r == utf8.RuneError }) >= 0:
		return "", errors.New(`"id" holds spaces or characters that cannot be printed`)
	}
	return id, nil
}
