//go:build unix

package load

import (
	"errors"
	"os"
	"syscall"
)

// flockAvailable tells whether batch directories are locked (tryLockFile works).
const flockAvailable = true

// tryLockFile takes an exclusive flock on f without waiting. It reports false when another open
// file description holds it (another process, or another open of the file in this one). The lock
// lasts until f is closed or the process ends, however it ends.
func tryLockFile(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		}
		return false, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
}
