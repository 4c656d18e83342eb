package donatelytest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeBound is one bound of a created or updated filter: the raw parameter (echoed in params)
// and the instant it names.
type timeBound struct {
	raw string
	t   time.Time
	set bool
}

// timeRange is a created or updated filter: {gt: timestamp, lt: timestamp}, both strict.
type timeRange struct{ gt, lt timeBound }

func (tr timeRange) contains(t time.Time) bool {
	return (!tr.gt.set || t.After(tr.gt.t)) && (!tr.lt.set || t.Before(tr.lt.t))
}

func (tr timeRange) echo() map[string]string {
	m := map[string]string{}
	if tr.gt.set {
		m["gt"] = tr.gt.raw
	}
	if tr.lt.set {
		m["lt"] = tr.lt.raw
	}
	return m
}

// parseTimestamp reads a filter timestamp: unix seconds (an integer) or RFC 3339 with or without
// fractional seconds ("2026-03-01T00:00:00Z", "2026-03-01T00:00:00.5-05:00").
func parseTimestamp(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// listQuery is a validated list request.
type listQuery struct {
	limit, offset    int
	desc             bool
	orderBy          string
	created, updated timeRange
	filters          map[string]string // resource filters as given (validated), echoed in params
	publishedOnly    bool              // campaigns asked for without a token: the public sees published ones only
	params           map[string]any    // what params echoes
}

// orderFields are the order_by values of each list.
var orderFields = map[route][]string{
	routeDonations: {"created_at", "updated_at", "amount_in_cents", "id"},
	routeCampaigns: {"created_at", "updated_at", "goal_in_cents", "title", "id"},
	routePeople:    {"created_at", "updated_at", "id"},
}

// filterNames are the filters each list understands; others parameters are ignored, as the API
// ignores parameters it does not know.
var filterNames = map[route][]string{
	routeDonations: {"status", "person_id", "campaign_id", "fundraiser_id", "donation_type", "recurring", "anonymous", "currency", "amount_in_cents", "keyword"},
	routeCampaigns: {"status", "type", "keyword", "has_fundraisers"},
	routePeople:    {"keyword"},
}

var donationTypeFilters = []string{typeCard, typeStripe, typeACH, typePaypal, typeCash, typeDipjar, "cc", "cash_or_check"}

// parseList validates a list request; a message names the first invalid parameter.
func parseList(rt route, v url.Values, account string) (listQuery, string) {
	q := listQuery{limit: DefaultLimit, desc: true, orderBy: "created_at", filters: map[string]string{}}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, "limit must be an integer between 1 and " + strconv.Itoa(MaxLimit) + "."
		}
		q.limit = min(n, MaxLimit)
	}
	if s := v.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, "offset must be a non-negative integer."
		}
		q.offset = n
	}
	if s := v.Get("sort"); s != "" {
		switch strings.ToUpper(s) {
		case "ASC":
			q.desc = false
		case "DESC":
		default:
			return q, "sort must be ASC or DESC."
		}
	}
	if s := v.Get("order_by"); s != "" {
		if !slices.Contains(orderFields[rt], s) {
			return q, "order_by must be one of " + strings.Join(orderFields[rt], ", ") + "."
		}
		q.orderBy = s
	}
	for _, f := range []struct {
		name string
		dst  *timeRange
	}{{"created", &q.created}, {"updated", &q.updated}} {
		for _, b := range []struct {
			op  string
			dst *timeBound
		}{{"gt", &f.dst.gt}, {"lt", &f.dst.lt}} {
			key := f.name + "[" + b.op + "]"
			s := v.Get(key)
			if s == "" {
				continue
			}
			t, ok := parseTimestamp(s)
			if !ok {
				return q, key + " must be a unix timestamp in seconds or an RFC 3339 time."
			}
			*b.dst = timeBound{raw: s, t: t, set: true}
		}
	}
	for _, name := range filterNames[rt] {
		s := v.Get(name)
		if s == "" {
			continue
		}
		switch name {
		case "status":
			allowed := []string{StatusCompleted, StatusPending, StatusRefunded, StatusRejected}
			if rt == routeCampaigns {
				allowed = []string{"draft", "published", "archived"}
			}
			if !slices.Contains(allowed, s) {
				return q, "status must be one of " + strings.Join(allowed, ", ") + "."
			}
		case "recurring", "anonymous", "has_fundraisers":
			if s != "true" && s != "false" {
				return q, name + " must be true or false."
			}
		case "donation_type":
			if !slices.Contains(donationTypeFilters, s) {
				return q, "donation_type must be one of " + strings.Join(donationTypeFilters, ", ") + "."
			}
		case "amount_in_cents":
			if _, err := strconv.ParseInt(s, 10, 64); err != nil {
				return q, "amount_in_cents must be an integer."
			}
		case "currency":
			s = strings.ToLower(s)
		}
		q.filters[name] = s
	}
	sortName := "DESC"
	if !q.desc {
		sortName = "ASC"
	}
	q.params = map[string]any{"account_id": account, "limit": q.limit, "offset": q.offset, "sort": sortName, "order_by": q.orderBy}
	if m := q.created.echo(); len(m) > 0 {
		q.params["created"] = m
	}
	if m := q.updated.echo(); len(m) > 0 {
		q.params["updated"] = m
	}
	for k, s := range q.filters {
		q.params[k] = s
	}
	return q, ""
}

