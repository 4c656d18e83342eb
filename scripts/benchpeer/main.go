// Command benchpeer measures the DuckDB peer of `make bench`: DuckDB's own read_json of the same
// transactions a ccsync run loaded, written to Parquet. It reads the raw JSON of every current
// transaction out of the run's DuckDB file (not timed), writes it as newline-delimited JSON,
// then times `COPY (SELECT * FROM read_json(…)) TO '….parquet'` in a fresh in-memory DuckDB and
// prints one line: transactions, JSON bytes per transaction, CPU µs per transaction (user+sys of
// this process, DuckDB's threads included), transactions per second.
//
// usage: go run ./scripts/benchpeer -duckdb run.duckdb -dir /tmp/work
package main

import (
	"bufio"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	dbPath := flag.String("duckdb", "", "the DuckDB file of a ccsync run (read-only)")
	dir := flag.String("dir", os.TempDir(), "where to write the JSON and Parquet files")
	flag.Parse()
	if err := run(*dbPath, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "benchpeer:", err)
		os.Exit(1)
	}
}

func run(dbPath, dir string) error {
	if dbPath == "" {
		return fmt.Errorf("-duckdb is required")
	}
	jsonPath := filepath.Join(dir, "peer.ndjson")
	n, size, err := dumpRaw(dbPath, jsonPath)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s holds no transactions", dbPath)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		return err
	}
	out := filepath.Join(dir, "peer.parquet")
	q := fmt.Sprintf(`COPY (SELECT * FROM read_json('%s', format = 'newline_delimited', maximum_object_size = 104857600)) TO '%s' (FORMAT parquet, COMPRESSION snappy)`, jsonPath, out)
	cpu0, wall0 := cpuTime(), time.Now()
	if _, err := db.Exec(q); err != nil {
		return fmt.Errorf("read_json into Parquet: %w", err)
	}
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	fmt.Printf("%d %.0f %.1f %.0f\n", n, float64(size)/float64(n),
		float64(cpu.Microseconds())/float64(n), float64(n)/wall.Seconds())
	return nil
}

// dumpRaw writes the raw JSON of every current transaction of the ccsync file, one per line.
func dumpRaw(dbPath, jsonPath string) (n int, size int64, err error) {
	db, err := sql.Open("duckdb", dbPath+"?access_mode=READ_ONLY")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT raw FROM raw_transactions_current`)
	if err != nil {
		return 0, 0, fmt.Errorf("reading raw transactions: %w", err)
	}
	defer rows.Close()
	f, err := os.Create(jsonPath)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return 0, 0, err
		}
		n++
		size += int64(len(raw))
		w.WriteString(raw)
		w.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	return n, size, w.Flush()
}

// cpuTime is the user+sys CPU time of this process so far, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
