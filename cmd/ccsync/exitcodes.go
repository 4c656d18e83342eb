package main

import (
	"errors"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/load/pipeline"
	"github.com/ccsync/ccsync/load/verify"
)

// Exit codes: the one place that maps errors to them (see exitCode). --help lists them.
const (
	exitOK        = 0 // done
	exitFailed    = 1 // failed; the warehouse is consistent at its last checkpoint
	exitUsage     = 2 // usage or config error (also: the warehouse is not reachable or writable)
	exitForbidden = 3 // the API refused the key (403)
	exitLagging   = 4 // status: a watermark lags more than --max-lag
	exitDiffers   = 5 // verify: the warehouse differs from the API
)

const exitCodesHelp = `exit codes:
  0  done
  1  failed (the warehouse is consistent at its last checkpoint)
  2  usage or config error (the API answers 404 at --api-url/--region), or the warehouse is
     unreachable, not writable, or missing for a reading verb
  3  the API refused the key (403 Forbidden)
  4  status: a watermark lags more than --max-lag
  5  verify: the warehouse differs from the API
`

// usageError is a mistake in the command line or the configuration.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// Sentinels of the verbs whose outcome is an exit code of its own.
var (
	errLagging = pipeline.ErrLagging
	errDiffers = verify.ErrDiffers
)

// exitCode classifies err, once.
func exitCode(err error) int {
	var usage usageError
	var jobUsage pipeline.UsageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage), errors.As(err, &jobUsage), errors.Is(err, load.ErrWarehouseUnavailable), errors.Is(err, extract.ErrNotFound):
		return exitUsage
	case errors.Is(err, extract.ErrForbidden):
		return exitForbidden
	case errors.Is(err, errLagging):
		return exitLagging
	case errors.Is(err, errDiffers):
		return exitDiffers
	}
	return exitFailed
}
