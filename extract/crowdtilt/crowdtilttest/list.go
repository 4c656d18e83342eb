package crowdtilttest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// pageQuery is a validated list request.
type pageQuery struct{ page, perPage int }

// parsePaging reads page (default 1) and per_page (default DefaultPerPage, at most MaxPerPage);
// a message names the first invalid one.
func parsePaging(v url.Values) (pageQuery, string) {
	q := pageQuery{page: 1, perPage: DefaultPerPage}
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, "page must be a positive integer"
		}
		q.page = n
	}
	if s := v.Get("per_page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, "per_page must be a positive integer"
		}
		q.perPage = min(n, MaxPerPage)
	}
	return q, ""
}

// paginationJSON is the seed's pagination object.
type paginationJSON struct {
	Page              int `json:"page"`
	EntriesOnThisPage int `json:"entries_on_this_page"`
	TotalPages        int `json:"total_pages"`
	TotalEntries      int `json:"total_entries"`
	PerPage           int `json:"per_page"`
}

// totalPages is the number of pages of total entries: at least 1, an empty list being one empty
// page (as Perl's Data::Page, whose names the pagination object shares, counts them).
func totalPages(total, perPage int) int {
	return max(1, (total+perPage-1)/perPage)
}

// listMembers are the names of each list's member.
var listMembers = map[route]string{
	routeCampaigns:        "campaigns",
	routeCampaignPayments: "payments",
	routeRejectedPayments: "payments",
	routeUsers:            "users",
	routeUserPayments:     "payments",
	routeUserCampaigns:    "campaigns",
}

// collect is every record of a list at now, in the list's order, or false when the list's owner
// (the campaign or user of the path) does not exist. Call with s.mu held.
func (ds *dataset) collect(rt route, ids []string, now time.Time) ([]any, bool) {
	var out []any
	switch rt {
	case routeCampaigns:
		for _, c := range ds.campaigns {
			if c.existsAt(now) {
				out = append(out, c)
			}
		}
	case routeUsers:
		for _, u := range ds.users {
			if u.existsAt(now) {
				out = append(out, u)
			}
		}
	case routeCampaignPayments, routeRejectedPayments:
		c := ds.campaignByID[ids[0]]
		if c == nil || !c.existsAt(now) {
			return nil, false
		}
		for _, p := range c.payments {
			if p.existsAt(now) && (rt == routeCampaignPayments || p.stateAt(now).status == StatusRejected) {
				out = append(out, p)
			}
		}
	case routeUserPayments, routeUserCampaigns:
		u := ds.userByID[ids[0]]
		if u == nil || !u.existsAt(now) {
			return nil, false
		}
		if rt == routeUserPayments {
			for _, p := range u.payments {
				if p.existsAt(now) {
					out = append(out, p)
				}
			}
			break
		}
		// The campaigns the user is the admin of and those the user paid for, in the order of
		// the campaigns list.
		mine := map[*campaign]bool{}
		for _, c := range u.admin {
			mine[c] = true
		}
		for _, p := range u.payments {
			if p.existsAt(now) {
				mine[p.campaign] = true
			}
		}
		for _, c := range ds.campaigns {
			if mine[c] && c.existsAt(now) {
				out = append(out, c)
			}
		}
	}
	return out, true
}

// list answers a GET list: {"pagination": {...}, "<member>": [...]}. A page past the last is an
// empty list with the pagination of the page asked for.
func (s *Server) list(x *exchange, rt route, ids []string) FaultKind {
	q, msg := parsePaging(x.r.URL.Query())
	if msg != "" {
		s.count(func(st *ServerStats) { st.BadRequests++ })
		s.fail(x, http.StatusBadRequest, msg)
		return ""
	}
	now := s.now()
	s.mu.RLock()
	all, ok := s.data.collect(rt, ids, now)
	if !ok {
		s.mu.RUnlock()
		s.count(func(st *ServerStats) { st.NotFound++ })
		s.fail(x, http.StatusNotFound, "Not Found")
		return ""
	}
	kind := s.decideFault(x.r)
	if kind != "" && kind != FaultTruncated {
		s.mu.RUnlock()
		s.applyFault(x, kind)
		return kind
	}
	total := len(all)
	pages := totalPages(total, q.perPage)
	var page []any
	if q.page <= pages {
		lo := (q.page - 1) * q.perPage
		page = all[lo:min(lo+q.perPage, total)]
	}
	rd := newRenderer(now)
	items := make([]json.RawMessage, len(page))
	for i, it := range page {
		switch v := it.(type) {
		case *campaign:
			items[i] = rd.campaign(v)
		case *user:
			items[i] = rd.user(v)
		case *payment:
			items[i] = rd.payment(v)
		}
	}
	s.mu.RUnlock()
	body := listBody(listMembers[rt], paginationJSON{Page: q.page, EntriesOnThisPage: len(items), TotalPages: pages,
		TotalEntries: total, PerPage: q.perPage}, items)
	if kind == FaultTruncated {
		writeBody(x.w, http.StatusOK, truncate(body))
		return kind
	}
	s.count(func(st *ServerStats) { st.Pages++ })
	writeBody(x.w, http.StatusOK, body)
	return ""
}

// listBody assembles a list answer, pagination first as in the seed.
func listBody(member string, p paginationJSON, items []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"pagination":`)
	b.Write(mustJSON(p))
	b.WriteString(`,"`)
	b.WriteString(member)
	b.WriteString(`":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// refund answers POST /v1/campaigns/:id/payments/:id/refund: an authorized or charged payment is
// refunded at Now() (its modification_date moves); the answer is 200 {}. Any other status is 400.
func (s *Server) refund(x *exchange, campaignID, paymentID string) {
	now := s.now()
	s.mu.Lock()
	p := s.data.paymentByID[paymentID]
	if p == nil || !p.existsAt(now) || p.campaign.id != campaignID {
		s.mu.Unlock()
		s.count(func(st *ServerStats) { st.NotFound++ })
		s.fail(x, http.StatusNotFound, "Not Found")
		return
	}
	ok := s.data.setStatus(p, now, StatusRefunded)
	s.mu.Unlock()
	if !ok {
		s.count(func(st *ServerStats) { st.BadRequests++ })
		s.fail(x, http.StatusBadRequest, "Only an authorized or charged payment can be refunded")
		return
	}
	s.count(func(st *ServerStats) { st.Refunds++ })
	writeBody(x.w, http.StatusOK, []byte(`{}`))
}
