package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"cloud.google.com/go/bigquery"
	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/schemas"
)

// tableUpdateTries bounds the re-reads of a table whose patch lost a race (412: the etag changed).
const tableUpdateTries = 3

// migrate makes the dataset match package schemas: it reads every table first and refuses, before
// changing anything, a table whose columns cannot evolve into the schema's; then it creates the
// missing tables, patches the others, and creates or updates the views. It returns the number of
// tables it created.
func (q *BigQuery) migrate(ctx context.Context) (int, error) {
	ds := q.client.Dataset(q.dataset)
	tables := q.tables
	current := make([]*bigquery.TableMetadata, len(tables)) // nil: missing
	var refused []error
	for i, t := range tables {
		md, err := ds.Table(t.Name).Metadata(ctx)
		switch {
		case apiCode(err) == http.StatusNotFound:
			continue
		case err != nil:
			return 0, q.writeError("reading table "+t.Name, err)
		}
		current[i] = md
		if _, errs := evolution(t, md); len(errs) > 0 {
			refused = append(refused, errs...)
		}
	}
	if len(refused) > 0 {
		return 0, fmt.Errorf("schema evolution refused (only new NULLABLE columns are added, REQUIRED columns relaxed): %w", errors.Join(refused...))
	}
	created := 0
	for i, t := range tables {
		c, err := q.ensureTable(ctx, t, current[i])
		if err != nil {
			return created, err
		}
		if c {
			created++
		}
	}
	for _, t := range schemas.SourceDataTables() { // parents first: a child view reads its parent's current view
		if err := q.ensureView(ctx, t.CurrentView(), schemas.CurrentViewSQL(t, q.ref), viewDescription(t)); err != nil {
			return created, err
		}
	}
	for _, v := range schemas.ModelViews(q.ref, schemas.BigQuery) { // after the current views they read
		if err := q.ensureView(ctx, v.Name, v.SQL, v.Description); err != nil {
			return created, err
		}
	}
	return created, nil
}

// tableChange is what evolving an existing table takes.
type tableChange struct {
	// update is the patch to send; nil when the table is as the schema wants it.
	update *bigquery.TableMetadataToUpdate
	// load is the schema load jobs declare: schemas' columns with the warehouse's modes.
	load           bigquery.Schema
	added, relaxed []string
}

// evolution compares an existing table with the schema's: columns the table lacks are added
// (NULLABLE, or REPEATED), REQUIRED columns the schema made nullable are relaxed, descriptions and
// clustering follow the schema. A column whose type or repetition differs, a REQUIRED column the
// schema does not know (loads could not fill it) and a view where a table should be are refused,
// one error per column naming table and column.
func evolution(t schemas.Table, md *bigquery.TableMetadata) (tableChange, []error) {
	if md.Type != bigquery.RegularTable && md.Type != "" {
		return tableChange{}, []error{fmt.Errorf("table %s: it exists as a %s, not a table", t.Name, md.Type)}
	}
	var (
		ch       tableChange
		refused  []error
		changed  bool
		have     = map[string]*bigquery.FieldSchema{}
		patched  = make(bigquery.Schema, 0, len(md.Schema)+len(t.Columns))
		position = map[string]int{}
	)
	for _, f := range md.Schema {
		c := *f
		have[strings.ToLower(f.Name)] = f
		position[strings.ToLower(f.Name)] = len(patched)
		patched = append(patched, &c)
	}
	for _, col := range t.Columns {
		want := col.BigQueryField()
		f, ok := have[strings.ToLower(col.Name)]
		if !ok {
			add := *want
			add.Required = false
			patched = append(patched, &add)
			ch.added = append(ch.added, col.Name)
			ch.load = append(ch.load, &add)
			changed = true
			continue
		}
		delete(have, strings.ToLower(col.Name))
		if got := canonicalFieldType(f.Type); got != want.Type {
			refused = append(refused, fmt.Errorf("table %s, column %s: type is %s in BigQuery, %s in the schema", t.Name, col.Name, got, want.Type))
			continue
		}
		if f.Repeated != want.Repeated {
			refused = append(refused, fmt.Errorf("table %s, column %s: mode is %s in BigQuery, %s in the schema", t.Name, col.Name, fieldMode(f), fieldMode(want)))
			continue
		}
		p := patched[position[strings.ToLower(col.Name)]]
		if f.Required && !want.Required {
			p.Required = false
			ch.relaxed = append(ch.relaxed, col.Name)
			changed = true
		}
		if f.Description != want.Description {
			p.Description = want.Description
			changed = true
		}
		load := *want
		load.Required = want.Required && f.Required // a column added later is NULLABLE in BigQuery
		ch.load = append(ch.load, &load)
	}
	for _, f := range md.Schema {
		if _, extra := have[strings.ToLower(f.Name)]; extra && f.Required {
			refused = append(refused, fmt.Errorf("table %s, column %s: REQUIRED in BigQuery but not in the schema: loads could not fill it", t.Name, f.Name))
		}
	}
	if len(refused) > 0 {
		return tableChange{}, refused
	}
	var up bigquery.TableMetadataToUpdate
	if changed {
		up.Schema = patched
	}
	if md.Description != t.Description {
		up.Description = t.Description
		changed = true
	}
	var clustering []string
	if md.Clustering != nil {
		clustering = md.Clustering.Fields
	}
	if !slices.Equal(clustering, t.Cluster) {
		up.Clustering = &bigquery.Clustering{Fields: append([]string{}, t.Cluster...)}
		changed = true
	}
	if changed {
		ch.update = &up
	}
	return ch, nil
}

