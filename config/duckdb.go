package config

import "errors"

// DuckDB is the embedded warehouse's configuration (package load).
type DuckDB struct {
	// Path is the database file.
	Path string `yaml:"path"`
	// Threads caps DuckDB's threads (0: DuckDB's default).
	Threads int `yaml:"threads"`
	// MemoryLimit is DuckDB's memory_limit, such as "1GB" ("": DuckDB's default).
	MemoryLimit string `yaml:"memory_limit"`
}

// SetDefaults fills unset fields.
func (d *DuckDB) SetDefaults() {
	if d.Path == "" {
		d.Path = "./ccsync.duckdb"
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
