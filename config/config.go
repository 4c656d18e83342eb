// Package config is ccsync's configuration: one typed struct per concern (API, DuckDB, BigQuery,
// Log, Sandbox, Run, ...), each with SetDefaults and Validate, and the one place that reads flags,
// environment variables and the YAML config file.
//
// Every setting has one name, used as the command-line flag (--bq-project), the YAML key
// (bq-project: ...) and, upper-cased with CCSYNC_ in front and dashes as underscores, the
// environment variable (CCSYNC_BQ_PROJECT). Flags win over the environment, the environment over
// the file. Flags are pflag's (--name value, --name=value, a switch alone is true): RegisterGlobal
// defines the settings of every verb (the root command's), RegisterVerb a verb's own. The API
// credentials are the exception: they come only from the file named by --api-key-file or the
// platform's environment variables (CROWDCHANGE_API_KEY; DONATELY_API_TOKEN with --source
// donately; CROWDTILT_API_KEY and CROWDTILT_API_SECRET with --source crowdtilt), never from the
// config file or a flag, and they are never printed.
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is the whole configuration of one ccsync invocation. Each package gets only its part.
type Config struct {
	// File is the YAML config file (--config); "" for none.
	File string

	// Source is the platform a run copies from: SourceCrowdChange (default), SourceDonately or
	// SourceCrowdtilt.
	Source string

	API       API
	Donately  Donately
	PII       PII
	Crowdtilt Crowdtilt
	Warehouse Warehouse
	DuckDB    DuckDB
	BigQuery  BigQuery
	Log       Log
	Sandbox   Sandbox
	Run       Run
	Output    Output
}

// SetDefaults fills every unset field of every part.
func (c *Config) SetDefaults() {
	if c.Source == "" {
		c.Source = SourceCrowdChange
	}
	c.API.SetDefaults()
	c.Donately.SetDefaults()
	c.PII.SetDefaults()
	c.Crowdtilt.SetDefaults()
	c.Warehouse.SetDefaults()
	c.DuckDB.SetDefaults()
	c.BigQuery.SetDefaults()
	c.Log.SetDefaults()
	c.Sandbox.SetDefaults()
	c.Run.SetDefaults()
	c.Output.SetDefaults()
}

// The sources --source names (package schemas declares their streams and tables).
const (
	SourceCrowdChange = "crowdchange"
	SourceDonately    = "donately"
	SourceCrowdtilt   = "crowdtilt"
)

// ValidateSource checks --source.
func (c *Config) ValidateSource() error {
	switch c.Source {
	case SourceCrowdChange, SourceDonately, SourceCrowdtilt:
		return nil
	}
	return fmt.Errorf("source: %q is not crowdchange, donately or crowdtilt", c.Source)
}

// Warehouse picks the warehouse.
type Warehouse struct {
	Kind string // duckdb | bigquery
}

// Warehouse kinds.
const (
	WarehouseDuckDB   = "duckdb"
	WarehouseBigQuery = "bigquery"
)

// SetDefaults fills unset fields.
func (w *Warehouse) SetDefaults() {
	if w.Kind == "" {
		w.Kind = WarehouseDuckDB
	}
}

// Validate checks the configuration.
func (w Warehouse) Validate() error {
	switch w.Kind {
	case WarehouseDuckDB, WarehouseBigQuery:
		return nil
	}
	return fmt.Errorf("warehouse: %q is not duckdb or bigquery", w.Kind)
}

// BigQuery is the BigQuery sink's configuration (package load).
type BigQuery struct {
	Project  string
	Dataset  string
	Location string
	// Endpoint points the client at an emulator or test server, without authentication
	// (BIGQUERY_EMULATOR_HOST is honoured too).
	Endpoint string
	// Credentials is a service account key file; "" means Application Default Credentials.
	Credentials string
	// PollInterval is how often a load job's state is read until it is DONE.
	PollInterval time.Duration
	// StagingBucket is the name of a Cloud Storage bucket (without gs://) where Commit stages
	// each table's Parquet file, as ccsync/<batch>/<table>.parquet, before loading it from there;
	// the files are deleted once the batch is committed. "" (the default) uploads the files with
	// the load jobs instead. The identity ccsync runs as needs roles/storage.objectAdmin on the
	// bucket (BigQuery reads the files as that identity too), and the bucket must be in a
	// location BigQuery can load into the dataset from (the dataset's).
	StagingBucket string
	// PolicyTag, when set, is the Data Catalog policy tag (projects/…/locations/…/taxonomies/…/
	// policyTags/…) attached to every PII column the PII policy keeps or hashes.
	PolicyTag string
}

// SetDefaults fills unset fields.
func (b *BigQuery) SetDefaults() {
	if b.Location == "" {
		b.Location = "US"
	}
	if b.PollInterval == 0 {
		b.PollInterval = time.Second
	}
}

