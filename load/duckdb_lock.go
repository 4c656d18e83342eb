package load

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sirupsen/logrus"
)

// DuckDB lets one process open a database file read-write, excluding every other process, or
// several processes open it read-only. ccsync therefore holds the file only while an operation
// runs: fileConnector opens the file for each connection and closes it with the connection, and
// the sink's *sql.DB keeps at most one connection and no idle one. A run that commits a batch
// every few minutes leaves the file free in between, for `ccsync status` and `ccsync query`; a
// process that finds the file locked retries with backoff, for up to config.DuckDB.LockWait.

// Pauses between two attempts to open a locked file: doubling from lockRetryFirst up to
// lockRetryMax, the last one cut to what is left of the wait. The cap is short: other processes
// hold the file for moments at a time, and a failed attempt costs next to nothing, so frequent
// attempts find a moment when it is free even under back-to-back readers.
const (
	lockRetryFirst = 10 * time.Millisecond
	lockRetryMax   = 160 * time.Millisecond
)

// Fragments of DuckDB's message when another process holds the file: `IO Error: Could not set
// lock on file "PATH": Conflicting lock is held in PROGRAM (PID N). ...`.
var lockConflictMessages = []string{"Could not set lock on file", "Conflicting lock is held"}

// isLockConflict tells whether err is DuckDB's refusal to open a file another process holds.
// duckdb-go passes the message on as text only, so it is matched by its words.
func isLockConflict(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, m := range lockConflictMessages {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// readOnlyRefusal is in DuckDB's refusal of a statement that would change a database opened
// read-only: `Cannot execute statement of type "DELETE" on database "w" which is attached in
// read-only mode!`.
const readOnlyRefusal = "read-only mode"

// yieldAfterClose is how long a sink waits, after closing the file, before it opens it again: a
// process waiting for the file retries at least every lockRetryMax, so it gets its turn even
// when the sink is busy without pause (a fast backfill that commits back to back).
const yieldAfterClose = lockRetryMax + 90*time.Millisecond

// fileConnector is a driver.Connector that opens the DuckDB file for each connection and closes
// it when the connection is closed; closing the file checkpoints its write-ahead log into it.
type fileConnector struct {
	path     string
	dsn      string   // the path, and with "?" the DSN's options (access_mode)
	settings []string // run on each new connection
	lockWait time.Duration
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	open     func(dsn string) (*duckdb.Connector, error)
	log      *logrus.Entry

	mu     sync.Mutex
	closed time.Time // when the last connection closed the file
}

// Driver is DuckDB's.
func (c *fileConnector) Driver() driver.Driver { return duckdb.Driver{} }

// Connect opens the file (waiting while another process holds it), connects and applies the
// settings. The connection closes the file when it is closed.
func (c *fileConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if since := c.now().Sub(closed); !closed.IsZero() && since < yieldAfterClose {
		if err := c.sleep(ctx, yieldAfterClose-since); err != nil {
			return nil, fmt.Errorf("opening DuckDB %s: %w", c.path, err)
		}
	}
	db, err := c.openFile(ctx)
	if err != nil {
		return nil, err
	}
	dc, err := db.Connect(ctx)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening DuckDB %s: %w: connecting: %w", c.path, ErrWarehouseUnavailable, err)
	}
	conn, ok := dc.(*duckdb.Conn)
	if !ok {
		_ = dc.Close()
		_ = db.Close()
		return nil, fmt.Errorf("opening DuckDB %s: the driver returned a %T connection", c.path, dc)
	}
	for _, s := range c.settings {
		if _, err := conn.ExecContext(ctx, s, nil); err != nil {
			_ = conn.Close()
			_ = db.Close()
			return nil, fmt.Errorf("opening DuckDB %s: %w: configuring the connection: %s: %w", c.path, ErrWarehouseUnavailable, s, err)
		}
	}
	return &fileConn{Conn: conn, db: db, closed: c.markClosed}, nil
}

// openFile opens the database file, retrying with backoff while another process holds it, for up
// to lockWait.
func (c *fileConnector) openFile(ctx context.Context) (*duckdb.Connector, error) {
	start := c.now()
	pause := lockRetryFirst
	for attempt := 1; ; attempt++ {
		db, err := c.open(c.dsn)
		if err == nil {
			if attempt > 1 {
				c.log.WithFields(logrus.Fields{"attempts": attempt, "waited": c.now().Sub(start).Round(time.Millisecond)}).Debug("DuckDB file released by the other process")
			}
			return db, nil
		}
		if !isLockConflict(err) {
			return nil, fmt.Errorf("opening DuckDB %s: %w: %w", c.path, ErrWarehouseUnavailable, err)
		}
		waited := c.now().Sub(start)
		if waited >= c.lockWait {
			return nil, fmt.Errorf("opening DuckDB %s: %w: another process holds the file (waited %s, see duckdb-lock-wait): %w",
				c.path, ErrWarehouseUnavailable, waited.Round(time.Millisecond), err)
		}
		if attempt == 1 {
			c.log.WithField("lock_wait", c.lockWait).Debug("DuckDB file held by another process; waiting")
		}
		if err := c.sleep(ctx, min(pause, c.lockWait-waited)); err != nil {
			return nil, fmt.Errorf("opening DuckDB %s: waiting for another process to release the file: %w", c.path, err)
		}
		pause = min(2*pause, lockRetryMax)
	}
}

// markClosed records that a connection closed the file.
func (c *fileConnector) markClosed() {
	c.mu.Lock()
	c.closed = c.now()
	c.mu.Unlock()
}

// fileConn is a DuckDB connection that owns its database: closing it closes the file. It embeds
// *duckdb.Conn, so database/sql finds every interface the driver's connection implements.
type fileConn struct {
	*duckdb.Conn
	db     *duckdb.Connector
	closed func() // tells the connector
}

// Close closes the connection, then the database.
func (c *fileConn) Close() error {
	err := c.Conn.Close()
	if cerr := c.db.Close(); err == nil {
		err = cerr
	}
	c.closed()
	return err
}

// newDuckDBConnector is how fileConnector opens a file by default.
func newDuckDBConnector(dsn string) (*duckdb.Connector, error) { return duckdb.NewConnector(dsn, nil) }
