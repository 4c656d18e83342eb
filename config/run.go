package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Run configures what a run extracts and how it batches (the run loop in cmd/ccsync).
type Run struct {
	// From and To are the closed range of days of backfill and verify: [From, To+1 day).
	From, To time.Time
	// By is the stream a backfill reads: date or payout.
	By string
	// PayoutAccount is global, user or both (the payout stream's accounts).
	PayoutAccount string
	// Window is the date stream's window size.
	Window time.Duration
	// Concurrency is how many windows are fetched at once (under one shared rate limiter).
	Concurrency int
	// Force re-extracts committed windows (appending new versions).
	Force bool
	// Shard splits the windows of a backfill between independent processes.
	Shard Shard
	// Batch bounds a load batch.
	Batch BatchPolicy
	// Lookback and Lag shape sync's date stream: [watermark-Lookback, now-Lag).
	Lookback, Lag time.Duration
	// Start is where sync starts on an empty warehouse.
	Start time.Time
	// MaxLag is the status verb's alert threshold.
	MaxLag time.Duration
	// TempDir holds batches' Parquet files ("" = the system's).
	TempDir string
}

// BatchPolicy bounds a load batch: it is committed when any bound is reached, and at the end. The
// defaults keep a ten-year backfill of daily windows to about 60 load jobs per BigQuery table, and
// the age bound to at most 96 a day, far below BigQuery's 1,500 per table per day.
type BatchPolicy struct {
	MaxWindows      int
	MaxTransactions int
	MaxAge          time.Duration
}

// Shard is the i-th of n parts of a backfill's windows (0-based). Count 0 or 1 means unsharded.
type Shard struct{ Index, Count int }

// String writes "i/n".
func (s Shard) String() string {
	if s.Count <= 1 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ParseShard reads "i/n" with 0 <= i < n.
func ParseShard(v string) (Shard, error) {
	if v == "" {
		return Shard{}, nil
	}
	i, n, ok := strings.Cut(v, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%q is not i/n", v)
	}
	ii, err1 := strconv.Atoi(i)
	nn, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || nn < 1 || ii < 0 || ii >= nn {
		return Shard{}, fmt.Errorf("%q is not i/n with 0 <= i < n", v)
	}
	return Shard{Index: ii, Count: nn}, nil
}

// Payout accounts.
var payoutAccounts = map[string][]string{"global": {"global"}, "user": {"user"}, "both": {"global", "user"}}

// PayoutAccounts lists the accounts PayoutAccount names.
func (r Run) PayoutAccounts() []string { return payoutAccounts[r.PayoutAccount] }

// BigQueryBatchTransactions is the default transactions bound of a batch loaded into BigQuery:
// larger than DuckDB's, since a batch costs a load job per table against BigQuery's daily quota,
// while it costs DuckDB memory until it commits.
const BigQueryBatchTransactions = 100000

// SetDefaults fills unset fields.
func (r *Run) SetDefaults() {
	if r.By == "" {
		r.By = "date"
	}
	if r.PayoutAccount == "" {
		r.PayoutAccount = "both"
	}
	if r.Window == 0 {
		r.Window = 24 * time.Hour
	}
	if r.Concurrency == 0 {
		r.Concurrency = 4
	}
	if r.Batch.MaxWindows == 0 {
		r.Batch.MaxWindows = 60
	}
	if r.Batch.MaxTransactions == 0 {
		r.Batch.MaxTransactions = 10000
	}
	if r.Batch.MaxAge == 0 {
		r.Batch.MaxAge = 15 * time.Minute
	}
	if r.Lookback == 0 {
		r.Lookback = 7 * 24 * time.Hour
	}
	if r.Lag == 0 {
		r.Lag = 15 * time.Minute
	}
	if r.MaxLag == 0 {
		r.MaxLag = 36 * time.Hour
	}
}

// Validate checks the configuration.
func (r Run) Validate() error {
	var errs []error
	switch r.By {
	case "date", "payout":
	default:
		errs = append(errs, fmt.Errorf("by: %q is not date or payout", r.By))
	}
	if _, ok := payoutAccounts[r.PayoutAccount]; !ok {
		errs = append(errs, fmt.Errorf("payout-account: %q is not global, user or both", r.PayoutAccount))
	}
	if r.Window < time.Second || r.Window%time.Second != 0 {
		errs = append(errs, fmt.Errorf("window: %v must be a whole number of seconds, at least 1s", r.Window))
	}
	if r.Concurrency < 1 || r.Concurrency > 64 {
		errs = append(errs, fmt.Errorf("concurrency: %d must be in 1..64", r.Concurrency))
	}
	if r.Batch.MaxWindows < 1 {
		errs = append(errs, fmt.Errorf("batch-windows: %d must be >= 1", r.Batch.MaxWindows))
	}
	if r.Batch.MaxTransactions < 1 {
		errs = append(errs, fmt.Errorf("batch-transactions: %d must be >= 1", r.Batch.MaxTransactions))
	}
	if r.Batch.MaxAge <= 0 {
		errs = append(errs, fmt.Errorf("batch-interval: %v must be > 0", r.Batch.MaxAge))
	}
	if r.Lookback < 0 {
		errs = append(errs, fmt.Errorf("lookback: %v must be >= 0", r.Lookback))
	}
	if r.Lag < 0 {
		errs = append(errs, fmt.Errorf("lag: %v must be >= 0", r.Lag))
	}
	if r.Shard.Count > 1 && (r.Shard.Index < 0 || r.Shard.Index >= r.Shard.Count) {
		errs = append(errs, fmt.Errorf("shard: %s is not i/n with 0 <= i < n", r.Shard))
	}
	return errors.Join(errs...)
}

// ValidateRange checks From and To for the verbs that need a closed range of days.
func (r Run) ValidateRange() error {
	var errs []error
	if r.From.IsZero() {
		errs = append(errs, errors.New("from: required (YYYY-MM-DD)"))
	}
	if r.To.IsZero() {
		errs = append(errs, errors.New("to: required (YYYY-MM-DD)"))
	}
	if !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From) {
		errs = append(errs, fmt.Errorf("from, to: to (%s) is before from (%s)", r.To.Format(time.DateOnly), r.From.Format(time.DateOnly)))
	}
	return errors.Join(errs...)
}

// RangeEnd is the exclusive end of the closed range of days: To + 1 day.
func (r Run) RangeEnd() time.Time { return r.To.AddDate(0, 0, 1) }
