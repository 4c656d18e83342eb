package crowdchange

import (
	"errors"
	"fmt"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	crowdchangeapi "github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/load"
	"github.com/sirupsen/logrus"
)

// PlanBackfill plans a backfill of r's closed range of days, by transaction date (windows of
// r.Window) or by payout date (a window per day and payout account).
func PlanBackfill(r config.Run) (extract.Plan, error) {
	from, to := r.From, r.RangeEnd()
	var windows []extract.Window
	var err error
	if r.By == "payout" {
		windows, err = crowdchangeapi.PlanPayoutWindows(from, r.To, r.PayoutAccounts())
	} else {
		windows, err = extract.PlanDateWindows(from, to, r.Window)
	}
	if err != nil {
		return extract.Plan{}, err
	}
	return extract.Plan{Windows: windows, From: from, To: to}, nil
}

// ErrNothingCommitted is returned by PlanSync for a warehouse with no committed window of the
// date stream and no start: the first sync needs to be told where to start.
var ErrNothingCommitted = errors.New("start: the warehouse has nothing committed yet: give --start YYYY-MM-DD, the first day to sync")

// PlanSync plans the nightly sync from the source's committed checkpoints: the date stream from
// its watermark minus r.Lookback (re-read on purpose: transactions change after they are made) to
// now minus r.Lag, then, for each payout account, every payout date from the account's own
// watermark to yesterday, skipping committed dates (a payout date is complete from the next day
// on).
func PlanSync(cps []load.Checkpoint, r config.Run, now time.Time) (extract.Plan, error) {
	now = now.UTC()
	end := now.Add(-r.Lag).Truncate(time.Second)
	wm, ok := load.Watermark(cps, string(crowdchangeapi.StreamDate), "")
	var start time.Time
	switch {
	case ok:
		start = wm.Add(-r.Lookback)
	case r.Start.IsZero():
		return extract.Plan{}, ErrNothingCommitted
	default:
		start = r.Start
	}
	if !r.Start.IsZero() && start.Before(r.Start) {
		start = r.Start // never before what the user asked to start at
	}
	// Align to the window grid (midnight UTC for daily windows) so that re-read windows are the
	// same windows as before.
	start = start.Truncate(r.Window)
	p := extract.Plan{From: start, To: end}
	if start.Before(end) {
		dw, err := extract.PlanDateWindows(start, end, r.Window)
		if err != nil {
			return extract.Plan{}, fmt.Errorf("planning the date stream: %w", err)
		}
		p.Windows = dw
	}

	payoutWindows := 0
	yesterday := now.Truncate(24*time.Hour).AddDate(0, 0, -1)
	for _, acct := range r.PayoutAccounts() {
		from := r.Start
		if pw, ok := load.Watermark(cps, string(crowdchangeapi.StreamPayout), acct); ok {
			from = pw
		} else if from.IsZero() {
			from = start.Truncate(24 * time.Hour)
		}
		if from.After(yesterday) {
			continue
		}
		pws, err := crowdchangeapi.PlanPayoutWindows(from, yesterday, []string{acct})
		if err != nil {
			return extract.Plan{}, fmt.Errorf("planning the payout stream (%s): %w", acct, err)
		}
		for _, w := range pws {
			if load.Covered(cps, string(w.Stream), w.Account, w.Start, w.End) {
				p.Skipped++
				continue
			}
			p.Windows = append(p.Windows, w)
			payoutWindows++
		}
	}
	p.Fields = logrus.Fields{
		"date_from": p.From.Format(time.RFC3339), "date_to": p.To.Format(time.RFC3339),
		"payout_windows": payoutWindows, "payout_skipped": p.Skipped,
	}
	return p, nil
}
