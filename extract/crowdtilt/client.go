package crowdtilt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/sirupsen/logrus"
)

// platform names the API in the shared machinery's errors and logs.
const platform = "crowdtilt"

// PerPage is the per_page of every list request: the largest page the client asks for. The seed
// names the default (50) but no maximum; 100 is the sandbox's. An API that serves fewer says so in
// pagination.per_page, which the client then pages by.
const PerPage = 100

// maxStalePages is how many pages in a row of one pass may bring no record not already seen in
// that pass before the listing fails with extract.ErrPagingBroken.
const maxStalePages = 2

// minRedactLen is the shortest credential removed from the API's messages: replacing a shorter
// string would mangle them (and no real key or secret is that short).
const minRedactLen = 6

// Client reads the Crowdtilt API v1 (seed 003): campaigns, their payments, and users. It sends
// through the shared machinery of extract.NewHTTP (rate limiter, retries, backoff, counters), so
// that a run that reads several platforms shares one limiter when given the same
// extract.WithLimiter. It is safe for concurrent use (the payments of several campaigns may be
// read at once).
type Client struct {
	base string
	log  *logrus.Entry
	http *extract.HTTP

	// The credentials live only in these closures, so that no formatting of a Client can print
	// them.
	authorize func(h http.Header)
	redact    func(s string) string
}

// NewClient returns a client for the API cfg describes. Unset fields of cfg and api take their
// defaults; cfg must then be valid (a key and a secret, https or a loopback http URL), and so must
// api's HTTP settings (rate, burst, timeout, attempts, backoff), which are shared with the other
// platforms; api's CrowdChange key, region, URL and page size are not used. log (nil: discarded)
// receives the client's lines: ids, pages, counts and field names, never a record's values or a
// credential.
func NewClient(cfg config.Crowdtilt, api config.API, log *logrus.Entry, opts ...extract.Option) (*Client, error) {
	cfg.SetDefaults()
	api.SetDefaults()
	hcfg := extract.HTTPConfigOf(platform, api)
	if err := errors.Join(cfg.Validate(), hcfg.Validate()); err != nil {
		return nil, fmt.Errorf("configuring the Crowdtilt client: %w", err)
	}
	base, err := cfg.BaseURL()
	if err != nil {
		return nil, fmt.Errorf("configuring the Crowdtilt client: %w", err)
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	hcfg.ValidateBody = decodeBody
	h, err := extract.NewHTTP(hcfg, log, opts...)
	if err != nil {
		return nil, fmt.Errorf("configuring the Crowdtilt client: %w", err)
	}
	key, secret := cfg.Key.Reveal(), cfg.Secret.Reveal()
	credential := base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))
	return &Client{
		base: base,
		log:  log,
		http: h,
		authorize: func(hd http.Header) {
			hd.Set("Authorization", "Basic "+credential)
			hd.Set("Accept", "application/json")
		},
		redact: func(s string) string {
			for _, c := range []string{credential, key + ":" + secret, secret, key} {
				if len(c) >= minRedactLen {
					s = strings.ReplaceAll(s, c, "[redacted]")
				}
			}
			return s
		},
	}, nil
}

// Stats returns the counters of the client's HTTP machinery so far (Pages counts every 2xx answer,
// Check's and User's included).
func (c *Client) Stats() extract.Stats { return c.http.Stats() }

// Check makes one cheap request (the first campaign: GET /v1/campaigns?page=1&per_page=1) so that
// wrong credentials or a wrong URL stop a run before any work. Refused credentials wrap
// extract.ErrForbidden (after that one request: 401 and 403 are never retried).
func (c *Client) Check(ctx context.Context) error {
	q := url.Values{"page": {"1"}, "per_page": {"1"}}
	if _, _, err := c.fetchList(ctx, "/v1/campaigns", "campaigns", q, c.log.WithField("resource", "campaigns")); err != nil {
		return fmt.Errorf("checking access to the Crowdtilt API: %w", err)
	}
	return nil
}

// Result is everything one listing read.
type Result struct {
	// Records are in the API's order, each id once (the first time it was read).
	Records []Record
	// Quarantined are the items without a usable id (absent, not a string, not a short plain
	// identifier): they can be neither deduplicated nor versioned, so they are kept apart, whole.
	Quarantined []extract.Quarantined
	// Pages is the number of pages read; Requests the HTTP requests sent for them, retries
	// included; Passes the passes over the list (2 when the first read fewer records than the
	// API's total).
	Pages, Requests, Passes int
	// Duplicates counts the records dropped because their id was already read in the same pass.
	Duplicates int
	// Total is the API's total_entries as the last page gave it, -1 when no page gave one.
	Total int64
}