// Validate checks the configuration (only when the warehouse is BigQuery).
func (b BigQuery) Validate() error {
	var errs []error
	if b.Project == "" {
		errs = append(errs, errors.New("bq-project: required with --warehouse bigquery"))
	}
	if b.Dataset == "" {
		errs = append(errs, errors.New("bq-dataset: required with --warehouse bigquery"))
	}
	if b.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("bq-poll-interval: %v must be > 0", b.PollInterval))
	}
	if b.StagingBucket != "" {
		if err := validBucketName(b.StagingBucket); err != nil {
			errs = append(errs, fmt.Errorf("bq-staging-bucket: %w", err))
		}
	}
	return errors.Join(errs...)
}

// validBucketName checks a Cloud Storage bucket name: 3 to 63 characters (222 with dots) among
// lower-case letters, digits, dashes, underscores and dots, starting and ending with a letter or
// a digit.
func validBucketName(name string) error {
	if rest, ok := strings.CutPrefix(name, "gs://"); ok {
		return fmt.Errorf("%q: give the bucket's name alone (%s), without gs://", name, strings.TrimSuffix(rest, "/"))
	}
	max := 63
	if strings.Contains(name, ".") {
		max = 222
	}
	if len(name) < 3 || len(name) > max {
		return fmt.Errorf("%q is not a bucket name: it must have 3 to %d characters", name, max)
	}
	for i, r := range name {
		alnum := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		switch {
		case alnum:
		case (i == 0 || i == len(name)-1):
			return fmt.Errorf("%q is not a bucket name: it must start and end with a lower-case letter or a digit", name)
		case r == '-' || r == '_' || r == '.':
		default:
			return fmt.Errorf("%q is not a bucket name: only lower-case letters, digits, dashes, underscores and dots are allowed", name)
		}
	}
	return nil
}

// Log is the logger's configuration.
type Log struct {
	Format string // auto (text on a terminal, JSON otherwise) | text | json
	Level  string // debug | info | warn | error
}

// SetDefaults fills unset fields.
func (l *Log) SetDefaults() {
	if l.Format == "" {
		l.Format = "auto"
	}
	if l.Level == "" {
		l.Level = "info"
	}
}

// Validate checks the configuration.
func (l Log) Validate() error {
	var errs []error
	switch l.Format {
	case "auto", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log-format: %q is not auto, text or json", l.Format))
	}
	switch l.Level {
	case "debug", "info", "warn", "warning", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", l.Level))
	}
	return errors.Join(errs...)
}

// Sandbox configures the local CrowdChange API (`ccsync sandbox` and the global --sandbox).
type Sandbox struct {
	Enabled      bool // --sandbox: run the verb against an in-process sandbox
	Addr         string
	Seed         int64
	Transactions int
	// From and To bound the generated transactions' dates ([From, To+1 day)); zero: the twelve
	// months before today.
	From, To time.Time
	RPS      float64 // the sandbox's own rate limit (0: none)
	Faults   float64 // fraction of answers faulted (429, 5xx, truncated, slow)
	Example  bool    // also serve the API's example transaction

	// A hostile sandbox (crowdchangetest.Hostile): pages capped below the limit, the page
	// parameter ignored, and a fraction of transactions mangled with tricks (comma-separated
	// names; empty: all), each carrying Canary when it is set.
	PageCap    int
	IgnorePage bool
	Hostile    float64
	Tricks     string
	Canary     string
}

// SetDefaults fills unset fields.
func (s *Sandbox) SetDefaults() {
	if s.Addr == "" {
		s.Addr = "127.0.0.1:8080"
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	if s.Transactions == 0 {
		s.Transactions = 20000
	}
}

// Validate checks the configuration.
func (s Sandbox) Validate() error {
	var errs []error
	if s.Transactions < 0 {
		errs = append(errs, fmt.Errorf("sandbox-transactions: %d must be >= 0", s.Transactions))
	}
	if s.Faults < 0 || s.Faults >= 1 {
		errs = append(errs, fmt.Errorf("sandbox-faults: %v must be in [0, 1)", s.Faults))
	}
	if s.RPS < 0 {
		errs = append(errs, fmt.Errorf("sandbox-rps: %v must be >= 0", s.RPS))
	}
	if s.PageCap < 0 {
		errs = append(errs, fmt.Errorf("sandbox-page-cap: %d must be >= 0", s.PageCap))
	}
	if s.Hostile < 0 || s.Hostile > 1 {
		errs = append(errs, fmt.Errorf("sandbox-hostile: %v must be in [0, 1]", s.Hostile))
	}
	if !s.From.IsZero() && !s.To.IsZero() && s.To.Before(s.From) {
		errs = append(errs, errors.New("sandbox-from, sandbox-to: to is before from"))
	}
	return errors.Join(errs...)
}

// Output configures what verbs print.
type Output struct {
	Format string // table | csv | json (query, status); sql | bigquery-json (schema)
	Table  string // schema: only this table
}

// SetDefaults fills unset fields.
func (o *Output) SetDefaults() {}

// Validate checks the format against what the verb accepts.
func (o Output) Validate(allowed ...string) error {
	if o.Format == "" {
		return nil
	}
	for _, a := range allowed {
		if o.Format == a {
			return nil
		}
	}
	return fmt.Errorf("format: %q is not one of %v", o.Format, allowed)
}
