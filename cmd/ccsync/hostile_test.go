package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
)

// hostileArgs are the global flags of the hostile tests: fast retries, quiet logs.
func hostileArgs(url, db string) []string {
	return []string{"--api-url", url, "--rate", "2000", "--burst", "100", "--duckdb", db,
		"--backoff-base", "1ms", "--backoff-max", "5ms", "--log-format", "json", "--log-level", "warn"}
}

// A faulty year from a hostile API (pages capped below the limit; invalid UTF-8, mistyped fields,
// ISO dates, quoted numbers and id-less items in 8% of the transactions) lands at exactly the
// ground truth of every transaction that has an id; the id-less items are in quarantine, counted
// in the summary, the run log and status; and verify (another page size, until an empty page)
// agrees.
func TestHostileQuarterMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	srv, url := sandbox(t, crowdchangetest.Options{
		Seed: 11, Transactions: 300, From: yearFrom, To: quarterTo, Now: sandboxNow,
		Faults:  crowdchangetest.Faults{Rate: 0.05, RetryAfter: "0", SlowDelay: time.Millisecond},
		Hostile: crowdchangetest.Hostile{PageCap: 2, Rate: 0.08},
	})
	db, tmp := filepath.Join(t.TempDir(), "w.duckdb"), t.TempDir()
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}
	args := append(hostileArgs(url, db), "--page-size", "5", "backfill", "--from", "2025-01-01", "--to", "2025-03-31", "--batch-windows", "20", "--concurrency", "6", "--temp-dir", tmp)

	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("backfill exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	truth := srv.Truth(yearFrom, quarterTo)
	if truth.Quarantined == 0 || truth.UnreadableDonations == 0 || truth.Count+truth.Quarantined != 300 {
		t.Fatalf("the sandbox is not hostile enough: %d counted, %d quarantined, %d unreadable donations", truth.Count, truth.Quarantined, truth.UnreadableDonations)
	}
	st := srv.Stats()
	t.Logf("sandbox: %d requests, %d pages (%d capped), faults %v; truth: %d transactions, %d quarantined, %d unreadable donations",
		st.Requests, st.Pages, st.CappedPages, st.Faults, truth.Count, truth.Quarantined, truth.UnreadableDonations)
	assertState(t, "hostile backfill", viewState(t, db), truthState(t, truth))
	if n := rowCount(t, db, schemas.QuarantineTable); n != truth.Quarantined {
		t.Errorf("quarantine has %d rows, want %d", n, truth.Quarantined)
	}
	if want := fmt.Sprintf("quarantined    %d items", truth.Quarantined); !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "90 committed of 90") {
		t.Errorf("summary does not say %q and 90 committed:\n%s", want, r.stdout)
	}
	if got := runLogInt(t, db, "quarantined"); got != int64(truth.Quarantined) {
		t.Errorf("ccsync_runs.quarantined = %d, want %d", got, truth.Quarantined)
	}
	// Every string column is valid UTF-8, and the mangled transactions are flagged.
	var invalid, flagged, kept int
	queryRow(t, db, `SELECT count(*) FILTER (WHERE decode_error LIKE '%invalid UTF-8%'), count(*) FILTER (WHERE decode_error IS NOT NULL),
		count(*) FILTER (WHERE raw_bytes_base64 IS NOT NULL) FROM raw_transactions_current`, &invalid, &flagged, &kept)
	if invalid == 0 || kept != invalid || flagged < invalid+truth.UnreadableDonations {
		t.Errorf("raw_transactions_current: %d flagged for invalid UTF-8, %d with original bytes, %d with a decode_error (want ≥ %d)",
			invalid, kept, flagged, invalid+truth.UnreadableDonations)
	}

	status := c.run(t, "--duckdb", db, "--log-level", "warn", "status", "--max-lag", "100000h")
	if want := fmt.Sprintf("quarantined  %d", truth.Quarantined); status.code != 0 || !strings.Contains(status.stdout, want) {
		t.Errorf("status exit %d, does not say %q:\n%s%s", status.code, want, status.stdout, status.stderr)
	}
	v := c.run(t, append(hostileArgs(url, db), "--page-size", "5", "verify", "--from", "2025-01-01", "--to", "2025-03-31")...)
	if v.code != exitOK || !strings.Contains(v.stdout, "the warehouse equals the API") {
		t.Fatalf("verify exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	assertEmptyDir(t, tmp)
}

// On an API that does not cap its pages, the paging rules cost no request beyond the pages the
// rows need (at most 5% is allowed): one page per window, plus one after each full page.
func TestPagingRulesCostNothingOnAnHonestAPI(t *testing.T) {
	t.Parallel()
	srv, url := sandbox(t, crowdchangetest.Options{Seed: 5, Transactions: 600, From: yearFrom, To: quarterTo, Now: sandboxNow})
	db, tmp := filepath.Join(t.TempDir(), "w.duckdb"), t.TempDir()
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}
	const limit = 5
	r := c.run(t, append(hostileArgs(url, db), "--page-size", fmt.Sprint(limit), "backfill", "--from", "2025-01-01", "--to", "2025-03-31", "--temp-dir", tmp)...)
	if r.code != 0 {
		t.Fatalf("backfill exited %d: %s", r.code, r.stderr)
	}
	perDay := map[string]int{}
	for _, id := range srv.Truth(yearFrom, quarterTo).IDs {
		tx, ok := srv.Transaction(id)
		if !ok {
			t.Fatalf("transaction %d not found", id)
		}
		perDay[tx.Date.Format(time.DateOnly)]++
	}
	needed := 0
	for d := yearFrom; d.Before(quarterTo); d = d.AddDate(0, 0, 1) {
		needed += perDay[d.Format(time.DateOnly)]/limit + 1
	}
	got := int(srv.Stats().Pages) - 1 // the key check
	extra := got - needed
	t.Logf("pages read %d, needed %d: %d extra (%.2f%%)", got, needed, extra, 100*float64(extra)/float64(got))
	if extra < 0 || float64(extra) > 0.05*float64(got) {
		t.Errorf("%d pages read for %d needed", got, needed)
	}
}

