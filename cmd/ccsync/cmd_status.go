package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
)

// statusSource is the status verb's view of a warehouse.
type statusSource interface {
	Checkpoints(ctx context.Context) ([]load.Checkpoint, error)
	Runs(ctx context.Context, limit int) ([]load.Run, error)
	Quarantined(ctx context.Context) (int64, error)
}

var (
	_ statusSource = (*load.DuckDB)(nil)
	_ statusSource = (*load.BigQuery)(nil)
)

// streamStatus is one stream's (and payout account's) state.
type streamStatus struct {
	Stream    string    `json:"stream"`
	Account   string    `json:"payout_account,omitempty"`
	Watermark time.Time `json:"watermark"`
	LagS      float64   `json:"lag_seconds"`
	Windows   int       `json:"committed_windows"`
	First     time.Time `json:"first_window_start"`
	LastRun   string    `json:"last_commit_run_id"`
}

type runStatus struct {
	RunID        string    `json:"run_id"`
	Verb         string    `json:"verb"`
	RangeStart   time.Time `json:"range_start,omitzero"`
	RangeEnd     time.Time `json:"range_end,omitzero"`
	StartedAt    time.Time `json:"started_at"`
	DurationS    float64   `json:"duration_seconds"`
	Transactions int64     `json:"transactions"`
	Outcome      string    `json:"outcome"`
	Error        string    `json:"error,omitempty"`
}

type statusReport struct {
	Now     time.Time `json:"now"`
	MaxLagS float64   `json:"max_lag_seconds"`
	Lagging bool      `json:"lagging"`
	// Quarantined counts the items without a readable id kept in the quarantine table.
	Quarantined int64          `json:"quarantined"`
	Streams     []streamStatus `json:"streams"`
	Runs        []runStatus    `json:"last_runs"`
}

// cmdStatus prints per stream the watermark, its lag behind now and the committed windows, and
// the last ten runs; it exits 4 when the date stream's watermark lags more than --max-lag.
func cmdStatus(ctx context.Context, inv *invocation) error {
	format := inv.cfg.Output.Format
	if format == "" {
		format = "table"
	}
	if err := inv.cfg.Output.Validate("table", "json"); err != nil {
		return usagef(err)
	}
	sink, err := inv.openSink(ctx)
	if err != nil {
		return err
	}
	defer sink.Close()
	src, ok := sink.(statusSource)
	if !ok {
		return usagef(fmt.Errorf("warehouse %s has no status", inv.cfg.Warehouse.Kind))
	}
	rep, err := buildStatus(ctx, src, inv.env.now(), inv.cfg.Run.MaxLag)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(inv.env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeStatus(inv.env.stdout, rep)
	}
	if rep.Lagging {
		return fmt.Errorf("date stream: %w (%s)", errLagging, inv.cfg.Run.MaxLag)
	}
	return nil
}

func buildStatus(ctx context.Context, src statusSource, now time.Time, maxLag time.Duration) (statusReport, error) {
	cps, err := src.Checkpoints(ctx)
	if err != nil {
		return statusReport{}, fmt.Errorf("reading checkpoints: %w", err)
	}
	runs, err := src.Runs(ctx, 10)
	if err != nil {
		return statusReport{}, fmt.Errorf("reading the run log: %w", err)
	}
	quarantined, err := src.Quarantined(ctx)
	if err != nil {
		return statusReport{}, err
	}
	rep := statusReport{Now: now.UTC(), MaxLagS: maxLag.Seconds(), Quarantined: quarantined}
	type key struct{ stream, account string }
	groups := map[key][]load.Checkpoint{}
	for _, c := range cps {
		k := key{c.Stream, c.PayoutAccount}
		groups[k] = append(groups[k], c)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].stream != keys[j].stream {
			return keys[i].stream < keys[j].stream
		}
		return keys[i].account < keys[j].account
	})
	dateSeen := false
	for _, k := range keys {
		g := groups[k]
		wm, _ := load.Watermark(g, k.stream, k.account)
		first, last := g[0], g[0]
		distinct := map[[2]int64]bool{}
		for _, c := range g {
			distinct[[2]int64{c.WindowStart.Unix(), c.WindowEnd.Unix()}] = true
			if c.WindowStart.Before(first.WindowStart) {
				first = c
			}
			if c.CommittedAt.After(last.CommittedAt) {
				last = c
			}
		}
		s := streamStatus{Stream: k.stream, Account: k.account, Watermark: wm.UTC(), LagS: now.Sub(wm).Seconds(), Windows: len(distinct), First: first.WindowStart.UTC(), LastRun: last.RunID}
		rep.Streams = append(rep.Streams, s)
		if k.stream == "date" {
			dateSeen = true
			if now.Sub(wm) > maxLag {
				rep.Lagging = true
			}
		}
	}
	if !dateSeen {
		rep.Lagging = true // nothing committed: as stale as it gets
	}
	for _, r := range runs {
		end := r.EndedAt
		if end.IsZero() {
			end = now
		}
		rep.Runs = append(rep.Runs, runStatus{RunID: r.RunID, Verb: r.Verb, RangeStart: r.RangeStart.UTC(), RangeEnd: r.RangeEnd.UTC(), StartedAt: r.StartedAt.UTC(), DurationS: end.Sub(r.StartedAt).Seconds(), Transactions: r.Transactions, Outcome: r.Outcome, Error: r.Error})
	}
	return rep, nil
}

func writeStatus(w io.Writer, rep statusReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "stream\taccount\twatermark\tlag\tcommitted windows\tfrom")
	if len(rep.Streams) == 0 {
		fmt.Fprintln(tw, "(nothing committed yet)\t\t\t\t\t")
	}
	for _, s := range rep.Streams {
		acct := s.Account
		if acct == "" {
			acct = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.Stream, acct, s.Watermark.Format(time.RFC3339), (time.Duration(s.LagS) * time.Second).Round(time.Minute), s.Windows, s.First.Format(time.DateOnly))
	}
	_ = tw.Flush()
	if rep.Quarantined > 0 {
		fmt.Fprintf(w, "\nquarantined  %d items without a readable id (table %s)\n", rep.Quarantined, schemas.QuarantineTable)
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tverb\trange\ttransactions\tduration\toutcome")
	for _, r := range rep.Runs {
		rng := "-"
		if !r.RangeStart.IsZero() {
			rng = r.RangeStart.Format(time.DateOnly) + ".." + r.RangeEnd.AddDate(0, 0, -1).Format(time.DateOnly)
		}
		outcome := r.Outcome
		if r.Error != "" {
			outcome += ": " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.RunID, r.Verb, rng, r.Transactions, (time.Duration(r.DurationS*1e3) * time.Millisecond).Round(time.Millisecond), outcome)
	}
	_ = tw.Flush()
	if rep.Lagging {
		fmt.Fprintf(w, "\nthe date watermark lags more than %s\n", time.Duration(rep.MaxLagS)*time.Second)
	}
}
