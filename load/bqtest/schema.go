package bqtest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	bq "google.golang.org/api/bigquery/v2"
)

// BigQuery field types, in the legacy spelling the REST API answers with.
const (
	typeInteger    = "INTEGER"
	typeString     = "STRING"
	typeBoolean    = "BOOLEAN"
	typeNumeric    = "NUMERIC"
	typeBigNumeric = "BIGNUMERIC"
	typeFloat      = "FLOAT"
	typeTimestamp  = "TIMESTAMP"
	typeDate       = "DATE"
	typeDatetime   = "DATETIME"
	typeTime       = "TIME"
	typeBytes      = "BYTES"
	typeRecord     = "RECORD"
	typeJSON       = "JSON"
)

// Field modes.
const (
	modeNullable = "NULLABLE"
	modeRequired = "REQUIRED"
	modeRepeated = "REPEATED"
)

// canonicalType maps the standard-SQL spellings a client may send to the legacy names BigQuery
// answers with.
func canonicalType(t string) string {
	switch u := strings.ToUpper(t); u {
	case "INT64":
		return typeInteger
	case "FLOAT64":
		return typeFloat
	case "BOOL":
		return typeBoolean
	case "STRUCT":
		return typeRecord
	case "DECIMAL":
		return typeNumeric
	case "BIGDECIMAL":
		return typeBigNumeric
	default:
		return u
	}
}

var fieldNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// normalizeSchema validates a schema sent by a client and returns a copy in canonical form: legacy
// type names, explicit modes. Only the types bqtest can store are accepted.
func normalizeSchema(fields []*bq.TableFieldSchema) ([]*bq.TableFieldSchema, *apiError) {
	seen := map[string]bool{}
	out := make([]*bq.TableFieldSchema, 0, len(fields))
	for _, f := range fields {
		if f == nil {
			return nil, errInvalid("Empty field in schema")
		}
		if !fieldNameRE.MatchString(f.Name) {
			return nil, errInvalid("Invalid field name %q. Fields must contain only letters, numbers, and underscores, start with a letter or underscore, and be at most 300 characters long.", f.Name)
		}
		key := strings.ToLower(f.Name)
		if seen[key] {
			return nil, errInvalid("Duplicate column names in the schema: %s", f.Name)
		}
		seen[key] = true
		c := &bq.TableFieldSchema{
			Name:        f.Name,
			Type:        canonicalType(f.Type),
			Mode:        strings.ToUpper(f.Mode),
			Description: f.Description,
			Precision:   f.Precision,
			Scale:       f.Scale,
			MaxLength:   f.MaxLength,
			PolicyTags:  f.PolicyTags, // kept as sent: BigQuery stores the tags it is given
		}
		if c.Mode == "" {
			c.Mode = modeNullable
		}
		switch c.Mode {
		case modeNullable, modeRequired, modeRepeated:
		default:
			return nil, errInvalid("Invalid mode %q for field %s", f.Mode, f.Name)
		}
		switch c.Type {
		case typeInteger, typeString, typeBoolean, typeNumeric, typeFloat, typeTimestamp, typeDate,
			typeDatetime, typeTime, typeBytes:
			if len(f.Fields) > 0 {
				return nil, errInvalid("Field %s of type %s cannot have subfields", f.Name, c.Type)
			}
		case typeRecord:
			if len(f.Fields) == 0 {
				return nil, errInvalid("Field %s is type RECORD but has no schema", f.Name)
			}
			sub, err := normalizeSchema(f.Fields)
			if err != nil {
				return nil, err
			}
			c.Fields = sub
		case "":
			return nil, errInvalid("Field %s is missing a type", f.Name)
		default:
			return nil, errNotImplemented("field %s has type %s; bqtest stores INTEGER, STRING, BOOLEAN, NUMERIC, FLOAT, TIMESTAMP, DATE, DATETIME, TIME, BYTES and RECORD", f.Name, c.Type)
		}
		if c.Type == typeNumeric && (c.Scale > 9 || c.Precision-c.Scale > 29) {
			return nil, errInvalid("Invalid NUMERIC(%d, %d) for field %s", c.Precision, c.Scale, f.Name)
		}
		out = append(out, c)
	}
	return out, nil
}

