// Package transformtest reads Arrow records back for tests of the sources' transforms: a cell as a
// comparable Go value (Cell) and whole records as golden JSON lines (RenderRecords), money exact.
// Only tests import it.
package transformtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/ccsync/ccsync/schemas"
)

var tenToScale = new(big.Int).Exp(big.NewInt(10), big.NewInt(schemas.NumericScale), nil)

// Cell is row i of a as a Go value to compare: nil for null, int64, string, bool, *big.Rat for a
// NUMERIC, time.Time (UTC) for a timestamp or a date, []any for a list. It panics on another
// array type.
func Cell(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Decimal128:
		return new(big.Rat).SetFrac(a.Value(i).BigInt(), tenToScale)
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(i))).UTC()
	case *array.Date32:
		return a.Value(i).ToTime().UTC()
	case *array.List:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		out := []any{}
		for k := start; k < end; k++ {
			out = append(out, Cell(vals, int(k)))
		}
		return out
	}
	panic(fmt.Sprintf("unexpected array type %s", a.DataType()))
}

// DecimalString renders a decimal exactly, with scale fractional digits ("29.950000000").
func DecimalString(n decimal128.Num, scale int) string {
	bi := n.BigInt()
	neg := bi.Sign() < 0
	s := new(big.Int).Abs(bi).String()
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	if scale > 0 {
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// RenderRecords renders the records of tables (recs[i] is tables[i]'s) as JSON lines, one per row,
// {"_table": name, column: value, ...} with the columns in schema order; decimals as exact strings,
// timestamps in RFC 3339 (UTC), dates as YYYY-MM-DD, lists as arrays.
func RenderRecords(tables []schemas.Table, recs []arrow.Record) []byte {
	var buf bytes.Buffer
	for i, rec := range recs {
		renderRows(&buf, tables[i], rec)
	}
	return buf.Bytes()
}

func renderRows(buf *bytes.Buffer, tb schemas.Table, rec arrow.Record) {
	for i := 0; i < int(rec.NumRows()); i++ {
		fmt.Fprintf(buf, `{"_table":%q`, tb.Name)
		for j, c := range rec.Columns() {
			fmt.Fprintf(buf, ",%q:", tb.Columns[j].Name)
			renderCell(buf, c, i)
		}
		buf.WriteString("}\n")
	}
}

func renderCell(buf *bytes.Buffer, a arrow.Array, i int) {
	if a.IsNull(i) {
		buf.WriteString("null")
		return
	}
	var v any
	switch a := a.(type) {
	case *array.Decimal128:
		v = DecimalString(a.Value(i), int(a.DataType().(*arrow.Decimal128Type).Scale))
	case *array.Timestamp:
		v = time.UnixMicro(int64(a.Value(i))).UTC().Format(time.RFC3339Nano)
	case *array.Date32:
		v = a.Value(i).ToTime().UTC().Format(time.DateOnly)
	case *array.List:
		start, end := a.ValueOffsets(i)
		buf.WriteString("[")
		for k := start; k < end; k++ {
			if k > start {
				buf.WriteString(",")
			}
			renderCell(buf, a.ListValues(), int(k))
		}
		buf.WriteString("]")
		return
	default:
		v = Cell(a, i)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	buf.Write(b)
}

// Golden compares got with the golden file testdata/name of the calling test's package; with
// update (the test's -update flag) it first rewrites the file with got.
func Golden(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading the golden file (run go test -update to write it): %v", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
				t.Fatalf("records differ from %s from line %d (go test -update rewrites it)", golden, i+1)
			}
		}
	}
}
