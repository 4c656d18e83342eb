package donatelytest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/donately/donatelytest"
)

var (
	requestIDPattern = regexp.MustCompile(`^req_[0-9]{13}$`)
	secretPattern    = regexp.MustCompile(`^pi_[0-9A-Za-z]{24}_secret_[0-9A-Za-z]{25}$`)
	idPattern        = regexp.MustCompile(`^(dnt|cmp|per)_[0-9a-f]{12}$`)
)

// Both versions' envelopes and shapes, for every list and single object: 2022-12-15 lists are
// {object, data, summary, params, request_id} and single objects carry object and request_id;
// 2019-03-15 answers {success, data} and hides what the reference says it hides.
func TestEnvelopes(t *testing.T) {
	t.Parallel()
	_, base := settledSandbox(t, 1, 300)
	donation2022 := []string{"object", "id", "amount_in_cents", "currency", "status", "campaign_id", "person_id", "recurring",
		"anonymous", "comment", "on_behalf_of", "donation_type", "ecard", "origin", "notes", "payment_intent_secret",
		"paypal_order_id", "subscription", "fundraiser", "form", "meta_data", "created_at", "updated_at"}
	donation2019 := []string{"id", "amount_in_cents", "currency", "status", "campaign_id", "person_id", "recurring",
		"anonymous", "comment", "on_behalf_of", "donation_type", "payment_intent_secret", "paypal_order_id", "subscription",
		"fundraiser", "form", "meta_data", "created_at", "updated_at"}
	campaign2022 := []string{"object", "id", "title", "status", "type", "goal_in_cents", "total_raised_in_cents", "page_template", "created_at", "updated_at"}
	campaign2019 := []string{"id", "title", "status", "type", "goal_in_cents", "total_raised_in_cents", "created_at", "updated_at"}
	person2019 := []string{"id", "email", "first_name", "last_name", "phone_number", "street_address", "street_address_2",
		"city", "state", "zip_code", "country", "created_at", "updated_at"}
	person2022 := append([]string{"object"}, person2019...)
	tests := []struct {
		path       string
		version    string
		objectName string
		fields     []string
	}{
		{"/v2/donations", donatelytest.Version2022, "donation", donation2022},
		{"/v2/donations", donatelytest.Version2019, "", donation2019},
		{"/v2/donations", "", "", donation2019},
		{"/v2/campaigns", donatelytest.Version2022, "campaign", campaign2022},
		{"/v2/campaigns", donatelytest.Version2019, "", campaign2019},
		{"/v2/people", donatelytest.Version2022, "person", person2022},
		{"/v2/people", "", "", person2019},
	}
	for _, tc := range tests {
		t.Run(tc.path+"@"+tc.version, func(t *testing.T) {
			t.Parallel()
			c := newClient(base, tc.version)
			a := c.get(t, tc.path, url.Values{"limit": {"100"}})
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var data []json.RawMessage
			if tc.version == donatelytest.Version2022 {
				if got, want := keys(t, a.body), []string{"object", "data", "summary", "params", "request_id"}; !slices.Equal(got, want) {
					t.Fatalf("list members %v, want %v", got, want)
				}
				var p listPage
				if err := json.Unmarshal(a.body, &p); err != nil {
					t.Fatal(err)
				}
				if p.Object != "list" || !requestIDPattern.MatchString(p.RequestID) || p.Summary.TotalCount < len(p.Data) {
					t.Errorf("list object %q, request_id %q, summary %+v", p.Object, p.RequestID, p.Summary)
				}
				data = p.Data
			} else {
				if got, want := keys(t, a.body), []string{"success", "data"}; !slices.Equal(got, want) {
					t.Fatalf("list members %v, want %v", got, want)
				}
				if string(member(t, a.body, "success")) != "true" {
					t.Errorf("success %s", member(t, a.body, "success"))
				}
				if err := json.Unmarshal(member(t, a.body, "data"), &data); err != nil {
					t.Fatal(err)
				}
			}
			if len(data) == 0 {
				t.Fatal("no records")
			}
			for _, raw := range data {
				if got := keys(t, raw); !slices.Equal(got, tc.fields) {
					t.Fatalf("members %v, want %v", got, tc.fields)
				}
			}
			first := decode(t, data[:1])[0]
			if !idPattern.MatchString(first.ID) || (tc.objectName != "" && first.Object != tc.objectName) {
				t.Errorf("id %q, object %q", first.ID, first.Object)
			}
			// The single object, in the same version.
			one := c.get(t, tc.path+"/"+first.ID, nil)
			if one.status != http.StatusOK {
				t.Fatalf("GET one: status %d: %s", one.status, one.body)
			}
			if tc.version == donatelytest.Version2022 {
				want := append(slices.Clone(tc.fields), "request_id")
				if got := keys(t, one.body); !slices.Equal(got, want) {
					t.Fatalf("single object members %v, want %v", got, want)
				}
				var rid string
				if err := json.Unmarshal(member(t, one.body, "request_id"), &rid); err != nil || !requestIDPattern.MatchString(rid) {
					t.Errorf("request_id %q", rid)
				}
			} else {
				if got := keys(t, one.body); !slices.Equal(got, []string{"success", "data"}) {
					t.Fatalf("single object members %v", got)
				}
				if !bytes.Equal(member(t, one.body, "data"), data[0]) {
					t.Errorf("single object %s differs from the list's %s", member(t, one.body, "data"), data[0])
				}
			}
		})
	}
}

