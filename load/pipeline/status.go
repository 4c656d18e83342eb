package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
)

// StatusSource is the status verb's view of a warehouse.
type StatusSource interface {
	Checkpoints(ctx context.Context) ([]load.Checkpoint, error)
	Runs(ctx context.Context, limit int) ([]load.Run, error)
	Quarantined(ctx context.Context) (int64, error)
}

var (
	_ StatusSource = (*load.DuckDB)(nil)
	_ StatusSource = (*load.BigQuery)(nil)
)

// StreamStatus is one stream's (and payout account's) state.
type StreamStatus struct {
	Stream    string    `json:"stream"`
	Account   string    `json:"payout_account,omitempty"`
	Watermark time.Time `json:"watermark"`
	LagS      float64   `json:"lag_seconds"`
	Windows   int       `json:"committed_windows"`
	First     time.Time `json:"first_window_start"`
	LastRun   string    `json:"last_commit_run_id"`
}

// RunStatus is one run's state.
type RunStatus struct {
	RunID        string    `json:"run_id"`
	Verb         string    `json:"verb"`
	RangeStart   time.Time `json:"range_start,omitzero"`
	RangeEnd     time.Time `json:"range_end,omitzero"`
	StartedAt    time.Time `json:"started_at"`
	DurationS    float64   `json:"duration_seconds"`
	Transactions int64     `json:"transactions"`
	Outcome      string    `json:"outcome"`
	Error        string    `json:"error,omitempty"`
	// PIIPolicy is the PII policy the run applied; "keep" for a run that recorded none.
	PIIPolicy string `json:"pii_policy"`
}

// StatusReport is a source's state in the warehouse: its streams' watermarks and its last runs.
type StatusReport struct {
	Source string    `json:"source"`
	Now    time.Time `json:"now"`
	// Watched are the streams whose furthest watermark --max-lag watches.
	Watched []string `json:"watched_streams"`
	MaxLagS float64  `json:"max_lag_seconds"`
	Lagging bool     `json:"lagging"`
	// Quarantined counts the items without a readable id kept in the quarantine table.
	Quarantined int64          `json:"quarantined"`
	Streams     []StreamStatus `json:"streams"`
	Runs        []RunStatus    `json:"last_runs"`
}

// ErrLagging is returned by Status when the source's watched stream lags more than the maximum.
var ErrLagging = errors.New("a watermark lags more than --max-lag")

// Status reads one source's state: per stream (and key) the watermark, its lag behind now and the
// committed windows, and the source's last ten runs. Lagging is set when the furthest watermark
// of the source's watched streams (schemas.SourceInfo.Watched) lags more than maxLag, or when
// they have nothing committed.
func Status(ctx context.Context, src StatusSource, source string, now time.Time, maxLag time.Duration) (StatusReport, error) {
	info, ok := schemas.SourceNamed(source)
	if !ok {
		return StatusReport{}, fmt.Errorf("status: unknown source %q", source)
	}
	all, err := src.Checkpoints(ctx)
	if err != nil {
		return StatusReport{}, fmt.Errorf("reading checkpoints: %w", err)
	}
	cps := load.OfSource(all, source)
	allRuns, err := src.Runs(ctx, 0)
	if err != nil {
		return StatusReport{}, fmt.Errorf("reading the run log: %w", err)
	}
	var runs []load.Run
	for _, r := range allRuns {
		if r.Source == source && len(runs) < 10 {
			runs = append(runs, r)
		}
	}
	quarantined, err := src.Quarantined(ctx)
	if err != nil {
		return StatusReport{}, err
	}
	rep := StatusReport{Source: source, Watched: info.Watched, Now: now.UTC(), MaxLagS: maxLag.Seconds(), Quarantined: quarantined}
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
	var freshest time.Time // the furthest watermark of the watched streams
	watchedSeen := false
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
		s := StreamStatus{Stream: k.stream, Account: k.account, Watermark: wm.UTC(), LagS: now.Sub(wm).Seconds(), Windows: len(distinct), First: first.WindowStart.UTC(), LastRun: last.RunID}
		rep.Streams = append(rep.Streams, s)
		if slices.Contains(info.Watched, k.stream) {
			watchedSeen = true
			if wm.After(freshest) {
				freshest = wm
			}
		}
	}
	// Nothing committed is as stale as it gets.
	rep.Lagging = !watchedSeen || now.Sub(freshest) > maxLag
	for _, r := range runs {
		end := r.EndedAt
		if end.IsZero() {
			end = now
		}
		rep.Runs = append(rep.Runs, RunStatus{RunID: r.RunID, Verb: r.Verb, RangeStart: r.RangeStart.UTC(), RangeEnd: r.RangeEnd.UTC(), StartedAt: r.StartedAt.UTC(), DurationS: end.Sub(r.StartedAt).Seconds(), Transactions: r.Transactions, Outcome: r.Outcome, Error: r.Error, PIIPolicy: piiPolicyOf(r)})
	}
	return rep, nil
}

