package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/ccsync/ccsync/config"
)

// childEnv makes the test binary, started again by a test, play another process: "MODE ARG".
// The child prints one line when it is ready, then, for the holding modes, waits until its stdin
// is closed.
//
//	hold-rw PATH   opens the DuckDB file read-write and holds it
//	hold-ro PATH   opens the DuckDB file read-only and holds it
//	count PATH     opens the warehouse read-only without waiting and prints its checkpoints
//	batch DIR      starts a batch under DIR, prints its directory and keeps it open
const childEnv = "CCSYNC_LOAD_TEST_CHILD"

// init runs before TestMain: a child never runs the tests.
func init() {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return
	}
	if err := runChild(spec); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(spec string) error {
	mode, arg, _ := strings.Cut(spec, " ")
	switch mode {
	case "hold-rw", "hold-ro":
		dsn := arg
		if mode == "hold-ro" {
			dsn += "?access_mode=READ_ONLY"
		}
		c, err := duckdb.NewConnector(dsn, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Println("holding")
		_, err = io.Copy(io.Discard, os.Stdin)
		return err
	case "count", "count-wait": // without waiting for the file; or waiting up to 30s
		cfg := config.DuckDB{Path: arg}
		if mode == "count-wait" {
			cfg.LockWait = 30 * time.Second
		}
		d, err := OpenDuckDBReadOnly(context.Background(), cfg, nil)
		if err != nil {
			return err
		}
		defer d.Close()
		cps, err := d.Checkpoints(context.Background())
		if err != nil {
			return err
		}
		fmt.Println(len(cps))
		return nil
	case "batch":
		b, err := NewBatch(arg, "run-child", "batch-child", nil)
		if err != nil {
			return err
		}
		fmt.Println(b.dir)
		_, err = io.Copy(io.Discard, os.Stdin)
		return err
	}
	return fmt.Errorf("unknown child mode %q", mode)
}

// childEnviron is the environment of a child test process: this one's, with vars added, and the
// race detector's pause at exit (a second, for other threads to finish: see GORACE
// atexit_sleep_ms) turned off, as the tests wait for their children to end.
func childEnviron(vars ...string) []string {
	var env []string
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, "GORACE="); ok {
			gorace = strings.TrimSpace(v + " " + gorace)
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "GORACE="+gorace), vars...)
}

// child is a running child process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	line   string        // what it printed when ready
	exited chan struct{} // closed once it has ended; err is then how
	err    error
}

// startChild starts the test binary as a child process and waits for its first line. The child
// is released (or found ended) when the test ends.
func startChild(t *testing.T, spec string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = childEnviron(childEnv + "=" + spec)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	sc := bufio.NewScanner(stdout)
	if sc.Scan() {
		c.line = sc.Text()
	}
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() { _ = c.release() })
	if c.line == "" {
		err := c.release()
		t.Fatalf("child %q printed nothing: %v\n%s", spec, err, stderr.String())
	}
	return c
}

// release closes the child's stdin and waits for it to end; it returns how it ended. It may be
// called again.
func (c *child) release() error {
	_ = c.stdin.Close()
	<-c.exited
	return c.err
}