// cloneFields deep-copies a schema.
func cloneFields(fields []*bq.TableFieldSchema) []*bq.TableFieldSchema {
	if fields == nil {
		return nil
	}
	out := make([]*bq.TableFieldSchema, len(fields))
	for i, f := range fields {
		c := *f
		c.Fields = cloneFields(f.Fields)
		c.ForceSendFields, c.NullFields = nil, nil
		out[i] = &c
	}
	return out
}

// findField returns the field called name (case-insensitively, as BigQuery matches column names).
func findField(fields []*bq.TableFieldSchema, name string) *bq.TableFieldSchema {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// duckType is the DuckDB type that stores a field.
func duckType(f *bq.TableFieldSchema) string {
	var s string
	switch f.Type {
	case typeInteger:
		s = "BIGINT"
	case typeString:
		s = "VARCHAR"
	case typeBoolean:
		s = "BOOLEAN"
	case typeNumeric:
		s = "DECIMAL(38, 9)"
	case typeFloat:
		s = "DOUBLE"
	case typeTimestamp:
		s = "TIMESTAMPTZ"
	case typeDate:
		s = "DATE"
	case typeDatetime:
		s = "TIMESTAMP"
	case typeTime:
		s = "TIME"
	case typeBytes:
		s = "BLOB"
	case typeRecord:
		parts := make([]string, len(f.Fields))
		for i, sub := range f.Fields {
			parts[i] = quoteIdent(sub.Name) + " " + duckType(sub)
		}
		s = "STRUCT(" + strings.Join(parts, ", ") + ")"
	default:
		// normalizeSchema refuses every other type before a DuckDB type is asked for.
		panic("bqtest: no DuckDB type for " + f.Type)
	}
	if f.Mode == modeRepeated {
		s += "[]"
	}
	return s
}

// columnDef is the DuckDB column definition of a top-level field.
func columnDef(f *bq.TableFieldSchema) string {
	def := quoteIdent(f.Name) + " " + duckType(f)
	switch f.Mode {
	case modeRequired:
		def += " NOT NULL"
	case modeRepeated:
		def += " DEFAULT []"
	}
	return def
}

func createTableSQL(dataset, table string, fields []*bq.TableFieldSchema) string {
	defs := make([]string, len(fields))
	for i, f := range fields {
		defs[i] = columnDef(f)
	}
	return fmt.Sprintf("CREATE TABLE %s.%s (%s)", quoteIdent(dataset), quoteIdent(table), strings.Join(defs, ", "))
}

// quoteIdent quotes an identifier for DuckDB.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes a string literal for DuckDB.
func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// sameType reports whether two fields have the same type, recursively for records; modes of the
// top-level fields are not compared.
func sameType(a, b *bq.TableFieldSchema) bool {
	if a.Type != b.Type {
		return false
	}
	if a.Type != typeRecord {
		return true
	}
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if !strings.EqualFold(a.Fields[i].Name, b.Fields[i].Name) || a.Fields[i].Mode != b.Fields[i].Mode || !sameType(a.Fields[i], b.Fields[i]) {
			return false
		}
	}
	return true
}

// resultType is a column type of a DuckDB result, parsed from its type name, as a BigQuery field.
type resultType struct {
	base     string // BigQuery type
	repeated bool
	fields   []resultField // for RECORD
	duck     string        // the DuckDB base type name, for error messages
}

type resultField struct {
	name string
	typ  resultType
}

// field is the result type as a BigQuery schema field.
func (t resultType) field(name string) *bq.TableFieldSchema {
	f := &bq.TableFieldSchema{Name: name, Type: t.base, Mode: modeNullable}
	if t.repeated {
		f.Mode = modeRepeated
	}
	for _, sub := range t.fields {
		f.Fields = append(f.Fields, sub.typ.field(sub.name))
	}
	return f
}