// resource is one list endpoint.
type resource struct {
	name       string // "payments of campaign CMP…", for errors and logs
	path       string // "/v1/campaigns"
	member     string // the list's member: "campaigns"
	kind       Kind
	campaignID string // for payments
}

// Campaigns lists every campaign (GET /v1/campaigns, every page), in the API's order.
func (c *Client) Campaigns(ctx context.Context) (*Result, error) {
	return c.list(ctx, resource{name: "campaigns", path: "/v1/campaigns", member: "campaigns", kind: KindCampaign})
}

// Payments lists every payment of one campaign (GET /v1/campaigns/:id/payments, every page), in
// the API's order; each record's CampaignID is campaignID.
func (c *Client) Payments(ctx context.Context, campaignID string) (*Result, error) {
	if err := checkID(campaignID); err != nil {
		return nil, fmt.Errorf("listing payments: the campaign id %w", err)
	}
	return c.list(ctx, resource{name: "payments of campaign " + campaignID, path: "/v1/campaigns/" + url.PathEscape(campaignID) + "/payments",
		member: "payments", kind: KindPayment, campaignID: campaignID})
}

// User fetches one user (GET /v1/users/:id). A sync calls it only for a user that a payment or
// campaign names without embedding it in full (Record.IsReference): the API embeds full users,
// so a sync that changes nothing fetches none. A user the API does not know is an error wrapping
// ErrUnknownID (and the *APIError, which unwraps to extract.ErrNotFound).
func (c *Client) User(ctx context.Context, id string) (Record, error) {
	if err := checkID(id); err != nil {
		return Record{}, fmt.Errorf("fetching a user: the id %w", err)
	}
	log := c.log.WithFields(logrus.Fields{"resource": "user", "id": id})
	a, _, err := c.fetch(ctx, "/v1/users/"+url.PathEscape(id), nil, log)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
			return Record{}, fmt.Errorf("fetching user %s: %w: %w", id, ErrUnknownID, err)
		}
		return Record{}, fmt.Errorf("fetching user %s: %w", id, err)
	}
	if a.objectName != "user" {
		return Record{}, fmt.Errorf("fetching user %s: %w: want {\"user\": {...}}", id, errEnvelope)
	}
	rec, err := decodeRecord(KindUser, a.object)
	if err != nil {
		return Record{}, fmt.Errorf("fetching user %s: %w", id, err)
	}
	if rec.ID != id {
		return Record{}, fmt.Errorf("fetching user %s: the API answered user %s", id, rec.ID)
	}
	if rec.Err != nil {
		log.WithField("error", rec.Err.Error()).Warn("user only partly decoded; its raw JSON is kept")
	}
	return rec, nil
}

// listing is one run of list.
type listing struct {
	c       *Client
	rs      resource
	log     *logrus.Entry
	res     *Result
	seen    map[string]struct{} // ids read so far, in any pass
	seenRaw map[string]struct{} // quarantined items read so far, by their bytes
}

func (l *listing) distinct() int64 { return int64(len(l.seen) + len(l.seenRaw)) }

// list reads every page of a list (see the package documentation: Paging).
func (c *Client) list(ctx context.Context, rs resource) (*Result, error) {
	l := &listing{
		c: c, rs: rs,
		log:     c.log.WithField("resource", rs.name),
		res:     &Result{Total: -1},
		seen:    map[string]struct{}{},
		seenRaw: map[string]struct{}{},
	}
	for pass := 1; ; pass++ {
		if err := l.pass(ctx, pass); err != nil {
			return nil, fmt.Errorf("listing %s: %w", rs.name, err)
		}
		l.res.Passes = pass
		if l.res.Total < 0 || l.distinct() >= l.res.Total {
			break
		}
		if pass == 2 {
			return nil, fmt.Errorf("listing %s: %w: the API's total_entries is %d, %d distinct records were read in two passes",
				rs.name, ErrIncomplete, l.res.Total, l.distinct())
		}
		l.log.WithFields(logrus.Fields{"total": l.res.Total, "read": l.distinct()}).
			Warn("the listing read fewer records than the API's total_entries (records moved while it was read); reading it once more")
	}
	l.log.WithFields(logrus.Fields{
		"records": len(l.res.Records), "pages": l.res.Pages, "passes": l.res.Passes, "duplicates": l.res.Duplicates,
		"quarantined": len(l.res.Quarantined), "requests": l.res.Requests,
	}).Debug("listed")
	return l.res, nil
}

