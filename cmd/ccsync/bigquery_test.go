package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

const (
	bqProject = "test-project"
	bqDataset = "crowdchange"
)

// bigQuery starts a local BigQuery server with the dataset created.
func bigQuery(t *testing.T, opts bqtest.Options) *bqtest.Server {
	t.Helper()
	opts.Project = bqProject
	if opts.PollsToDone == 0 {
		opts.PollsToDone = 2
	}
	srv := bqtest.Start(t, opts)
	c, err := bigquery.NewClient(context.Background(), bqProject, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Dataset(bqDataset).Create(context.Background(), &bigquery.DatasetMetadata{Location: "US"}); err != nil {
		t.Fatal(err)
	}
	return srv
}

// bqArgs are the global flags that point ccsync at a local BigQuery server.
func bqArgs(srv *bqtest.Server) []string {
	return []string{"--warehouse", "bigquery", "--bq-project", bqProject, "--bq-dataset", bqDataset, "--bq-endpoint", srv.URL(), "--bq-poll-interval", "1ms"}
}

func bqRef(name string) string { return schemas.QuoteIdent(bqDataset) + "." + schemas.QuoteIdent(name) }

func bqState(t *testing.T, srv *bqtest.Server) warehouseState {
	t.Helper()
	return viewStateOf(t, srv.DB(), bqRef)
}

func bqCount(t *testing.T, srv *bqtest.Server, table string) int {
	t.Helper()
	var n int
	if err := srv.DB().QueryRow(`SELECT count(*) FROM ` + bqRef(table)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The year-long backfill from a faulty API, into BigQuery, stores exactly the ground truth; run
// again it loads nothing; with --force it appends new versions and the views do not change.
func TestBackfillIntoBigQueryMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	api, url := sandbox(t, crowdchangetest.Options{Seed: 7, Transactions: 400, From: yearFrom, To: quarterTo, Now: sandboxNow,
		Faults: crowdchangetest.Faults{Rate: 0.08, RetryAfter: "0", SlowDelay: time.Millisecond}})
	bq := bigQuery(t, bqtest.Options{})
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}
	args := append(bqArgs(bq), "--api-url", url, "--rate", "2000", "--burst", "100", "--backoff-base", "1ms", "--backoff-max", "5ms", "--log-level", "warn",
		"backfill", "--from", "2025-01-01", "--to", "2025-03-31", "--batch-windows", "25")

	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("backfill exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := truthState(t, api.Truth(yearFrom, quarterTo))
	assertState(t, "BigQuery backfill", bqState(t, bq), want)
	rows := map[string]int{}
	for _, tb := range crowdchange.DataTables() {
		rows[tb.Name] = bqCount(t, bq, tb.Name)
	}
	if rows[crowdchange.Transactions] != 400 || rows[crowdchange.RawTransactions] != 400 {
		t.Errorf("rows per table: %v", rows)
	}
	for _, tb := range []string{crowdchange.Transactions, crowdchange.TransactionItem, crowdchange.CustomData} {
		if n := bq.LoadJobs(bqDataset, tb); n != 4 {
			t.Errorf("%s: %d load jobs for 90 windows in batches of 25, want 4", tb, n)
		}
	}

	r = c.run(t, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "90 skipped") {
		t.Fatalf("second backfill exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := bqCount(t, bq, crowdchange.Transactions); n != 400 {
		t.Errorf("a run that skips everything loaded rows: %d", n)
	}

	r = c.run(t, append(args, "--force")...)
	if r.code != 0 {
		t.Fatalf("forced backfill exited %d: %s", r.code, r.stderr)
	}
	if n := bqCount(t, bq, crowdchange.Transactions); n != 800 {
		t.Errorf("%d transaction versions after --force, want 800", n)
	}
	assertState(t, "BigQuery forced backfill", bqState(t, bq), want)
}

// With BigQuery faults (5xx on jobs.insert, a response lost after the job was created, a job that
// fails once), the rows are still exactly the ground truth, and the retried insert reused its job
// ID.
func TestBackfillIntoBigQuerySurvivesBigQueryFaults(t *testing.T) {
	t.Parallel()
	api, url := sandbox(t, crowdchangetest.Options{Seed: 9, Transactions: 400, From: yearFrom, To: quarterTo, Now: sandboxNow})
	bq := bigQuery(t, bqtest.Options{})
	onTable := func(table string) func(bqtest.Call) bool {
		return func(c bqtest.Call) bool { return c.Table == table && c.JobType == bqtest.JobTypeLoad }
	}
	bq.InjectFault(bqtest.Fault{Kind: bqtest.InsertUnavailable, Times: 2, Match: onTable(crowdchange.TransactionItem)})
	bq.InjectFault(bqtest.Fault{Kind: bqtest.InsertResponseLost, Match: onTable(crowdchange.Transactions)})
	bq.InjectFault(bqtest.Fault{Kind: bqtest.JobBackendError, Match: onTable(crowdchange.CustomData)})
	bq.InjectFault(bqtest.Fault{Kind: bqtest.InsertRateLimited, Match: onTable(schemas.Checkpoints)})
	r := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}.run(t, append(bqArgs(bq),
		"--api-url", url, "--rate", "2000", "--burst", "100", "--log-level", "warn",
		"backfill", "--from", "2025-01-01", "--to", "2025-03-31", "--batch-windows", "25")...)
	if r.code != 0 {
		t.Fatalf("backfill exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := bq.PendingFaults(); n != 0 {
		t.Fatalf("%d injected faults never fired", n)
	}
	assertState(t, "BigQuery with faults", bqState(t, bq), truthState(t, api.Truth(yearFrom, quarterTo)))
	if n := bqCount(t, bq, crowdchange.Transactions); n != 400 {
		t.Errorf("%d transaction rows, want 400: a retried load appended twice", n)
	}
	reused, second := false, false
	for _, j := range bq.Jobs() {
		if j.Table == crowdchange.Transactions && j.InsertAttempts == 2 {
			reused = true
		}
		if j.Table == crowdchange.CustomData && strings.HasSuffix(j.ID, "-2") && j.ErrorReason == "" {
			second = true
		}
	}
	if !reused {
		t.Error("no transactions load job was inserted twice under the same job ID")
	}
	if !second {
		t.Error("no second attempt of the custom_data job that failed")
	}
}

// A permanent load error fails the run with exit code 1, naming the table and the job; the
// checkpoints stay as they were and the views show only what was committed before.
func TestBigQueryPermanentErrorExits1(t *testing.T) {
	t.Parallel()
	_, url := sandbox(t, crowdchangetest.Options{Seed: 10, Transactions: 600, From: yearFrom, To: yearTo, Now: sandboxNow})
	bq := bigQuery(t, bqtest.Options{})
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}
	base := append(bqArgs(bq), "--api-url", url, "--rate", "2000", "--log-level", "warn", "--log-format", "json")
	if r := c.run(t, append(base, "backfill", "--from", "2025-01-01", "--to", "2025-01-31")...); r.code != 0 {
		t.Fatalf("first backfill exited %d: %s", r.code, r.stderr)
	}
	before := bqCount(t, bq, schemas.Checkpoints)
	state := bqState(t, bq)

	bq.InjectFault(bqtest.Fault{Kind: bqtest.JobInvalid, Match: func(c bqtest.Call) bool { return c.Table == crowdchange.TransactionItem }})
	r := c.run(t, append(base, "backfill", "--from", "2025-02-01", "--to", "2025-02-28")...)
	if r.code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", r.code, exitFailed, r.stderr)
	}
	if !strings.Contains(r.stderr, "loading transaction_items: job ccsync-") || !strings.Contains(r.stderr, "invalid") {
		t.Errorf("the error does not name the table and the job:\n%s", r.stderr)
	}
	if n := bqCount(t, bq, schemas.Checkpoints); n != before {
		t.Errorf("checkpoints went from %d to %d after a failed commit", before, n)
	}
	assertState(t, "after a failed commit", bqState(t, bq), state)
}

// A dataset that does not exist stops the run before anything is extracted, with exit code 2 and
// the command that creates it.
func TestBigQueryDatasetMissingExits2(t *testing.T) {
	t.Parallel()
	api, url := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 10})
	srv := bqtest.Start(t, bqtest.Options{Project: bqProject})
	r := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}.run(t, append(bqArgs(srv),
		"--api-url", url, "--log-format", "text", "backfill", "--from", "2025-01-01", "--to", "2025-01-31")...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "bq mk") {
		t.Fatalf("exit %d, want %d with a bq mk hint\n%s", r.code, exitUsage, r.stderr)
	}
	if n := api.Stats().Requests; n > 1 {
		t.Errorf("%d API requests before the warehouse was checked", n)
	}
}

