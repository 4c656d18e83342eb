package load

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

// lockClock is a fake clock whose sleeps advance it and are recorded; onSleep, when set, runs at
// each sleep (before it returns).
type lockClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	onSleep func(n int) error
}

func newLockClock() *lockClock { return &lockClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *lockClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *lockClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	n, f := len(c.sleeps), c.onSleep
	c.mu.Unlock()
	if f != nil {
		if err := f(n); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (c *lockClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

func ms(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

// warehouseTemplate is the file of a new warehouse (tables and views), made once: newWarehouseFile
// copies it.
var warehouseTemplate struct {
	once sync.Once
	data []byte
	err  error
}

// newWarehouseFile creates a warehouse file (tables and views) in the test's temporary directory
// and returns its path; nothing holds it afterwards.
func newWarehouseFile(t *testing.T) string {
	t.Helper()
	warehouseTemplate.once.Do(func() {
		dir, err := os.MkdirTemp("", "ccsync-warehouse-template-")
		if err != nil {
			warehouseTemplate.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "w.duckdb")
		d, err := OpenDuckDB(context.Background(), config.DuckDB{Path: path}, nil)
		if err != nil {
			warehouseTemplate.err = err
			return
		}
		if err := d.Close(); err != nil { // checkpoints: the file alone is the warehouse
			warehouseTemplate.err = err
			return
		}
		warehouseTemplate.data, warehouseTemplate.err = os.ReadFile(path)
	})
	if warehouseTemplate.err != nil {
		t.Fatalf("making the warehouse template: %v", warehouseTemplate.err)
	}
	path := filepath.Join(t.TempDir(), "w.duckdb")
	if err := os.WriteFile(path, warehouseTemplate.data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The lock error as DuckDB words it (TestOpenWaitsForAnotherProcess checks the real one).
const lockErrorText = `database/sql/driver: could not connect to database: IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held in /usr/bin/ccsync (PID 42). See also https://duckdb.org/docs/stable/connect/concurrency`

// Opening a file another process holds is retried with a doubling pause (from 10ms, at most 160ms,
// the last one cut to the wait left) for up to the lock wait; other errors are not retried.
func TestOpenRetriesWhileLocked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		readOnly   bool
		lockedFor  int // attempts answered with the lock error; -1: every one
		otherErr   bool
		lockWait   time.Duration
		cancelAt   int // cancel the context at this sleep (0: never)
		wantSleeps []time.Duration
		wantErr    []error
		wantText   string
	}{
		{name: "free", lockedFor: 0, lockWait: time.Second, wantSleeps: nil},
		{name: "writer waits", lockedFor: 3, lockWait: time.Second, wantSleeps: ms(10, 20, 40)},
		{name: "reader waits", readOnly: true, lockedFor: 3, lockWait: time.Second, wantSleeps: ms(10, 20, 40)},
		{name: "pauses are capped", lockedFor: 7, lockWait: time.Minute, wantSleeps: ms(10, 20, 40, 80, 160, 160, 160)},
		{name: "gives up after the wait", lockedFor: -1, lockWait: 500 * time.Millisecond, wantSleeps: ms(10, 20, 40, 80, 160, 160, 30),
			wantErr: []error{ErrWarehouseUnavailable}, wantText: "another process holds the file (waited 500ms"},
		{name: "reader gives up after the wait", readOnly: true, lockedFor: -1, lockWait: 100 * time.Millisecond, wantSleeps: ms(10, 20, 40, 30),
			wantErr: []error{ErrWarehouseUnavailable}, wantText: "Conflicting lock is held"},
		{name: "no wait", lockedFor: -1, lockWait: 0, wantSleeps: nil, wantErr: []error{ErrWarehouseUnavailable}, wantText: "another process holds the file"},
		{name: "other errors are not retried", lockedFor: -1, otherErr: true, lockWait: time.Minute, wantSleeps: nil,
			wantErr: []error{ErrWarehouseUnavailable}, wantText: "Permission denied"},
		{name: "cancelled while waiting", lockedFor: -1, lockWait: time.Minute, cancelAt: 2, wantSleeps: ms(10, 20),
			wantErr: []error{context.Canceled}, wantText: "waiting for another process to release the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := newWarehouseFile(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clock := newLockClock()
			clock.onSleep = func(n int) error {
				if n == tt.cancelAt {
					cancel()
				}
				return nil
			}
			var mu sync.Mutex
			attempts := 0
			opener := func(dsn string) (*duckdb.Connector, error) {
				mu.Lock()
				attempts++
				n := attempts
				mu.Unlock()
				if tt.lockedFor < 0 || n <= tt.lockedFor {
					if tt.otherErr {
						return nil, errors.New(`IO Error: Cannot open file "w.duckdb": Permission denied`)
					}
					return nil, errors.New(lockErrorText)
				}
				return newDuckDBConnector(dsn)
			}
			cfg := config.DuckDB{Path: path, LockWait: tt.lockWait}
			opts := []DuckDBOption{withLockClock(clock.Now, clock.Sleep), withOpener(opener)}
			var d *DuckDB
			var err error
			if tt.readOnly {
				d, err = OpenDuckDBReadOnly(ctx, cfg, nil, opts...)
			} else {
				d, err = OpenDuckDB(ctx, cfg, nil, opts...)
			}
			if got := clock.Sleeps(); !reflect.DeepEqual(got, tt.wantSleeps) {
				t.Errorf("pauses %v, want %v", got, tt.wantSleeps)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer d.Close()
				if _, err := d.Checkpoints(ctx); err != nil {
					t.Errorf("Checkpoints: %v", err)
				}
				return
			}
			if err == nil {
				d.Close()
				t.Fatal("open succeeded")
			}
			for _, w := range tt.wantErr {
				if !errors.Is(err, w) {
					t.Errorf("%v does not wrap %v", err, w)
				}
			}
			if !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not say %q and name the file", err, tt.wantText)
			}
		})
	}
}

// Against real processes: DuckDB's refusal is recognised as a lock held by another process, and
// the open succeeds once that process lets go. Readers share the file with each other.
func TestOpenWaitsForAnotherProcess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		holder   string // the other process's mode
		readOnly bool   // how this process opens
		wantWait bool
	}{
		{"reader waits for a writer", "hold-rw", true, true},
		{"writer waits for a writer", "hold-rw", false, true},
		{"writer waits for a reader", "hold-ro", false, true},
		{"readers share", "hold-ro", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := newWarehouseFile(t)
			holder := startChild(t, tt.holder+" "+path)
			clock := newLockClock()
			clock.onSleep = func(n int) error {
				if n == 1 { // the file is locked: let the other process go
					return holder.release()
				}
				return nil
			}
			cfg := config.DuckDB{Path: path, LockWait: time.Minute}
			opts := []DuckDBOption{withLockClock(clock.Now, clock.Sleep)}
			ctx := context.Background()
			var d *DuckDB
			var err error
			if tt.readOnly {
				d, err = OpenDuckDBReadOnly(ctx, cfg, nil, opts...)
			} else {
				d, err = OpenDuckDB(ctx, cfg, nil, opts...)
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer d.Close()
			if waited := len(clock.Sleeps()) > 0; waited != tt.wantWait {
				t.Errorf("waited: %t, want %t", waited, tt.wantWait)
			}
			if _, err := d.Checkpoints(ctx); err != nil {
				t.Errorf("Checkpoints: %v", err)
			}
			if err := holder.release(); err != nil {
				t.Errorf("the holder failed: %v", err)
			}
		})
	}
}

