package bqtest

import (
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

func TestRewriteSQL(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"three-part path", "SELECT * FROM `proj.ds.t` AS t", `SELECT * FROM "ds"."t" AS t`},
		{"two-part path", "SELECT * FROM `ds.t`", `SELECT * FROM "ds"."t"`},
		{"separately quoted parts", "SELECT * FROM `proj`.`ds`.`t`", `SELECT * FROM "ds"."t"`},
		{"mixed quoting", "SELECT * FROM proj.`ds.t`", `SELECT * FROM "ds"."t"`},
		{"another project's path is kept", "SELECT * FROM `other.ds.t`", `SELECT * FROM "other"."ds"."t"`},
		{"bare paths pass through", "SELECT t.id FROM ds.t AS t", "SELECT t.id FROM ds.t AS t"},
		{"quoted column", "SELECT `select` FROM `ds.t`", `SELECT "select" FROM "ds"."t"`},
		{"double-quoted string", `SELECT "it's" AS s`, `SELECT 'it''s' AS s`},
		{"escapes in single quotes", `SELECT 'a\'b\\c\n'`, "SELECT 'a''b\\c\n'"},
		{"raw string", `SELECT r'a\d+'`, `SELECT 'a\d+'`},
		{"triple-quoted string", `SELECT """a "quoted" word"""`, `SELECT 'a "quoted" word'`},
		{"backticks inside strings are text", "SELECT '`ds.t`'", "SELECT '`ds.t`'"},
		{"hash comment", "SELECT 1 # note\nFROM x", "SELECT 1 -- note\nFROM x"},
		{"dash comment kept", "SELECT 1 -- `ds.t`\n", "SELECT 1 -- `ds.t`\n"},
		{"block comment kept", "SELECT /* `x` */ 1", "SELECT /* `x` */ 1"},
		{"numbers with exponents", "SELECT 1e5, 2.5, 0x1F", "SELECT 1e5, 2.5, 0x1F"},
		{"QUALIFY passes through", "SELECT * FROM `p.ds.t` QUALIFY ROW_NUMBER() OVER (PARTITION BY id) = 1", `SELECT * FROM "ds"."t" QUALIFY ROW_NUMBER() OVER (PARTITION BY id) = 1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			project := "proj"
			if strings.Contains(tc.in, "`p.") {
				project = "p"
			}
			got, err := rewriteSQL(tc.in, project)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("rewriteSQL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	for _, bad := range []string{"SELECT 'open", "SELECT `open", "SELECT /* open", "SELECT @x", "SELECT ?"} {
		if _, err := rewriteSQL(bad, "proj"); err == nil {
			t.Errorf("rewriteSQL(%q) succeeded", bad)
		}
	}
}

func TestFloatSeconds(t *testing.T) {
	cases := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2024, 3, 1, 12, 30, 0, 123456000, time.UTC), "1.709296200123456E9"},
		{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "1.7040672E9"},
		{time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC), "1.0E9"},
		{time.Unix(0, 0), "0.0"},
		{time.Unix(1, 500000000), "1.5"},
		{time.Unix(-1, 0), "-1.0"},
		{time.Unix(-86400*365*10, 0), "-3.1536E8"},
	}
	for _, tc := range cases {
		if got := floatSeconds(tc.t.UnixMicro()); got != tc.want {
			t.Errorf("floatSeconds(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestFormatDecimal(t *testing.T) {
	cases := []struct {
		unscaled string
		scale    int
		want     string
	}{
		{"105150000000", 9, "105.15"},
		{"100000000000", 9, "100"},
		{"-1", 9, "-0.000000001"},
		{"0", 9, "0"},
		{"-500000000", 9, "-0.5"},
		{"99999999999999999999999999999999999999", 9, "99999999999999999999999999999.999999999"},
		{"42", 0, "42"},
	}
	for _, tc := range cases {
		n, _ := new(big.Int).SetString(tc.unscaled, 10)
		if got := formatDecimal(n, tc.scale); got != tc.want {
			t.Errorf("formatDecimal(%s, %d) = %q, want %q", tc.unscaled, tc.scale, got, tc.want)
		}
	}
}

func TestParseDuckType(t *testing.T) {
	cases := []struct {
		in   string
		want resultType
	}{
		{"BIGINT", resultType{base: typeInteger, duck: "BIGINT"}},
		{"HUGEINT", resultType{base: typeInteger, duck: "HUGEINT"}},
		{"DECIMAL(38,9)", resultType{base: typeNumeric, duck: "DECIMAL"}},
		{"DECIMAL(38,0)", resultType{base: typeBigNumeric, duck: "DECIMAL"}},
		{"VARCHAR[]", resultType{base: typeString, repeated: true, duck: "VARCHAR"}},
		{"TIMESTAMPTZ", resultType{base: typeTimestamp, duck: "TIMESTAMPTZ"}},
		{"TIMESTAMP", resultType{base: typeDatetime, duck: "TIMESTAMP"}},
		{`STRUCT("a b" BIGINT, c DATE[])[]`, resultType{base: typeRecord, repeated: true, duck: "STRUCT", fields: []resultField{
			{name: "a b", typ: resultType{base: typeInteger, duck: "BIGINT"}},
			{name: "c", typ: resultType{base: typeDate, repeated: true, duck: "DATE"}},
		}}},
	}
	for _, tc := range cases {
		got, err := parseDuckType(tc.in)
		if err != nil {
			t.Errorf("parseDuckType(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseDuckType(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"BIGINT[][]", "INTERVAL", "MAP(VARCHAR, BIGINT)", "STRUCT(a BIGINT"} {
		if _, err := parseDuckType(bad); err == nil {
			t.Errorf("parseDuckType(%q) succeeded", bad)
		}
	}
}

func TestCellValue(t *testing.T) {
	ts := time.Date(2024, 3, 1, 12, 30, 0, 123456000, time.UTC)
	cases := []struct {
		name string
		v    any
		typ  resultType
		want any
	}{
		{"null", nil, resultType{base: typeString}, nil},
		{"null array is empty", nil, resultType{base: typeInteger, repeated: true}, []any{}},
		{"integer", int64(-7), resultType{base: typeInteger}, "-7"},
		{"numeric", duckdb.Decimal{Width: 38, Scale: 9, Value: big.NewInt(105150000000)}, resultType{base: typeNumeric}, "105.15"},
		{"float", 1.5, resultType{base: typeFloat}, "1.5"},
		{"bool", true, resultType{base: typeBoolean}, "true"},
		{"timestamp", ts, resultType{base: typeTimestamp}, "1709296200123456"},
		{"date", ts, resultType{base: typeDate}, "2024-03-01"},
		{"datetime", ts, resultType{base: typeDatetime}, "2024-03-01T12:30:00.123456"},
		{"bytes", []byte("hi"), resultType{base: typeBytes}, "aGk="},
		{"array", []any{int64(1), int64(2)}, resultType{base: typeInteger, repeated: true}, []any{map[string]any{"v": "1"}, map[string]any{"v": "2"}}},
		{"record", map[string]any{"a": int64(1), "b": nil}, resultType{base: typeRecord, fields: []resultField{{name: "a", typ: resultType{base: typeInteger}}, {name: "b", typ: resultType{base: typeString}}}},
			map[string]any{"f": []any{map[string]any{"v": "1"}, map[string]any{"v": nil}}}},
	}
	for _, tc := range cases {
		got, err := cellValue(tc.v, tc.typ, true)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: cellValue = %#v, want %#v", tc.name, got, tc.want)
		}
	}
}
