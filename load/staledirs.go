package load

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Batch directories and their locks. A batch's directory (NewBatch) holds the lock file
// batchLockName, on which the batch keeps an exclusive flock until Remove. A process killed with
// SIGKILL cannot remove its open batch's directory, but the kernel releases its lock: a directory
// whose lock can be taken belongs to no live process, and RemoveStaleBatches removes it.
const (
	batchDirPrefix = "ccsync-batch-"
	batchLockName  = "ccsync-batch.lock"
	// batchLockNew is the lock file until it is locked: NewBatch creates and locks it under this
	// name, then renames it, so that a lock file is never seen unlocked while its batch lives.
	batchLockNew = batchLockName + ".new"
)

// staleUnlockedAge is how old a batch directory without a lock file must be before
// RemoveStaleBatches removes it: such a directory is from a ccsync older than the locks (or from a
// process killed between creating the directory and locking it), and a live one is always locked
// within moments of its creation.
const staleUnlockedAge = time.Hour

// RemoveStaleBatches removes the batch directories (ccsync-batch-*) under dir ("" for the
// system's temporary directory, as NewBatch) that no live process holds: those left by a killed
// run. A directory whose lock file is locked, by this process or another, is never touched; one
// without a lock file is removed when it is older than an hour. It returns how many directories it
// removed; the error joins what it could not read or remove (the other directories are still
// handled). Call it when a run starts, before its first batch.
func RemoveStaleBatches(dir string, log *logrus.Entry) (int, error) {
	return removeStaleBatches(dir, log, time.Now)
}

func removeStaleBatches(dir string, log *logrus.Entry, now func() time.Time) (int, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("removing stale batch directories: %w", err)
	}
	removed := 0
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), batchDirPrefix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		ok, err := removeIfStale(path, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("removing stale batch directory %s: %w", path, err))
			continue
		}
		if ok {
			removed++
			if log != nil {
				log.WithField("dir", path).Info("removed the batch directory of a run that is gone")
			}
		}
	}
	return removed, errors.Join(errs...)
}

// removeIfStale removes the batch directory path when no process holds its lock (or, without a
// lock file, when it is old), and tells whether it did. A directory whose lock file still has its
// new name (batchLockNew) is judged by it: its creator locks it before renaming it, so an
// unlocked one is a creator killed in between.
func removeIfStale(path string, now func() time.Time) (bool, error) {
	f, err := os.Open(filepath.Join(path, batchLockName))
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.Open(filepath.Join(path, batchLockNew))
	}
	if errors.Is(err, fs.ErrNotExist) {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // removed meanwhile
		}
		if err != nil {
			return false, err
		}
		if now().Sub(fi.ModTime()) < staleUnlockedAge {
			return false, nil // being created, or too recent to tell
		}
		return true, os.RemoveAll(path)
	}
	if err != nil {
		return false, err
	}
	defer f.Close() // releases the lock, after the directory is gone
	locked, err := tryLockFile(f)
	if err != nil || !locked {
		return false, err
	}
	if err := os.RemoveAll(path); err != nil {
		return false, err
	}
	return true, nil
}

// lockBatchDir creates the lock file of a new batch directory and locks it; the returned file
// holds the lock until it is closed.
func lockBatchDir(dir string) (*os.File, error) {
	tmp := filepath.Join(dir, batchLockNew)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if flockAvailable {
		locked, lerr := tryLockFile(f)
		if lerr == nil && !locked {
			lerr = errors.New("the new lock file is locked by another process")
		}
		err = lerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, batchLockName))
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	return f, nil
}
