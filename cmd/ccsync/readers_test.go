package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/load"
)

// ccsyncProcess is ccsync running as a process of its own: the test binary started again with
// CCSYNC_TEST_MAIN=1 (see TestMain).
type ccsyncProcess struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	exited         chan struct{} // closed once it has ended; err is then how
	err            error
}

func startCCSync(t *testing.T, args ...string) *ccsyncProcess {
	t.Helper()
	p := &ccsyncProcess{cmd: exec.Command(os.Args[0], args...), exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "CCSYNC_TEST_MAIN=1")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // fails once it has ended
		<-p.exited
	})
	return p
}

// running tells whether the process has not ended yet.
func (p *ccsyncProcess) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// wait waits for the process and returns its exit code (-1 when a signal ended it).
func (p *ccsyncProcess) wait() int {
	<-p.exited
	return p.cmd.ProcessState.ExitCode()
}

// runCCSync runs ccsync as a process to its end.
func runCCSync(t *testing.T, args ...string) result {
	t.Helper()
	p := startCCSync(t, args...)
	code := p.wait()
	return result{code: code, stdout: p.stdout.String(), stderr: p.stderr.String()}
}

// A slowed backfill of a month of the sandbox: about 35 requests at 2 per second, a commit every
// 5 windows. It must outlast a few of the writer's holds of the file (up to 5 s each), or a reader
// that waited out one hold may find the backfill over.
func slowBackfillArgs(db, tmp string) []string {
	return []string{"--sandbox", "--sandbox-seed", "3", "--sandbox-transactions", "300", "--sandbox-from", "2025-01-01", "--sandbox-to", "2025-01-31",
		"--sandbox-rps", "2", "--rate", "2", "--burst", "1", "--duckdb", db, "--log-format", "json", "--log-level", "warn",
		"backfill", "--from", "2025-01-01", "--to", "2025-01-31", "--batch-windows", "5", "--concurrency", "2", "--temp-dir", tmp}
}

const slowBackfillWindows = 31

// waitForPath polls until path exists, failing the test when p ends first or a minute passes.
func waitForPath(t *testing.T, p *ccsyncProcess, exists func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !exists() {
		if !p.running() {
			t.Fatalf("ccsync ended (exit %d) before the file appeared\n%s", p.wait(), p.stderr.String())
		}
		if time.Now().After(deadline) {
			t.Fatal("the file did not appear within a minute")
		}
		time.Sleep(5 * time.Millisecond) // polling the file system
	}
}