// The sync test's late changes, against BigQuery.
func TestSyncCatchesLateChangesInBigQuery(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	first := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	api, url := sandbox(t, crowdchangetest.Options{Seed: 5, Transactions: 300, From: first, To: clock.Now(), Now: clock.Now})
	bq := bigQuery(t, bqtest.Options{Now: clock.Now})
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}, now: clock.Now}
	args := append(bqArgs(bq), "--api-url", url, "--rate", "2000", "--burst", "100", "--log-level", "warn", "sync")
	if r := c.run(t, append(args, "--start", "2026-03-04")...); r.code != 0 {
		t.Fatalf("first sync exited %d: %s", r.code, r.stderr)
	}
	api.Mutate(0.05, 99)
	clock.Advance(2 * time.Hour)
	if r := c.run(t, args...); r.code != 0 {
		t.Fatalf("second sync exited %d: %s", r.code, r.stderr)
	}
	assertState(t, "BigQuery after the second sync", bqState(t, bq), truthState(t, api.Truth(first, clock.Now().Add(-15*time.Minute))))

	// status and verify work on BigQuery too.
	if r := c.run(t, append(bqArgs(bq), "--log-level", "warn", "status")...); r.code != 0 || !strings.Contains(r.stdout, "payout") {
		t.Errorf("status exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run(t, append(bqArgs(bq), "--api-url", url, "--rate", "2000", "--log-level", "warn", "verify", "--from", "2026-03-04", "--to", "2026-03-09")...); r.code != 0 {
		t.Errorf("verify exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
