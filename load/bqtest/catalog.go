package bqtest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// dataset is one dataset: a DuckDB schema of the same name.
type dataset struct {
	id          string
	location    string
	description string
	friendly    string
	labels      map[string]string
	created     time.Time
	modified    time.Time
	version     int
	tables      map[string]*table
}

// table is one table or view: a DuckDB table or view of the same name in its dataset's schema.
type table struct {
	id          string
	view        string // the view's BigQuery SQL; "" for a table
	schema      []*bq.TableFieldSchema
	description string
	friendly    string
	labels      map[string]string
	partition   *bq.TimePartitioning
	clustering  *bq.Clustering
	requirePF   bool
	expiration  int64
	created     time.Time
	modified    time.Time
	version     int
}

var (
	datasetIDRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	tableIDRE   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

func etag(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// decodeBody decodes a JSON request body into v and also returns the set of keys present at the
// top level (a patch distinguishes absent from empty).
func decodeBody(r *http.Request, v any) (map[string]json.RawMessage, *apiError) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, errInvalid("Reading the request body: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, errInvalid("Invalid JSON payload received. %v", err)
	}
	keys := map[string]json.RawMessage{}
	_ = json.Unmarshal(b, &keys)
	return keys, nil
}

func (s *Server) datasetID(d string) string { return s.opts.Project + ":" + d }

func (s *Server) tableID(d, t string) string { return s.opts.Project + ":" + d + "." + t }

// lookupDataset returns the dataset; the caller holds catalogMu.
func (s *Server) lookupDataset(id string) (*dataset, *apiError) {
	ds, ok := s.datasets[id]
	if !ok {
		return nil, errNotFound("Not found: Dataset %s", s.datasetID(id))
	}
	return ds, nil
}

// lookupTable returns the dataset and table; the caller holds catalogMu.
func (s *Server) lookupTable(d, t string) (*dataset, *table, *apiError) {
	ds, err := s.lookupDataset(d)
	if err != nil {
		return nil, nil, err
	}
	tb, ok := ds.tables[t]
	if !ok {
		return nil, nil, errNotFound("Not found: Table %s", s.tableID(d, t))
	}
	return ds, tb, nil
}

func (s *Server) datasetResource(ds *dataset) *bq.Dataset {
	return &bq.Dataset{
		Kind:             "bigquery#dataset",
		Id:               s.datasetID(ds.id),
		DatasetReference: &bq.DatasetReference{ProjectId: s.opts.Project, DatasetId: ds.id},
		Location:         ds.location,
		Description:      ds.description,
		FriendlyName:     ds.friendly,
		Labels:           ds.labels,
		CreationTime:     millis(ds.created),
		LastModifiedTime: millis(ds.modified),
		Etag:             etag(ds.id, strconv.Itoa(ds.version)),
		Type:             "DEFAULT",
	}
}

func (s *Server) insertDataset(w http.ResponseWriter, r *http.Request) *apiError {
	var in bq.Dataset
	if _, err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.DatasetReference == nil || in.DatasetReference.DatasetId == "" {
		return errInvalid("Required parameter is missing: datasetReference.datasetId")
	}
	id := in.DatasetReference.DatasetId
	if !datasetIDRE.MatchString(id) {
		return errInvalid("Invalid dataset ID %q. Dataset IDs must be alphanumeric (plus underscores) and must be at most 1024 characters long.", id)
	}
	if p := in.DatasetReference.ProjectId; p != "" && p != s.opts.Project {
		return errInvalid("Dataset project %s does not match the request's project %s", p, s.opts.Project)
	}
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	if _, ok := s.datasets[id]; ok {
		return errDuplicate("Already Exists: Dataset %s", s.datasetID(id))
	}
	if _, err := s.db.ExecContext(r.Context(), "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(id)); err != nil {
		return errInvalid("Creating dataset %s: %v", s.datasetID(id), err)
	}
	now := s.now()
	ds := &dataset{
		id:          id,
		location:    in.Location,
		description: in.Description,
		friendly:    in.FriendlyName,
		labels:      in.Labels,
		created:     now,
		modified:    now,
		version:     1,
		tables:      map[string]*table{},
	}
	if ds.location == "" {
		ds.location = s.opts.Location
	}
	s.datasets[id] = ds
	writeJSON(w, http.StatusOK, s.datasetResource(ds))
	return nil
}

func (s *Server) getDataset(w http.ResponseWriter, r *http.Request) *apiError {
	if aerr := s.denyDataset(PermDatasetsGet, r.PathValue("dataset")); aerr != nil {
		return aerr
	}
	s.catalogMu.RLock()
	defer s.catalogMu.RUnlock()
	ds, err := s.lookupDataset(r.PathValue("dataset"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.datasetResource(ds))
	return nil
}

func (s *Server) listDatasets(w http.ResponseWriter, r *http.Request) *apiError {
	s.catalogMu.RLock()
	defer s.catalogMu.RUnlock()
	ids := make([]string, 0, len(s.datasets))
	for id := range s.datasets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := &bq.DatasetList{Kind: "bigquery#datasetList"}
	for _, id := range ids {
		ds := s.datasets[id]
		out.Datasets = append(out.Datasets, &bq.DatasetListDatasets{
			Kind:             "bigquery#dataset",
			Id:               s.datasetID(id),
			DatasetReference: &bq.DatasetReference{ProjectId: s.opts.Project, DatasetId: id},
			Location:         ds.location,
			FriendlyName:     ds.friendly,
			Labels:           ds.labels,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) patchDataset(w http.ResponseWriter, r *http.Request) *apiError {
	var in bq.Dataset
	keys, aerr := decodeBody(r, &in)
	if aerr != nil {
		return aerr
	}
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	ds, aerr := s.lookupDataset(r.PathValue("dataset"))
	if aerr != nil {
		return aerr
	}
	if m := r.Header.Get("If-Match"); m != "" && m != s.datasetResource(ds).Etag {
		return &apiError{code: http.StatusPreconditionFailed, reason: ReasonConditionNotMet, message: "Precondition check failed."}
	}
	if _, ok := keys["description"]; ok {
		ds.description = in.Description
	}
	if _, ok := keys["friendlyName"]; ok {
		ds.friendly = in.FriendlyName
	}
	if _, ok := keys["labels"]; ok {
		ds.labels = in.Labels
	}
	ds.modified = s.now()
	ds.version++
	writeJSON(w, http.StatusOK, s.datasetResource(ds))
	return nil
}

func (s *Server) deleteDataset(w http.ResponseWriter, r *http.Request) *apiError {
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	id := r.PathValue("dataset")
	ds, aerr := s.lookupDataset(id)
	if aerr != nil {
		return aerr
	}
	if len(ds.tables) > 0 && r.URL.Query().Get("deleteContents") != "true" {
		return &apiError{code: http.StatusBadRequest, reason: "resourceInUse", message: fmt.Sprintf("Dataset %s is still in use", s.datasetID(id))}
	}
	if _, err := s.db.ExecContext(r.Context(), "DROP SCHEMA "+quoteIdent(id)+" CASCADE"); err != nil {
		return errInvalid("Deleting dataset %s: %v", s.datasetID(id), err)
	}
	delete(s.datasets, id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tableResource renders a table; the caller holds catalogMu (read or write).
func (s *Server) tableResource(ctx context.Context, ds *dataset, tb *table) (*bq.Table, *apiError) {
	out := &bq.Table{
		Kind:                   "bigquery#table",
		Id:                     s.tableID(ds.id, tb.id),
		TableReference:         &bq.TableReference{ProjectId: s.opts.Project, DatasetId: ds.id, TableId: tb.id},
		Description:            tb.description,
		FriendlyName:           tb.friendly,
		Labels:                 tb.labels,
		Location:               ds.location,
		CreationTime:           millis(tb.created),
		LastModifiedTime:       uint64(millis(tb.modified)),
		ExpirationTime:         tb.expiration,
		Etag:                   etag(ds.id, tb.id, strconv.Itoa(tb.version)),
		TimePartitioning:       tb.partition,
		Clustering:             tb.clustering,
		RequirePartitionFilter: tb.requirePF,
	}
	ref := quoteIdent(ds.id) + "." + quoteIdent(tb.id)
	if tb.view != "" {
		out.Type = "VIEW"
		out.View = &bq.ViewDefinition{Query: tb.view, ForceSendFields: []string{"UseLegacySql"}}
		schema, err := s.resultSchema(ctx, "SELECT * FROM "+ref+" LIMIT 0")
		if err != nil {
			return nil, errInvalidQuery("Reading the schema of view %s: %v", s.tableID(ds.id, tb.id), err)
		}
		out.Schema = &bq.TableSchema{Fields: schema}
		return out, nil
	}
	out.Type = "TABLE"
	out.Schema = &bq.TableSchema{Fields: cloneFields(tb.schema)}
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+ref).Scan(&n); err != nil {
		return nil, &apiError{code: http.StatusInternalServerError, reason: ReasonBackendError, message: fmt.Sprintf("counting rows of %s: %v", s.tableID(ds.id, tb.id), err)}
	}
	out.NumRows = uint64(n)
	out.ForceSendFields = []string{"NumRows"}
	return out, nil
}

func (s *Server) getTable(w http.ResponseWriter, r *http.Request) *apiError {
	s.catalogMu.RLock()
	defer s.catalogMu.RUnlock()
	ds, tb, aerr := s.lookupTable(r.PathValue("dataset"), r.PathValue("table"))
	if aerr != nil {
		return aerr
	}
	out, aerr := s.tableResource(r.Context(), ds, tb)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listTables(w http.ResponseWriter, r *http.Request) *apiError {
	s.catalogMu.RLock()
	defer s.catalogMu.RUnlock()
	ds, aerr := s.lookupDataset(r.PathValue("dataset"))
	if aerr != nil {
		return aerr
	}
	ids := make([]string, 0, len(ds.tables))
	for id := range ds.tables {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := &bq.TableList{Kind: "bigquery#tableList", TotalItems: int64(len(ids))}
	for _, id := range ids {
		tb := ds.tables[id]
		typ := "TABLE"
		if tb.view != "" {
			typ = "VIEW"
		}
		out.Tables = append(out.Tables, &bq.TableListTables{
			Kind:             "bigquery#table",
			Id:               s.tableID(ds.id, id),
			TableReference:   &bq.TableReference{ProjectId: s.opts.Project, DatasetId: ds.id, TableId: id},
			Type:             typ,
			FriendlyName:     tb.friendly,
			Labels:           tb.labels,
			TimePartitioning: tb.partition,
			Clustering:       tb.clustering,
			CreationTime:     millis(tb.created),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// validatePartitioning checks time partitioning and clustering against a schema, as tables.insert
// does, and returns the partitioning in canonical form.
func validatePartitioning(tp *bq.TimePartitioning, cl *bq.Clustering, fields []*bq.TableFieldSchema) (*bq.TimePartitioning, *bq.Clustering, *apiError) {
	if tp != nil {
		c := &bq.TimePartitioning{Type: strings.ToUpper(tp.Type), Field: tp.Field, ExpirationMs: tp.ExpirationMs, RequirePartitionFilter: tp.RequirePartitionFilter}
		if c.Type == "" {
			c.Type = "DAY"
		}
		switch c.Type {
		case "DAY", "HOUR", "MONTH", "YEAR":
		default:
			return nil, nil, errInvalid("Invalid time partitioning type %s", tp.Type)
		}
		if c.Field != "" {
			f := findField(fields, c.Field)
			if f == nil {
				return nil, nil, errInvalid("The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The type found is: unknown. Field %s not found in the schema.", c.Field)
			}
			if f.Mode == modeRepeated || (f.Type != typeDate && f.Type != typeTimestamp && f.Type != typeDatetime) {
				return nil, nil, errInvalid("The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The type found is: %s (field %s).", f.Type, f.Name)
			}
		}
		tp = c
	}
	if cl != nil {
		if len(cl.Fields) == 0 {
			cl = nil
		} else if len(cl.Fields) > 4 {
			return nil, nil, errInvalid("Too many clustering fields: %d, only 4 are allowed", len(cl.Fields))
		} else {
			for _, name := range cl.Fields {
				f := findField(fields, name)
				if f == nil {
					return nil, nil, errInvalid("The field specified for clustering cannot be found in the schema. Invalid field: %s.", name)
				}
				switch {
				case f.Mode == modeRepeated:
					return nil, nil, errInvalid("Field %s is of type ARRAY which is not supported for clustering.", name)
				case f.Type == typeFloat || f.Type == typeRecord || f.Type == typeBytes || f.Type == typeTime:
					return nil, nil, errInvalid("Field %s is of type %s which is not supported for clustering.", name, f.Type)
				}
			}
			cl = &bq.Clustering{Fields: append([]string(nil), cl.Fields...)}
		}
	}
	return tp, cl, nil
}

func (s *Server) insertTable(w http.ResponseWriter, r *http.Request) *apiError {
	var in bq.Table
	if _, err := decodeBody(r, &in); err != nil {
		return err
	}
	d := r.PathValue("dataset")
	if in.TableReference == nil || in.TableReference.TableId == "" {
		return errInvalid("Required parameter is missing: tableReference.tableId")
	}
	if aerr := s.tableUpdateFault(OpTablesInsert, d, in.TableReference.TableId); aerr != nil {
		return aerr
	}
	if aerr := s.denyTable(PermTablesCreate, d, in.TableReference.TableId); aerr != nil {
		return aerr
	}
	if in.TableReference.DatasetId != "" && in.TableReference.DatasetId != d {
		return errInvalid("Table dataset %s does not match the request's dataset %s", in.TableReference.DatasetId, d)
	}
	id := in.TableReference.TableId
	if !tableIDRE.MatchString(id) {
		return errInvalid("Invalid table ID %q.", id)
	}
	switch {
	case in.MaterializedView != nil, in.ExternalDataConfiguration != nil, in.RangePartitioning != nil,
		in.SnapshotDefinition != nil, in.CloneDefinition != nil, in.BiglakeConfiguration != nil:
		return errNotImplemented("materialized views, external, range-partitioned, snapshot, clone and BigLake tables")
	}
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	ds, aerr := s.lookupDataset(d)
	if aerr != nil {
		return aerr
	}
	if _, ok := ds.tables[id]; ok {
		return errDuplicate("Already Exists: Table %s", s.tableID(d, id))
	}
	now := s.now()
	tb := &table{
		id:          id,
		description: in.Description,
		friendly:    in.FriendlyName,
		labels:      in.Labels,
		expiration:  in.ExpirationTime,
		requirePF:   in.RequirePartitionFilter,
		created:     now,
		modified:    now,
		version:     1,
	}
	if in.View != nil && in.View.Query != "" {
		if in.View.UseLegacySql {
			return errNotImplemented("legacy SQL views")
		}
		if in.TimePartitioning != nil || in.Clustering != nil {
			return errInvalid("Views cannot be partitioned or clustered")
		}
		if aerr := s.createView(r.Context(), d, id, in.View.Query, false); aerr != nil {
			return aerr
		}
		tb.view = in.View.Query
	} else {
		var fields []*bq.TableFieldSchema
		if in.Schema != nil {
			var aerr *apiError
			if fields, aerr = normalizeSchema(in.Schema.Fields); aerr != nil {
				return aerr
			}
		}
		tp, cl, aerr := validatePartitioning(in.TimePartitioning, in.Clustering, fields)
		if aerr != nil {
			return aerr
		}
		tb.schema, tb.partition, tb.clustering = fields, tp, cl
		if _, err := s.db.ExecContext(r.Context(), createTableSQL(d, id, fields)); err != nil {
			return errInvalid("Creating table %s: %v", s.tableID(d, id), err)
		}
	}
	ds.tables[id] = tb
	out, aerr := s.tableResource(r.Context(), ds, tb)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createView creates (or replaces) the DuckDB view of a BigQuery view; the caller holds catalogMu.
func (s *Server) createView(ctx context.Context, d, id, query string, replace bool) *apiError {
	duck, err := rewriteSQL(query, s.opts.Project)
	if err != nil {
		return errInvalidQuery("%v", err)
	}
	verb := "CREATE VIEW "
	if replace {
		verb = "CREATE OR REPLACE VIEW "
	}
	if _, err := s.db.ExecContext(ctx, verb+quoteIdent(d)+"."+quoteIdent(id)+" AS "+duck); err != nil {
		return errInvalidQuery("Creating view %s: %v", s.tableID(d, id), err)
	}
	return nil
}

func (s *Server) patchTable(w http.ResponseWriter, r *http.Request) *apiError {
	if aerr := s.tableUpdateFault(OpTablesPatch, r.PathValue("dataset"), r.PathValue("table")); aerr != nil {
		return aerr
	}
	if aerr := s.denyTable(PermTablesUpdate, r.PathValue("dataset"), r.PathValue("table")); aerr != nil {
		return aerr
	}
	var in bq.Table
	keys, aerr := decodeBody(r, &in)
	if aerr != nil {
		return aerr
	}
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	d, id := r.PathValue("dataset"), r.PathValue("table")
	ds, tb, aerr := s.lookupTable(d, id)
	if aerr != nil {
		return aerr
	}
	if m := r.Header.Get("If-Match"); m != "" && m != etag(ds.id, tb.id, strconv.Itoa(tb.version)) {
		return &apiError{code: http.StatusPreconditionFailed, reason: ReasonConditionNotMet, message: "Precondition check failed."}
	}
	switch {
	case keys["materializedView"] != nil, keys["externalDataConfiguration"] != nil, keys["rangePartitioning"] != nil:
		return errNotImplemented("patching materialized views, external or range-partitioned tables")
	}
	// Validate everything before changing anything.
	var (
		newSchema []*bq.TableFieldSchema
		added     []*bq.TableFieldSchema
		relaxed   []string
		newView   string
	)
	schema := tb.schema
	if _, ok := keys["schema"]; ok && tb.view == "" {
		if in.Schema == nil {
			return errInvalid("Provided Schema does not match Table %s. Cannot remove all fields.", s.tableID(d, id))
		}
		fields, aerr := normalizeSchema(in.Schema.Fields)
		if aerr != nil {
			return aerr
		}
		if newSchema, added, relaxed, aerr = s.evolveSchema(d, id, tb.schema, fields, true, true); aerr != nil {
			return aerr
		}
		schema = newSchema
	}
	tp, cl := tb.partition, tb.clustering
	if _, ok := keys["timePartitioning"]; ok {
		if in.TimePartitioning == nil {
			if tb.partition != nil {
				return errInvalid("Cannot remove time partitioning from table %s", s.tableID(d, id))
			}
		} else {
			ntp, _, aerr := validatePartitioning(in.TimePartitioning, nil, schema)
			if aerr != nil {
				return aerr
			}
			if tb.partition == nil || ntp.Type != tb.partition.Type || ntp.Field != tb.partition.Field {
				return errInvalid("Cannot change partitioning/clustering spec for a partitioned/clustered table %s. Only the partition expiration can be changed.", s.tableID(d, id))
			}
			tp = ntp
		}
	}
	if raw, ok := keys["clustering"]; ok {
		if string(raw) == "null" || in.Clustering == nil {
			cl = nil
		} else {
			_, ncl, aerr := validatePartitioning(nil, in.Clustering, schema)
			if aerr != nil {
				return aerr
			}
			cl = ncl
		}
	}
	if _, ok := keys["view"]; ok && in.View != nil && in.View.Query != "" {
		if tb.view == "" {
			return errInvalid("Cannot change a table into a view: %s", s.tableID(d, id))
		}
		newView = in.View.Query
	}

	// Apply: DuckDB first (one transaction), then the metadata.
	if len(added) > 0 || len(relaxed) > 0 {
		if aerr := s.alterTable(r.Context(), d, id, added, relaxed); aerr != nil {
			return aerr
		}
		tb.schema = newSchema
		s.refreshViews(r.Context())
	} else if newSchema != nil {
		tb.schema = newSchema // descriptions only
	}
	if newView != "" {
		if aerr := s.createView(r.Context(), d, id, newView, true); aerr != nil {
			return aerr
		}
		tb.view = newView
	}
	tb.partition, tb.clustering = tp, cl
	if _, ok := keys["description"]; ok {
		tb.description = in.Description
	}
	if _, ok := keys["friendlyName"]; ok {
		tb.friendly = in.FriendlyName
	}
	if _, ok := keys["labels"]; ok {
		tb.labels = in.Labels
	}
	if _, ok := keys["expirationTime"]; ok {
		tb.expiration = in.ExpirationTime
	}
	if _, ok := keys["requirePartitionFilter"]; ok {
		tb.requirePF = in.RequirePartitionFilter
	}
	tb.modified = s.now()
	tb.version++
	out, aerr := s.tableResource(r.Context(), ds, tb)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// evolveSchema checks a new schema against a table's current one the way BigQuery does and
// returns the resulting schema (current columns in their order with the new descriptions, then the
// added columns), the added columns and the names of the REQUIRED columns relaxed to NULLABLE.
// Columns may not be removed (when requireAll), nor change type; REQUIRED may become NULLABLE only
// when allowRelax; added columns must not be REQUIRED.
func (s *Server) evolveSchema(d, id string, current, proposed []*bq.TableFieldSchema, requireAll, allowRelax bool) (out, added []*bq.TableFieldSchema, relaxed []string, aerr *apiError) {
	tid := s.tableID(d, id)
	for _, old := range current {
		nf := findField(proposed, old.Name)
		if nf == nil {
			if requireAll {
				return nil, nil, nil, errInvalid("Provided Schema does not match Table %s. Field %s is missing in new schema", tid, old.Name)
			}
			out = append(out, old)
			continue
		}
		if nf.Name != old.Name {
			return nil, nil, nil, errInvalid("Provided Schema does not match Table %s. Field %s has changed name to %s", tid, old.Name, nf.Name)
		}
		if old.Type == typeRecord && nf.Type == typeRecord && !sameType(old, nf) {
			return nil, nil, nil, errNotImplemented("changing the fields of RECORD column %s", old.Name)
		}
		if !sameType(old, nf) {
			return nil, nil, nil, errInvalid("Provided Schema does not match Table %s. Field %s has changed type from %s to %s", tid, old.Name, old.Type, nf.Type)
		}
		if old.Mode != nf.Mode {
			if !(allowRelax && old.Mode == modeRequired && nf.Mode == modeNullable) {
				return nil, nil, nil, errInvalid("Provided Schema does not match Table %s. Field %s has changed mode from %s to %s", tid, old.Name, old.Mode, nf.Mode)
			}
			relaxed = append(relaxed, old.Name)
		}
		c := *old
		c.Mode = nf.Mode
		c.Description = nf.Description
		c.Fields = cloneFields(old.Fields)
		out = append(out, &c)
	}
	for _, nf := range proposed {
		if findField(current, nf.Name) != nil {
			continue
		}
		if nf.Mode == modeRequired {
			return nil, nil, nil, errInvalid("Provided Schema does not match Table %s. Cannot add required fields to an existing schema. (field: %s)", tid, nf.Name)
		}
		added = append(added, nf)
		out = append(out, nf)
	}
	return out, added, relaxed, nil
}

// refreshViews re-creates every view after a table's columns changed: DuckDB fixes a view's
// columns when it is created, BigQuery expands a view's query (SELECT * included) when it is
// queried. Views over views are re-created in as many passes as needed; a view whose query no
// longer binds stays as it was (querying it fails, as in BigQuery). The caller holds catalogMu.
func (s *Server) refreshViews(ctx context.Context) {
	type viewRef struct{ d, id, query string }
	var pending []viewRef
	for _, d := range sortedKeys(s.datasets) {
		ds := s.datasets[d]
		for _, id := range sortedKeys(ds.tables) {
			if tb := ds.tables[id]; tb.view != "" {
				pending = append(pending, viewRef{d, id, tb.view})
			}
		}
	}
	for len(pending) > 0 {
		var failed []viewRef
		for _, v := range pending {
			if aerr := s.createView(ctx, v.d, v.id, v.query, true); aerr != nil {
				failed = append(failed, v)
			}
		}
		if len(failed) == len(pending) {
			for _, v := range failed {
				s.log.WithField("view", s.tableID(v.d, v.id)).Debug("view no longer binds after a schema change")
			}
			return
		}
		pending = failed
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// alterTable adds columns and drops NOT NULL constraints in one DuckDB transaction; the caller
// holds catalogMu.
func (s *Server) alterTable(ctx context.Context, d, id string, added []*bq.TableFieldSchema, relaxed []string) *apiError {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return &apiError{code: http.StatusInternalServerError, reason: ReasonBackendError, message: fmt.Sprintf("altering %s: %v", s.tableID(d, id), err)}
	}
	defer tx.Rollback()
	ref := quoteIdent(d) + "." + quoteIdent(id)
	for _, f := range added {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+ref+" ADD COLUMN "+columnDef(f)); err != nil {
			return errInvalid("Adding column %s to %s: %v", f.Name, s.tableID(d, id), err)
		}
	}
	for _, name := range relaxed {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+ref+" ALTER COLUMN "+quoteIdent(name)+" DROP NOT NULL"); err != nil {
			return errInvalid("Relaxing column %s of %s: %v", name, s.tableID(d, id), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return &apiError{code: http.StatusInternalServerError, reason: ReasonBackendError, message: fmt.Sprintf("altering %s: %v", s.tableID(d, id), err)}
	}
	return nil
}

func (s *Server) deleteTable(w http.ResponseWriter, r *http.Request) *apiError {
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	d, id := r.PathValue("dataset"), r.PathValue("table")
	ds, tb, aerr := s.lookupTable(d, id)
	if aerr != nil {
		return aerr
	}
	kind := "TABLE"
	if tb.view != "" {
		kind = "VIEW"
	}
	if _, err := s.db.ExecContext(r.Context(), "DROP "+kind+" "+quoteIdent(d)+"."+quoteIdent(id)); err != nil {
		return errInvalid("Deleting %s: %v", s.tableID(d, id), err)
	}
	delete(ds.tables, id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTableData(w http.ResponseWriter, r *http.Request) *apiError {
	s.catalogMu.RLock()
	d, id := r.PathValue("dataset"), r.PathValue("table")
	_, tb, aerr := s.lookupTable(d, id)
	if aerr != nil {
		s.catalogMu.RUnlock()
		return aerr
	}
	if tb.view != "" {
		s.catalogMu.RUnlock()
		return errInvalid("Cannot list a table of type VIEW.")
	}
	res, err := s.runQuery(r.Context(), "SELECT * FROM "+quoteIdent(d)+"."+quoteIdent(id)+" ORDER BY rowid", tb.schema)
	s.catalogMu.RUnlock()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, token, aerr := res.page(q.Get("startIndex"), q.Get("pageToken"), q.Get("maxResults"), q.Get("formatOptions.useInt64Timestamp") == "true")
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, &bq.TableDataList{
		Kind:      "bigquery#tableDataList",
		Etag:      etag(d, id, strconv.Itoa(tb.version)),
		TotalRows: int64(len(res.rows)),
		PageToken: token,
		Rows:      page,
	})
	return nil
}
