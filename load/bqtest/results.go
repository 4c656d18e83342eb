package bqtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	bq "google.golang.org/api/bigquery/v2"
)

// maxPageRows bounds a page of results when the client does not ask for fewer.
const maxPageRows = 100_000

// queryResult is a query's result: its BigQuery schema, and its rows as DuckDB scanned them.
type queryResult struct {
	schema []*bq.TableFieldSchema
	types  []resultType
	rows   [][]any
}

// runQuery runs DuckDB SQL and keeps its rows. When schema is given (tabledata.list) it is the
// result's schema; otherwise the schema is derived from DuckDB's column types.
func (s *Server) runQuery(ctx context.Context, query string, schema []*bq.TableFieldSchema) (*queryResult, *apiError) {
	return s.runQueryIn(ctx, query, "", nil, schema)
}

// runQueryArgs runs a query job's DuckDB SQL with its bound parameters, unqualified table names
// resolved in defaultDataset (when not "").
func (s *Server) runQueryArgs(ctx context.Context, query, defaultDataset string, args []any) (*queryResult, *apiError) {
	return s.runQueryIn(ctx, query, defaultDataset, args, nil)
}

func (s *Server) runQueryIn(ctx context.Context, query, defaultDataset string, args []any, schema []*bq.TableFieldSchema) (*queryResult, *apiError) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, backendErr("connecting to DuckDB", err)
	}
	defer conn.Close()
	if defaultDataset != "" {
		if _, err := conn.ExecContext(ctx, "SET schema = "+quoteLiteral(defaultDataset)); err != nil {
			return nil, errNotFound("Not found: Dataset %s", s.datasetID(defaultDataset))
		}
		defer func() {
			// A connection whose search path cannot be reset must not go back to the pool.
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), "RESET search_path"); err != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.queryError(err)
	}
	defer rows.Close()
	res, aerr := s.collect(rows, schema)
	if aerr != nil {
		return nil, aerr
	}
	return res, nil
}

func (s *Server) collect(rows *sql.Rows, schema []*bq.TableFieldSchema) (*queryResult, *apiError) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, s.queryError(err)
	}
	res := &queryResult{types: make([]resultType, len(cts))}
	for i, ct := range cts {
		t, err := parseDuckType(ct.DatabaseTypeName())
		if err != nil {
			return nil, errInvalidQuery("Column %s: %v", ct.Name(), err)
		}
		res.types[i] = t
		if schema == nil {
			name := ct.Name()
			if !fieldNameRE.MatchString(name) {
				name = fmt.Sprintf("f%d_", i)
			}
			res.schema = append(res.schema, t.field(name))
		}
	}
	if schema != nil {
		res.schema = cloneFields(schema)
	}
	for rows.Next() {
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, s.queryError(err)
		}
		res.rows = append(res.rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, s.queryError(err)
	}
	return res, nil
}

// resultSchema is the BigQuery schema of a query's result, without running it to completion.
func (s *Server) resultSchema(ctx context.Context, query string) ([]*bq.TableFieldSchema, error) {
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	out := make([]*bq.TableFieldSchema, len(cts))
	for i, ct := range cts {
		t, err := parseDuckType(ct.DatabaseTypeName())
		if err != nil {
			return nil, err
		}
		out[i] = t.field(ct.Name())
	}
	return out, nil
}

// queryError turns a DuckDB error into BigQuery's: missing tables are notFound, everything else
// invalidQuery. Messages of errors about values are withheld: they may quote row values.
func (s *Server) queryError(err error) *apiError {
	msg := err.Error()
	for _, kind := range []string{"Conversion Error", "Constraint Error", "Invalid Input Error", "Out of Range Error", "Invalid Error"} {
		if strings.Contains(msg, kind) {
			return errInvalidQuery("%s: a value could not be processed (DuckDB's message is withheld: it may quote row values)", kind)
		}
	}
	if strings.Contains(msg, "Catalog Error") && strings.Contains(msg, "does not exist") {
		return errNotFound("Not found: %s", msg)
	}
	return errInvalidQuery("%s", msg)
}

func backendErr(doing string, err error) *apiError {
	return &apiError{code: http.StatusInternalServerError, reason: ReasonBackendError, message: fmt.Sprintf("bqtest: %s: %v", doing, err)}
}

