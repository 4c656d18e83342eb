package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/schemas"
)

// piiKey is the PII key of these tests (a file holds it).
const piiKey = "a PII key for the tests, 32 byte"

// piiSandbox are the settings of the in-process sandboxes of these tests: small, deterministic.
func piiSandbox() []string {
	return []string{"--sandbox", "--sandbox-seed", "5", "--sandbox-transactions", "150", "--sandbox-from", "2025-01-01", "--sandbox-to", "2025-02-28"}
}

// piiRuns loads the three sandboxes (in-process, deterministic) into db with extra settings, and
// returns everything the runs printed (summaries and logs at debug level).
func piiRuns(t *testing.T, db string, extra ...string) string {
	t.Helper()
	now := func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }
	c := cli{now: now}
	sandbox := append(piiSandbox(), "--duckdb", db, "--log-format", "json", "--log-level", "debug")
	var out strings.Builder
	for _, run := range [][]string{
		{"backfill", "--from", "2025-01-01", "--to", "2025-02-28"},
		{"--source", "donately", "backfill", "--from", "2025-01-01", "--to", "2025-02-28"},
		{"--source", "crowdtilt", "sync"},
	} {
		args := append(append(append([]string{}, sandbox...), extra...), run...)
		r := c.run(t, args...)
		if r.code != 0 {
			t.Fatalf("%v exited %d\n%s", run, r.code, r.stderr)
		}
		out.WriteString(r.stdout + r.stderr)
	}
	return out.String()
}

// piiValues are the values of the PII columns of the source tables of db (those a person would
// recognise: six characters or more), with the table and column each came from; less those that
// are also values of a column that is not PII (a donor's city that is also a campaign's location
// is public data).
func piiValues(t *testing.T, db string) map[string]string {
	t.Helper()
	out := map[string]string{}
	withDuckDB(t, db, func(d *sql.DB) {
		// columns calls f with the values of every plain STRING column of the source tables whose
		// PII tag is pii, selected by where.
		columns := func(pii bool, where string, f func(v, column string)) {
			for _, tb := range schemas.SourceDataTables() {
				for _, c := range tb.Columns {
					if c.PII != pii || c.Type != schemas.String || c.Repeated || c.Derived != "" {
						continue
					}
					col := schemas.QuoteIdent(c.Name)
					queryRows(t, d, `SELECT DISTINCT `+col+` FROM `+schemas.QuoteIdent(tb.Name)+` WHERE `+strings.ReplaceAll(where, "$c", col), func(r *sql.Rows) error {
						var v string
						err := r.Scan(&v)
						f(v, tb.Name+"."+c.Name)
						return err
					})
				}
			}
		}
		var public strings.Builder
		columns(false, "$c IS NOT NULL", func(v, _ string) { public.WriteString(v + "\n") })
		columns(true, "length($c) >= 6", func(v, column string) {
			if !strings.Contains(public.String(), v) {
				out[v] = column
			}
		})
	})
	return out
}

// warehouseText is every value of every table of db as text (the raw JSON decompressed), and
// the file's bytes.
func warehouseText(t *testing.T, db string) string {
	t.Helper()
	var b strings.Builder
	withDuckDB(t, db, func(d *sql.DB) {
		for _, tb := range schemas.AllTables() {
			queryRows(t, d, `SELECT CAST(t AS VARCHAR) FROM `+schemas.QuoteIdent(tb.Name)+` AS t`, func(r *sql.Rows) error {
				var v string
				err := r.Scan(&v)
				b.WriteString(v + "\n")
				return err
			})
		}
	})
	file, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	b.Write(file)
	return b.String()
}

