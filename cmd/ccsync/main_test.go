package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchangetest"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
)

// TestMain lets the test binary be ccsync itself: a test that needs a real process (to kill it)
// runs os.Args[0] with CCSYNC_TEST_MAIN=1.
func TestMain(m *testing.M) {
	if os.Getenv("CCSYNC_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// cli runs one ccsync command line in-process.
type cli struct {
	env map[string]string
	now func() time.Time
}

type result struct {
	code           int
	stdout, stderr string
}

func (c cli) run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	now := c.now
	if now == nil {
		now = time.Now
	}
	env := env{
		stdout: &stdout,
		stderr: &stderr,
		src: config.Source{
			Getenv: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok },
			ReadFile: func(name string) ([]byte, error) {
				if name == config.DefaultFile {
					// Never pick up a developer's ./ccsync.yaml in tests.
					if _, ok := c.env["CCSYNC_CONFIG"]; !ok {
						return nil, os.ErrNotExist
					}
				}
				return os.ReadFile(name)
			},
		},
		now: now,
	}
	code := execute(context.Background(), args, env)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// sandbox starts a sandbox for a test.
func sandbox(t *testing.T, opts crowdchangetest.Options) (*crowdchangetest.Server, string) {
	t.Helper()
	s, hs := crowdchangetest.Start(opts)
	t.Cleanup(hs.Close)
	return s, hs.URL
}

// warehouseState is what the *_current views say, in the terms of the sandbox's ground truth.
type warehouseState struct {
	Count      int
	Sums       map[string][3]string // currency → total_paid, donation, covered_fees (normalised decimals)
	Items      map[string]int       // "direction/category" → count
	CustomData map[string]int       // level → count
}

func normDecimal(t *testing.T, s string) string {
	t.Helper()
	if s == "" {
		return "0"
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("not a decimal: %q", s)
	}
	return r.RatString()
}

func truthState(t *testing.T, tr crowdchangetest.Truth) warehouseState {
	t.Helper()
	st := warehouseState{Count: tr.Count, Sums: map[string][3]string{}, Items: map[string]int{}, CustomData: map[string]int{}}
	for cur, s := range tr.Sums {
		st.Sums[cur] = [3]string{normDecimal(t, s.TotalPaid), normDecimal(t, s.Donation), normDecimal(t, s.CoveredFees)}
	}
	for k, n := range tr.Items {
		if n > 0 {
			st.Items[k.Direction+"/"+k.Category] = n
		}
	}
	for k, n := range tr.CustomData {
		if n > 0 {
			st.CustomData[k] = n
		}
	}
	return st
}

func viewState(t *testing.T, path string) warehouseState {
	t.Helper()
	d, err := load.OpenDuckDB(context.Background(), config.DuckDB{Path: path}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return viewStateOf(t, d.DB(), schemas.QuoteIdent)
}

// viewStateOf reads the *_current views of a warehouse through SQL; ref names a view.
func viewStateOf(t *testing.T, db *sql.DB, ref func(string) string) warehouseState {
	t.Helper()
	st := warehouseState{Sums: map[string][3]string{}, Items: map[string]int{}, CustomData: map[string]int{}}
	var distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT id) FROM `+ref("transactions_current")).Scan(&st.Count, &distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != st.Count {
		t.Errorf("transactions_current has %d rows for %d transactions", st.Count, distinct)
	}
	rows, err := db.Query(`SELECT amount_currency, CAST(sum(amount_total_paid) AS VARCHAR), CAST(sum(amount_donation) AS VARCHAR), CAST(sum(amount_covered_fees) AS VARCHAR)
		FROM ` + ref("transactions_current") + ` WHERE amount_currency IS NOT NULL GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var cur string
		var a, b, c *string
		if err := rows.Scan(&cur, &a, &b, &c); err != nil {
			t.Fatal(err)
		}
		st.Sums[cur] = [3]string{normDecimal(t, deref(a)), normDecimal(t, deref(b)), normDecimal(t, deref(c))}
	}
	rows.Close()
	for _, q := range []struct {
		sql string
		m   map[string]int
	}{
		{`SELECT direction || '/' || category, count(*) FROM ` + ref("transaction_items_current") + ` GROUP BY 1`, st.Items},
		{`SELECT level, count(*) FROM ` + ref("custom_data_current") + ` GROUP BY 1`, st.CustomData},
	} {
		rows, err := db.Query(q.sql)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			q.m[k] = n
		}
		rows.Close()
	}
	return st
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (w warehouseState) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "count=%d\n", w.Count)
	for _, m := range []map[string]int{w.Items, w.CustomData} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s=%d\n", k, m[k])
		}
	}
	cur := make([]string, 0, len(w.Sums))
	for k := range w.Sums {
		cur = append(cur, k)
	}
	sort.Strings(cur)
	for _, k := range cur {
		fmt.Fprintf(&b, "  %s=%v\n", k, w.Sums[k])
	}
	return b.String()
}

func assertState(t *testing.T, what string, got, want warehouseState) {
	t.Helper()
	if got.String() != want.String() {
		t.Fatalf("%s: the *_current views differ from the ground truth\n got: %s\nwant: %s", what, got, want)
	}
}

func quietLogger() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

func errorsContains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

// assertEmptyDir fails when dir holds anything: batches must clean up their files.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in the temp dir: %s", e.Name())
	}
}
