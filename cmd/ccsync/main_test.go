package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
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
	// A race-enabled child sleeps a second at exit by default; the tests wait for their children.
	if _, set := os.LookupEnv("GORACE"); !set {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
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

// `ccsync <verb> --help` and `ccsync help <verb>` print the verb's usage, synopsis, its own flags,
// the global flags and the exit codes, on stderr, and exit 0; a verb's help leaves out the flags of
// other verbs.
func TestHelpOfEveryVerb(t *testing.T) {
	t.Parallel()
	for _, v := range verbs {
		for _, args := range [][]string{{v.name, "--help"}, {"help", v.name}, {"--duckdb", "x.duckdb", v.name, "-h"}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				r := cli{}.run(t, args...)
				if r.code != exitOK || r.stdout != "" {
					t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
				}
				for _, want := range []string{"usage: " + v.usage, v.synopsis, "--api-url", "exit codes", "5  verify: the warehouse differs"} {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("help lacks %q:\n%s", want, r.stderr)
					}
				}
				for _, s := range config.Settings() {
					own := slices.Contains(s.Verbs, v.name) || (v.name == "config" && s.Verbs != nil)
					listed := strings.Contains(r.stderr, "--"+s.Name+" ")
					if s.Verbs != nil && own != listed {
						t.Errorf("--%s listed: %v, want %v", s.Name, listed, own)
					}
				}
			})
		}
	}
}