// canonicalFieldType spells a field type as the REST API answers it.
func canonicalFieldType(t bigquery.FieldType) bigquery.FieldType {
	switch strings.ToUpper(string(t)) {
	case "INT64":
		return bigquery.IntegerFieldType
	case "BOOL":
		return bigquery.BooleanFieldType
	case "FLOAT64":
		return bigquery.FloatFieldType
	case "STRUCT":
		return bigquery.RecordFieldType
	case "DECIMAL":
		return bigquery.NumericFieldType
	case "BIGDECIMAL":
		return bigquery.BigNumericFieldType
	}
	return bigquery.FieldType(strings.ToUpper(string(t)))
}

func fieldMode(f *bigquery.FieldSchema) string {
	switch {
	case f.Repeated:
		return "REPEATED"
	case f.Required:
		return "REQUIRED"
	}
	return "NULLABLE"
}

// ensureTable creates the table when md is nil, or patches it into the schema's shape (guarded by
// its etag; a lost race re-reads the table and tries again). It records the table's load schema.
func (q *BigQuery) ensureTable(ctx context.Context, t schemas.Table, md *bigquery.TableMetadata) (created bool, err error) {
	tb := q.client.Dataset(q.dataset).Table(t.Name)
	for try := 0; try < tableUpdateTries; try++ {
		if md == nil {
			err := tb.Create(ctx, schemas.BigQueryTableMetadata(t))
			if err == nil {
				q.log.WithField("table", t.Name).Info("created table")
				q.loadSchemas[t.Name] = schemas.BigQuerySchema(t)
				return true, nil
			}
			if apiCode(err) != http.StatusConflict {
				return false, q.writeError("creating table "+t.Name, err)
			}
			// Created meanwhile (another shard opening the dataset): evolve it instead.
			if md, err = tb.Metadata(ctx); err != nil {
				return false, q.writeError("reading table "+t.Name, err)
			}
		}
		ch, refused := evolution(t, md)
		if len(refused) > 0 {
			return false, fmt.Errorf("schema evolution refused: %w", errors.Join(refused...))
		}
		if ch.update == nil {
			q.loadSchemas[t.Name] = ch.load
			return false, nil
		}
		_, err := tb.Update(ctx, *ch.update, md.ETag)
		if err == nil {
			q.log.WithFields(logrus.Fields{"table": t.Name, "added": ch.added, "relaxed": ch.relaxed}).Info("evolved table")
			q.loadSchemas[t.Name] = ch.load
			return false, nil
		}
		if apiCode(err) != http.StatusPreconditionFailed {
			return false, q.writeError("evolving table "+t.Name, err)
		}
		if md, err = tb.Metadata(ctx); err != nil {
			return false, q.writeError("reading table "+t.Name, err)
		}
	}
	return false, fmt.Errorf("evolving table %s: it kept changing under us (%d tries)", t.Name, tableUpdateTries)
}

// ensureView creates view name with its query and description, or updates them when its query
// differs.
func (q *BigQuery) ensureView(ctx context.Context, name, query, description string) error {
	view := q.client.Dataset(q.dataset).Table(name)
	for try := 0; try < tableUpdateTries; try++ {
		md, err := view.Metadata(ctx)
		switch {
		case apiCode(err) == http.StatusNotFound:
			err := view.Create(ctx, &bigquery.TableMetadata{ViewQuery: query, Description: description})
			if err == nil {
				q.log.WithField("view", name).Info("created view")
				return nil
			}
			if apiCode(err) != http.StatusConflict {
				return q.writeError("creating view "+name, err)
			}
			continue // created meanwhile: compare its query
		case err != nil:
			return q.writeError("reading view "+name, err)
		case md.Type != bigquery.ViewTable:
			return fmt.Errorf("view %s: it exists as a %s, not a view", name, md.Type)
		case md.ViewQuery == query:
			return nil
		}
		_, err = view.Update(ctx, bigquery.TableMetadataToUpdate{ViewQuery: query, UseLegacySQL: false, Description: description}, md.ETag)
		if err == nil {
			q.log.WithField("view", name).Info("updated view query")
			return nil
		}
		if apiCode(err) != http.StatusPreconditionFailed {
			return q.writeError("updating view "+name, err)
		}
	}
	return fmt.Errorf("updating view %s: it kept changing under us (%d tries)", name, tableUpdateTries)
}

// viewDescription describes a data table's current view.
func viewDescription(t schemas.Table) string {
	if t.Parent == "" {
		return "The latest committed version of each row of " + t.Name + ": exactly one row per key. Query this view rather than " + t.Name + "."
	}
	return "The rows of " + t.Name + " that belong to the current version of their parent (" + t.Parent + "_current). Query this view rather than " + t.Name + "."
}

// writeError classifies a failure to create or change a table at open time: permission problems
// make the warehouse unavailable.
func (q *BigQuery) writeError(doing string, err error) error {
	if apiCode(err) == http.StatusForbidden && reasonOf(err) == "accessDenied" {
		return fmt.Errorf("%w: %s: no permission in dataset %s: %s: %w", ErrWarehouseUnavailable, doing, q.datasetID(), rolesHint, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}