// While a long backfill writes the warehouse, status and query, as processes of their own, read
// it: every poll succeeds, the committed checkpoints they see only grow, and some of them see
// commits while the backfill is still running.
func TestReadersWorkDuringLongBackfill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, tmp := filepath.Join(dir, "w.duckdb"), t.TempDir()
	backfill := startCCSync(t, slowBackfillArgs(db, tmp)...)
	waitForPath(t, backfill, func() bool { _, err := os.Stat(db); return err == nil })

	deadline := time.Now().Add(2 * time.Minute)
	last, polls, duringAfterCommit := 0, 0, 0
	for polls < 300 && time.Now().Before(deadline) {
		polls++
		st := runCCSync(t, "--duckdb", db, "--log-format", "json", "--log-level", "warn", "status", "--max-lag", "100000h")
		if st.code != exitOK && st.code != exitLagging { // lagging: nothing committed yet
			t.Fatalf("poll %d: status exited %d during the backfill\n%s%s", polls, st.code, st.stdout, st.stderr)
		}
		q := runCCSync(t, "--duckdb", db, "--log-format", "json", "--log-level", "warn", "query", "--format", "csv", "SELECT count(*) FROM ccsync_checkpoints")
		if q.code != exitOK {
			t.Fatalf("poll %d: query exited %d during the backfill\n%s%s", polls, q.code, q.stdout, q.stderr)
		}
		lines := strings.Fields(q.stdout)
		n, err := strconv.Atoi(lines[len(lines)-1])
		if err != nil {
			t.Fatalf("poll %d: query printed %q", polls, q.stdout)
		}
		if n < last {
			t.Errorf("poll %d: %d checkpoints, fewer than the %d seen before", polls, n, last)
		}
		last = n
		if !backfill.running() {
			break
		}
		if n > 0 { // the poll ended before the backfill did, after its first commit
			duringAfterCommit++
		}
		if duringAfterCommit >= 5 {
			break // seen enough: the rest is the backfill's to finish
		}
	}
	if code := backfill.wait(); code != exitOK {
		t.Fatalf("the backfill exited %d while being read\n%s", code, backfill.stderr.String())
	}
	t.Logf("%d polls, %d of them while the backfill ran and after its first commit", polls, duringAfterCommit)
	if duringAfterCommit == 0 {
		t.Error("no poll saw a commit while the backfill was running: the test proves nothing")
	}
	if !strings.Contains(backfill.stdout.String(), strconv.Itoa(slowBackfillWindows)+" committed of "+strconv.Itoa(slowBackfillWindows)) {
		t.Errorf("the backfill's summary:\n%s", backfill.stdout.String())
	}
	if n := checkpointCount(t, db); n != slowBackfillWindows || last > n {
		t.Errorf("%d checkpoints at the end (last poll saw %d), want %d", n, last, slowBackfillWindows)
	}
}

// query is read-only unless --write: a DELETE is refused by DuckDB itself with exit 2 and a
// message saying what to do, and the rows stay; with --write it runs.
func TestQueryWritesOnlyWithWrite(t *testing.T) {
	t.Parallel()
	_, url := sandbox(t, crowdchangetest.Options{Seed: 5, Transactions: 100, From: yearFrom, To: yearTo, Now: sandboxNow})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}
	if r := c.run(t, "--api-url", url, "--rate", "2000", "--duckdb", db, "--log-level", "warn", "backfill", "--from", "2025-01-01", "--to", "2025-01-07", "--temp-dir", t.TempDir()); r.code != exitOK {
		t.Fatalf("backfill exited %d: %s", r.code, r.stderr)
	}
	tests := []struct {
		name       string
		flags      []string
		wantCode   int
		wantStderr []string
		wantRows   int
	}{
		{"read-only by default", nil, exitUsage, []string{"query: the warehouse is opened read-only", "read-only mode", "; pass --write to change it"}, 7},
		{"--write=false", []string{"--write=false"}, exitUsage, []string{"pass --write"}, 7},
		{"--write", []string{"--write"}, exitOK, nil, 0},
	}
	for _, tt := range tests { // in order: the last one deletes
		args := append([]string{"--duckdb", db, "--log-format", "json", "--log-level", "warn", "query"}, tt.flags...)
		r := c.run(t, append(args, "DELETE FROM ccsync_checkpoints")...)
		if r.code != tt.wantCode {
			t.Errorf("%s: exit %d, want %d\n%s", tt.name, r.code, tt.wantCode, r.stderr)
		}
		for _, w := range tt.wantStderr {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tt.name, w, r.stderr)
			}
		}
		if n := checkpointCount(t, db); n != tt.wantRows {
			t.Errorf("%s: %d checkpoints afterwards, want %d", tt.name, n, tt.wantRows)
		}
	}
}