// Nested objects and vocabularies differ between versions, as the reference says.
func TestVersionDifferences(t *testing.T) {
	t.Parallel()
	_, base := settledSandbox(t, 2, 300)
	members := func(raw json.RawMessage) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	str := func(raw json.RawMessage) string {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	v22, _ := newClient(base, donatelytest.Version2022).walk(t, "/v2/donations", nil, 100)
	v19 := map[string]map[string]json.RawMessage{}
	for offset := 0; offset < len(v22); offset += 100 {
		a := newClient(base, "").get(t, "/v2/donations", url.Values{"limit": {"100"}, "offset": {strconv.Itoa(offset)}})
		var data []json.RawMessage
		if err := json.Unmarshal(member(t, a.body, "data"), &data); err != nil {
			t.Fatal(err)
		}
		for _, raw := range data {
			m := members(raw)
			v19[str(m["id"])] = m
		}
	}
	if len(v19) != len(v22) {
		t.Fatalf("%d donations in 2019-03-15, %d in 2022-12-15", len(v19), len(v22))
	}
	legacy := map[string]string{"card": "cc", "stripe": "cc", "ach": "ach", "paypal": "paypal", "cash": "cash", "dipjar": "cash"}
	types22, types19 := map[string]bool{}, map[string]bool{}
	var sawSub, sawFund bool
	for _, raw := range v22 {
		m := members(raw)
		id := str(m["id"])
		old := v19[id]
		typ, oldTyp := str(m["donation_type"]), str(old["donation_type"])
		types22[typ], types19[oldTyp] = true, true
		if oldTyp != legacy[typ] {
			t.Errorf("%s: donation_type %q in 2019-03-15 for %q", id, oldTyp, typ)
		}
		if sub := m["subscription"]; string(sub) != "null" {
			sawSub = true
			if got := keys(t, sub); !slices.Equal(got, []string{"id", "recurring_start_day", "recurring_stop_day", "recurring_frequency"}) {
				t.Errorf("2022-12-15 subscription members %v", got)
			}
			if got := keys(t, old["subscription"]); !slices.Equal(got, []string{"id"}) {
				t.Errorf("2019-03-15 subscription members %v", got)
			}
		}
		if f := m["fundraiser"]; string(f) != "null" {
			sawFund = true
			if got := keys(t, f); !slices.Equal(got, []string{"id", "type"}) {
				t.Errorf("2022-12-15 fundraiser members %v", got)
			}
			if got := keys(t, old["fundraiser"]); !slices.Equal(got, []string{"id"}) {
				t.Errorf("2019-03-15 fundraiser members %v", got)
			}
		}
		for _, name := range []string{"amount_in_cents", "currency", "status", "comment", "payment_intent_secret", "meta_data", "created_at", "updated_at"} {
			if !bytes.Equal(m[name], old[name]) {
				t.Errorf("%s: %s %s in 2022-12-15, %s in 2019-03-15", id, name, m[name], old[name])
			}
		}
	}
	if len(types22) != 6 || len(types19) != 4 || !sawSub || !sawFund {
		t.Errorf("types %v and %v, subscriptions %v, fundraisers %v", types22, types19, sawSub, sawFund)
	}
}

// Golden answers pin the exact bytes of each shape (and the generator: same seed, same data).
func TestGolden(t *testing.T) {
	t.Parallel()
	_, base := settledSandbox(t, 42, 200)
	c22, c19 := newClient(base, donatelytest.Version2022), newClient(base, "")
	first := url.Values{"limit": {"3"}, "sort": {"ASC"}, "order_by": {"created_at"}}
	p := c22.page(t, "/v2/donations", first)
	ids := decode(t, p.Data)
	people := c22.page(t, "/v2/people", url.Values{"limit": {"1"}, "sort": {"ASC"}})
	camps := c22.page(t, "/v2/campaigns", url.Values{"limit": {"1"}, "sort": {"ASC"}})
	tests := []struct {
		name string
		c    client
		path string
		q    url.Values
	}{
		{"donations_2022.json", c22, "/v2/donations", first},
		{"donations_2019.json", c19, "/v2/donations", first},
		{"donation_2022.json", c22, "/v2/donations/" + ids[0].ID, nil},
		{"donation_2019.json", c19, "/v2/donations/" + ids[0].ID, nil},
		{"campaign_2022.json", c22, "/v2/campaigns/" + decode(t, camps.Data)[0].ID, nil},
		{"campaign_2019.json", c19, "/v2/campaigns/" + decode(t, camps.Data)[0].ID, nil},
		{"person_2022.json", c22, "/v2/people/" + decode(t, people.Data)[0].ID, nil},
		{"person_2019.json", c19, "/v2/people/" + decode(t, people.Data)[0].ID, nil},
		{"account_2022.json", c22, "/v2/accounts/mine", nil},
		{"account_2019.json", c19, "/v2/accounts/mine", nil},
		{"error_2022.json", c22, "/v2/donations/dnt_000000000000", nil},
		{"error_2019.json", c19, "/v2/donations/dnt_000000000000", nil},
	}
	rid := regexp.MustCompile(`"request_id":"req_[0-9]{13}"`)
	for _, tc := range tests {
		a := tc.c.get(t, tc.path, tc.q)
		// Request ids depend on the order of the requests: the golden files do not pin them.
		golden(t, tc.name, rid.ReplaceAll(a.body, []byte(`"request_id":"req_0000000000000"`)))
	}
}

// params echoes the request as the sandbox applied it: limit capped at 100, sort upper case,
// defaults filled in, filters as given.
func TestParamsEcho(t *testing.T) {
	t.Parallel()
	_, base := settledSandbox(t, 3, 100)
	c := newClient(base, donatelytest.Version2022)
	p := c.page(t, "/v2/donations", url.Values{"limit": {"500"}, "sort": {"asc"}, "created[gt]": {"1767225600"},
		"updated[lt]": {"2026-05-01T00:00:00Z"}, "currency": {"USD"}, "status": {"completed"}, "unknown": {"x"}})
	want := map[string]any{"account_id": donatelytest.DefaultAccount, "limit": 100.0, "offset": 0.0, "sort": "ASC",
		"order_by": "created_at", "created": map[string]any{"gt": "1767225600"}, "updated": map[string]any{"lt": "2026-05-01T00:00:00Z"},
		"currency": "usd", "status": "completed"}
	got, _ := json.Marshal(p.Params)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(got, wantJSON) {
		t.Errorf("params %s, want %s", got, wantJSON)
	}
	if len(p.Data) > 100 {
		t.Errorf("%d records on a page", len(p.Data))
	}
	d := c.page(t, "/v2/donations", nil)
	if d.Params["limit"] != float64(donatelytest.DefaultLimit) || d.Params["sort"] != "DESC" || len(d.Data) != donatelytest.DefaultLimit {
		t.Errorf("defaults: params %v, %d records", d.Params, len(d.Data))
	}
}

// Walking every page with offset collects exactly the ground truth: ids, count and sums by
// currency and status, for the whole range and for a window, in both orders; campaigns and people
// too.
func TestPagingMatchesTruth(t *testing.T) {
	t.Parallel()
	s, base := settledSandbox(t, 4, 700)
	c := newClient(base, donatelytest.Version2022)
	feb, mar := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		q        url.Values
		from, to time.Time
		limit    int
	}{
		{"all asc", url.Values{"sort": {"ASC"}}, rangeFrom, rangeTo, 100},
		{"all desc by amount", url.Values{"order_by": {"amount_in_cents"}}, rangeFrom, rangeTo, 37},
		// [feb, mar) with strict bounds: gt one second before, lt the end.
		{"february", url.Values{"created[gt]": {strconv.FormatInt(feb.Unix()-1, 10)}, "created[lt]": {mar.Format(time.RFC3339)}}, feb, mar, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raws, total := c.walk(t, "/v2/donations", tc.q, tc.limit)
			truth := s.Truth(tc.from, tc.to)
			recs := decode(t, raws)
			var ids []string
			cents := map[donatelytest.CurrencyStatus]int64{}
			for _, r := range recs {
				ids = append(ids, r.ID)
				cents[donatelytest.CurrencyStatus{Currency: strings.ToUpper(r.Currency), Status: r.Status}] += r.AmountInCents
			}
			slices.Sort(ids)
			if total != truth.Count || !slices.Equal(slices.Compact(slices.Clone(ids)), truth.IDs) || len(ids) != truth.Count {
				t.Fatalf("%d records (%d distinct), total_count %d; truth %d", len(ids), len(slices.Compact(ids)), total, truth.Count)
			}
			gotCents, _ := json.Marshal(cents)
			wantCents, _ := json.Marshal(truth.Cents)
			if !bytes.Equal(gotCents, wantCents) {
				t.Errorf("cents %s, truth %s", gotCents, wantCents)
			}
		})
	}
	all := s.TruthAll()
	if _, n := c.walk(t, "/v2/campaigns", nil, 7); n != all.Campaigns || n == 0 {
		t.Errorf("%d campaigns, truth %d", n, all.Campaigns)
	}
	if raws, n := c.walk(t, "/v2/people", nil, 50); n != all.People || len(raws) != n || n == 0 {
		t.Errorf("%d people, truth %d", n, all.People)
	}
	if all.Count != 700 {
		t.Errorf("TruthAll counts %d donations, want 700", all.Count)
	}
}

