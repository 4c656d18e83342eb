package main

import (
	"context"
	"errors"

	"github.com/ccsync/ccsync/load/verify"
)

// cmdVerify re-reads the API for a range of days and compares it with the *_current views
// (verify.Run); it prints every difference and exits 5 when there is one.
func cmdVerify(ctx context.Context, inv *invocation) error {
	if err := inv.cfg.Run.ValidateRange(); err != nil {
		return usagef(err)
	}
	pii, err := inv.piiPolicy()
	if err != nil {
		return err
	}
	source, sink, err := inv.connect(ctx, true, pii)
	if err != nil {
		return err
	}
	if c, ok := source.(piiComparer); ok {
		c.ComparePII(pii)
	}
	wh, err := verify.WarehouseOf(sink)
	if err != nil {
		return err
	}
	_, err = verify.Run(ctx, source, wh, inv.cfg.Run, inv.env.stdout)
	if errors.Is(err, verify.ErrRange) {
		return usagef(err)
	}
	return err // verify.ErrDiffers exits 5
}
