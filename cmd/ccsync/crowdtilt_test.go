package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/sirupsen/logrus"
	"google.golang.org/api/iterator"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
	crowdtiltschema "github.com/ccsync/ccsync/schemas/crowdtilt"
)

// The Crowdtilt source (API v1, no date filter: a sync walks every campaign and appends a version
// only for a record whose content changed) against the Crowdtilt sandbox, end to end through the
// command line.

func crowdtiltSandbox(t *testing.T, opts crowdtilttest.Options) (*crowdtilttest.Server, string) {
	t.Helper()
	s, hs := crowdtilttest.Start(opts)
	t.Cleanup(hs.Close)
	return s, hs.URL
}

// crowdtiltCLI runs ccsync with the sandbox's key and secret in the environment.
func crowdtiltCLI(now func() time.Time) cli {
	return cli{env: map[string]string{
		config.CrowdtiltKeyEnv:    crowdtilttest.DefaultKey,
		config.CrowdtiltSecretEnv: crowdtilttest.DefaultSecret,
	}, now: now}
}

// crowdtiltAPIArgs are the global flags that point ccsync at a Crowdtilt API, without a warehouse.
func crowdtiltAPIArgs(url string) []string {
	return []string{"--source", "crowdtilt", "--api-url", url, "--rate", "2000", "--burst", "100",
		"--backoff-base", "1ms", "--backoff-max", "5ms", "--log-format", "json", "--log-level", "warn"}
}

func crowdtiltArgs(url, db string) []string {
	return append(crowdtiltAPIArgs(url), "--duckdb", db)
}

// crowdtiltTables are the six Crowdtilt tables, versions and raw JSON.
var crowdtiltTables = []string{
	crowdtiltschema.Payments, crowdtiltschema.Campaigns, crowdtiltschema.Users,
	crowdtiltschema.RawPayments, crowdtiltschema.RawCampaigns, crowdtiltschema.RawUsers,
}

