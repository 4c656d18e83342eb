package load

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"

	"github.com/ccsync/ccsync/schemas/crowdchange"
)

// duckDBError returns DuckDB's error for a query (in an in-memory database).
func duckDBError(t *testing.T, q string) string {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(q)
	if err == nil {
		t.Fatalf("%s succeeded", q)
	}
	return err.Error()
}

// scrubValues removes the values of real DuckDB messages and of BigQuery's load errors, and keeps
// the error's class, its structure and the names of columns.
func TestScrubValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		msg     string
		planted []string
		keep    []string
	}{
		{
			name:    "DuckDB: string to BIGINT, with the query's line",
			msg:     duckDBError(t, "SELECT CAST('Jane Doe' AS BIGINT)"),
			planted: []string{"Jane", "Doe"},
			keep:    []string{"Conversion Error: Could not convert string", "to INT64"},
		},
		{
			name:    "DuckDB: apostrophe in a name",
			msg:     duckDBError(t, "CREATE TABLE n(i BIGINT); INSERT INTO n SELECT 'Jane O''Brien'"),
			planted: []string{"Jane", "Brien"},
			keep:    []string{"Conversion Error: Could not convert string"},
		},
		{
			name:    "DuckDB: number out of range",
			msg:     duckDBError(t, "SELECT CAST(99999999999999999999999 AS BIGINT)"),
			planted: []string{"99999999999999999999999"},
			keep:    []string{"Conversion Error: Type INT128 with value", "can't be cast because the value is out of range for the destination type INT64"},
		},
		{
			name:    "DuckDB: number into DECIMAL",
			msg:     duckDBError(t, "SELECT CAST(1e40 AS DECIMAL(38, 9))"),
			planted: []string{"10000000000000000303786028427003666890752"},
			keep:    []string{"Conversion Error: Could not cast value", "to DECIMAL(38,9)"},
		},
		{
			name:    "DuckDB: timestamp",
			msg:     duckDBError(t, "SELECT CAST('12 Main St' AS TIMESTAMP)"),
			planted: []string{"Main St"},
			keep:    []string{"Conversion Error"},
		},
		{
			name:    "DuckDB: invalid UTF-8 in a Parquet file (quote inside)",
			msg:     "Invalid Input Error: Invalid string encoding found in Parquet file: value \"jane\xff\"doe@example.com\" is not valid UTF8!",
			planted: []string{"jane", "doe", "example.com"},
			keep:    []string{"Invalid Input Error: Invalid string encoding found in Parquet file: value", "is not valid UTF8!"},
		},
		{
			name:    "DuckDB: value over two lines",
			msg:     "Conversion Error: Could not convert string 'Jane Doe\n12 Main St' to INT64 when casting from source column id",
			planted: []string{"Jane", "Main St"},
			keep:    []string{"Conversion Error: Could not convert string"},
		},
		{
			name:    "DuckDB: unbalanced quote",
			msg:     "Conversion Error: Could not convert string 'Jane Doe to INT64",
			planted: []string{"Jane"},
			keep:    []string{"Conversion Error: Could not convert string"},
		},
		{
			name:    "DuckDB: the column after the value stays",
			msg:     "Conversion Error: Could not convert string \"jane@example.com\" to DECIMAL(38,9) when casting from source column amount_total_paid",
			planted: []string{"jane@example.com"},
			keep:    []string{"Conversion Error: Could not convert string", "when casting from source column amount_total_paid"},
		},
		{
			name:    "BigQuery: CSV-style parse error",
			msg:     "Error while reading data, error message: Could not parse 'Jane Doe' as INT64 for field amount (position 3) starting at location 0 with message 'Unable to parse'",
			planted: []string{"Jane Doe"},
			keep:    []string{"Error while reading data, error message: Could not parse"},
		},
		{
			name:    "BigQuery: JSON parse error with the value at the end",
			msg:     "Error while reading data, error message: JSON parsing error in row starting at position 0: Could not convert value 'string_value: \"Jane\"' to integer. Field: amount; Value: Jane Doe",
			planted: []string{"Jane"},
			keep:    []string{"Error while reading data, error message: JSON parsing error in row starting at position 0: Could not convert value", "Field: amount; Value:"},
		},
		{
			name: "BigQuery: quoted column names stay",
			msg:  "Error while reading data, error message: Parquet column 'amount_total_paid' has type DOUBLE which does not match the target cpp_type NUMERIC. File: gs://b/ccsync/x/transactions.parquet",
			keep: []string{"Parquet column 'amount_total_paid' has type DOUBLE which does not match the target cpp_type NUMERIC"},
		},
		{
			name:    "BigQuery: value= form",
			msg:     "Invalid timestamp value=2024-13-45 Jane for field date",
			planted: []string{"Jane", "2024-13-45"},
			keep:    []string{"Invalid timestamp value="},
		},
		{
			name: "no value: unchanged",
			msg:  "Provided Schema does not match Table p:d.transactions. Field amount_total_paid has changed type from NUMERIC to FLOAT",
			keep: []string{"Provided Schema does not match Table p:d.transactions. Field amount_total_paid has changed type from NUMERIC to FLOAT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scrubValues(tt.msg)
			for _, p := range tt.planted {
				if !strings.Contains(tt.msg, p) {
					t.Fatalf("the message %q does not hold %q: the case tests nothing", tt.msg, p)
				}
				if strings.Contains(got, p) {
					t.Errorf("scrubValues(%q) = %q: still holds %q", tt.msg, got, p)
				}
			}
			for _, k := range tt.keep {
				if !strings.Contains(got, k) {
					t.Errorf("scrubValues(%q) = %q: lost %q", tt.msg, got, k)
				}
			}
		})
	}
}