// Filters agree with the truth's breakdown by currency and status.
func TestFiltersMatchTruth(t *testing.T) {
	t.Parallel()
	s, base := settledSandbox(t, 5, 500)
	c := newClient(base, donatelytest.Version2022)
	truth := s.TruthAll()
	if len(truth.Donations) < 8 {
		t.Fatalf("only %d (currency, status) pairs: %v", len(truth.Donations), truth.Donations)
	}
	for k, n := range truth.Donations {
		p := c.page(t, "/v2/donations", url.Values{"currency": {k.Currency}, "status": {k.Status}, "limit": {"1"}})
		if p.Summary.TotalCount != n {
			t.Errorf("%v: total_count %d, truth %d", k, p.Summary.TotalCount, n)
		}
	}
	cc := c.page(t, "/v2/donations", url.Values{"donation_type": {"cc"}}).Summary.TotalCount
	card := c.page(t, "/v2/donations", url.Values{"donation_type": {"card"}}).Summary.TotalCount
	stripe := c.page(t, "/v2/donations", url.Values{"donation_type": {"stripe"}}).Summary.TotalCount
	if cc != card+stripe || card == 0 || stripe == 0 {
		t.Errorf("cc %d, card %d, stripe %d", cc, card, stripe)
	}
}

// created[gt] and created[lt] are strict, in unix seconds and in RFC 3339, at a midnight where
// several donations tie; so are updated[gt] and updated[lt].
func TestTimeFiltersAreStrict(t *testing.T) {
	t.Parallel()
	s, base := settledSandbox(t, 6, 400)
	c := newClient(base, donatelytest.Version2022)
	raws, _ := c.walk(t, "/v2/donations", nil, 100)
	created, updated := map[string]int{}, map[string]int{}
	for _, r := range decode(t, raws) {
		created[r.CreatedAt]++
		updated[r.UpdatedAt]++
	}
	// The busiest midnight, and an updated_at shared by the most donations.
	var midnight, busyUpdate string
	for k, n := range created {
		if strings.HasSuffix(k, "T00:00:00Z") && (midnight == "" || n > created[midnight] || n == created[midnight] && k < midnight) {
			midnight = k
		}
	}
	for k, n := range updated {
		if busyUpdate == "" || n > updated[busyUpdate] || n == updated[busyUpdate] && k < busyUpdate {
			busyUpdate = k
		}
	}
	if midnight == "" || created[midnight] < 2 {
		t.Fatalf("no midnight with tied donations: %q (%d)", midnight, created[midnight])
	}
	count := func(field, op string, at time.Time, form string, extra url.Values) int {
		q := cloneValues(extra)
		v := strconv.FormatInt(at.Unix(), 10)
		if form == "rfc3339" {
			v = at.Format(time.RFC3339)
		}
		q.Set(field+"["+op+"]", v)
		q.Set("limit", "1")
		return c.page(t, "/v2/donations", q).Summary.TotalCount
	}
	all := s.TruthAll().Count
	for _, tc := range []struct {
		field string
		at    time.Time
		n     int // records at exactly at
		byCnt map[string]int
	}{
		{"created", parseTime(t, midnight), created[midnight], created},
		{"updated", parseTime(t, busyUpdate), updated[busyUpdate], updated},
	} {
		before, after := 0, 0
		for k, n := range tc.byCnt {
			switch v := parseTime(t, k); {
			case v.Before(tc.at):
				before += n
			case v.After(tc.at):
				after += n
			}
		}
		for _, form := range []string{"unix", "rfc3339"} {
			checks := []struct {
				op   string
				at   time.Time
				want int
			}{
				{"gt", tc.at, after},
				{"gt", tc.at.Add(-time.Second), after + tc.n},
				{"lt", tc.at, before},
				{"lt", tc.at.Add(time.Second), before + tc.n},
			}
			for _, ch := range checks {
				if got := count(tc.field, ch.op, ch.at, form, nil); got != ch.want {
					t.Errorf("%s[%s]=%s (%s): %d, want %d", tc.field, ch.op, ch.at.Format(time.RFC3339), form, got, ch.want)
				}
			}
			// Exactly the tied ones: gt one second before, lt one second after.
			if got := count(tc.field, "lt", tc.at.Add(time.Second), form, url.Values{tc.field + "[gt]": {strconv.FormatInt(tc.at.Unix()-1, 10)}}); got != tc.n {
				t.Errorf("%s in (at-1s, at+1s): %d, want %d", tc.field, got, tc.n)
			}
		}
		if before+after+tc.n != all {
			t.Errorf("%s: %d + %d + %d records, truth %d", tc.field, before, after, tc.n, all)
		}
	}
	// A fractional RFC 3339 bound counts to the nanosecond.
	at := parseTime(t, midnight)
	q := url.Values{"created[gt]": {at.Add(-500 * time.Millisecond).Format(time.RFC3339Nano)}, "created[lt]": {at.Add(500 * time.Millisecond).Format(time.RFC3339Nano)}}
	if got := c.page(t, "/v2/donations", q).Summary.TotalCount; got != created[midnight] {
		t.Errorf("created within half a second of midnight: %d, want %d", got, created[midnight])
	}
}