// withDuckDB opens the DuckDB warehouse at path read-only for f.
func withDuckDB(t *testing.T, path string, f func(db *sql.DB)) {
	t.Helper()
	d, err := load.OpenDuckDBReadOnly(context.Background(), config.DuckDB{Path: path}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f(d.DB())
}

// crowdtiltState is what the *_current views say, in the terms of the sandbox's Truth.
type crowdtiltState struct {
	Count int
	// ByStatus: payments, cents, user fee cents, admin fee cents (statuses without a payment left
	// out).
	ByStatus map[string][4]int64
	// PerCampaign: payments and cents of every campaign, 0 for one without a payment.
	PerCampaign map[string][2]int64
	// Campaigns and Users are the ids, sorted.
	Campaigns, Users []string
}

func crowdtiltTruthState(tr crowdtilttest.Truth) crowdtiltState {
	s := crowdtiltState{Count: tr.Count, ByStatus: map[string][4]int64{}, PerCampaign: map[string][2]int64{},
		Campaigns: slices.Clone(tr.Campaigns), Users: slices.Clone(tr.Users)}
	for st, n := range tr.Payments {
		if n > 0 {
			s.ByStatus[st] = [4]int64{int64(n), tr.Cents[st], tr.UserFeeCents[st], tr.AdminFeeCents[st]}
		}
	}
	for _, c := range tr.Campaigns {
		s.PerCampaign[c] = [2]int64{int64(tr.PerCampaign[c]), tr.CentsPerCampaign[c]}
	}
	return s
}

// crowdtiltViewState reads the *_current views through SQL; ref names a view.
func crowdtiltViewState(t *testing.T, db *sql.DB, ref func(string) string) crowdtiltState {
	t.Helper()
	payments := ref(crowdtiltschema.Payments + "_current")
	s := crowdtiltState{ByStatus: map[string][4]int64{}, PerCampaign: map[string][2]int64{}, Campaigns: []string{}, Users: []string{}}
	var distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT id) FROM `+payments).Scan(&s.Count, &distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != s.Count {
		t.Errorf("%s has %d rows for %d payments", payments, s.Count, distinct)
	}
	queryRows(t, db, `SELECT status, count(*), CAST(coalesce(sum(amount_in_cents), 0) AS BIGINT),
			CAST(coalesce(sum(user_fee_amount), 0) AS BIGINT), CAST(coalesce(sum(admin_fee_amount), 0) AS BIGINT)
		FROM `+payments+` GROUP BY status`, func(rows *sql.Rows) error {
		var status sql.NullString
		var v [4]int64
		if err := rows.Scan(&status, &v[0], &v[1], &v[2], &v[3]); err != nil {
			return err
		}
		s.ByStatus[status.String] = v
		return nil
	})
	queryRows(t, db, `SELECT campaign_id, count(*), CAST(coalesce(sum(amount_in_cents), 0) AS BIGINT) FROM `+payments+` GROUP BY campaign_id`,
		func(rows *sql.Rows) error {
			var id sql.NullString
			var v [2]int64
			if err := rows.Scan(&id, &v[0], &v[1]); err != nil {
				return err
			}
			s.PerCampaign[id.String] = v
			return nil
		})
	for _, l := range []struct {
		view string
		ids  *[]string
	}{{crowdtiltschema.Campaigns, &s.Campaigns}, {crowdtiltschema.Users, &s.Users}} {
		queryRows(t, db, `SELECT id FROM `+ref(l.view+"_current"), func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			*l.ids = append(*l.ids, id)
			return nil
		})
		sort.Strings(*l.ids)
		if d := slices.Compact(slices.Clone(*l.ids)); len(d) != len(*l.ids) {
			t.Errorf("%s_current has %d rows for %d ids", l.view, len(*l.ids), len(d))
		}
	}
	for _, c := range s.Campaigns {
		if _, ok := s.PerCampaign[c]; !ok {
			s.PerCampaign[c] = [2]int64{}
		}
	}
	return s
}

func queryRows(t *testing.T, db *sql.DB, q string, f func(*sql.Rows) error) {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func queryInt(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return n
}

// assertCrowdtiltState compares the views with the truth part by part, naming what differs.
func assertCrowdtiltState(t *testing.T, what string, got, want crowdtiltState) {
	t.Helper()
	if got.Count != want.Count {
		t.Errorf("%s: %d payments in the view, %d in the sandbox's truth", what, got.Count, want.Count)
	}
	statuses := func(m map[string][4]int64) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			v := m[k]
			fmt.Fprintf(&b, "\n    %s: %d payments, %d cents, user fees %d, admin fees %d", k, v[0], v[1], v[2], v[3])
		}
		return b.String()
	}
	if g, w := statuses(got.ByStatus), statuses(want.ByStatus); g != w {
		t.Errorf("%s: by status, the view says%s\n  the truth is%s", what, g, w)
	}
	var diffs []string
	for _, c := range mergedKeys(got.PerCampaign, want.PerCampaign) {
		g, gok := got.PerCampaign[c]
		w, wok := want.PerCampaign[c]
		if g != w || gok != wok {
			diffs = append(diffs, fmt.Sprintf("%s: view %d payments %d cents (listed %v), truth %d payments %d cents (listed %v)", c, g[0], g[1], gok, w[0], w[1], wok))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("%s: %d campaigns differ:\n  %s", what, len(diffs), strings.Join(diffs[:min(10, len(diffs))], "\n  "))
	}
	assertSameIDs(t, what+": crowdtilt_campaigns_current", got.Campaigns, want.Campaigns)
	assertSameIDs(t, what+": crowdtilt_users_current", got.Users, want.Users)
}

func mergedKeys[V any](a, b map[string]V) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// assertSameIDs compares two sorted sets of ids.
func assertSameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := map[string]bool{}, map[string]bool{}
	for _, id := range got {
		g[id] = true
	}
	for _, id := range want {
		w[id] = true
	}
	var extra, missing []string
	for id := range g {
		if !w[id] {
			extra = append(extra, id)
		}
	}
	for id := range w {
		if !g[id] {
			missing = append(missing, id)
		}
	}
	if len(extra)+len(missing) > 0 {
		sort.Strings(extra)
		sort.Strings(missing)
		t.Errorf("%s: %d ids, the truth %d; %d not in the truth %v, %d missing %v", what, len(g), len(w),
			len(extra), extra[:min(5, len(extra))], len(missing), missing[:min(5, len(missing))])
	}
}

// assertCrowdtiltRows checks every version (not only the current ones): amount is exactly
// amount_in_cents / 100, the currency is USD, every version has its raw JSON beside it, and no
// record has two versions of the same content.
func assertCrowdtiltRows(t *testing.T, db *sql.DB, ref func(string) string) {
	t.Helper()
	checked := 0
	queryRows(t, db, `SELECT id, amount_in_cents, CAST(amount AS VARCHAR), currency FROM `+ref(crowdtiltschema.Payments), func(rows *sql.Rows) error {
		var id string
		var cents sql.NullInt64
		var amount, currency sql.NullString
		if err := rows.Scan(&id, &cents, &amount, &currency); err != nil {
			return err
		}
		checked++
		if !cents.Valid || !amount.Valid {
			t.Errorf("payment %s: amount_in_cents %v, amount %v: NULL", id, cents, amount)
			return nil
		}
		got, ok := new(big.Rat).SetString(amount.String)
		if !ok || got.Cmp(big.NewRat(cents.Int64, 100)) != 0 {
			t.Errorf("payment %s: amount %s is not amount_in_cents %d / 100", id, amount.String, cents.Int64)
		}
		if currency.String != "USD" {
			t.Errorf("payment %s: currency %q, want USD", id, currency.String)
		}
		return nil
	})
	if checked == 0 {
		t.Error("crowdtilt_payments is empty")
	}
	// The same in SQL, in the warehouse's own decimal arithmetic.
	if n := queryInt(t, db, `SELECT count(*) FROM `+ref(crowdtiltschema.Payments)+` WHERE amount * 100 <> amount_in_cents OR currency <> 'USD'`); n != 0 {
		t.Errorf("%d payment versions whose amount * 100 is not amount_in_cents or whose currency is not USD", n)
	}
	for _, tb := range []struct{ table, raw string }{
		{crowdtiltschema.Payments, crowdtiltschema.RawPayments},
		{crowdtiltschema.Campaigns, crowdtiltschema.RawCampaigns},
		{crowdtiltschema.Users, crowdtiltschema.RawUsers},
	} {
		if n := queryInt(t, db, `SELECT count(*) FROM (SELECT id, content_hash FROM `+ref(tb.table)+` GROUP BY id, content_hash HAVING count(*) > 1) AS d`); n != 0 {
			t.Errorf("%s: %d records have two versions of the same content", tb.table, n)
		}
		versions, raws := queryInt(t, db, `SELECT count(*) FROM `+ref(tb.table)), queryInt(t, db, `SELECT count(*) FROM `+ref(tb.raw))
		if versions != raws {
			t.Errorf("%s has %d versions, %s %d", tb.table, versions, tb.raw, raws)
		}
	}
}

// crowdtiltRowCounts counts the rows of the six Crowdtilt tables.
func crowdtiltRowCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	withDuckDB(t, path, func(db *sql.DB) {
		for _, tb := range crowdtiltTables {
			out[tb] = queryInt(t, db, `SELECT count(*) FROM `+schemas.QuoteIdent(tb))
		}
	})
	return out
}

// crowdtiltVersions counts the versions of every payment, campaign and user: by table, by id.
func crowdtiltVersions(t *testing.T, path string) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	withDuckDB(t, path, func(db *sql.DB) {
		for _, table := range []string{crowdtiltschema.Payments, crowdtiltschema.Campaigns, crowdtiltschema.Users} {
			out[table] = map[string]int{}
			queryRows(t, db, `SELECT id, count(*) FROM `+schemas.QuoteIdent(table)+` GROUP BY id`, func(rows *sql.Rows) error {
				var id string
				var n int
				if err := rows.Scan(&id, &n); err != nil {
					return err
				}
				out[table][id] = n
				return nil
			})
		}
	})
	return out
}

// assertCrowdtiltDuckDB compares the DuckDB warehouse at path with the truth and checks its rows.
func assertCrowdtiltDuckDB(t *testing.T, what, path string, want crowdtilttest.Truth) {
	t.Helper()
	withDuckDB(t, path, func(db *sql.DB) {
		assertCrowdtiltState(t, what, crowdtiltViewState(t, db, schemas.QuoteIdent), crowdtiltTruthState(want))
		assertCrowdtiltRows(t, db, schemas.QuoteIdent)
	})
}

var requestsLine = regexp.MustCompile(`(?m)^  requests +(\d+) \(`)

// summaryRequests is the number on the summary's requests line.
func summaryRequests(t *testing.T, stdout string) int {
	t.Helper()
	m := requestsLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no requests line in the summary:\n%s", stdout)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A walk of a faulty API lands exactly at the sandbox's ground truth: payments by status (count,
// cents, fees), per campaign (those without a payment too), every campaign and user; amounts are
// exact decimals in USD. A second sync of the unchanged API appends no version at all.
func TestCrowdtiltFaultyWalkMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: sandboxNow()}
	srv, url := crowdtiltSandbox(t, crowdtilttest.Options{
		Seed: 21, Campaigns: 15, Payments: 600, From: yearFrom, To: yearTo, Now: clock.Now,
		Faults: crowdtilttest.Faults{Rate: 0.08, RetryAfter: "0"},
	})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := crowdtiltCLI(clock.Now)
	args := append(crowdtiltArgs(url, db), "sync", "--concurrency", "4")

	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("sync exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	st := srv.Stats()
	if st.TotalFaults() == 0 {
		t.Fatal("the sandbox injected no fault: the test proves nothing")
	}
	t.Logf("sandbox: %d requests, %d pages, %d faulted %v", st.Requests, st.Pages, st.TotalFaults(), st.Faults)
	want := srv.Truth()
	if want.Count != 600 || len(want.Campaigns) != 15 {
		t.Fatalf("the sandbox's truth has %d payments and %d campaigns, want 600 and 15", want.Count, len(want.Campaigns))
	}
	empty := 0
	for _, id := range want.Campaigns {
		if want.PerCampaign[id] == 0 {
			empty++
		}
	}
	if empty == 0 {
		t.Error("no campaign without a payment: the per-campaign comparison misses that case")
	}
	assertCrowdtiltDuckDB(t, "first sync", db, want)
	if !strings.Contains(r.stdout, "15 committed of 15") {
		t.Errorf("summary does not say the 15 campaigns' windows were committed:\n%s", r.stdout)
	}
	rows := crowdtiltRowCounts(t, db)
	if rows[crowdtiltschema.Payments] != 600 || rows[crowdtiltschema.Campaigns] != 15 || rows[crowdtiltschema.Users] != int64(len(want.Users)) {
		t.Errorf("first sync: rows %v; want 600 payments, 15 campaigns, %d users: one version each", rows, len(want.Users))
	}

	// The API did not change: the second walk reads everything and appends nothing.
	clock.Advance(time.Hour)
	r = c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("second sync exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "changed        0 of the") {
		t.Errorf("the second sync's summary does not say nothing changed:\n%s", r.stdout)
	}
	if again := crowdtiltRowCounts(t, db); !maps.Equal(again, rows) {
		t.Errorf("the second sync appended rows to an unchanged API: before %v, after %v", rows, again)
	}
	assertCrowdtiltDuckDB(t, "second sync", db, want)
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// A sync that finds no change costs exactly the pages of a walk: the campaign pages and each
// campaign's payment pages, nothing more (no user, no check request); status shows the walk.
func TestCrowdtiltNoChangeSyncRequests(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: sandboxNow()}
	srv, url := crowdtiltSandbox(t, crowdtilttest.Options{Seed: 22, Campaigns: 12, Payments: 600, From: yearFrom, To: yearTo, Now: clock.Now})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := crowdtiltCLI(clock.Now)
	args := append(crowdtiltArgs(url, db), "sync")
	if r := c.run(t, args...); r.code != 0 {
		t.Fatalf("first sync exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	tr := srv.Truth()
	pages := tr.Pages(crowdtilttest.MaxPerPage)
	if multi := pages - 1 - len(tr.Campaigns); multi <= 0 {
		t.Errorf("no campaign has more than one page of payments (%d pages for %d campaigns): the test misses paging", pages, len(tr.Campaigns))
	}
	rows := crowdtiltRowCounts(t, db)

	clock.Advance(time.Hour)
	before := srv.Stats().Requests
	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("second sync exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	got := srv.Stats().Requests - before
	t.Logf("the no-change sync sent %d requests; Truth.Pages(100) = %d (%d campaigns, %d payments)", got, pages, len(tr.Campaigns), tr.Count)
	if got != int64(pages) {
		t.Errorf("the no-change sync sent %d requests, want exactly the walk's %d pages", got, pages)
	}
	if n := summaryRequests(t, r.stdout); n != pages {
		t.Errorf("the summary says %d requests, want %d:\n%s", n, pages, r.stdout)
	}
	if !strings.Contains(r.stdout, "changed        0 of the") {
		t.Errorf("the summary does not say nothing changed:\n%s", r.stdout)
	}
	if again := crowdtiltRowCounts(t, db); !maps.Equal(again, rows) {
		t.Errorf("the no-change sync appended rows: before %v, after %v", rows, again)
	}

	st := c.run(t, "--source", "crowdtilt", "--duckdb", db, "--log-level", "warn", "status", "--max-lag", "2h")
	if st.code != 0 {
		t.Fatalf("status exited %d\n%s%s", st.code, st.stdout, st.stderr)
	}
	// More campaigns than the table lists one by one: one line for the walk, every campaign counted.
	if want := fmt.Sprintf("walk    %d keys", len(tr.Campaigns)); !strings.Contains(st.stdout, want) {
		t.Errorf("status does not show the walk stream of its %d campaigns (%q):\n%s", len(tr.Campaigns), want, st.stdout)
	}
	js := c.run(t, "--source", "crowdtilt", "--duckdb", db, "--log-level", "warn", "status", "--format", "json")
	if js.code != 0 || !strings.Contains(js.stdout, tr.Campaigns[0]) {
		t.Errorf("status --format json does not list each campaign:\n%s", js.stdout)
	}
}

// mutateAt calls fn when the at-th request of the armed run arrives, before it is served.
type mutateAt struct {
	next  http.Handler
	mu    sync.Mutex
	count int
	at    int
	fired bool
	fn    func()
}

func (m *mutateAt) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.count++
	if m.count == m.at && !m.fired {
		m.fired = true
		m.fn() // under the lock: the requests after this one see the change
	}
	m.mu.Unlock()
	m.next.ServeHTTP(w, r)
}

func (m *mutateAt) arm(at int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count, m.at = 0, at
}

func (m *mutateAt) requests() (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count, m.fired
}

// Changes between syncs (refunds, retried and new payments, silent metadata rewrites, titles,
// users) and changes made while a sync walks are all caught by the next syncs: the views equal the
// changed truth, verify agrees, every changed record got a new version and no unchanged one did.
func TestCrowdtiltSyncAfterChangesThenVerify(t *testing.T) {
	t.Parallel()
	// Morning: no campaign expires (at noon) while the clock moves, so that only Mutate changes
	// records.
	clock := &fakeClock{now: time.Date(2025, 6, 2, 6, 0, 0, 0, time.UTC)}
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	srv := crowdtilttest.New(crowdtilttest.Options{Seed: 23, Campaigns: 12, Payments: 600, From: from, To: to, Now: clock.Now})
	var midRun crowdtilttest.Changes
	mid := &mutateAt{next: srv, at: -1, fn: func() {
		clock.Advance(time.Minute)
		midRun = srv.Mutate(0.05, 77)
	}}
	hs := httptest.NewServer(mid)
	t.Cleanup(hs.Close)
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := crowdtiltCLI(clock.Now)
	args := append(crowdtiltArgs(hs.URL, db), "sync", "--concurrency", "2")

	if r := c.run(t, args...); r.code != 0 {
		t.Fatalf("first sync exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	first := crowdtiltVersions(t, db)

	clock.Advance(time.Hour)
	between := srv.Mutate(0.1, 5)
	if len(between.Payments) == 0 || len(between.NewPayments) == 0 || len(between.Silent) == 0 {
		t.Fatalf("Mutate changed too little to prove anything: %+v", between)
	}
	clock.Advance(time.Minute)
	const at = 6 // the listing and a few campaigns before, the rest after
	mid.arm(at)
	r := c.run(t, args...)
	n, fired := mid.requests()
	mid.arm(-1)
	if r.code != 0 {
		t.Fatalf("second sync exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !fired || n <= at {
		t.Fatalf("the change in the middle of the second sync did not happen mid-walk: %d requests, fired %v", n, fired)
	}
	if len(midRun.Payments)+len(midRun.NewPayments) == 0 || len(midRun.Campaigns) == 0 {
		t.Fatalf("the mid-walk Mutate changed too little: %+v", midRun)
	}
	t.Logf("between the syncs: %d payments changed (%d silently), %d new, %d campaigns, %d users; during the second: %d payments, %d new, %d campaigns, %d users",
		len(between.Payments), len(between.Silent), len(between.NewPayments), len(between.Campaigns), len(between.Users),
		len(midRun.Payments), len(midRun.NewPayments), len(midRun.Campaigns), len(midRun.Users))

	clock.Advance(time.Minute)
	r = c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("third sync exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "changed        0 of the") {
		// The second walk read the campaigns before the mid-walk change: the third must append
		// at least their new versions.
		t.Errorf("the third sync found no change, but the second listed the campaigns before the mid-walk change:\n%s", r.stdout)
	}
	want := srv.Truth()
	assertCrowdtiltDuckDB(t, "after the changes", db, want)
	last := crowdtiltVersions(t, db)
	if rows := sumValues(last[crowdtiltschema.Payments]); rows <= want.Count {
		t.Errorf("crowdtilt_payments has %d versions for %d payments: the changed payments got no new version", rows, want.Count)
	}

	// Exactly the records Mutate changed got new versions.
	changed := map[string]map[string]bool{crowdtiltschema.Payments: {}, crowdtiltschema.Campaigns: {}, crowdtiltschema.Users: {}}
	for _, ch := range []crowdtilttest.Changes{between, midRun} {
		for _, id := range append(slices.Clone(ch.Payments), ch.NewPayments...) {
			changed[crowdtiltschema.Payments][id] = true
		}
		for _, id := range ch.Campaigns {
			changed[crowdtiltschema.Campaigns][id] = true
		}
		for _, id := range ch.Users {
			changed[crowdtiltschema.Users][id] = true
		}
	}
	for table, ids := range changed {
		now := last[table]
		var missed, spurious []string
		for id, n := range now {
			switch {
			case ids[id] && n <= first[table][id]:
				missed = append(missed, id)
			case !ids[id] && n != first[table][id]:
				spurious = append(spurious, fmt.Sprintf("%s (%d → %d)", id, first[table][id], n))
			}
		}
		for id := range ids {
			if _, ok := now[id]; !ok && (table != crowdtiltschema.Users || slices.Contains(want.Users, id)) {
				missed = append(missed, id)
			}
		}
		if len(missed) > 0 {
			sort.Strings(missed)
			t.Errorf("%s: %d changed records got no new version: %v", table, len(missed), missed[:min(5, len(missed))])
		}
		if len(spurious) > 0 {
			sort.Strings(spurious)
			t.Errorf("%s: %d unchanged records got a new version: %v", table, len(spurious), spurious[:min(5, len(spurious))])
		}
	}
	// The silent changes (modification_date unmoved) are among them: only the content hash
	// sees them.
	pv := last[crowdtiltschema.Payments]
	silent := 0
	for _, id := range between.Silent {
		if _, ok := first[crowdtiltschema.Payments][id]; ok {
			silent++
			if pv[id] < 2 {
				t.Errorf("payment %s changed silently and has %d version(s)", id, pv[id])
			}
		}
	}
	if silent == 0 {
		t.Error("no payment changed silently: the test misses the content hash")
	}

	r = c.run(t, append(crowdtiltArgs(hs.URL, db), "verify", "--from", from.Format(time.DateOnly), "--to", clock.Now().Format(time.DateOnly))...)
	if r.code != 0 {
		t.Errorf("verify exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A walk killed with SIGKILL five times (each time mid-walk, while fetching or committing) and run
// again each time resumes at the campaigns not committed and ends exactly at the ground truth,
// with one version of every record.
func TestCrowdtiltKilledWalksResumeToGroundTruth(t *testing.T) {
	t.Parallel()
	// 70 campaigns of a few payments each: a walk is 71 requests (the listing, then one page per
	// campaign), more than the five kill points add up to, so that each run is killed mid-walk.
	const campaigns = 70
	srv := crowdtilttest.New(crowdtilttest.Options{Seed: 24, Campaigns: campaigns, Payments: 600, From: yearFrom, To: yearTo, Now: sandboxNow})
	pages := srv.Truth().Pages(crowdtilttest.MaxPerPage)
	if pages != campaigns+1 {
		t.Fatalf("a walk is %d pages, want %d: the kill points below assume one page per campaign", pages, campaigns+1)
	}
	ks := &killSwitch{next: srv, fire: make(chan struct{}, 1)}
	hs := httptest.NewServer(ks)
	t.Cleanup(hs.Close)
	db, tmp := filepath.Join(t.TempDir(), "w.duckdb"), t.TempDir()
	args := append(crowdtiltArgs(hs.URL, db), "sync", "--batch-windows", "2", "--concurrency", "2", "--temp-dir", tmp)
	start := starter(t, args, config.CrowdtiltKeyEnv+"="+crowdtilttest.DefaultKey, config.CrowdtiltSecretEnv+"="+crowdtilttest.DefaultSecret)

	// With --concurrency 2 and batches of 2 windows, the run fetches at most 8 windows ahead of
	// its first commit (one batch committing, one waiting, 2 results buffered, 2 fetchers
	// blocked), so the 10th request (the listing and 9 windows) comes after a commit: every
	// point from 10 on kills a run that committed something. The points add up to fewer windows
	// than the walk has, so no run gets to the end.
	points := []int{12, 10, 14, 11, 13}
	var progress []int
	kills := killRuns(t, ks, start, points, func() {
		n := 0
		if _, err := os.Stat(db); err == nil {
			n = checkpointCount(t, db)
		}
		progress = append(progress, n)
	})
	t.Logf("walk of %d pages; %d kills at requests %v; committed windows after each run: %v", pages, kills, points, progress)
	if kills < 5 {
		t.Fatalf("only %d runs were killed; the test wants at least 5", kills)
	}
	prev := 0
	for i, n := range progress {
		if n <= prev {
			t.Errorf("run %d committed nothing before it was killed at its request %d (%d windows committed before it, %d after)", i+1, points[i], prev, n)
		}
		prev = n
	}
	if last := progress[len(progress)-1]; last >= campaigns {
		t.Fatalf("the killed runs committed the whole walk (%d windows): the final run resumes nothing", last)
	}

	ks.arm(-1)
	if _, done := start(); <-done != nil {
		t.Fatal("the final run failed")
	}
	if n := checkpointCount(t, db); n != campaigns {
		t.Errorf("%d walk windows committed, want one per campaign: %d", n, campaigns)
	}
	want := srv.Truth()
	assertCrowdtiltDuckDB(t, "after kills", db, want)
	rows := crowdtiltRowCounts(t, db)
	if rows[crowdtiltschema.Payments] != int64(want.Count) || rows[crowdtiltschema.Campaigns] != int64(len(want.Campaigns)) || rows[crowdtiltschema.Users] != int64(len(want.Users)) {
		t.Errorf("rows %v; want exactly one version each: %d payments, %d campaigns, %d users", rows, want.Count, len(want.Campaigns), len(want.Users))
	}
}

// Refused credentials stop the run at the first request (401 is never retried) with exit code 3,
// commit nothing and print neither the key nor the secret, whether they come from the environment
// or from --api-key-file; the file wins over the environment.
func TestCrowdtiltWrongCredentialsExit3(t *testing.T) {
	t.Parallel()
	const (
		wrongKey    = "wrong-key-8c1f"
		wrongSecret = "wrong-secret-5be2"
	)
	tests := []struct {
		name        string
		key, secret string // environment; "" for none
		file        string // --api-key-file's content; "" for none
		want        int
	}{
		{"wrong secret", crowdtilttest.DefaultKey, wrongSecret, "", exitForbidden},
		{"wrong key", wrongKey, crowdtilttest.DefaultSecret, "", exitForbidden},
		{"both wrong", wrongKey, wrongSecret, "", exitForbidden},
		{"key file with a wrong secret", "", "", crowdtilttest.DefaultKey + ":" + wrongSecret + "\n", exitForbidden},
		{"key file with a wrong key", "", "", wrongKey + ":" + crowdtilttest.DefaultSecret, exitForbidden},
		{"wrong key file over right environment", crowdtilttest.DefaultKey, crowdtilttest.DefaultSecret, crowdtilttest.DefaultKey + ":" + wrongSecret, exitForbidden},
		{"right key file", "", "", crowdtilttest.DefaultKey + ":" + crowdtilttest.DefaultSecret + "\n", exitOK},
		{"right key file over wrong environment", wrongKey, wrongSecret, crowdtilttest.DefaultKey + ":" + crowdtilttest.DefaultSecret, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, url := crowdtiltSandbox(t, crowdtilttest.Options{Seed: 25, Campaigns: 3, Payments: 20, From: yearFrom, To: yearTo, Now: sandboxNow})
			dir := t.TempDir()
			db := filepath.Join(dir, "w.duckdb")
			env := map[string]string{}
			if tt.key != "" {
				env[config.CrowdtiltKeyEnv], env[config.CrowdtiltSecretEnv] = tt.key, tt.secret
			}
			args := crowdtiltArgs(url, db)
			if tt.file != "" {
				file := filepath.Join(dir, "crowdtilt.key")
				if err := os.WriteFile(file, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--api-key-file", file)
			}
			r := cli{env: env, now: sandboxNow}.run(t, append(args, "sync")...)
			if r.code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.want, r.stdout, r.stderr)
			}
			out := r.stdout + r.stderr
			for _, s := range []string{wrongKey, wrongSecret, crowdtilttest.DefaultSecret,
				base64.StdEncoding.EncodeToString([]byte(crowdtilttest.DefaultKey + ":" + wrongSecret)),
				base64.StdEncoding.EncodeToString([]byte(crowdtilttest.DefaultKey + ":" + crowdtilttest.DefaultSecret))} {
				if strings.Contains(out, s) {
					t.Errorf("the output holds a credential (%.6s…):\n%s", s, out)
				}
			}
			st := srv.Stats()
			if tt.want == exitOK {
				if st.Unauthorized != 0 {
					t.Errorf("%d requests refused with the right credentials", st.Unauthorized)
				}
				return
			}
			if st.Requests != 1 || st.Unauthorized != 1 {
				t.Errorf("%d requests (%d refused); want exactly 1: the campaigns listing, refused and not retried", st.Requests, st.Unauthorized)
			}
			if _, err := os.Stat(db); err == nil {
				if n := checkpointCount(t, db); n != 0 {
					t.Errorf("%d checkpoints committed with refused credentials", n)
				}
			}
		})
	}
}

// No card token or card number the API served reaches the warehouse: not in the file's bytes,
// not in any table's values (raw JSON compressed included), not in the output.
func TestCrowdtiltStoresNoCardData(t *testing.T) {
	t.Parallel()
	srv, url := crowdtiltSandbox(t, crowdtilttest.Options{Seed: 26, Campaigns: 10, Payments: 500, From: yearFrom, To: yearTo, Now: sandboxNow})
	dir := t.TempDir()
	db := filepath.Join(dir, "w.duckdb")
	r := crowdtiltCLI(sandboxNow).run(t, append(crowdtiltArgs(url, db), "--log-level", "debug", "sync")...)
	if r.code != 0 {
		t.Fatalf("sync exited %d\nstdout: %s\nstderr: %.2000s", r.code, r.stdout, r.stderr)
	}
	secrets := srv.Secrets()
	numbers := 0
	for _, s := range secrets {
		if !strings.HasPrefix(s, "CCP") {
			numbers++
		}
	}
	if len(secrets) == 0 || numbers == 0 {
		t.Fatalf("the sandbox served %d card secrets, %d of them card numbers: the test proves nothing", len(secrets), numbers)
	}
	// Everything the run left: the file (and a WAL, if any) after the run closed it, and the output.
	var blobs [][]byte
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	blobs = append(blobs, []byte(r.stdout), []byte(r.stderr))
	// Every value of every table, decompressed.
	withDuckDB(t, db, func(sdb *sql.DB) {
		var tables []string
		queryRows(t, sdb, `SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'`, func(rows *sql.Rows) error {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			tables = append(tables, name)
			return nil
		})
		for _, tb := range crowdtiltTables {
			if !slices.Contains(tables, tb) {
				t.Fatalf("no table %s in the warehouse (tables: %v)", tb, tables)
			}
		}
		var values bytes.Buffer
		for _, tb := range tables {
			q := `SELECT CAST(t AS VARCHAR) FROM ` + schemas.QuoteIdent(tb) + ` AS t`
			queryRows(t, sdb, q, func(rows *sql.Rows) error {
				var row sql.NullString
				if err := rows.Scan(&row); err != nil {
					return err
				}
				values.WriteString(row.String)
				values.WriteByte('\n')
				return nil
			})
		}
		if !bytes.Contains(values.Bytes(), []byte("CON")) {
			t.Fatal("the tables' values hold no payment id: the search reads nothing")
		}
		blobs = append(blobs, values.Bytes())
	})
	for _, s := range secrets {
		for _, b := range blobs {
			if bytes.Contains(b, []byte(s)) {
				t.Fatalf("card data the API served (%.6s…, %d characters) is in the warehouse or the output", s, len(s))
			}
		}
	}
}

