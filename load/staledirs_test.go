package load

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(discard{})
	return logrus.NewEntry(l)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// RemoveStaleBatches removes the batch directories no process holds, and only those: a live
// batch's (here, of this very process: flock locks belong to open files, so a second open
// conflicts) is left, as are recent directories without a lock file and everything else.
func TestRemoveStaleBatches(t *testing.T) {
	t.Parallel()
	mkdirLocked := func(t *testing.T, dir, name string, age time.Duration, lockName string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if lockName != "" {
			if err := os.WriteFile(filepath.Join(p, lockName), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(p, "transactions.parquet"), []byte("PAR1"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mkdir := func(t *testing.T, dir, name string, age time.Duration, lockFile bool) string {
		t.Helper()
		if lockFile {
			return mkdirLocked(t, dir, name, age, batchLockName)
		}
		return mkdirLocked(t, dir, name, age, "")
	}
	tests := []struct {
		name        string
		setup       func(t *testing.T, dir string) string // returns the path to look at
		wantRemoved bool
	}{
		{"live batch of this process", func(t *testing.T, dir string) string {
			b, err := NewBatch(dir, "run-1", "batch-1", nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Remove() })
			return b.dir
		}, false},
		{"lock file nobody holds", func(t *testing.T, dir string) string {
			return mkdir(t, dir, batchDirPrefix+"123", 0, true)
		}, true},
		{"lock file under its new name, nobody holds it (killed before the rename)", func(t *testing.T, dir string) string {
			return mkdirLocked(t, dir, batchDirPrefix+"321", 0, batchLockNew)
		}, true},
		{"lock file under its new name, held (being created)", func(t *testing.T, dir string) string {
			p := mkdirLocked(t, dir, batchDirPrefix+"654", 0, batchLockNew)
			f, err := os.Open(filepath.Join(p, batchLockNew))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			if locked, err := tryLockFile(f); err != nil || !locked {
				t.Fatalf("locking: %v, %v", locked, err)
			}
			return p
		}, false},
		{"no lock file, recent", func(t *testing.T, dir string) string {
			return mkdir(t, dir, batchDirPrefix+"456", 10*time.Minute, false)
		}, false},
		{"no lock file, two hours old", func(t *testing.T, dir string) string {
			return mkdir(t, dir, batchDirPrefix+"789", 2*time.Hour, false)
		}, true},
		{"not a batch directory", func(t *testing.T, dir string) string {
			return mkdir(t, dir, "ccsync-other", 2*time.Hour, true)
		}, false},
		{"a file named like a batch", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, batchDirPrefix+"file")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := tt.setup(t, dir)
			n, err := RemoveStaleBatches(dir, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			_, statErr := os.Lstat(path)
			removed := os.IsNotExist(statErr)
			if removed != tt.wantRemoved || n != map[bool]int{true: 1, false: 0}[tt.wantRemoved] {
				t.Errorf("removed %t (count %d), want %t", removed, n, tt.wantRemoved)
			}
		})
	}
}

// A live batch is untouched by a scan: it writes, closes and is removed as usual, which releases
// its lock and leaves nothing.
func TestLiveBatchSurvivesScan(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	dir := t.TempDir()
	b, err := NewBatch(dir, "run-1", "batch-1", mem)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := RemoveStaleBatches(dir, quietLog()); n != 0 || err != nil {
		t.Fatalf("RemoveStaleBatches = %d, %v; want 0", n, err)
	}
	tr, _ := schemas.ByName(crowdchange.Transactions)
	writeRows(t, b, mem, tr.Name, genRow(tr, 0, with(txKey(tr, 1), stamp("run-1", "batch-1", day1))))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.Files()[tr.Name]); err != nil {
		t.Fatalf("the live batch's file: %v", err)
	}
	if err := b.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove(); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

// The batch directory of a process killed with SIGKILL is removed by the next scan, and not
// while the process lives.
func TestRemoveStaleBatchesAfterKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startChild(t, "batch "+dir)
	batchDir := c.line
	if !strings.HasPrefix(batchDir, filepath.Join(dir, batchDirPrefix)) {
		t.Fatalf("the child's batch directory is %q", batchDir)
	}
	if n, err := RemoveStaleBatches(dir, quietLog()); n != 0 || err != nil {
		t.Fatalf("while the child lives: RemoveStaleBatches = %d, %v; want 0", n, err)
	}
	if _, err := os.Stat(filepath.Join(batchDir, batchLockName)); err != nil {
		t.Fatalf("the live child's batch directory: %v", err)
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.exited
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v, want SIGKILL", c.err)
	}
	if _, err := os.Stat(batchDir); err != nil {
		t.Fatalf("the killed child's batch directory should still be there: %v", err)
	}
	n, err := RemoveStaleBatches(dir, quietLog())
	if n != 1 || err != nil {
		t.Fatalf("after the kill: RemoveStaleBatches = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(batchDir); !os.IsNotExist(err) {
		t.Errorf("the killed child's batch directory is still there: %v", err)
	}
}