// Flags may come before the verb, after it, and after its arguments; a switch alone is true; `--`
// ends the flags, so SQL may start with a dash.
func TestFlagsAnywhereOnTheCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want []string // in `ccsync config`'s output, spaces squeezed
	}{
		{"global before the verb, own after", []string{"--duckdb", "a.duckdb", "config", "--window", "6h"}, []string{"duckdb a.duckdb", "window 6h0m0s"}},
		{"global after the verb", []string{"config", "--duckdb", "b.duckdb", "--rate=3"}, []string{"duckdb b.duckdb", "rate 3"}},
		{"own before the verb", []string{"--window", "2h", "config"}, []string{"window 2h0m0s"}},
		{"switches", []string{"--sandbox", "config", "--force", "--write=false"}, []string{"sandbox true", "force true", "write false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cli{}.run(t, tt.args...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			got := strings.Join(strings.Fields(r.stdout), " ")
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("config lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}

	db := filepath.Join(dir, "w.duckdb")
	d, err := load.OpenDuckDB(context.Background(), config.DuckDB{Path: db}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	queries := []struct {
		name string
		args []string
	}{
		{"flags then SQL", []string{"--duckdb", db, "query", "--format", "csv", "SELECT 42 AS answer"}},
		{"SQL then flags", []string{"query", "SELECT 42 AS answer", "--format", "csv", "--duckdb", db}},
		{"-- before SQL starting with a dash", []string{"--duckdb", db, "query", "--format=csv", "--", "-- the answer\nSELECT 42 AS answer"}},
	}
	for _, tt := range queries {
		r := cli{}.run(t, append([]string{"--log-level", "warn"}, tt.args...)...)
		if r.code != exitOK || strings.TrimSpace(r.stdout) != "answer\n42" {
			t.Errorf("%s: exit %d, stdout %q, stderr %s", tt.name, r.code, r.stdout, r.stderr)
		}
	}
}

// Mistakes on the command line exit 2 with one message on stderr (cobra prints nothing of its
// own), naming what is wrong.
func TestUsageMistakesExit2WithOneMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no arguments", nil, "verbs:"},
		{"unknown verb", []string{"bakfill"}, `unknown command "bakfill" for "ccsync"`},
		{"unknown global flag", []string{"--bogus", "status"}, "flag provided but not defined: -bogus"},
		{"another verb's flag", []string{"status", "--write"}, "flag provided but not defined: -write (--write is a flag of query)"},
		{"one dash", []string{"query", "-write", "SELECT 1"}, "long flags take two dashes: --write"},
		{"bad value", []string{"backfill", "--window", "lots"}, `ccsync backfill: --window: "lots" is not a duration`},
		{"bad switch value", []string{"backfill", "--force=maybe"}, `--force: "maybe" is not true or false`},
		{"missing value", []string{"backfill", "--from"}, "flag needs an argument: --from"},
		{"version takes no argument", []string{"version", "x"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cli{}.run(t, tt.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", r.code, exitUsage, r.stderr)
			}
			if n := strings.Count(r.stderr, tt.want); n != 1 {
				t.Errorf("stderr has %q %d times, want once:\n%s", tt.want, n, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
		})
	}
}

// Every setting comes from the flag if given (before or after the verb), else the environment,
// else the config file, else the default.
func TestConfigPrecedenceFlagOverEnvOverFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "ccsync.yaml")
	if err := os.WriteFile(file, []byte("rate: 7\nwindow: 12h\nlookback: 3d\nconcurrency: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CCSYNC_CONFIG": file, "CCSYNC_RATE": "9", "CCSYNC_WINDOW": "6h"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no flags", []string{"config"}, []string{"rate 9", "window 6h0m0s", "lookback 3d", "concurrency 2", "burst 5"}},
		{"flags after the verb", []string{"config", "--rate", "11", "--window", "1h"}, []string{"rate 11", "window 1h0m0s", "lookback 3d"}},
		{"flags before the verb", []string{"--rate", "11", "--lookback", "1d", "config"}, []string{"rate 11", "window 6h0m0s", "lookback 1d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cli{env: env}.run(t, tt.args...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			got := strings.Join(strings.Fields(r.stdout), " ")
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("config lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}

// `ccsync completion bash|zsh|fish` prints the shell's script on stdout; the script asks ccsync
// itself for candidates, which come from the command tree.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			r := cli{}.run(t, "completion", shell)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if len(r.stdout) < 500 || !strings.Contains(r.stdout, "ccsync") || !strings.Contains(r.stdout, "__complete") {
				t.Errorf("not a %s completion script for ccsync:\n%.300s", shell, r.stdout)
			}
		})
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", ""}, []string{"backfill", "sync", "status", "query", "completion", "version"}},
		{[]string{"__complete", "backfill", "--fr"}, []string{"--from"}},
		{[]string{"__complete", "--duckdb", "x", "status", "--"}, []string{"--max-lag", "--api-url"}},
	}
	for _, tt := range tests {
		r := cli{}.run(t, tt.args...)
		for _, want := range tt.want {
			if r.code != exitOK || !strings.Contains(r.stdout, want+"\t") && !strings.Contains(r.stdout, want+"\n") {
				t.Errorf("%q: exit %d, candidates lack %q:\n%s", tt.args, r.code, want, r.stdout)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := cli{}.run(t, args...)
		if r.code != exitOK || r.stdout != "ccsync "+version+"\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

// Cobra finds the verb wherever the flags put it, hands it its positional arguments, and the run
// log gets the whole command line less the verb.
func TestFlagsAroundTheVerbLeaveItsArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		verb       string
		positional []string
		argv       []string
	}{
		{[]string{"backfill", "--from", "2025-01-01"}, "backfill", nil, []string{"--from", "2025-01-01"}},
		{[]string{"--duckdb", "backfill", "backfill", "--force"}, "backfill", nil, []string{"--duckdb", "backfill", "--force"}},
		{[]string{"--sandbox", "query", "SELECT 1", "--format", "csv"}, "query", []string{"SELECT 1"}, []string{"--sandbox", "SELECT 1", "--format", "csv"}},
		{[]string{"query", "--", "--format", "-x"}, "query", []string{"--format", "-x"}, []string{"--", "--format", "-x"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			cfg := &config.Config{}
			cfg.SetDefaults()
			var gotVerb string
			var gotPositional, gotArgv []string
			root := newRootCommand(cfg, env{stdout: io.Discard, stderr: io.Discard}, func(cmd *cobra.Command, v verb, positional []string) {
				gotVerb, gotPositional, gotArgv = v.name, positional, withoutVerb(cmd, tt.args)
			})
			root.SetArgs(tt.args)
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if gotVerb != tt.verb || !slices.Equal(gotPositional, tt.positional) || !slices.Equal(gotArgv, tt.argv) {
				t.Errorf("verb %q, positional %q, argv %q; want %q, %q, %q", gotVerb, gotPositional, gotArgv, tt.verb, tt.positional, tt.argv)
			}
		})
	}
}
