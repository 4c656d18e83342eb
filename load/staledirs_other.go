//go:build !unix

package load

import "os"

// flockAvailable tells whether batch directories are locked (tryLockFile works).
const flockAvailable = false

// tryLockFile cannot lock without flock: it reports the file as held, so that RemoveStaleBatches
// never removes a directory with a lock file (only old ones without).
func tryLockFile(*os.File) (bool, error) { return false, nil }
