package main

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"text/tabwriter"
	"time"
)

// writeRows prints query results as an aligned table, CSV or JSON (an array of objects).
func writeRows(w io.Writer, rows *sql.Rows, format string) (int, error) {
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	var records [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, fmt.Errorf("reading a row: %w", err)
		}
		records = append(records, vals)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	switch format {
	case "json":
		out := make([]map[string]any, len(records))
		for i, r := range records {
			m := make(map[string]any, len(cols))
			for j, c := range cols {
				m[c] = jsonValue(r[j])
			}
			out[i] = m
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return len(records), enc.Encode(out)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(cols)
		for _, r := range records {
			line := make([]string, len(r))
			for j, v := range r {
				line[j] = textValue(v)
			}
			_ = cw.Write(line)
		}
		cw.Flush()
		return len(records), cw.Error()
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
		under := make([]string, len(cols))
		for i, c := range cols {
			under[i] = strings.Repeat("-", max(len(c), 3))
		}
		fmt.Fprintln(tw, strings.Join(under, "\t"))
		for _, r := range records {
			line := make([]string, len(r))
			for j, v := range r {
				line[j] = textValue(v)
			}
			fmt.Fprintln(tw, strings.Join(line, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return 0, err
		}
		fmt.Fprintf(w, "(%d rows)\n", len(records))
		return len(records), nil
	}
}

// textValue renders a database value for people: NULL, exact decimals, UTC timestamps.
func textValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(v)
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.UTC().Format(time.DateOnly)
		}
		return v.UTC().Format("2006-01-02 15:04:05.999999Z07:00")
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = textValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *big.Int:
		return v.String()
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// jsonValue keeps numbers and booleans as JSON numbers and booleans, but exact decimals as
// strings (a JSON reader would otherwise round them through float64).
func jsonValue(v any) any {
	switch v := v.(type) {
	case nil, bool, int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, float32, float64, string:
		return v
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonValue(e)
		}
		return out
	}
	return textValue(v)
}