// Every order_by is a total order with id as the tie-breaker, ties on created_at exist, and DESC
// is exactly the reverse of ASC, so that offset paging neither skips nor repeats.
func TestTotalOrderWithTies(t *testing.T) {
	t.Parallel()
	_, base := settledSandbox(t, 7, 300)
	c := newClient(base, donatelytest.Version2022)
	for _, tc := range []struct {
		path, orderBy string
	}{
		{"/v2/donations", "created_at"}, {"/v2/donations", "updated_at"}, {"/v2/donations", "amount_in_cents"}, {"/v2/donations", "id"},
		{"/v2/campaigns", "goal_in_cents"}, {"/v2/campaigns", "title"}, {"/v2/people", "updated_at"},
	} {
		t.Run(tc.path+"/"+tc.orderBy, func(t *testing.T) {
			t.Parallel()
			key := func(r record) string {
				switch tc.orderBy {
				case "created_at":
					return r.CreatedAt
				case "updated_at":
					return r.UpdatedAt
				case "amount_in_cents":
					return strconv.FormatInt(r.AmountInCents+1e12, 10)
				case "goal_in_cents":
					return strconv.FormatInt(r.GoalInCents+1e12, 10)
				case "title":
					return r.Title
				}
				return ""
			}
			asc, _ := c.walk(t, tc.path, url.Values{"order_by": {tc.orderBy}, "sort": {"ASC"}}, 13)
			desc, _ := c.walk(t, tc.path, url.Values{"order_by": {tc.orderBy}, "sort": {"DESC"}}, 13)
			ra, rd := decode(t, asc), decode(t, desc)
			ties := 0
			for i := 1; i < len(ra); i++ {
				a, b := ra[i-1], ra[i]
				switch {
				case key(a) < key(b):
				case key(a) == key(b) && a.ID < b.ID:
					ties++
				default:
					t.Fatalf("record %d (%s %s) before (%s %s)", i, key(a), a.ID, key(b), b.ID)
				}
			}
			if tc.orderBy == "created_at" && ties < 3 {
				t.Errorf("only %d ties on created_at", ties)
			}
			slices.Reverse(rd)
			if len(ra) != len(rd) {
				t.Fatalf("%d ASC, %d DESC", len(ra), len(rd))
			}
			for i := range ra {
				if ra[i].ID != rd[i].ID {
					t.Fatalf("DESC is not the reverse of ASC at %d", i)
				}
			}
		})
	}
}