// page returns rows [start, start+max) as REST rows and the token of the next page ("" at the
// end). The page token is the offset of the next row.
func (res *queryResult) page(startIndex, pageToken, maxResults string, int64Timestamps bool) ([]*bq.TableRow, string, *apiError) {
	start := 0
	if pageToken != "" {
		n, err := strconv.Atoi(pageToken)
		if err != nil || n < 0 {
			return nil, "", errInvalid("Invalid page token %q", pageToken)
		}
		start = n
	} else if startIndex != "" {
		n, err := strconv.Atoi(startIndex)
		if err != nil || n < 0 {
			return nil, "", errInvalid("Invalid startIndex %q", startIndex)
		}
		start = n
	}
	limit := maxPageRows
	if maxResults != "" {
		n, err := strconv.Atoi(maxResults)
		if err != nil || n < 0 {
			return nil, "", errInvalid("Invalid maxResults %q", maxResults)
		}
		limit = min(n, maxPageRows)
	}
	if start > len(res.rows) {
		start = len(res.rows)
	}
	end := min(start+limit, len(res.rows))
	out := make([]*bq.TableRow, 0, end-start)
	for _, raw := range res.rows[start:end] {
		row := &bq.TableRow{F: make([]*bq.TableCell, len(raw))}
		for i, v := range raw {
			cv, err := cellValue(v, res.types[i], int64Timestamps)
			if err != nil {
				return nil, "", errInvalidQuery("Column %s: %v", res.schema[i].Name, err)
			}
			row.F[i] = &bq.TableCell{V: cv}
		}
		out = append(out, row)
	}
	token := ""
	if end < len(res.rows) && limit > 0 {
		token = strconv.Itoa(end)
	}
	return out, token, nil
}

// cellValue renders one value the way BigQuery's REST API does: scalars as strings, REPEATED as
// [{"v":..}], RECORD as {"f":[{"v":..}]}, NULL as null (a NULL array as []).
func cellValue(v any, t resultType, int64Timestamps bool) (any, error) {
	if t.repeated {
		elem := t
		elem.repeated = false
		list, _ := v.([]any)
		if v != nil && list == nil {
			return nil, fmt.Errorf("array value of type %T", v)
		}
		out := make([]any, len(list))
		for i, e := range list {
			ev, err := cellValue(e, elem, int64Timestamps)
			if err != nil {
				return nil, err
			}
			out[i] = map[string]any{"v": ev}
		}
		return out, nil
	}
	if v == nil {
		return nil, nil
	}
	if t.base == typeRecord {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record value of type %T", v)
		}
		fs := make([]any, len(t.fields))
		for i, f := range t.fields {
			fv, err := cellValue(m[f.name], f.typ, int64Timestamps)
			if err != nil {
				return nil, err
			}
			fs[i] = map[string]any{"v": fv}
		}
		return map[string]any{"f": fs}, nil
	}
	return scalarString(v, t.base, int64Timestamps)
}

func scalarString(v any, typ string, int64Timestamps bool) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		return fmt.Sprint(x), nil
	case *big.Int:
		return x.String(), nil
	case float32:
		return formatFloat(float64(x)), nil
	case float64:
		if typ == typeNumeric || typeBigNumeric == typ {
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
		return formatFloat(x), nil
	case duckdb.Decimal:
		return formatDecimal(x.Value, int(x.Scale)), nil
	case []byte:
		if typ == typeString && len(x) == 16 {
			return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16]), nil
		}
		return base64.StdEncoding.EncodeToString(x), nil
	case time.Time:
		switch typ {
		case typeTimestamp:
			us := x.UnixMicro()
			if int64Timestamps {
				return strconv.FormatInt(us, 10), nil
			}
			return floatSeconds(us), nil
		case typeDate:
			return x.UTC().Format("2006-01-02"), nil
		case typeTime:
			return x.Format("15:04:05.999999"), nil
		default:
			return x.UTC().Format("2006-01-02T15:04:05.999999"), nil
		}
	}
	return "", fmt.Errorf("values of type %T are not emulated", v)
}

// formatDecimal renders an unscaled integer with scale digits, without trailing zeros (BigQuery's
// canonical NUMERIC text: 105.15, 100, -0.5).
func formatDecimal(unscaled *big.Int, scale int) string {
	if unscaled == nil {
		return "0"
	}
	neg := unscaled.Sign() < 0
	digits := new(big.Int).Abs(unscaled).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		intPart, frac := digits[:len(digits)-scale], strings.TrimRight(digits[len(digits)-scale:], "0")
		digits = intPart
		if frac != "" {
			digits += "." + frac
		}
	}
	if neg && digits != "0" {
		return "-" + digits
	}
	return digits
}

// formatFloat renders a FLOAT the way BigQuery does, including NaN and ±Infinity.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// floatSeconds renders microseconds since the epoch as BigQuery's legacy TIMESTAMP text: seconds
// as a floating-point number in Java's notation ("1.7040672E9", "1.704067200123456E9").
func floatSeconds(us int64) string {
	neg := us < 0
	if neg {
		us = -us
	}
	digits := strconv.FormatInt(us, 10)
	if len(digits) <= 6 {
		digits = strings.Repeat("0", 7-len(digits)) + digits
	}
	intPart, frac := digits[:len(digits)-6], strings.TrimRight(digits[len(digits)-6:], "0")
	sign := ""
	if neg {
		sign = "-"
	}
	if len(intPart) < 8 { // below 1e7 Java prints plain decimals
		if frac == "" {
			frac = "0"
		}
		return sign + intPart + "." + frac
	}
	all := strings.TrimRight(intPart[1:]+frac, "0")
	if all == "" {
		all = "0"
	}
	return fmt.Sprintf("%s%s.%sE%d", sign, intPart[:1], all, len(intPart)-1)
}