// pass reads the list once from page 1.
func (l *listing) pass(ctx context.Context, pass int) error {
	passSeen := map[string]struct{}{}
	passRaw := map[string]struct{}{}
	var prev []json.RawMessage
	stale := 0
	for page := 1; ; page++ {
		if l.res.Pages >= l.c.http.MaxPages() {
			return fmt.Errorf("%w: still no last page after %d pages; giving up", extract.ErrPagingBroken, l.res.Pages)
		}
		log := l.log.WithFields(logrus.Fields{"page": page, "pass": pass})
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(PerPage)}}
		a, attempts, err := l.c.fetchList(ctx, l.rs.path, l.rs.member, q, log)
		l.res.Requests += attempts
		if err != nil {
			return fmt.Errorf("reading page %d: %w", page, err)
		}
		l.res.Pages++
		pg := a.pagination
		if pg.pageKnown && pg.page != int64(page) {
			return fmt.Errorf("%w: asked for page %d, the API answered page %d (does it ignore \"page\"?)", extract.ErrPagingBroken, page, pg.page)
		}
		n := len(a.items)
		if n > 0 && extract.SamePage(a.items, prev) {
			return fmt.Errorf("%w: page %d is the same as page %d (does the API ignore \"page\"?)", extract.ErrPagingBroken, page, page-1)
		}
		prev = a.items
		if pg.entriesKnown && pg.entries != int64(n) {
			log.WithFields(logrus.Fields{"items": n, "entries_on_this_page": pg.entries}).
				Warn("the pagination object's entries_on_this_page differs from the items on the page")
		}
		fresh := 0 // items new to this pass
		for i, raw := range a.items {
			rec, err := decodeRecord(l.rs.kind, raw)
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
			if l.rs.kind == KindPayment {
				rec.CampaignID = l.rs.campaignID
				if id := rec.Payment.CampaignID(); id != "" && id != l.rs.campaignID {
					log.WithFields(logrus.Fields{"id": rec.ID, "embedded_campaign": id}).
						Warn("a payment listed under one campaign embeds another; kept under the campaign it was listed under")
				}
			}
			if rec.Err != nil {
				log.WithFields(logrus.Fields{"id": rec.ID, "error": rec.Err.Error()}).Warn("record only partly decoded; its raw JSON is kept")
			}
			l.res.Records = append(l.res.Records, rec)
		}
		if n > 0 && fresh == 0 {
			if stale++; stale >= maxStalePages {
				return fmt.Errorf("%w: %d pages in a row brought no new record (does the API ignore \"page\"?)", extract.ErrPagingBroken, stale)
			}
		} else {
			stale = 0
		}
		if pg.totalKnown {
			l.res.Total = pg.total
		}
		log.WithFields(logrus.Fields{"items": n, "attempts": attempts}).Debug("read a page")
		if !morePages(n, page, pg, log) {
			return nil
		}
	}
}

// morePages says whether the page after page (from 1), which held n items, must be read. The
// page size is PerPage, or pagination.per_page when the API says it serves fewer. An empty page
// ends the list. Any signal that more exist (page < total_pages, or the entries through this page
// fewer than total_entries) reads on. A full page ends the list only when total_pages and
// total_entries both say it is the last, exactly: total_pages alone is never trusted. A short page
// ends it unless a signal says more, or, without any pagination object, when its length looks like
// a cap below PerPage (a multiple of 10 or 25), which one more request confirms.
func morePages(n, page int, pg pagination, log *logrus.Entry) bool {
	size := int64(PerPage)
	if pg.perPageKnown && pg.perPage > 0 && pg.perPage < size {
		size = pg.perPage
	}
	if int64(n) > size {
		log.WithFields(logrus.Fields{"items": n, "per_page": size}).Warn("the API sent more records than per_page; reading on")
	}
	end := int64(page-1)*size + int64(n)
	saysMore := (pg.totalPagesKnown && int64(page) < pg.totalPages) || (pg.totalKnown && end < pg.total)
	switch {
	case n == 0:
		if saysMore {
			log.WithFields(logrus.Fields{"total_entries": pg.total, "total_pages": pg.totalPages}).
				Warn("the pagination object says more records exist than the API sent; it sent an empty page, so the listing ends")
		}
		return false
	case saysMore:
		return true
	case int64(n) >= size:
		return !(pg.totalPagesKnown && pg.totalKnown && int64(page) == pg.totalPages && end == pg.total)
	case pg.totalPagesKnown || pg.totalKnown:
		return false
	}
	return n%10 == 0 || n%25 == 0
}

