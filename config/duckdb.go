package config

import "errors"

// DuckDB is the embedded warehouse's configuration (package load).
type DuckDB struct {
	// Path is the database file.
	Path string
	// Threads caps DuckDB's threads (0: DuckDB's default).
	Threads int
	// MemoryLimit is DuckDB's memory_limit, such as "1GB". DuckDB's own default is 80% of the
	// machine's memory; ccsync's is 256MB, so that a run's memory stays flat whatever the
	// warehouse's size (DuckDB spills to disk beyond it).
	MemoryLimit string
}

// SetDefaults fills unset fields.
func (d *DuckDB) SetDefaults() {
	if d.Path == "" {
		d.Path = "./ccsync.duckdb"
	}
	if d.MemoryLimit == "" {
		d.MemoryLimit = "256MB"
	}
}

// Validate checks the configuration.
func (d DuckDB) Validate() error {
	if d.Path == "" {
		return errors.New("duckdb: path is empty")
	}
	if d.Threads < 0 {
		return errors.New("duckdb.threads: must be >= 0")
	}
	return nil
}
