package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
)

// piiKey is the PII key of these tests (a file holds it).
const piiKey = "a PII key for the tests, 32 byte"

// piiRuns loads the three sandboxes (in-process, deterministic) into db with extra settings, and
// returns everything the runs printed (summaries and logs at debug level).
func piiRuns(t *testing.T, db string, extra ...string) string {
	t.Helper()
	now := func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }
	c := cli{now: now}
	sandbox := []string{"--sandbox", "--sandbox-seed", "5", "--sandbox-transactions", "150", "--sandbox-from", "2025-01-01", "--sandbox-to", "2025-02-28",
		"--duckdb", db, "--log-format", "json", "--log-level", "debug"}
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
	d, err := load.OpenDuckDBReadOnly(context.Background(), config.DuckDB{Path: db}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out := map[string]string{}
	var public strings.Builder
	for _, tb := range schemas.SourceDataTables() {
		for _, c := range tb.Columns {
			if c.PII || c.Type != schemas.String || c.Repeated || c.Derived != "" {
				continue
			}
			for _, v := range columnValues(t, d, `SELECT DISTINCT `+schemas.QuoteIdent(c.Name)+` FROM `+schemas.QuoteIdent(tb.Name)+` WHERE `+schemas.QuoteIdent(c.Name)+` IS NOT NULL`) {
				public.WriteString(v + "\n")
			}
		}
	}
	for _, tb := range schemas.SourceDataTables() {
		for _, c := range tb.Columns {
			if !c.PII || c.Type != schemas.String || c.Repeated || c.Derived != "" {
				continue
			}
			for _, v := range columnValues(t, d, `SELECT DISTINCT `+schemas.QuoteIdent(c.Name)+` FROM `+schemas.QuoteIdent(tb.Name)+` WHERE length(`+schemas.QuoteIdent(c.Name)+`) >= 6`) {
				if !strings.Contains(public.String(), v) {
					out[v] = tb.Name + "." + c.Name
				}
			}
		}
	}
	return out
}

// strings_ are the values of a query's one string column.
func columnValues(t *testing.T, d *load.DuckDB, query string) []string {
	t.Helper()
	rows, err := d.DB().Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// warehouseText is every value of every table of db as text (the raw JSON decompressed), and
// the file's bytes.
func warehouseText(t *testing.T, db string) string {
	t.Helper()
	d, err := load.OpenDuckDBReadOnly(context.Background(), config.DuckDB{Path: db}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var b strings.Builder
	for _, tb := range schemas.AllTables() {
		for _, v := range columnValues(t, d, `SELECT CAST(t AS VARCHAR) FROM `+schemas.QuoteIdent(tb.Name)+` AS t`) {
			b.WriteString(v + "\n")
		}
	}
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
	d, err := load.OpenDuckDBReadOnly(context.Background(), config.DuckDB{Path: kept}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	var id, email string
	err = d.DB().QueryRow(`SELECT id, email FROM crowdtilt_users_current WHERE email IS NOT NULL ORDER BY id LIMIT 1`).Scan(&id, &email)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, []byte(piiKey))
	m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	want := hex.EncodeToString(m.Sum(nil))
	d, err = load.OpenDuckDBReadOnly(context.Background(), config.DuckDB{Path: hashed}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	var key string
	err = d.DB().QueryRow(`SELECT donor_key FROM crowdtilt_users_current WHERE id = ?`, id).Scan(&key)
	d.Close()
	if err != nil || key != want {
		t.Errorf("donor_key %q (%v), want HMAC-SHA256 of the normalised e-mail", key, err)
	}

	// verify redacts the API's answer as the policy stored it.
	c := cli{now: func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }}
	for _, source := range []string{"crowdchange", "donately", "crowdtilt"} {
		r := c.run(t, "--source", source, "--sandbox", "--sandbox-seed", "5", "--sandbox-transactions", "150", "--sandbox-from", "2025-01-01", "--sandbox-to", "2025-02-28",
			"--duckdb", hashed, "--log-level", "warn", "--pii-default", "hash", "--pii-key-file", keyFile, "verify", "--from", "2025-01-01", "--to", "2025-02-28")
		if r.code != 0 {
			t.Errorf("verify --source %s under the hash policy exited %d\n%s%s", source, r.code, r.stdout, r.stderr)
		}
	}
	// The content hash is computed over the redacted record: a second walk finds no change.
	again := c.run(t, "--source", "crowdtilt", "--sandbox", "--sandbox-seed", "5", "--sandbox-transactions", "150", "--sandbox-from", "2025-01-01", "--sandbox-to", "2025-02-28",
		"--duckdb", hashed, "--log-level", "warn", "--pii-default", "hash", "--pii-key-file", keyFile, "sync")
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
	d, err = load.OpenDuckDBReadOnly(context.Background(), config.DuckDB{Path: dropped}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tb := range schemas.SourceDataTables() {
		for _, col := range tb.Columns {
			if !col.PII || col.Derived != "" {
				continue
			}
			var n int
			if err := d.DB().QueryRow(`SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?`, tb.Name, col.Name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s.%s exists under the drop policy", tb.Name, col.Name)
			}
		}
	}
	var keys int
	if err := d.DB().QueryRow(`SELECT count(donor_key) FROM crowdtilt_users`).Scan(&keys); err != nil || keys != 0 {
		t.Errorf("%d donor keys without a key under the drop policy (%v), want none", keys, err)
	}
	text = warehouseText(t, dropped)
	for v, where := range values {
		if strings.Contains(text, v) || strings.Contains(out, v) {
			t.Fatalf("a value of %s is in the warehouse under the drop policy", where)
		}
	}
	if bytes.Contains([]byte(out), []byte("\"pii_policy\":\"default drop\"")) == false {
		t.Errorf("the run log lines do not name the policy")
	}
}