// The wait for a real holder ends with an error naming the other process.
func TestOpenGivesUpOnAnotherProcess(t *testing.T) {
	t.Parallel()
	path := newWarehouseFile(t)
	startChild(t, "hold-rw "+path)
	clock := newLockClock()
	_, err := OpenDuckDBReadOnly(context.Background(), config.DuckDB{Path: path, LockWait: 50 * time.Millisecond}, nil, withLockClock(clock.Now, clock.Sleep))
	if !errors.Is(err, ErrWarehouseUnavailable) || !strings.Contains(err.Error(), "another process holds the file") || !strings.Contains(err.Error(), "Conflicting lock is held") {
		t.Fatalf("open of a held file: %v", err)
	}
	if got, want := clock.Sleeps(), ms(10, 20, 20); !reflect.DeepEqual(got, want) {
		t.Errorf("pauses %v, want %v", got, want)
	}
}

// Between its operations a writer that does not hold the file (hold 0) holds nothing: another
// process reads the warehouse without waiting while the sink is open.
func TestFileIsFreeBetweenOperations(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	d := openUnheldDB(t)
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		b := newBatch(t, mem, "run-1", "batch-"+strconv.Itoa(i))
		smallBatch(t, mem, b, day1, []string{crowdchange.Transactions}, int64(i))
		if err := d.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := d.RecordRun(ctx, Run{Source: "crowdchange", RunID: "run-1", Verb: "backfill", Outcome: "running", StartedAt: day1}); err != nil {
			t.Fatal(err)
		}
		// count opens without waiting (LockWait 0): it fails if the file is held.
		c := startChild(t, "count "+d.path)
		if err := c.release(); err != nil {
			t.Fatalf("the reading process failed while the sink was open: %v", err)
		}
		if c.line != strconv.Itoa(i) {
			t.Errorf("the reading process saw %s checkpoints, want %d", c.line, i)
		}
	}
}