// With hash as the default PII policy, no PII value of the sandboxes appears anywhere: not in the
// warehouse file, not in any table's values (raw JSON included), not in the output; the donor
// key is the keyed hash of the normalised e-mail; verify agrees; status names the policy. With
// drop, the PII columns do not exist.
func TestPIIPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "pii.key")
	if err := os.WriteFile(keyFile, []byte(piiKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	kept := filepath.Join(dir, "kept.duckdb")
	piiRuns(t, kept)
	values := piiValues(t, kept)
	if len(values) < 100 {
		t.Fatalf("only %d PII values in the kept warehouse: the test proves little", len(values))
	}
	t.Logf("%d PII values in the kept warehouse", len(values))
	perTable := map[string]int{}
	for _, where := range values {
		perTable[strings.SplitN(where, ".", 2)[0]]++
	}
	for _, tb := range []string{"transactions", "donately_people", "crowdtilt_users"} {
		if perTable[tb] == 0 {
			t.Errorf("no PII value of %s: the sandboxes changed?", tb)
		}
	}

	hashed := filepath.Join(dir, "hashed.duckdb")
	out := piiRuns(t, hashed, "--pii-default", "hash", "--pii-key-file", keyFile)
	text := warehouseText(t, hashed)
	leaks := 0
	for v, where := range values {
		if strings.Contains(text, v) || strings.Contains(out, v) {
			if leaks++; leaks <= 5 {
				t.Errorf("a value of %s is in the hashed warehouse or the output", where)
			}
		}
	}
	if leaks > 0 {
		t.Fatalf("%d of %d PII values leaked", leaks, len(values))
	}
	if strings.Contains(text, piiKey) || strings.Contains(out, piiKey) {
		t.Fatal("the PII key is in the warehouse or the output")
	}

	// The donor key is HMAC-SHA256 of the normalised e-mail, the same function in every source.
	var id, email, key string
	withDuckDB(t, kept, func(d *sql.DB) {
		if err := d.QueryRow(`SELECT id, email FROM crowdtilt_users_current WHERE email IS NOT NULL ORDER BY id LIMIT 1`).Scan(&id, &email); err != nil {
			t.Fatal(err)
		}
	})
	m := hmac.New(sha256.New, []byte(piiKey))
	m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	want := hex.EncodeToString(m.Sum(nil))
	withDuckDB(t, hashed, func(d *sql.DB) {
		if err := d.QueryRow(`SELECT donor_key FROM crowdtilt_users_current WHERE id = ?`, id).Scan(&key); err != nil || key != want {
			t.Errorf("donor_key %q (%v), want HMAC-SHA256 of the normalised e-mail", key, err)
		}
	})

	// verify redacts the API's answer as the policy stored it.
	c := cli{now: func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }}
	for _, source := range []string{"crowdchange", "donately", "crowdtilt"} {
		r := c.run(t, append(piiSandbox(), "--source", source, "--duckdb", hashed, "--log-level", "warn", "--pii-default", "hash", "--pii-key-file", keyFile,
			"verify", "--from", "2025-01-01", "--to", "2025-02-28")...)
		if r.code != 0 {
			t.Errorf("verify --source %s under the hash policy exited %d\n%s%s", source, r.code, r.stdout, r.stderr)
		}
	}
	// The content hash is computed over the redacted record: a second walk finds no change.
	again := c.run(t, append(piiSandbox(), "--source", "crowdtilt", "--duckdb", hashed, "--log-level", "warn", "--pii-default", "hash", "--pii-key-file", keyFile, "sync")...)
	if again.code != 0 || !strings.Contains(again.stdout, "changed        0 of the") {
		t.Errorf("a second walk under the hash policy: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	st := c.run(t, "--source", "crowdtilt", "--duckdb", hashed, "--log-level", "warn", "status")
	if !strings.Contains(st.stdout, "default hash; key set") {
		t.Errorf("status does not name the policy:\n%s", st.stdout)
	}

	// drop: the PII columns are absent (the donor key stays, null without a key).
	dropped := filepath.Join(dir, "dropped.duckdb")
	out = piiRuns(t, dropped, "--pii-default", "drop")
	withDuckDB(t, dropped, func(d *sql.DB) {
		for _, tb := range schemas.SourceDataTables() {
			for _, col := range tb.Columns {
				if !col.PII || col.Derived != "" {
					continue
				}
				q := fmt.Sprintf(`SELECT count(*) FROM information_schema.columns WHERE table_name = '%s' AND column_name = '%s'`, tb.Name, col.Name)
				if queryInt(t, d, q) != 0 {
					t.Errorf("%s.%s exists under the drop policy", tb.Name, col.Name)
				}
			}
		}
		if keys := queryInt(t, d, `SELECT count(donor_key) FROM crowdtilt_users`); keys != 0 {
			t.Errorf("%d donor keys without a key under the drop policy, want none", keys)
		}
	})
	text = warehouseText(t, dropped)
	for v, where := range values {
		if strings.Contains(text, v) || strings.Contains(out, v) {
			t.Fatalf("a value of %s is in the warehouse under the drop policy", where)
		}
	}
	if !strings.Contains(out, `"pii_policy":"default drop"`) {
		t.Errorf("the run log lines do not name the policy")
	}
}
