package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

// crashEnv names the directory in which the test binary, started again by TestCommitSurvivesKill,
// plays the process that is killed in the middle of a commit.
const crashEnv = "CCSYNC_LOAD_CRASH_DIR"

// crashRows is the number of rows of each table in each of the crashing child's batches.
const crashRows = 10

// Lines the crashing child prints on stdout.
const (
	childCommitted = "committed batch-1"
	childMidCommit = "mid-commit batch-2"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	registerTestSource()
	os.Exit(m.Run())
}

// crashChild commits batch-1, then starts committing batch-2 and, after its second table's rows
// are inserted (inside the transaction), says so and waits on stdin until it is killed.
func crashChild(dir string) error {
	ctx := context.Background()
	d, err := OpenDuckDB(ctx, config.DuckDB{Path: filepath.Join(dir, "w.duckdb")}, nil)
	if err != nil {
		return err
	}
	for i, id := range []string{"batch-1", "batch-2"} {
		b, err := NewBatch(dir, "run-"+id, id, memory.DefaultAllocator)
		if err != nil {
			return err
		}
		for _, tbl := range crowdchange.DataTables() {
			var rows [][]cell
			for r := 0; r < crashRows; r++ {
				txID := int64(i*1000 + r)
				rows = append(rows, genRow(tbl, r, with(txKey(tbl, txID), stamp(b.RunID(), id, day1))))
			}
			rec, err := buildRecord(memory.DefaultAllocator, tbl, rows)
			if err != nil {
				return err
			}
			err = b.Write(tbl.Name, rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
		b.AddCheckpoint(Checkpoint{Source: "crowdchange", Stream: StreamDate, WindowStart: day1.AddDate(0, 0, i), WindowEnd: day1.AddDate(0, 0, i+1)})
		if id == "batch-2" {
			d.afterLoad = func(table string) {
				if table != crowdchange.TransactionItem {
					return
				}
				fmt.Println(childMidCommit)
				_, _ = io.Copy(io.Discard, os.Stdin) // until killed
				os.Exit(2)                           // stdin closed: the parent is gone
			}
		}
		if err := d.Commit(ctx, b); err != nil {
			return err
		}
		fmt.Println(childCommitted)
	}
	return fmt.Errorf("batch-2 was committed; it should have been killed first")
}

// TestCommitSurvivesKill kills (SIGKILL) a process in the middle of a commit, after some tables'
// rows are inserted: the warehouse then holds the batch committed before, and nothing of the
// killed one.
func TestCommitSurvivesKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = childEnviron(crashEnv + "=" + dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == childMidCommit {
			break
		}
	}
	_ = cmd.Process.Kill() // SIGKILL; fails only if the child already exited, which lines shows
	_ = cmd.Wait()
	if want := []string{childCommitted, childMidCommit}; fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("child said %q, want %q", lines, want)
	}

	start := time.Now()
	d := openTestDB(t, filepath.Join(dir, "w.duckdb"))
	t.Logf("reopened after the kill in %v", time.Since(start))
	for _, tbl := range crowdchange.DataTables() {
		if n := count(t, d.DB(), "SELECT count(*) FROM "+schemas.QuoteIdent(tbl.Name)+" WHERE _batch_id = 'batch-1'"); n != crashRows {
			t.Errorf("%s: %d rows of the committed batch, want %d", tbl.Name, n, crashRows)
		}
		if n := count(t, d.DB(), "SELECT count(*) FROM "+schemas.QuoteIdent(tbl.Name)+" WHERE _batch_id = 'batch-2'"); n != 0 {
			t.Errorf("%s: %d rows of the killed batch, want 0", tbl.Name, n)
		}
	}
	cps, err := d.Checkpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 1 || cps[0].BatchID != "batch-1" {
		t.Errorf("checkpoints after the kill: %+v, want batch-1's only", cps)
	}
}