// piiPolicyOf is the PII policy a run recorded; a run recorded before ccsync had one kept
// everything.
func piiPolicyOf(r load.Run) string {
	if r.PIIPolicy == "" {
		return "default keep"
	}
	return r.PIIPolicy
}

// runRange writes a run's range for people: its days (the last included) when it is whole days,
// else its instants (a Crowdtilt walk's [previous walk's start, this walk's start)); "-" for none.
func runRange(start, end time.Time) string {
	switch {
	case start.IsZero():
		return "-"
	case start.Equal(extract.UTCDay(start)) && end.Equal(extract.UTCDay(end)) && end.After(start):
		return start.Format(time.DateOnly) + ".." + end.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return start.UTC().Format(time.RFC3339) + ".." + end.UTC().Format(time.RFC3339)
}

// maxKeysListed is how many keys of one stream the status table lists one by one; a stream with
// more (Crowdtilt's walk, keyed by campaign) is one line.
const maxKeysListed = 8

// summarizeKeys folds the keys of a stream that has more than maxKeysListed into one line: "N
// keys", the oldest watermark and its lag (what --max-lag would look at first), every committed
// window, the first window start. The JSON report keeps every key.
func summarizeKeys(streams []StreamStatus) []StreamStatus {
	keys := map[string]int{}
	for _, s := range streams {
		if s.Account != "" {
			keys[s.Stream]++
		}
	}
	var out []StreamStatus
	folded := map[string]int{} // stream → its line in out
	for _, s := range streams {
		if keys[s.Stream] <= maxKeysListed {
			out = append(out, s)
			continue
		}
		i, ok := folded[s.Stream]
		if !ok {
			folded[s.Stream] = len(out)
			s.Account = fmt.Sprintf("%d keys", keys[s.Stream])
			out = append(out, s)
			continue
		}
		line := &out[i]
		if s.Watermark.Before(line.Watermark) {
			line.Watermark, line.LagS = s.Watermark, s.LagS
		}
		if s.First.Before(line.First) {
			line.First = s.First
		}
		line.Windows += s.Windows
	}
	return out
}

// WriteStatus writes the report as tables for people.
func WriteStatus(w io.Writer, rep StatusReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "stream\taccount\twatermark\tlag\tcommitted windows\tfrom")
	if len(rep.Streams) == 0 {
		fmt.Fprintln(tw, "(nothing committed yet)\t\t\t\t\t")
	}
	for _, s := range summarizeKeys(rep.Streams) {
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
	fmt.Fprintln(tw, "run\tverb\trange\trecords\tduration\tpii policy\toutcome")
	for _, r := range rep.Runs {
		rng := runRange(r.RangeStart, r.RangeEnd)
		outcome := r.Outcome
		if r.Error != "" {
			outcome += ": " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.RunID, r.Verb, rng, r.Transactions, (time.Duration(r.DurationS*1e3) * time.Millisecond).Round(time.Millisecond), r.PIIPolicy, outcome)
	}
	_ = tw.Flush()
	if rep.Lagging {
		fmt.Fprintf(w, "\nthe %s watermark lags more than %s\n", strings.Join(rep.Watched, "/"), time.Duration(rep.MaxLagS)*time.Second)
	}
}