// fetchList reads one list page: an answer holding the list member.
func (c *Client) fetchList(ctx context.Context, path, member string, q url.Values, log *logrus.Entry) (*answer, int, error) {
	a, attempts, err := c.fetch(ctx, path, q, log)
	if err != nil {
		return nil, attempts, err
	}
	if a.listName != member {
		return nil, attempts, fmt.Errorf("%w: want {\"pagination\": {...}, %q: [...]}", errEnvelope, member)
	}
	return a, attempts, nil
}

// fetch sends one GET and returns its answer and the attempts it took; an error answer is an
// *APIError.
func (c *Client) fetch(ctx context.Context, path string, q url.Values, log *logrus.Entry) (*answer, int, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	c.authorize(req.Header)
	resp, err := c.http.Do(req, log)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Card data in an error body: removed before anything reads it, when it is JSON.
		body := resp.Body
		if clean, _, err := removeCardData(body); err == nil {
			body = clean
		}
		apiErr := decodeAPIError(resp.StatusCode, resp.Header, body, c.redact)
		if apiErr.Transient() {
			return nil, resp.Attempts, fmt.Errorf("giving up after %d attempts: %w", resp.Attempts, apiErr)
		}
		return nil, resp.Attempts, apiErr
	}
	a, _ := resp.Decoded.(*answer) // decoded, and cleaned of card data, by the retry transport's validation
	if a == nil {
		return nil, resp.Attempts, fmt.Errorf("%w: the body was not validated", extract.ErrInvalidBody)
	}
	if a.failure != nil {
		return nil, resp.Attempts, decodeAPIError(resp.StatusCode, resp.Header, a.failure, c.redact)
	}
	return a, resp.Attempts, nil
}

// pagination is the seed's pagination object; each field only when the answer has it as a
// non-negative integer.
type pagination struct {
	page, entries, totalPages, total, perPage                          int64
	pageKnown, entriesKnown, totalPagesKnown, totalKnown, perPageKnown bool
}

// answer is one 2xx answer, cleaned of card data: a list ({"pagination": {...}, "<member>":
// [...]}), a single object ({"<name>": {...}}), or an error ({"error": ...}).
type answer struct {
	listName   string
	items      []json.RawMessage
	pagination pagination
	objectName string
	object     json.RawMessage
	failure    []byte // the body, when it holds an "error" member
}

// decodeBody is the retry transport's check of a 2xx body (extract.HTTPConfig.ValidateBody): it
// removes the card data, then reads the envelope: a list (one member holding a list, beside an
// optional pagination object), a single object (one member holding an object), or an error (an
// "error" member). A body that is not valid JSON (cut short, HTML), not an object, or none of
// these is retried. Errors never quote the body.
func decodeBody(body []byte) (any, error) {
	clean, _, err := removeCardData(body)
	if err != nil {
		return nil, err
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(clean, &members) != nil {
		return nil, errors.New("not a JSON object")
	}
	a := &answer{}
	if _, ok := members["error"]; ok {
		a.failure = clean
		return a, nil
	}
	var lists, objects []string
	for name, v := range members {
		v = bytes.TrimSpace(v)
		switch {
		case name == "pagination":
		case len(v) > 0 && v[0] == '[':
			lists = append(lists, name)
		case len(v) > 0 && v[0] == '{':
			objects = append(objects, name)
		}
	}
	switch {
	case len(lists) == 1:
		a.listName = lists[0]
		if json.Unmarshal(members[a.listName], &a.items) != nil {
			return nil, errors.New("the list cannot be read")
		}
		a.pagination = readPagination(members["pagination"])
	case len(lists) == 0 && len(objects) == 1:
		a.objectName, a.object = objects[0], members[objects[0]]
	default:
		return nil, fmt.Errorf("neither a list nor a single object (%d lists, %d objects)", len(lists), len(objects))
	}
	return a, nil
}

// readPagination reads the pagination object leniently: a member that is not a non-negative
// integer (or a string of digits) is unknown.
func readPagination(raw json.RawMessage) pagination {
	var p pagination
	var m struct {
		Page              json.RawMessage `json:"page"`
		EntriesOnThisPage json.RawMessage `json:"entries_on_this_page"`
		TotalPages        json.RawMessage `json:"total_pages"`
		TotalEntries      json.RawMessage `json:"total_entries"`
		PerPage           json.RawMessage `json:"per_page"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return p
	}
	p.page, p.pageKnown = count(m.Page)
	p.entries, p.entriesKnown = count(m.EntriesOnThisPage)
	p.totalPages, p.totalPagesKnown = count(m.TotalPages)
	p.total, p.totalKnown = count(m.TotalEntries)
	p.perPage, p.perPageKnown = count(m.PerPage)
	return p
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