// The reading verbs never create a warehouse: on a missing (mistyped) --duckdb they exit 2 and
// say so, and leave no file behind; neither does query --write.
func TestReadingVerbsNeverCreateTheWarehouse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"status", []string{"status"}},
		{"status --format json", []string{"status", "--format", "json"}},
		{"query", []string{"query", "SELECT 1"}},
		{"query --write", []string{"query", "--write", "SELECT 1"}},
		{"verify", []string{"--sandbox", "--sandbox-transactions", "10", "verify", "--from", "2025-01-01", "--to", "2025-01-02"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			db := filepath.Join(dir, "typo.duckdb")
			r := cli{}.run(t, append([]string{"--duckdb", db, "--log-format", "json", "--log-level", "warn"}, tt.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d\n%s%s", r.code, exitUsage, r.stdout, r.stderr)
			}
			if want := "no DuckDB warehouse at " + db + "; run backfill or sync first, or check --duckdb"; !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
			for _, p := range []string{db, db + ".wal"} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s exists afterwards (%v)", p, err)
				}
			}
			assertEmptyDir(t, dir)
		})
	}
}

// A run killed with SIGKILL leaves its open batch's directory; the next run removes it (the
// kernel released the dead process's lock), and never a live batch's.
func TestNextRunRemovesKilledRunsBatchDir(t *testing.T) {
	t.Parallel()
	db, tmp := filepath.Join(t.TempDir(), "w.duckdb"), t.TempDir()
	batchDirs := func() []string {
		m, err := filepath.Glob(filepath.Join(tmp, "ccsync-batch-*"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	killed := startCCSync(t, slowBackfillArgs(db, tmp)...)
	// Killed once a batch directory holds its lock file: one killed between creating the
	// directory and locking it is left for an hour (load.RemoveStaleBatches cannot tell it from
	// one being created), which is not what this test is about.
	waitForPath(t, killed, func() bool {
		for _, d := range batchDirs() {
			if _, err := os.Stat(filepath.Join(d, "ccsync-batch.lock")); err == nil {
				return true
			}
		}
		return false
	})
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := killed.wait(); code != -1 {
		t.Fatalf("the run ended with exit %d before it was killed", code)
	}
	left := batchDirs()
	if len(left) == 0 {
		t.Fatal("the killed run left no batch directory: the test proves nothing")
	}

	// A live batch of this process, as another run's.
	live, err := load.NewBatch(tmp, "run-live", "batch-live", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := cli{}.run(t, "--sandbox", "--sandbox-seed", "3", "--sandbox-transactions", "300", "--sandbox-from", "2025-01-01", "--sandbox-to", "2025-01-31",
		"--duckdb", db, "--log-format", "json", "--log-level", "info", "backfill", "--from", "2025-01-01", "--to", "2025-01-31", "--temp-dir", tmp)
	if r.code != exitOK {
		t.Fatalf("the next run exited %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "removed the batch directory of a run that is gone") {
		t.Errorf("the next run did not log the removal:\n%s", r.stderr)
	}
	if got := batchDirs(); len(got) != 1 || slices.Contains(left, got[0]) {
		t.Errorf("batch directories after the next run: %v; want only the live batch's (the killed run's were %v)", got, left)
	}
	for _, d := range left {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the killed run's %s is still there (%v)", d, err)
		}
	}
	if err := live.Remove(); err != nil {
		t.Fatal(err)
	}
	assertEmptyDir(t, tmp)
	if n := checkpointCount(t, db); n != slowBackfillWindows {
		t.Errorf("%d checkpoints after the next run, want %d", n, slowBackfillWindows)
	}
}

// duckdb-lock-wait is a setting like the others: a negative one is refused.
func TestDuckDBLockWaitSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"default", nil, []string{"config"}, exitOK, "duckdb-lock-wait 30s"},
		{"from the environment", map[string]string{"CCSYNC_DUCKDB_LOCK_WAIT": "2m"}, []string{"config"}, exitOK, "duckdb-lock-wait 2m0s"},
		{"negative", nil, []string{"--duckdb-lock-wait", "-1s", "config"}, exitUsage, "duckdb-lock-wait: must be >= 0"},
		{"write is query's", nil, []string{"status", "--write"}, exitUsage, "flag provided but not defined: -write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cli{env: tt.env}.run(t, tt.args...)
			if r.code != tt.code || !strings.Contains(strings.Join(strings.Fields(r.stdout+r.stderr), " "), tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}