// An API that ignores the page parameter fails its window within a few requests, with a clear
// error, instead of paging for hours; nothing of that window is committed.
func TestAPIIgnoringPageFailsFast(t *testing.T) {
	t.Parallel()
	day := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	srv, url := sandbox(t, crowdchangetest.Options{Seed: 3, Transactions: 60, From: day, To: day.AddDate(0, 0, 1), Now: sandboxNow,
		Hostile: crowdchangetest.Hostile{IgnorePage: true}})
	db, tmp := filepath.Join(t.TempDir(), "w.duckdb"), t.TempDir()
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}
	r := c.run(t, append(hostileArgs(url, db), "--page-size", "10", "backfill", "--from", "2025-06-01", "--to", "2025-06-01", "--temp-dir", tmp)...)
	if r.code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", r.code, exitFailed, r.stderr)
	}
	if !strings.Contains(r.stderr, "paging is broken") || !strings.Contains(r.stderr, `ignore "page"`) {
		t.Errorf("stderr does not say why:\n%s", r.stderr)
	}
	if n := srv.Stats().Requests; n > 4 {
		t.Errorf("%d requests before giving up, want at most 4 (the key check and three pages)", n)
	}
	if n := checkpointCount(t, db); n != 0 {
		t.Errorf("%d checkpoints", n)
	}
}

// canary is planted by the sandbox in every mangled transaction.
const canary = "Zq7canaryXw"

