package crowdchangetest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
)

// queryTimeLayout is the layout of dt_start and dt_end (UTC).
const queryTimeLayout = "2006-01-02T15:04:05"

// query is a validated GET /v2/private/transactions request.
type query struct {
	byPayout   bool
	payoutDate time.Time
	account    string // "" for both accounts
	start, end time.Time
	page       int
	limit      int
	byDate     bool
	desc       bool
}

// parseQuery validates the parameters the way the API does, naming each invalid one. Empty
// parameters count as absent. A missing dt_start means no lower bound, a missing dt_end means now.
func parseQuery(v url.Values, now time.Time) (query, map[string][]string) {
	q := query{page: 1, limit: DefaultLimit, start: time.Unix(0, 0).UTC(), end: now.UTC().Truncate(time.Second)}
	errs := map[string][]string{}
	get := func(k string) (string, bool) {
		s := v.Get(k)
		return s, s != ""
	}
	if s, ok := get("dt_start"); ok {
		t, err := time.ParseInLocation(queryTimeLayout, s, time.UTC)
		if err != nil {
			errs["dt_start"] = []string{"The dt start does not match the format Y-m-d\\TH:i:s."}
		}
		q.start = t
	}
	if s, ok := get("dt_end"); ok {
		t, err := time.ParseInLocation(queryTimeLayout, s, time.UTC)
		if err != nil {
			errs["dt_end"] = []string{"The dt end does not match the format Y-m-d\\TH:i:s."}
		}
		q.end = t
	}
	if errs["dt_start"] == nil && errs["dt_end"] == nil && q.end.Before(q.start) {
		errs["dt_end"] = []string{"The dt end must be a date after or equal to dt start."}
	}
	if s, ok := get("payout_account"); ok {
		if s != "global" && s != "user" {
			errs["payout_account"] = []string{"The selected payout account is invalid."}
		}
		q.account = s
	}
	if s, ok := get("payout_date"); ok {
		t, err := time.ParseInLocation("2006-01-02", s, time.UTC)
		if err != nil {
			errs["payout_date"] = []string{"The payout date does not match the format Y-m-d."}
		}
		q.byPayout, q.payoutDate = true, t
		delete(errs, "dt_start") // dt_start and dt_end have no effect with payout_date
		delete(errs, "dt_end")
	}
	if s, ok := get("page"); ok {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			errs["page"] = []string{"The page must be an integer."}
		case n < 1:
			errs["page"] = []string{"The page must be at least 1."}
		}
		q.page = n
	}
	if s, ok := get("limit"); ok {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			errs["limit"] = []string{"The limit must be an integer.", "The limit must be between 1 and 100."}
		case n < 1 || n > 100:
			errs["limit"] = []string{"The limit must be between 1 and 100."}
		}
		q.limit = n
	}
	if s, ok := get("sort"); ok {
		if s != "id" && s != "date" {
			errs["sort"] = []string{"The selected sort is invalid."}
		}
		q.byDate = s == "date"
	}
	if s, ok := get("direction"); ok {
		if s != "asc" && s != "desc" {
			errs["direction"] = []string{"The selected direction is invalid."}
		}
		q.desc = s == "desc"
	}
	return q, errs
}

// list answers GET /v2/private/transactions.
func (s *Server) list(w http.ResponseWriter, r *http.Request) FaultKind {
	now := s.opts.Now().UTC()
	q, errs := parseQuery(r.URL.Query(), now)
	if len(errs) > 0 {
		writeInvalid(w, s, errs)
		return ""
	}
	kind := s.decideFault(r)
	if kind != "" && kind != FaultTruncated && s.applyFault(w, r, kind) {
		return kind
	}
	capped, ignored := s.hostileQuery(&q)
	body, err := s.pageBody(q, now)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Server Error")
		return kind
	}
	if kind == FaultTruncated {
		writeBody(w, http.StatusOK, "application/json", truncate(body))
		return kind
	}
	s.count(func(st *ServerStats) {
		st.Pages++
		if capped {
			st.CappedPages++
		}
		if ignored {
			st.IgnoredPages++
		}
	})
	writeBody(w, http.StatusOK, "application/json", body)
	return kind
}

// ref is one matching transaction: generated index idx, or the stored entry e.
type ref struct {
	idx int64
	e   *entry
}

// key is the sort key: (date, id) when sorting by date, id alone otherwise.
type key struct{ date, id int64 }

func less(a, b key, byDate bool) bool {
	if byDate && a.date != b.date {
		return a.date < b.date
	}
	return a.id < b.id
}