// A backfill keeps the payments created in its range (and every campaign); run again it skips
// every window and appends nothing.
func TestCrowdtiltBackfillKeepsItsRange(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: sandboxNow()}
	srv, url := crowdtiltSandbox(t, crowdtilttest.Options{Seed: 27, Campaigns: 12, Payments: 600, From: yearFrom, To: yearTo, Now: clock.Now})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := crowdtiltCLI(clock.Now)
	args := append(crowdtiltArgs(url, db), "backfill", "--from", "2025-03-01", "--to", "2025-05-31")
	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("backfill exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	from, to := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	want := crowdtiltTruthState(srv.TruthCreated(from, to))
	all := srv.Truth().Count
	if want.Count == 0 || want.Count == all {
		t.Fatalf("the range holds %d of the %d payments: the test proves nothing", want.Count, all)
	}
	withDuckDB(t, db, func(sdb *sql.DB) {
		got := crowdtiltViewState(t, sdb, schemas.QuoteIdent)
		if got.Count != want.Count {
			t.Errorf("%d payments in the view, %d created in the range", got.Count, want.Count)
		}
		if !maps.Equal(got.ByStatus, want.ByStatus) {
			t.Errorf("by status (payments, cents, user fee, admin fee): the view %v, the range's truth %v", got.ByStatus, want.ByStatus)
		}
		if !maps.Equal(got.PerCampaign, want.PerCampaign) {
			t.Errorf("per campaign (payments, cents): the view %v, the range's truth %v", got.PerCampaign, want.PerCampaign)
		}
		assertSameIDs(t, "crowdtilt_campaigns_current", got.Campaigns, want.Campaigns)
		if n := queryInt(t, sdb, `SELECT count(*) FROM crowdtilt_payments_current WHERE creation_date < TIMESTAMPTZ '2025-03-01 00:00:00+00' OR creation_date >= TIMESTAMPTZ '2025-06-01 00:00:00+00'`); n != 0 {
			t.Errorf("%d payments created outside the range", n)
		}
		assertCrowdtiltRows(t, sdb, schemas.QuoteIdent)
	})
	if !strings.Contains(r.stdout, "12 committed of 12") {
		t.Errorf("the summary does not say the 12 campaigns' windows were committed:\n%s", r.stdout)
	}
	rows := crowdtiltRowCounts(t, db)
	cps := checkpointCount(t, db)

	clock.Advance(time.Hour)
	before := srv.Stats().Requests
	r = c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("second backfill exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "12 skipped") {
		t.Errorf("the summary does not say the 12 windows were skipped:\n%s", r.stdout)
	}
	if got := srv.Stats().Requests - before; got > 1 {
		t.Errorf("the second backfill sent %d requests; want at most the campaigns listing", got)
	}
	if again := crowdtiltRowCounts(t, db); !maps.Equal(again, rows) {
		t.Errorf("the second backfill appended rows: before %v, after %v", rows, again)
	}
	if n := checkpointCount(t, db); n != cps {
		t.Errorf("checkpoints went from %d to %d on a run that skipped everything", cps, n)
	}
}