// No error, log line (debug included), summary, status, verify report or run-log row carries a
// row value: a canary planted in the mangled transactions is found nowhere but in the warehouse's
// data tables, whatever failure paths the run goes through (faults, invalid UTF-8, mistyped
// fields, id-less items, changed transactions, a failed window).
func TestCanaryLeaksNowhere(t *testing.T) {
	t.Parallel()
	from, to := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return to.Add(36 * time.Hour) } // sync then reads a few days
	srv, url := sandbox(t, crowdchangetest.Options{
		Seed: 21, Transactions: 200, From: from, To: to, Now: now,
		Faults:  crowdchangetest.Faults{Rate: 0.1, RetryAfter: "0", SlowDelay: time.Millisecond},
		Hostile: crowdchangetest.Hostile{PageCap: 5, Rate: 0.5, Canary: canary},
	})
	db, tmp := filepath.Join(t.TempDir(), "w.duckdb"), t.TempDir()
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}, now: now}
	base := []string{"--api-url", url, "--rate", "2000", "--burst", "100", "--duckdb", db,
		"--backoff-base", "1ms", "--backoff-max", "5ms", "--log-level", "debug", "--page-size", "10"}
	var out strings.Builder
	run := func(format string, args ...string) result {
		if args[0] == "backfill" || args[0] == "sync" {
			args = append(args, "--temp-dir", tmp)
		}
		r := c.run(t, append(append(append([]string(nil), base...), "--log-format", format), args...)...)
		out.WriteString(r.stdout)
		out.WriteString(r.stderr)
		return r
	}
	if r := run("json", "backfill", "--from", "2025-03-01", "--to", "2025-03-31"); r.code != 0 {
		t.Fatalf("backfill exited %d: %s", r.code, r.stderr)
	}
	srv.Mutate(0.2, 3) // verify then lists changed transactions
	run("text", "verify", "--from", "2025-03-01", "--to", "2025-03-31")
	run("json", "backfill", "--from", "2025-03-01", "--to", "2025-03-31", "--force")
	run("text", "status")
	run("json", "sync", "--start", "2025-03-01", "--lag", "0s")

	if n := strings.Count(out.String(), canary); n != 0 {
		i := strings.Index(out.String(), canary)
		t.Errorf("the canary appears %d times in the output, first in: %q", n, out.String()[max(0, i-200):min(out.Len(), i+100)])
	}
	// The bookkeeping tables never hold it; the data tables do (it is data).
	for _, table := range []string{schemas.Runs, schemas.Checkpoints} {
		var n int
		queryRow(t, db, fmt.Sprintf(`SELECT count(*) FROM %s AS r WHERE strpos(CAST(r AS VARCHAR), '%s') > 0`, schemas.QuoteIdent(table), canary), &n)
		if n != 0 {
			t.Errorf("%s: %d rows hold the canary", table, n)
		}
	}
	var inData int
	queryRow(t, db, fmt.Sprintf(`SELECT count(*) FROM raw_transactions WHERE strpos(raw, '%s') > 0`, canary), &inData)
	if inData == 0 {
		t.Fatal("the canary is not in the data: the test proves nothing")
	}
	t.Logf("the canary is in %d raw transactions and in none of %d bytes of output", inData, out.Len())
	entries, _ := os.ReadDir(tmp)
	if len(entries) != 0 {
		t.Errorf("%d entries left in the temp dir", len(entries))
	}
}

// queryRow runs one query on the DuckDB warehouse at path, read-only, and scans its row.
func queryRow(t *testing.T, path, q string, dest ...any) {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(q).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// runLogInt is a column of the latest run's last row in the run log.
func runLogInt(t *testing.T, path, column string) int64 {
	t.Helper()
	var n int64
	queryRow(t, path, fmt.Sprintf(`SELECT %s FROM %s ORDER BY started_at DESC, rowid DESC LIMIT 1`, schemas.QuoteIdent(column), schemas.QuoteIdent(schemas.Runs)), &n)
	return n
}

// BigQuery's STRING is UTF-8 too: a hostile quarter lands in BigQuery at the ground truth, with
// the id-less items in its quarantine table and status counting them.
func TestHostileQuarterIntoBigQuery(t *testing.T) {
	t.Parallel()
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	api, url := sandbox(t, crowdchangetest.Options{Seed: 12, Transactions: 900, From: from, To: to, Now: sandboxNow,
		Faults:  crowdchangetest.Faults{Rate: 0.05, RetryAfter: "0", SlowDelay: time.Millisecond},
		Hostile: crowdchangetest.Hostile{PageCap: 4, Rate: 0.1}})
	bq := bigQuery(t, bqtest.Options{})
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}
	r := c.run(t, append(bqArgs(bq), "--api-url", url, "--rate", "2000", "--burst", "100", "--backoff-base", "1ms", "--backoff-max", "5ms",
		"--log-level", "warn", "--page-size", "10", "backfill", "--from", "2025-01-01", "--to", "2025-03-31", "--batch-windows", "30")...)
	if r.code != 0 {
		t.Fatalf("backfill exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	truth := api.Truth(from, to)
	if truth.Quarantined == 0 {
		t.Fatal("no id-less transaction in the range: the test proves nothing")
	}
	assertState(t, "hostile BigQuery backfill", bqState(t, bq), truthState(t, truth))
	if n := bqCount(t, bq, schemas.QuarantineTable); n != truth.Quarantined {
		t.Errorf("quarantine has %d rows, want %d", n, truth.Quarantined)
	}
	st := c.run(t, append(bqArgs(bq), "--log-level", "warn", "status", "--format", "json", "--max-lag", "100000h")...)
	if want := fmt.Sprintf(`"quarantined": %d`, truth.Quarantined); st.code != 0 || !strings.Contains(st.stdout, want) {
		t.Errorf("status exit %d, no %s:\n%s%s", st.code, want, st.stdout, st.stderr)
	}
}
