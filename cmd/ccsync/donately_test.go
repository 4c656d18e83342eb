package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/donately/donatelytest"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/donately"
)

// The Donately source gives the same guarantees as CrowdChange, shown by the same kinds of tests
// against the Donately sandbox.

func donatelySandbox(t *testing.T, opts donatelytest.Options) (*donatelytest.Server, string) {
	t.Helper()
	s, hs := donatelytest.Start(opts)
	t.Cleanup(hs.Close)
	return s, hs.URL
}

// donatelyCLI runs ccsync with the sandbox's token in the environment.
func donatelyCLI(now func() time.Time) cli {
	return cli{env: map[string]string{config.DonatelyTokenEnv: donatelytest.DefaultToken}, now: now}
}

func donatelyArgs(url, db string) []string {
	return []string{"--source", "donately", "--donately-account", donatelytest.DefaultAccount, "--api-url", url,
		"--rate", "2000", "--burst", "100", "--duckdb", db, "--backoff-base", "1ms", "--backoff-max", "5ms",
		"--log-format", "json", "--log-level", "warn"}
}

// donatelyState is what donately_donations_current says, in the terms of the sandbox's truth:
// the count and, per "CURRENCY/status", the donations and their cents.
type donatelyState struct {
	Count int
	Cents map[string]int64
	N     map[string]int
}

