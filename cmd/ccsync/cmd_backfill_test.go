package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
)

var (
	yearFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	yearTo   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// quarterTo ends the first quarter: the range of the tests whose point does not need a year.
	quarterTo = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	// after the year, so every transaction of it exists and its payouts are known.
	sandboxNow = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
)

// rowCount counts the rows of a table of the DuckDB warehouse at path.
func rowCount(t *testing.T, path, table string) int {
	t.Helper()
	d, err := load.OpenDuckDB(context.Background(), config.DuckDB{Path: path}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.DB().QueryRow(`SELECT count(*) FROM ` + schemas.QuoteIdent(table)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func checkpointCount(t *testing.T, path string) int { return rowCount(t, path, schemas.Checkpoints) }

// versionCount counts transaction versions (rows of transactions, not of the current view).
func versionCount(t *testing.T, path string) int {
	return rowCount(t, path, crowdchangeschema.Transactions)
}

// A year from a faulty API lands exactly: the views equal the sandbox's ground truth, a second
// run skips everything, and --force appends new versions without changing the views.
func TestBackfillYearWithFaultsMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	srv, url := sandbox(t, crowdchangetest.Options{
		Seed: 7, Transactions: 1500, From: yearFrom, To: yearTo, Now: sandboxNow,
		Faults: crowdchangetest.Faults{Rate: 0.08, RetryAfter: "0", SlowDelay: time.Millisecond},
	})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}
	global := []string{"--api-url", url, "--rate", "2000", "--burst", "100", "--duckdb", db, "--backoff-base", "1ms", "--backoff-max", "5ms", "--log-format", "json", "--log-level", "warn"}
	args := append(slices.Clone(global), "backfill", "--from", "2025-01-01", "--to", "2025-12-31", "--batch-windows", "40", "--concurrency", "6")

	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("backfill exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	st := srv.Stats()
	faulted := 0
	for _, n := range st.Faults {
		faulted += int(n)
	}
	if ratio := float64(faulted) / float64(st.Requests); ratio < 0.05 {
		t.Fatalf("only %d of %d answers faulted (%.1f%%): the test wants at least 5%%", faulted, st.Requests, 100*ratio)
	}
	t.Logf("sandbox: %d requests, %d faulted %v", st.Requests, faulted, st.Faults)
	want := truthState(t, srv.Truth(yearFrom, yearTo))
	if want.Count != 1500 {
		t.Fatalf("the sandbox's truth has %d transactions, want 1500", want.Count)
	}
	assertState(t, "first backfill", viewState(t, db), want)
	if !strings.Contains(r.stdout, "365 committed of 365") {
		t.Errorf("summary does not say 365 windows were committed:\n%s", r.stdout)
	}
	cps := checkpointCount(t, db)

	// Again: everything is committed, nothing is extracted.
	before := srv.Stats().Requests
	r = c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("second backfill exited %d: %s", r.code, r.stderr)
	}
	if got := srv.Stats().Requests - before; got > 1 {
		t.Errorf("the second backfill sent %d requests; want at most the key check", got)
	}
	if !strings.Contains(r.stdout, "365 skipped") {
		t.Errorf("summary does not say 365 windows were skipped:\n%s", r.stdout)
	}
	if n := checkpointCount(t, db); n != cps {
		t.Errorf("checkpoints went from %d to %d on a run that skipped everything", cps, n)
	}
	assertState(t, "second backfill", viewState(t, db), want)

	// --force over March, inside the committed year: new versions of March's transactions, the
	// same current state.
	marchFrom, marchTo := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	march := truthState(t, srv.Truth(marchFrom, marchTo)).Count
	if march == 0 {
		t.Fatal("the sandbox has no transaction in March")
	}
	forced := append(slices.Clone(global), "backfill", "--from", "2025-03-01", "--to", "2025-03-31", "--batch-windows", "40", "--force")
	r = c.run(t, forced...)
	if r.code != 0 {
		t.Fatalf("forced backfill exited %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "31 committed of 31") {
		t.Errorf("summary does not say March's 31 windows were committed again:\n%s", r.stdout)
	}
	if n := versionCount(t, db); n != want.Count+march {
		t.Errorf("transactions has %d versions after forcing March, want %d + %d", n, want.Count, march)
	}
	assertState(t, "forced backfill", viewState(t, db), want)
}

// A wrong key stops the run at once with exit code 3, a clear message, and nothing committed.
func TestWrongKeyExits3AndCommitsNothing(t *testing.T) {
	t.Parallel()
	srv, url := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 100, From: yearFrom, To: yearTo, Now: sandboxNow})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := cli{env: map[string]string{config.APIKeyEnv: "not-the-key"}}
	start := time.Now()
	r := c.run(t, "--api-url", url, "--duckdb", db, "--log-format", "text", "backfill", "--from", "2025-01-01", "--to", "2025-12-31")
	if r.code != exitForbidden {
		t.Fatalf("exit code %d, want %d\nstderr: %s", r.code, exitForbidden, r.stderr)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %v to give up on a wrong key", elapsed)
	}
	if !strings.Contains(r.stderr, "refused the key") {
		t.Errorf("stderr does not say the key was refused:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, "not-the-key") {
		t.Errorf("the key appears in the output")
	}
	if got := srv.Stats().Requests; got != 1 {
		t.Errorf("the API got %d requests, want exactly 1 (no retry of a 403)", got)
	}
	if n := checkpointCount(t, db); n != 0 {
		t.Errorf("%d checkpoints after a refused key", n)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no verb", []string{"--duckdb", "x"}, "no verb"},
		{"missing range", []string{"--duckdb", filepath.Join(dir, "a.duckdb"), "backfill"}, "from: required"},
		{"bad flag", []string{"backfill", "--bogus"}, "bogus"},
		{"bad date", []string{"backfill", "--from", "2025-13-01", "--to", "2025-12-01"}, "2025-13-01"},
		{"reversed range", []string{"--duckdb", filepath.Join(dir, "b.duckdb"), "backfill", "--from", "2025-02-01", "--to", "2025-01-01"}, "before"},
		{"http to a remote host", []string{"--api-url", "http://api.example.com", "--duckdb", filepath.Join(dir, "c.duckdb"), "backfill", "--from", "2025-01-01", "--to", "2025-01-02"}, "plain http is refused"},
		{"query without SQL", []string{"query"}, "SQL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli{env: map[string]string{config.APIKeyEnv: "k"}}.run(t, tt.args...)
			if r.code != exitUsage {
				t.Fatalf("exit code %d, want %d\nstderr: %s", r.code, exitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not mention %q:\n%s", tt.want, r.stderr)
			}
		})
	}
}

func TestHelpListsVerbsFlagsAndExitCodes(t *testing.T) {
	t.Parallel()
	r := cli{}.run(t, "--help")
	if r.code != 0 {
		t.Fatalf("--help exited %d", r.code)
	}
	for _, want := range []string{"backfill", "status", "query", "schema", "sandbox", "--api-url", "--warehouse", "CROWDCHANGE_API_KEY", "exit codes", "3  the API refused the key"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
}

// The API's example transaction goes through the whole pipeline (API → Arrow → Parquet →
// DuckDB) losslessly: its raw JSON is kept byte for byte and its money is exact. (The leaf by leaf
// check of every column is transform's TestEveryLeafHasItsHome.)
func TestExampleTransactionLandsLosslessly(t *testing.T) {
	t.Parallel()
	from := time.Date(2021, 9, 1, 0, 0, 0, 0, time.UTC)
	_, url := sandbox(t, crowdchangetest.Options{Seed: 3, Transactions: 50, From: from, To: from.AddDate(0, 1, 0), IncludeExample: true, Now: sandboxNow})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	r := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}.run(t,
		"--api-url", url, "--rate", "2000", "--duckdb", db, "--log-level", "warn", "backfill", "--from", "2021-09-26", "--to", "2021-09-26")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var page crowdchange.Page
	if err := json.Unmarshal(crowdchangetest.ExamplePage(), &page); err != nil {
		t.Fatal(err)
	}
	d, err := load.OpenDuckDB(context.Background(), config.DuckDB{Path: db}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var raw, paid, fees, date, tags string
	var unknown int
	err = d.DB().QueryRow(`SELECT r.raw, CAST(t.amount_total_paid AS VARCHAR), CAST(t.amount_custom_fees AS VARCHAR),
			strftime(t.date, '%Y-%m-%d %H:%M:%S'), array_to_string(t.fundraiser_tags_list, ','), len(r.unknown_fields)
		FROM transactions_current t JOIN raw_transactions_current r ON r.transaction_id = t.id WHERE t.id = 10001`).Scan(&raw, &paid, &fees, &date, &tags, &unknown)
	if err != nil {
		t.Fatal(err)
	}
	if raw != string(page.Data[0]) {
		t.Errorf("raw_transactions.raw is not the API's bytes")
	}
	if paid != "105.150000000" || fees != "15.950000000" || date != "2021-09-26 16:00:03" || tags != "tag1,tag2" || unknown != 0 {
		t.Errorf("got total_paid=%s custom_fees=%s date=%s tags=%s unknown=%d", paid, fees, date, tags, unknown)
	}
}