// valueFree keeps what errors.Is and errors.As need, and nil.
func TestValueFreeKeepsErrorIdentity(t *testing.T) {
	t.Parallel()
	if valueFree(nil) != nil {
		t.Error("valueFree(nil) is not nil")
	}
	je := &JobError{Table: crowdchange.Transactions, JobID: "j", Reason: "invalid", Message: "m"}
	tests := []struct {
		name string
		err  error
		is   []error
	}{
		{"warehouse unavailable", fmt.Errorf("opening: %w: value 'Jane'", ErrWarehouseUnavailable), []error{ErrWarehouseUnavailable}},
		{"cancelled", fmt.Errorf("loading 'Jane': %w", context.Canceled), []error{context.Canceled}},
		{"read-only", fmt.Errorf("%w: 'Jane'", ErrReadOnly), []error{ErrReadOnly}},
		{"job error", fmt.Errorf("x: %w", je), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := valueFree(tt.err)
			if strings.Contains(err.Error(), "Jane") {
				t.Errorf("%q still names the value", err)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
			if errors.Is(err, ErrNoWarehouse) {
				t.Errorf("errors.Is(%v, ErrNoWarehouse) = true", err)
			}
			var got *JobError
			if want := errors.As(tt.err, &got); errors.As(err, &got) != want {
				t.Errorf("errors.As(*JobError) = %t, want %t", !want, want)
			}
		})
	}
}

// A BigQuery load job's error keeps its class and the table, not the value.
func TestJobErrorNamesNoValue(t *testing.T) {
	t.Parallel()
	cause := &bigquery.Error{Reason: "invalid", Message: "Error while reading data, error message: Could not parse 'jane@example.com' as NUMERIC for field amount_total_paid (position 0) starting at location 0"}
	je := jobFailure(crowdchange.Transactions, "ccsync-run-1-b-transactions-1", 1, cause)
	err := fmt.Errorf("committing batch b: %w", je)
	if strings.Contains(err.Error(), "jane") || strings.Contains(je.Message, "example.com") {
		t.Errorf("the job error quotes the value: %v", err)
	}
	for _, w := range []string{"committing batch b", "loading transactions: job ccsync-run-1-b-transactions-1: invalid: Error while reading data, error message: Could not parse"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
	if je.Transient {
		t.Error("an invalid job is not transient")
	}
}