func (s *Server) genKey(i int64) key { return key{s.gen.date(i), idBase + i} }

func (s *Server) refKey(rf ref) key {
	if rf.e != nil {
		return key{rf.e.date.Unix(), rf.e.id}
	}
	return s.genKey(rf.idx)
}

// entries calls fn for the example and every created transaction. Call with s.mu held.
func (s *Server) entries(fn func(*entry)) {
	if s.example != nil {
		fn(s.example)
	}
	for _, e := range s.overlay {
		fn(e)
	}
}

// pageBody renders one page of the answer.
func (s *Server) pageBody(q query, now time.Time) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var refs []ref
	var total int
	dtStart, dtEnd := q.start.Format(queryTimeLayout), q.end.Format(queryTimeLayout)
	if q.byPayout {
		dtStart = q.payoutDate.Format(queryTimeLayout)
		dtEnd = q.payoutDate.Add(24*time.Hour - time.Second).Format(queryTimeLayout)
		refs, total = s.payoutPage(q, now)
	} else {
		refs, total = s.datePage(q, now)
	}
	var b bytes.Buffer
	b.WriteString(`{"dt_start":`)
	writeString(&b, dtStart)
	b.WriteString(`,"dt_end":`)
	writeString(&b, dtEnd)
	b.WriteString(`,"count":`)
	b.WriteString(strconv.Itoa(total))
	b.WriteString(`,"data":[`)
	for n, rf := range refs {
		if n > 0 {
			b.WriteByte(',')
		}
		if rf.e != nil && rf.e.raw != nil {
			b.Write(rf.e.raw)
			continue
		}
		tx := s.txOf(rf, now)
		var j []byte
		var err error
		if tr, ok := s.trickOfRef(rf); ok {
			j, err = s.renderTricked(tx, tr)
		} else {
			j, err = json.Marshal(&tx)
		}
		if err != nil {
			return nil, err
		}
		b.Write(j)
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func writeString(b *bytes.Buffer, s string) {
	j, _ := json.Marshal(s)
	b.Write(j)
}

// pageBounds is the ascending range [a, b) of positions the requested page covers.
func pageBounds(q query, total int) (a, b int) {
	off := (q.page - 1) * q.limit
	if q.page-1 > total || off >= total {
		return 0, 0
	}
	if !q.desc {
		return off, min(off+q.limit, total)
	}
	return max(0, total-off-q.limit), total - off
}

// datePage selects a page of the transactions dated in [q.start, q.end]. The generated ones are an
// index range (dates and ids both grow with the index); the few stored ones are merged in by rank.
func (s *Server) datePage(q query, now time.Time) ([]ref, int) {
	g := s.gen
	vis := g.firstAfter(now.Unix())
	lo := min(g.firstAtOrAfter(q.start.Unix()), vis)
	hi := min(g.firstAfter(q.end.Unix()), vis)
	hi = max(hi, lo)
	var extras []*entry
	s.entries(func(e *entry) {
		if !e.date.Before(q.start) && !e.date.After(q.end) && !e.date.After(now) {
			extras = append(extras, e)
		}
	})
	slices.SortFunc(extras, func(x, y *entry) int {
		kx, ky := s.refKey(ref{e: x}), s.refKey(ref{e: y})
		switch {
		case less(kx, ky, q.byDate):
			return -1
		case less(ky, kx, q.byDate):
			return 1
		}
		return 0
	})
	pos := make([]int, len(extras)) // position of each extra in the ascending merged order
	for j, e := range extras {
		ke := s.refKey(ref{e: e})
		rank := sort.Search(int(hi-lo), func(x int) bool { return !less(s.genKey(lo+int64(x)), ke, q.byDate) })
		pos[j] = rank + j
	}
	total := int(hi-lo) + len(extras)
	a, b := pageBounds(q, total)
	out := make([]ref, 0, b-a)
	ei := sort.SearchInts(pos, a)
	gi := lo + int64(a-ei)
	for p := a; p < b; p++ {
		if ei < len(extras) && pos[ei] == p {
			out = append(out, ref{e: extras[ei]})
			ei++
		} else {
			out = append(out, ref{idx: gi})
			gi++
		}
	}
	if q.desc {
		slices.Reverse(out)
	}
	return out, total
}

// payoutPage selects a page of the transactions paid out on q.payoutDate (to q.account).
func (s *Server) payoutPage(q query, now time.Time) ([]ref, int) {
	var refs []ref
	s.payoutMatches(q.payoutDate, q.payoutDate, func(a string) bool { return q.account == "" || a == q.account }, now,
		func(rf ref) { refs = append(refs, rf) })
	slices.SortFunc(refs, func(x, y ref) int {
		kx, ky := s.refKey(x), s.refKey(y)
		switch {
		case less(kx, ky, q.byDate):
			return -1
		case less(ky, kx, q.byDate):
			return 1
		}
		return 0
	})
	a, b := pageBounds(q, len(refs))
	out := slices.Clone(refs[a:b])
	if q.desc {
		slices.Reverse(out)
	}
	return out, len(refs)
}

// payoutMatches calls fn for every existing transaction whose payout (seen by now) is dated in
// [fromDay, toDay] to an accepted account. Generated candidates are the index range dated up to
// maxPayoutDelay days before fromDay. Call with s.mu held.
func (s *Server) payoutMatches(fromDay, toDay time.Time, accept func(string) bool, now time.Time, fn func(ref)) {
	g := s.gen
	fromDay, toDay = fromDay.UTC().Truncate(24*time.Hour), toDay.UTC().Truncate(24*time.Hour)
	match := func(pp payoutPlan) bool {
		return pp.visible(now) && !pp.date.Before(fromDay) && !pp.date.After(toDay) && accept(pp.account)
	}
	vis := g.firstAfter(now.Unix())
	lo := min(g.firstAtOrAfter(fromDay.AddDate(0, 0, -maxPayoutDelay-1).Unix()), vis)
	hi := min(g.firstAtOrAfter(toDay.AddDate(0, 0, 1).Unix()), vis)
	for i := lo; i < hi; i++ {
		pp := s.genPayout(i)
		if match(pp) {
			fn(ref{idx: i})
		}
	}
	for i, m := range s.muts {
		if (i < lo || i >= hi) && i < vis && m.payout.ok && match(m.payout) {
			fn(ref{idx: i})
		}
	}
	s.entries(func(e *entry) {
		pp := e.payout
		if e.mut.payout.ok {
			pp = e.mut.payout
		}
		if !e.date.After(now) && match(pp) {
			fn(ref{e: e})
		}
	})
}

// genPayout is the effective payout plan of generated transaction i. Call with s.mu held.
func (s *Server) genPayout(i int64) payoutPlan {
	if m := s.muts[i]; m != nil && m.payout.ok {
		return m.payout
	}
	_, refund := s.gen.parentOf(i)
	p := txPlan{idx: i, pending: !refund && s.gen.pendingBase(i)}
	return s.gen.payout(&p)
}

// txOf renders a transaction as it is at now. Call with s.mu held.
func (s *Server) txOf(rf ref, now time.Time) crowdchange.Transaction {
	if rf.e != nil {
		tx := rf.e.tx
		if rf.e.payout.visible(now) {
			tx.Payout = &crowdchange.Payout{Account: extract.String(rf.e.payout.account), Date: extract.Date{Time: rf.e.payout.date}}
		}
		apply(&tx, &rf.e.mut, now)
		return tx
	}
	p := s.gen.plan(rf.idx)
	tx := s.gen.render(&p, now)
	if m := s.muts[rf.idx]; m != nil {
		apply(&tx, m, now)
	}
	return tx
}

// apply puts Mutate's changes on a rendered transaction, without touching shared state.
func apply(tx *crowdchange.Transaction, m *mutation, now time.Time) {
	if m.completed {
		tx.Status, tx.IsPending = extract.String("completed"), extract.Bool(false)
	}
	if len(m.refunds) > 0 {
		tx.RefundChildrenIDs = append(slices.Clip(tx.RefundChildrenIDs), m.refunds...)
		tx.IsRefunded, tx.Status = extract.Bool(true), extract.String("refunded")
		if tx.TaxReceipt != nil {
			tr := *tx.TaxReceipt
			tr.Status = extract.String("cancelled")
			tx.TaxReceipt = &tr
		}
	}
	if !m.receiptAt.IsZero() && !m.receiptAt.After(now) && tx.TaxReceipt == nil {
		tx.IsTaxReceiptIssued = extract.Bool(true)
		tx.TaxReceipt = receipt(tx, 40000+tx.ID-idBase, m.receiptAt)
	}
	if m.payout.visible(now) {
		tx.Payout = &crowdchange.Payout{Account: extract.String(m.payout.account), Date: extract.Date{Time: m.payout.date}}
	}
}