// The same options give the same bytes; another seed gives other data.
func TestDeterministicBySeed(t *testing.T) {
	t.Parallel()
	walkAll := func(seed int64) []byte {
		_, base := settledSandbox(t, seed, 150)
		var out []byte
		for _, path := range []string{"/v2/donations", "/v2/campaigns", "/v2/people"} {
			raws, _ := newClient(base, donatelytest.Version2022).walk(t, path, url.Values{"sort": {"ASC"}}, 100)
			for _, r := range raws {
				out = append(append(out, r...), '\n')
			}
		}
		return out
	}
	a, b, other := walkAll(9), walkAll(9), walkAll(10)
	if !bytes.Equal(a, b) {
		t.Error("two sandboxes of the same options serve different data")
	}
	if bytes.Equal(a, other) {
		t.Error("two seeds serve the same data")
	}
}

// Every card, stripe and ach donation carries a payment_intent_secret in both versions: the
// credential a client must drop. SecretOf and Secrets name them so a test can grep for them.
func TestSecretsServed(t *testing.T) {
	t.Parallel()
	s, base := settledSandbox(t, 11, 300)
	for _, version := range []string{donatelytest.Version2022, ""} {
		c := newClient(base, version)
		var served []string
		for offset := 0; offset < 300; offset += 100 {
			q := url.Values{"limit": {"100"}, "offset": {strconv.Itoa(offset)}}
			a := c.get(t, "/v2/donations", q)
			var data []json.RawMessage
			if err := json.Unmarshal(member(t, a.body, "data"), &data); err != nil {
				t.Fatal(err)
			}
			for _, r := range decode(t, data) {
				want := s.SecretOf(r.ID)
				switch {
				case r.Secret == nil && want == "":
				case r.Secret == nil || *r.Secret != want || !secretPattern.MatchString(want):
					t.Errorf("%s: served secret %v, SecretOf %q", r.ID, r.Secret, want)
				case !bytes.Contains(a.body, []byte(want)):
					t.Errorf("%s: the body does not contain the secret", r.ID)
				default:
					served = append(served, want)
				}
			}
		}
		slices.Sort(served)
		if !slices.Equal(served, s.Secrets()) || len(served) < 100 {
			t.Errorf("version %q: %d secrets served, Secrets() has %d", version, len(served), len(s.Secrets()))
		}
	}
}