// Into BigQuery: the walk equals the truth, read through BigQuery's own query API; a second walk
// of the unchanged API appends nothing.
func TestCrowdtiltOnBigQuery(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: sandboxNow()}
	srv, url := crowdtiltSandbox(t, crowdtilttest.Options{Seed: 28, Campaigns: 10, Payments: 400, From: yearFrom, To: yearTo, Now: clock.Now})
	bq := bigQuery(t, bqtest.Options{Now: clock.Now})
	c := crowdtiltCLI(clock.Now)
	args := append(append(bqArgs(bq), crowdtiltAPIArgs(url)...), "sync")
	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("sync exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	want := srv.Truth()

	// Count and cents by status through the BigQuery API.
	client, err := bigquery.NewClient(context.Background(), bqProject, bq.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	q := client.Query("SELECT status, COUNT(*) AS n, SUM(amount_in_cents) AS cents FROM `" + bqProject + "." + bqDataset + "." + crowdtiltschema.Payments + "_current` GROUP BY status")
	it, err := q.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for {
		var row struct {
			Status string `bigquery:"status"`
			N      int64  `bigquery:"n"`
			Cents  int64  `bigquery:"cents"`
		}
		err := it.Next(&row)
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[row.Status] = [2]int64{row.N, row.Cents}
	}
	wantBy := map[string][2]int64{}
	for st, n := range want.Payments {
		if n > 0 {
			wantBy[st] = [2]int64{int64(n), want.Cents[st]}
		}
	}
	if !maps.Equal(got, wantBy) {
		t.Errorf("by status (payments, cents), BigQuery says %v, the truth is %v", got, wantBy)
	}
	// The whole comparison, on the server's tables.
	assertCrowdtiltState(t, "BigQuery", crowdtiltViewState(t, bq.DB(), bqRef), crowdtiltTruthState(want))
	assertCrowdtiltRows(t, bq.DB(), bqRef)
	rows := map[string]int{}
	for _, tb := range crowdtiltTables {
		rows[tb] = bqCount(t, bq, tb)
	}

	clock.Advance(time.Hour)
	r = c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("second sync exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "changed        0 of the") {
		t.Errorf("the second sync's summary does not say nothing changed:\n%s", r.stdout)
	}
	for _, tb := range crowdtiltTables {
		if n := bqCount(t, bq, tb); n != rows[tb] {
			t.Errorf("%s: %d rows after the second sync, %d before", tb, n, rows[tb])
		}
	}
}