// item is one record matching a list request, with its sort keys at the request's now.
type item struct {
	id               string
	created, updated time.Time
	amount           int64 // amount_in_cents or goal_in_cents
	title            string
	d                *donation
	c                *campaign
	p                *person
}

// compare orders items by the query's field, then by id: the order is total, so that offset
// paging neither skips nor repeats records that tie on the field.
func (q *listQuery) compare(a, b *item) int {
	c := 0
	switch q.orderBy {
	case "created_at":
		c = a.created.Compare(b.created)
	case "updated_at":
		c = a.updated.Compare(b.updated)
	case "amount_in_cents", "goal_in_cents":
		c = cmpInt(a.amount, b.amount)
	case "title":
		c = strings.Compare(a.title, b.title)
	}
	if c == 0 {
		c = strings.Compare(a.id, b.id)
	}
	if q.desc {
		return -c
	}
	return c
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func boolParam(s string) bool { return s == "true" }

// matchDonation applies the donation filters to a donation in state st.
func matchDonation(q *listQuery, d *donation, st state) bool {
	for name, v := range q.filters {
		ok := true
		switch name {
		case "status":
			ok = st.status == v
		case "person_id":
			ok = d.person != nil && d.person.id == v
		case "campaign_id":
			ok = d.campaign != nil && d.campaign.id == v
		case "fundraiser_id":
			ok = d.fundraiser != nil && d.fundraiser.id == v
		case "donation_type":
			switch v {
			case "cc":
				ok = legacyType(d.donationType) == "cc"
			case "cash_or_check":
				ok = legacyType(d.donationType) == "cash"
			default:
				ok = d.donationType == v
			}
		case "recurring":
			ok = d.recurring == boolParam(v)
		case "anonymous":
			ok = d.anonymous == boolParam(v)
		case "currency":
			ok = d.currency == v
		case "amount_in_cents":
			ok = strconv.FormatInt(d.amount, 10) == v
		case "keyword":
			ok = (st.comment != nil && containsFold(*st.comment, v)) || (d.onBehalfOf != nil && containsFold(*d.onBehalfOf, v))
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchCampaign(q *listQuery, c *campaign) bool {
	if q.publishedOnly && c.status != "published" {
		return false
	}
	for name, v := range q.filters {
		ok := true
		switch name {
		case "status":
			ok = c.status == v
		case "type":
			ok = c.kind == v
		case "keyword":
			ok = containsFold(c.title, v)
		case "has_fundraisers":
			ok = (len(c.fundraisers) > 0) == boolParam(v)
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchPerson(q *listQuery, p *person) bool {
	if v, ok := q.filters["keyword"]; ok {
		return containsFold(p.first+" "+p.last, v) || containsFold(p.email, v)
	}
	return true
}

// matches collects the records of a list that exist at now and match q. Call with s.mu held.
func (ds *dataset) matches(rt route, q *listQuery, now time.Time) []item {
	var out []item
	keep := func(it item) {
		if q.created.contains(it.created) && q.updated.contains(it.updated) {
			out = append(out, it)
		}
	}
	switch rt {
	case routeDonations:
		// ds.donations is in created_at order: the created filter and now bound an index range.
		lo, hi := 0, ds.createdIndex(now, true)
		if q.created.gt.set {
			lo = ds.createdIndex(q.created.gt.t, true)
		}
		if q.created.lt.set {
			hi = min(hi, ds.createdIndex(q.created.lt.t, false))
		}
		for _, d := range ds.donations[lo:max(lo, hi)] {
			st := d.stateAt(now)
			if matchDonation(q, d, st) {
				keep(item{id: d.id, created: d.created, updated: st.at, amount: d.amount, d: d})
			}
		}
	case routeCampaigns:
		for _, c := range ds.campaigns {
			if c.existsAt(now) && matchCampaign(q, c) {
				keep(item{id: c.id, created: c.created, updated: c.updatedAt(now), amount: c.goal, title: c.title, c: c})
			}
		}
	case routePeople:
		for _, p := range ds.people {
			if p.existsAt(now) && matchPerson(q, p) {
				keep(item{id: p.id, created: p.created, updated: p.updatedAt(now), p: p})
			}
		}
	}
	return out
}

// listSummary is the summary of a Version2022 list: how many records match the filters in all,
// how many this page holds, and whether pages follow.
type listSummary struct {
	TotalCount int  `json:"total_count"`
	Count      int  `json:"count"`
	HasMore    bool `json:"has_more"`
}

// list answers GET /v2/donations, /v2/campaigns and /v2/people.
func (s *Server) list(x *exchange, rt route) FaultKind {
	now := s.now()
	q, msg := parseList(rt, x.r.URL.Query(), s.opts.Account)
	q.publishedOnly = x.anonymous
	if msg != "" {
		s.count(func(st *ServerStats) { st.BadRequests++ })
		s.fail(x, http.StatusBadRequest, msg)
		return ""
	}
	kind := s.decideFault(x.r)
	if kind != "" && kind != FaultTruncated && s.applyFault(x, kind) {
		return kind
	}
	body, err := s.listBody(x, rt, &q, now)
	if err != nil {
		s.fail(x, http.StatusInternalServerError, "Internal server error.")
		return kind
	}
	if kind == FaultTruncated {
		writeBody(x.w, http.StatusOK, "application/json; charset=utf-8", truncate(body))
		return kind
	}
	s.count(func(st *ServerStats) { st.Pages++ })
	writeBody(x.w, http.StatusOK, "application/json; charset=utf-8", body)
	return kind
}

// listBody renders one page of a list in the version's envelope.
func (s *Server) listBody(x *exchange, rt route, q *listQuery, now time.Time) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ds := s.data
	items := ds.matches(rt, q, now)
	slices.SortFunc(items, func(a, b item) int { return q.compare(&a, &b) })
	total := len(items)
	lo := min(q.offset, total)
	hi := min(lo+q.limit, total)
	var raised map[*campaign]int64
	if rt == routeCampaigns && hi > lo {
		raised = ds.raisedAt(now)
	}
	data := make([]any, 0, hi-lo)
	for _, it := range items[lo:hi] {
		switch {
		case it.d != nil:
			data = append(data, renderDonation(it.d, x.version, now))
		case it.c != nil:
			data = append(data, renderCampaign(it.c, x.version, now, raised[it.c]))
		case it.p != nil:
			data = append(data, renderPerson(it.p, x.version, now))
		}
	}
	if x.version == Version2022 {
		return json.Marshal(struct {
			Object    string         `json:"object"`
			Data      []any          `json:"data"`
			Summary   listSummary    `json:"summary"`
			Params    map[string]any `json:"params"`
			RequestID string         `json:"request_id"`
		}{"list", data, listSummary{TotalCount: total, Count: hi - lo, HasMore: hi < total}, q.params, x.requestID})
	}
	return json.Marshal(struct {
		Success bool  `json:"success"`
		Data    []any `json:"data"`
	}{true, data})
}