// The generator plants the edges a sync must survive: donations at midnight UTC that tie, a
// second shared by three, several currencies and every status.
func TestPlantedEdges(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3} {
		s, base := settledSandbox(t, seed, 120)
		raws, _ := newClient(base, donatelytest.Version2022).walk(t, "/v2/donations", nil, 100)
		perSecond := map[string]int{}
		maxTie, midnightTie := 0, 0
		for _, r := range decode(t, raws) {
			perSecond[r.CreatedAt]++
			maxTie = max(maxTie, perSecond[r.CreatedAt])
			if strings.HasSuffix(r.CreatedAt, "T00:00:00Z") {
				midnightTie = max(midnightTie, perSecond[r.CreatedAt])
			}
		}
		truth := s.TruthAll()
		currencies, statuses := map[string]bool{}, map[string]bool{}
		for k := range truth.Cents {
			currencies[k.Currency], statuses[k.Status] = true, true
		}
		if maxTie < 3 || midnightTie < 2 || len(currencies) < 3 || len(statuses) != 4 {
			t.Errorf("seed %d: largest tie %d, midnight tie %d, currencies %v, statuses %v", seed, maxTie, midnightTie, currencies, statuses)
		}
	}
}

// Time moves: records created after Now() do not exist yet, and a donation's generated history
// (pending that settles, a refund) unfolds as the clock passes its moments.
func TestTimeMoves(t *testing.T) {
	t.Parallel()
	clk := newClock(time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC))
	s, base := sandbox(t, donatelytest.Options{Seed: 12, Donations: 400, From: rangeFrom, To: rangeTo, Now: clk.Now})
	c := newClient(base, donatelytest.Version2022)
	early := s.TruthAll()
	if early.Count == 0 || early.Count >= 400 {
		t.Fatalf("%d donations exist mid-range", early.Count)
	}
	if p := c.page(t, "/v2/donations", url.Values{"limit": {"1"}}); p.Summary.TotalCount != early.Count {
		t.Errorf("total_count %d, truth %d", p.Summary.TotalCount, early.Count)
	}
	statusAt := map[string]donatelytest.Donation{}
	for _, id := range early.IDs {
		d, _ := s.Donation(id)
		statusAt[id] = d
	}
	clk.Set(settled)
	late := s.TruthAll()
	if late.Count != 400 {
		t.Fatalf("%d donations exist after the range", late.Count)
	}
	changed := 0
	for _, id := range early.IDs {
		d, ok := s.Donation(id)
		if !ok {
			t.Fatalf("%s disappeared", id)
		}
		before := statusAt[id]
		if d.Status != before.Status || !d.UpdatedAt.Equal(before.UpdatedAt) {
			changed++
			if !d.UpdatedAt.After(before.UpdatedAt) {
				t.Errorf("%s changed from %s to %s without a later updated_at", id, before.Status, d.Status)
			}
		}
	}
	if changed == 0 {
		t.Error("no generated history unfolded")
	}
	var future string
	for _, id := range late.IDs {
		if !slices.Contains(early.IDs, id) {
			future = id
			break
		}
	}
	clk.Set(time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC))
	if a := c.get(t, "/v2/donations/"+future, nil); a.status != http.StatusNotFound {
		t.Errorf("a donation created after Now(): status %d", a.status)
	}
}