// Reading: a missing file is never created; a read-only sink refuses every change, through DuckDB
// (Query) or its own methods, and reads as usual.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "typo.duckdb")
	for _, open := range []struct {
		name string
		f    func() (*DuckDB, error)
	}{
		{"read-only", func() (*DuckDB, error) { return OpenDuckDBReadOnly(ctx, config.DuckDB{Path: missing}, nil) }},
		{"must exist", func() (*DuckDB, error) { return OpenDuckDB(ctx, config.DuckDB{Path: missing}, nil, MustExist()) }},
	} {
		d, err := open.f()
		if err == nil {
			d.Close()
			t.Fatalf("%s open of a missing file succeeded", open.name)
		}
		if !errors.Is(err, ErrNoWarehouse) || !errors.Is(err, ErrWarehouseUnavailable) {
			t.Errorf("%s open of a missing file: %v, want ErrNoWarehouse and ErrWarehouseUnavailable", open.name, err)
		}
		for _, p := range []string{missing, missing + ".wal"} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s open of a missing file: %s exists (%v)", open.name, p, err)
			}
		}
	}

	mem := newMem(t)
	w := openUnheldDB(t) // a reader in the same process needs the writer to let go of the file
	b := newBatch(t, mem, "run-1", "batch-1")
	smallBatch(t, mem, b, day1, []string{crowdchange.Transactions}, 1)
	if err := w.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	clock := newLockClock()
	r, err := OpenDuckDBReadOnly(ctx, config.DuckDB{Path: w.path}, nil, withHold(0, 0), withLockClock(clock.Now, clock.Sleep)) // the writer below is in this process
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, q := range []string{"DELETE FROM ccsync_checkpoints", "CREATE TABLE x (i INTEGER)", "INSERT INTO ccsync_runs (run_id) VALUES ('x')"} {
		rows, err := r.Query(ctx, q)
		if err == nil {
			rows.Close()
		}
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("read-only Query(%s): %v, want ErrReadOnly", q, err)
		}
	}
	b2 := newBatch(t, mem, "run-1", "batch-2")
	smallBatch(t, mem, b2, day2, []string{crowdchange.Transactions}, 2)
	if err := r.Commit(ctx, b2); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only Commit: %v, want ErrReadOnly", err)
	}
	if err := r.RecordRun(ctx, Run{Source: "crowdchange", RunID: "r", Verb: "sync", Outcome: "running", StartedAt: day1}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only RecordRun: %v, want ErrReadOnly", err)
	}
	cps, err := r.Checkpoints(ctx)
	if err != nil || len(cps) != 1 {
		t.Errorf("read-only Checkpoints: %d, %v; want 1", len(cps), err)
	}
	if _, err := r.Runs(ctx, 0); err != nil {
		t.Errorf("read-only Runs: %v", err)
	}
	if n := countRows(t, r.DB(), crowdchange.Transactions+"_current"); n != 1 {
		t.Errorf("read-only DB: %d current transactions, want 1", n)
	}
	// The writer's Query changes the warehouse.
	rows, err := w.Query(ctx, "DELETE FROM ccsync_checkpoints")
	if err != nil {
		t.Fatalf("writer's Query(DELETE): %v", err)
	}
	rows.Close()
	if n := countRows(t, r.DB(), schemas.Checkpoints); n != 0 {
		t.Errorf("%d checkpoints after the writer's DELETE, want 0", n)
	}
}

// openUnheldDB opens a writer that closes the file after each operation (hold 0). Its clock is
// fake: the pause it makes before opening the file again, for other processes to get their turn,
// takes no time (no other process waits here).
func openUnheldDB(t *testing.T) *DuckDB {
	t.Helper()
	clock := newLockClock()
	d, err := OpenDuckDB(context.Background(), config.DuckDB{Path: filepath.Join(t.TempDir(), "w.duckdb")}, nil, withHold(0, 0), withLockClock(clock.Now, clock.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// A writer keeps the file between operations that follow each other closely (one open for
// several commits), and lets go of it once idle: a reader in another process, waiting for the
// file, gets it without the writer being closed.
func TestWriterHoldsTheFileBetweenCloseOperations(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	opens := 0
	counting := func(dsn string) (*duckdb.Connector, error) {
		mu.Lock()
		opens++
		mu.Unlock()
		return newDuckDBConnector(dsn)
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	// Held for up to a minute: the migration and three commits open the file once.
	d, err := OpenDuckDB(ctx, config.DuckDB{Path: path}, nil, withOpener(counting), withHold(time.Minute, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	mem := newMem(t)
	for i := 1; i <= 3; i++ {
		b := newBatch(t, mem, "run-1", "batch-"+strconv.Itoa(i))
		smallBatch(t, mem, b, day1, []string{crowdchange.Transactions}, int64(i))
		if err := d.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	n := opens
	mu.Unlock()
	if n != 1 {
		t.Errorf("the file was opened %d times for a migration and three commits in a row, want once", n)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Held until idle for 50ms: the reader waits (up to 30s) for the writer to let go.
	idle, err := OpenDuckDB(ctx, config.DuckDB{Path: path}, nil, withHold(50*time.Millisecond, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idle.Close() })
	c := startChild(t, "count-wait "+path)
	if err := c.release(); err != nil {
		t.Fatalf("the reading process failed while the writer was idle: %v", err)
	}
	if c.line != "3" {
		t.Errorf("the reading process saw %s checkpoints, want 3", c.line)
	}
}