// parseDuckType parses a DuckDB type name as database/sql reports it ("BIGINT", "DECIMAL(38,9)",
// "VARCHAR[]", `STRUCT("a" BIGINT, "b" DATE[])`) into the BigQuery type of its values.
func parseDuckType(s string) (resultType, error) {
	p := &typeParser{s: s}
	t, err := p.parse()
	if err != nil {
		return resultType{}, fmt.Errorf("parsing DuckDB type %q: %w", s, err)
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return resultType{}, fmt.Errorf("parsing DuckDB type %q: trailing text at %d", s, p.i)
	}
	return t, nil
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *typeParser) word() string {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '(' || c == ')' || c == '[' || c == ']' || c == ',' {
			break
		}
		if c == ' ' {
			// Multi-word names: TIMESTAMP WITH TIME ZONE, DOUBLE PRECISION.
			rest := p.s[p.i+1:]
			if strings.HasPrefix(rest, "WITH") || strings.HasPrefix(rest, "TIME ZONE") || strings.HasPrefix(rest, "ZONE") || strings.HasPrefix(rest, "PRECISION") {
				p.i++
				continue
			}
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

func (p *typeParser) name() (string, error) {
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		p.i++
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			if c == '"' {
				if p.i < len(p.s) && p.s[p.i] == '"' {
					b.WriteByte('"')
					p.i++
					continue
				}
				return b.String(), nil
			}
			b.WriteByte(c)
		}
		return "", fmt.Errorf("unterminated quoted name")
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' {
		p.i++
	}
	if start == p.i {
		return "", fmt.Errorf("missing field name at %d", start)
	}
	return p.s[start:p.i], nil
}

func (p *typeParser) parse() (resultType, error) {
	w := strings.ToUpper(p.word())
	var t resultType
	t.duck = w
	switch w {
	case "STRUCT":
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '(' {
			return t, fmt.Errorf("STRUCT without fields")
		}
		p.i++
		for {
			n, err := p.name()
			if err != nil {
				return t, err
			}
			sub, err := p.parse()
			if err != nil {
				return t, err
			}
			t.fields = append(t.fields, resultField{name: n, typ: sub})
			p.skipSpace()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ')' {
				p.i++
				break
			}
			return t, fmt.Errorf("malformed STRUCT at %d", p.i)
		}
		t.base = typeRecord
	case "DECIMAL", "NUMERIC":
		prec, scale := 18, 3
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == '(' {
			end := strings.IndexByte(p.s[p.i:], ')')
			if end < 0 {
				return t, fmt.Errorf("unterminated DECIMAL parameters")
			}
			args := strings.Split(p.s[p.i+1:p.i+end], ",")
			p.i += end + 1
			if len(args) == 2 {
				prec, _ = strconv.Atoi(strings.TrimSpace(args[0]))
				scale, _ = strconv.Atoi(strings.TrimSpace(args[1]))
			}
		}
		t.base = typeNumeric
		if scale > 9 || prec-scale > 29 {
			t.base = typeBigNumeric
		}
	case "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT", "INT8", "INT4", "INT", "SQLNULL", "NULL":
		t.base = typeInteger
	case "VARCHAR", "UUID", "ENUM", "JSON", "TEXT":
		t.base = typeString
	case "BOOLEAN", "BOOL":
		t.base = typeBoolean
	case "DOUBLE", "FLOAT", "REAL", "DOUBLE PRECISION":
		t.base = typeFloat
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		t.base = typeTimestamp
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME":
		t.base = typeDatetime
	case "DATE":
		t.base = typeDate
	case "TIME":
		t.base = typeTime
	case "BLOB", "BYTEA":
		t.base = typeBytes
	default:
		return t, fmt.Errorf("type %s has no BigQuery equivalent in bqtest", w)
	}
	p.skipSpace()
	for p.i < len(p.s) && p.s[p.i] == '[' {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return t, fmt.Errorf("unterminated list suffix")
		}
		p.i += end + 1
		if t.repeated {
			return t, fmt.Errorf("arrays of arrays are not allowed in BigQuery")
		}
		t.repeated = true
		p.skipSpace()
	}
	return t, nil
}