func (s donatelyState) String() string {
	keys := make([]string, 0, len(s.Cents))
	for k := range s.Cents {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d donations", s.Count)
	for _, k := range keys {
		fmt.Fprintf(&b, "; %s: %d, %d cents", k, s.N[k], s.Cents[k])
	}
	return b.String()
}

func donatelyTruthState(tr donatelytest.Truth) donatelyState {
	s := donatelyState{Count: tr.Count, Cents: map[string]int64{}, N: map[string]int{}}
	for k, c := range tr.Cents {
		s.Cents[k.Currency+"/"+k.Status] = c
	}
	for k, n := range tr.Donations {
		s.N[k.Currency+"/"+k.Status] = n
	}
	return s
}

func donatelyViewState(t *testing.T, path string) donatelyState {
	t.Helper()
	d, err := load.OpenDuckDBReadOnly(context.Background(), config.DuckDB{Path: path}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s := donatelyState{Cents: map[string]int64{}, N: map[string]int{}}
	rows, err := d.DB().Query(`SELECT currency, status, count(*), sum(amount_in_cents) FROM ` + schemas.QuoteIdent(donately.Donations+"_current") + ` GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var cur, status string
		var n int
		var cents int64
		if err := rows.Scan(&cur, &status, &n, &cents); err != nil {
			t.Fatal(err)
		}
		s.Count += n
		s.N[cur+"/"+status] += n
		s.Cents[cur+"/"+status] += cents
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

func assertDonatelyState(t *testing.T, what string, got, want donatelyState) {
	t.Helper()
	if got.String() != want.String() {
		t.Errorf("%s: the views say\n  %s\nthe sandbox's truth is\n  %s", what, got, want)
	}
}

// A faulty year lands exactly at the sandbox's ground truth (count, cents per currency and
// status); a second run skips everything; --force appends new versions and leaves the views
// unchanged; no payment intent secret is stored anywhere in the file.
func TestDonatelyFaultyYearMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	srv, url := donatelySandbox(t, donatelytest.Options{
		Seed: 4, Donations: 1000, From: yearFrom, To: yearTo, Now: now,
		Faults: donatelytest.Faults{Rate: 0.08, RetryAfter: "0", SlowDelay: time.Millisecond},
	})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := donatelyCLI(now)
	args := append(donatelyArgs(url, db), "backfill", "--from", "2025-01-01", "--to", "2025-12-31", "--batch-windows", "40", "--concurrency", "6")

	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("backfill exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	st := srv.Stats()
	if st.TotalFaults() == 0 {
		t.Fatal("the sandbox injected no fault: the test proves nothing")
	}
	t.Logf("sandbox: %d requests, %d faulted %v", st.Requests, st.TotalFaults(), st.Faults)
	want := donatelyTruthState(srv.Truth(yearFrom, yearTo))
	if want.Count != 1000 {
		t.Fatalf("the sandbox's truth has %d donations, want 1000", want.Count)
	}
	assertDonatelyState(t, "first backfill", donatelyViewState(t, db), want)
	if !strings.Contains(r.stdout, "367 committed of 367") { // 365 days, campaigns, people
		t.Errorf("summary does not say 367 windows were committed:\n%s", r.stdout)
	}
	if n, all := rowCount(t, db, donately.Campaigns), srv.TruthAll().Campaigns; n == 0 || n > all {
		t.Errorf("%d campaign versions, want 1..%d (the sandbox's campaigns updated before the range's end)", n, all)
	}

	// Again: everything is committed, nothing is extracted.
	before := srv.Stats().Requests
	if r = c.run(t, args...); r.code != 0 {
		t.Fatalf("second backfill exited %d: %s", r.code, r.stderr)
	}
	if got := srv.Stats().Requests - before; got > 1 {
		t.Errorf("the second backfill sent %d requests; want at most the token check", got)
	}
	if !strings.Contains(r.stdout, "367 skipped") {
		t.Errorf("summary does not say 367 windows were skipped:\n%s", r.stdout)
	}

	// --force: new versions of everything, same current state.
	if r = c.run(t, append(args, "--force")...); r.code != 0 {
		t.Fatalf("forced backfill exited %d: %s", r.code, r.stderr)
	}
	if n := rowCount(t, db, donately.Donations); n != 2*want.Count {
		t.Errorf("donately_donations has %d versions after --force, want %d", n, 2*want.Count)
	}
	assertDonatelyState(t, "forced backfill", donatelyViewState(t, db), want)

	// A payment intent secret is a credential: it is nowhere in the warehouse file.
	assertNoSecrets(t, srv, db)
}

// assertNoSecrets fails when any of the sandbox's payment intent secrets is in the file.
func assertNoSecrets(t *testing.T, srv *donatelytest.Server, path string) {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secrets := srv.Secrets()
	if len(secrets) == 0 {
		t.Fatal("the sandbox has no secrets: the test proves nothing")
	}
	for _, s := range secrets {
		if bytes.Contains(file, []byte(s)) {
			t.Fatalf("a payment intent secret is in the warehouse file")
		}
	}
	if bytes.Contains(file, []byte("payment_intent_secret")) {
		t.Errorf("the warehouse file names payment_intent_secret: the member was not removed from the raw JSON")
	}
}

// A wrong token stops the run at once with exit code 3 and commits nothing.
func TestDonatelyWrongTokenExits3AndCommitsNothing(t *testing.T) {
	t.Parallel()
	srv, url := donatelySandbox(t, donatelytest.Options{Seed: 1, Donations: 50, From: yearFrom, To: yearTo})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := cli{env: map[string]string{config.DonatelyTokenEnv: "wrong-token"}}
	r := c.run(t, append(donatelyArgs(url, db), "backfill", "--from", "2025-01-01", "--to", "2025-01-31")...)
	if r.code != exitForbidden {
		t.Fatalf("exit %d, want %d\n%s", r.code, exitForbidden, r.stderr)
	}
	if strings.Contains(r.stderr, "wrong-token") {
		t.Errorf("the token is in the output:\n%s", r.stderr)
	}
	if got := srv.Stats().Requests; got != 1 {
		t.Errorf("%d requests; want the one token check", got)
	}
	if _, err := os.Stat(db); err == nil {
		if n := checkpointCount(t, db); n != 0 {
			t.Errorf("%d checkpoints committed with a wrong token", n)
		}
	}
}

// After changes in the API (refunds, status changes, new donations), sync follows updated_at
// from its own watermark: the views equal the changed truth, and verify exits 0.
func TestDonatelySyncCatchesChangesAndVerifyAgrees(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	srv, url := donatelySandbox(t, donatelytest.Options{Seed: 9, Donations: 400, From: from, To: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Now: clock.Now})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := donatelyCLI(clock.Now)
	if r := c.run(t, append(donatelyArgs(url, db), "backfill", "--from", "2025-01-01", "--to", "2025-02-28")...); r.code != 0 {
		t.Fatalf("backfill exited %d: %s", r.code, r.stderr)
	}
	changed := srv.Mutate(0.1, 5)
	clock.Advance(time.Hour)
	if r := c.run(t, append(donatelyArgs(url, db), "sync")...); r.code != 0 {
		t.Fatalf("sync exited %d: %s", r.code, r.stderr)
	}
	t.Logf("%d donations changed", len(changed))
	all := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assertDonatelyState(t, "after the sync", donatelyViewState(t, db), donatelyTruthState(srv.Truth(from, all)))
	r := c.run(t, append(donatelyArgs(url, db), "verify", "--from", "2025-01-01", "--to", clock.Now().Format(time.DateOnly))...)
	if r.code != 0 {
		t.Errorf("verify exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	st := c.run(t, "--source", "donately", "--duckdb", db, "--log-level", "warn", "status", "--max-lag", "2h")
	if st.code != 0 || !strings.Contains(st.stdout, "updated") {
		t.Errorf("status exited %d\n%s%s", st.code, st.stdout, st.stderr)
	}
}

// A backfill killed with SIGKILL five times and run again each time ends exactly at the ground
// truth, with no duplicate version.
func TestDonatelyKilledBackfillResumesToGroundTruth(t *testing.T) {
	t.Parallel()
	to := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	srv := donatelytest.New(donatelytest.Options{Seed: 13, Donations: 500, From: yearFrom, To: to, Now: sandboxNow})
	ks := &killSwitch{next: srv, fire: make(chan struct{}, 1)}
	hs := httptest.NewServer(ks)
	t.Cleanup(hs.Close)
	db, tmp := filepath.Join(t.TempDir(), "w.duckdb"), t.TempDir()
	args := append(donatelyArgs(hs.URL, db), "backfill", "--from", "2025-01-01", "--to", "2025-06-30", "--batch-windows", "14", "--concurrency", "3", "--temp-dir", tmp)
	start := starter(t, args, config.DonatelyTokenEnv+"="+donatelytest.DefaultToken)
	kills := killRuns(t, ks, start, []int{4, 23, 41, 9, 57}, nil)
	if kills < 5 {
		t.Fatalf("only %d runs were killed; the test wants at least 5", kills)
	}
	ks.arm(-1)
	if _, done := start(); <-done != nil {
		t.Fatal("the final run failed")
	}
	assertDonatelyState(t, "after kills", donatelyViewState(t, db), donatelyTruthState(srv.Truth(yearFrom, to)))
	if n := rowCount(t, db, donately.Donations); n != 500 {
		t.Errorf("donately_donations holds %d versions, want exactly 500", n)
	}
}
