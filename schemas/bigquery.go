package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"

	"cloud.google.com/go/bigquery"
)

// BigQueryFieldType is the BigQuery type of a value of type t, as BigQuery's REST API spells it
// (INTEGER, STRING, BOOLEAN, NUMERIC, TIMESTAMP, DATE).
func (t Type) BigQueryFieldType() bigquery.FieldType {
	switch t {
	case Int64:
		return bigquery.IntegerFieldType
	case String:
		return bigquery.StringFieldType
	case Bool:
		return bigquery.BooleanFieldType
	case Numeric:
		return bigquery.NumericFieldType
	case Timestamp:
		return bigquery.TimestampFieldType
	case Date:
		return bigquery.DateFieldType
	}
	panic(fmt.Sprintf("schemas: unknown type %d", int(t)))
}

// BigQueryField is the column as a BigQuery field: REPEATED for a repeated column, REQUIRED for a
// required one, NULLABLE otherwise, with the column's description.
func (c Column) BigQueryField() *bigquery.FieldSchema {
	f := &bigquery.FieldSchema{
		Name:        c.Name,
		Type:        c.Type.BigQueryFieldType(),
		Repeated:    c.Repeated,
		Required:    c.Required && !c.Repeated,
		Description: c.Description,
	}
	if c.PolicyTag != "" {
		f.PolicyTags = &bigquery.PolicyTagList{Names: []string{c.PolicyTag}}
	}
	return f
}

// BigQuerySchema is the table's BigQuery schema, columns in order.
func BigQuerySchema(t Table) bigquery.Schema {
	s := make(bigquery.Schema, len(t.Columns))
	for i, c := range t.Columns {
		s[i] = c.BigQueryField()
	}
	return s
}

// BigQueryTableMetadata is what creates the table in BigQuery: its schema and description,
// partitioning by day on t.Partition (when set) and clustering on t.Cluster (when set).
func BigQueryTableMetadata(t Table) *bigquery.TableMetadata {
	md := &bigquery.TableMetadata{
		Name:        t.Name,
		Description: t.Description,
		Schema:      BigQuerySchema(t),
	}
	if t.Partition != "" {
		md.TimePartitioning = &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: t.Partition}
	}
	if len(t.Cluster) > 0 {
		md.Clustering = &bigquery.Clustering{Fields: append([]string(nil), t.Cluster...)}
	}
	return md
}

// bigQueryJSONField is one field of a schema file as `bq mk --table` and `bq load` read it.
type bigQueryJSONField struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Mode        string `json:"mode"`
	Description string `json:"description"`
}

// BigQuerySchemaJSON is the table's schema as the JSON array `bq mk --table project:dataset.table
// schema.json` accepts: name, type, mode (NULLABLE, REQUIRED or REPEATED) and description of
// every column, indented by two spaces, with a final newline.
func BigQuerySchemaJSON(t Table) ([]byte, error) {
	fields := make([]bigQueryJSONField, len(t.Columns))
	for i, f := range BigQuerySchema(t) {
		mode := "NULLABLE"
		switch {
		case f.Repeated:
			mode = "REPEATED"
		case f.Required:
			mode = "REQUIRED"
		}
		fields[i] = bigQueryJSONField{Name: f.Name, Type: string(f.Type), Mode: mode, Description: f.Description}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fields); err != nil {
		return nil, fmt.Errorf("encoding the BigQuery schema of %s: %w", t.Name, err)
	}
	return buf.Bytes(), nil
}
