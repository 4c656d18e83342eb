package bqtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/apache/arrow/go/v17/parquet/schema"
	bq "google.golang.org/api/bigquery/v2"
)

// parquetFile is what a load job learns from its uploaded Parquet file.
type parquetFile struct {
	// fields are the file's top-level columns as BigQuery reads them (types per BigQuery's
	// Parquet conversions, modes from the repetition, LISTs as REPEATED with list inference).
	fields []*bq.TableFieldSchema
	// nulls counts the null values of each top-level column; elemNulls the null elements of list
	// columns. Keyed by lower-case column name.
	nulls     map[string]int64
	elemNulls map[string]int64
	// unsupported explains a column whose Parquet type BigQuery cannot load, by column name.
	unsupported map[string]string
}

// errUnreadable marks a file that is not readable Parquet.
var errUnreadable = errors.New("not a readable Parquet file")

// inspectParquet reads the file's schema (Parquet logical types) and scans its data with pqarrow
// to count nulls.
func inspectParquet(ctx context.Context, path string, listInference bool) (*parquetFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the upload: %w", err)
	}
	defer f.Close()
	rdr, err := file.NewParquetReader(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreadable, err)
	}
	defer rdr.Close()
	pf := &parquetFile{nulls: map[string]int64{}, elemNulls: map[string]int64{}, unsupported: map[string]string{}}
	root := rdr.MetaData().Schema.Root()
	for i := 0; i < root.NumFields(); i++ {
		fld, err := parquetField(root.Field(i), listInference)
		if err != nil {
			pf.unsupported[strings.ToLower(root.Field(i).Name())] = err.Error()
			fld = &bq.TableFieldSchema{Name: root.Field(i).Name(), Type: "UNSUPPORTED", Mode: modeNullable}
		}
		pf.fields = append(pf.fields, fld)
	}

	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreadable, err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreadable, err)
	}
	defer rr.Release()
	sc := rr.Schema()
	for rr.Next() {
		rec := rr.Record()
		for i, col := range rec.Columns() {
			name := strings.ToLower(sc.Field(i).Name)
			pf.nulls[name] += int64(col.NullN())
			if l, ok := col.(array.ListLike); ok {
				pf.elemNulls[name] += int64(listElementNulls(l))
			}
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %v", errUnreadable, err)
	}
	return pf, nil
}

// inspectSources inspects every file of a load: they must all have the same columns (as BigQuery
// reads them); their null counts are added up.
func inspectSources(ctx context.Context, srcs []loadSource, listInference bool) (*parquetFile, *apiError) {
	var all *parquetFile
	for _, src := range srcs {
		pf, err := inspectParquet(ctx, src.path, listInference)
		if err != nil {
			if errors.Is(err, errUnreadable) {
				return nil, errInvalid("Error while reading data, error message: Failed to read %s as Parquet: %v", src.label, err)
			}
			return nil, backendErr("reading "+src.label, err)
		}
		if all == nil {
			all = pf
			continue
		}
		if !sameFields(all.fields, pf.fields) {
			return nil, errInvalid("Error while reading data, error message: %s does not have the columns of %s", src.label, srcs[0].label)
		}
		for k, n := range pf.nulls {
			all.nulls[k] += n
		}
		for k, n := range pf.elemNulls {
			all.elemNulls[k] += n
		}
		for k, v := range pf.unsupported {
			all.unsupported[k] = v
		}
	}
	return all, nil
}

// sameFields tells whether two files' columns are the same: names (ignoring case), types, modes,
// in order.
func sameFields(a, b []*bq.TableFieldSchema) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i].Name, b[i].Name) || a[i].Type != b[i].Type || a[i].Mode != b[i].Mode || !sameFields(a[i].Fields, b[i].Fields) {
			return false
		}
	}
	return true
}

// listElementNulls counts the null elements inside the (non-null) lists of l.
func listElementNulls(l array.ListLike) int {
	vals := l.ListValues()
	n := 0
	for i := 0; i < l.Len(); i++ {
		if l.IsNull(i) {
			continue
		}
		start, end := l.ValueOffsets(i)
		for k := start; k < end; k++ {
			if vals.IsNull(int(k)) {
				n++
			}
		}
	}
	return n
}

// parquetField is the BigQuery field a Parquet column loads as.
func parquetField(n schema.Node, listInference bool) (*bq.TableFieldSchema, error) {
	f := &bq.TableFieldSchema{Name: n.Name(), Mode: modeNullable}
	switch n.RepetitionType() {
	case parquet.Repetitions.Required:
		f.Mode = modeRequired
	case parquet.Repetitions.Repeated:
		f.Mode = modeRepeated
	}
	if g, ok := n.(*schema.GroupNode); ok {
		if _, isList := g.LogicalType().(schema.ListLogicalType); isList && listInference && f.Mode != modeRepeated {
			elem, err := listElement(g)
			if err != nil {
				return nil, err
			}
			ef, err := parquetField(elem, listInference)
			if err != nil {
				return nil, err
			}
			if ef.Mode == modeRepeated {
				return nil, fmt.Errorf("nested lists (arrays of arrays) cannot be loaded")
			}
			ef.Name, ef.Mode = n.Name(), modeRepeated
			return ef, nil
		}
		if _, isMap := g.LogicalType().(schema.MapLogicalType); isMap {
			return nil, fmt.Errorf("MAP columns are not emulated")
		}
		f.Type = typeRecord
		for i := 0; i < g.NumFields(); i++ {
			sub, err := parquetField(g.Field(i), listInference)
			if err != nil {
				return nil, err
			}
			f.Fields = append(f.Fields, sub)
		}
		return f, nil
	}
	p := n.(*schema.PrimitiveNode)
	t, err := primitiveType(p)
	if err != nil {
		return nil, err
	}
	f.Type = t
	return f, nil
}

// listElement is the element node of a LIST group: the child of its repeated group in the
// standard three-level form, or the repeated child itself in the legacy two-level forms.
func listElement(g *schema.GroupNode) (schema.Node, error) {
	if g.NumFields() != 1 {
		return nil, fmt.Errorf("LIST group %s has %d children", g.Name(), g.NumFields())
	}
	rep := g.Field(0)
	if rep.RepetitionType() != parquet.Repetitions.Repeated {
		return nil, fmt.Errorf("LIST group %s has no repeated child", g.Name())
	}
	rg, ok := rep.(*schema.GroupNode)
	if !ok || rg.NumFields() != 1 || rep.Name() == "array" || rep.Name() == g.Name()+"_tuple" {
		// Two-level list: the repeated node is the element. Wrap as required so the caller
		// does not see it as a list of lists.
		return asRequired(rep), nil
	}
	return rg.Field(0), nil
}

// asRequired returns a node like n but REQUIRED.
func asRequired(n schema.Node) schema.Node {
	switch x := n.(type) {
	case *schema.PrimitiveNode:
		c, err := schema.NewPrimitiveNodeLogical(x.Name(), parquet.Repetitions.Required, x.LogicalType(), x.PhysicalType(), x.TypeLength(), x.FieldID())
		if err == nil {
			return c
		}
	case *schema.GroupNode:
		fields := make(schema.FieldList, x.NumFields())
		for i := range fields {
			fields[i] = x.Field(i)
		}
		c, err := schema.NewGroupNodeLogical(x.Name(), parquet.Repetitions.Required, fields, x.LogicalType(), x.FieldID())
		if err == nil {
			return c
		}
	}
	return n
}

// primitiveType maps a Parquet primitive column to a BigQuery type, as BigQuery's Parquet
// conversions do.
func primitiveType(p *schema.PrimitiveNode) (string, error) {
	switch x := p.LogicalType().(type) {
	case *schema.DecimalLogicalType:
		return decimalType(int(x.Precision()), int(x.Scale())), nil
	case schema.DecimalLogicalType:
		return decimalType(int(x.Precision()), int(x.Scale())), nil
	case *schema.TimestampLogicalType:
		return timestampType(*x), nil
	case schema.TimestampLogicalType:
		return timestampType(x), nil
	case schema.DateLogicalType, *schema.DateLogicalType:
		return typeDate, nil
	case schema.TimeLogicalType, *schema.TimeLogicalType:
		return typeTime, nil
	case schema.StringLogicalType, *schema.StringLogicalType, schema.EnumLogicalType, *schema.EnumLogicalType:
		return typeString, nil
	case schema.JSONLogicalType, *schema.JSONLogicalType:
		return "", fmt.Errorf("JSON columns are not emulated")
	case schema.IntLogicalType, *schema.IntLogicalType:
		return typeInteger, nil
	}
	switch p.PhysicalType() {
	case parquet.Types.Boolean:
		return typeBoolean, nil
	case parquet.Types.Int32, parquet.Types.Int64:
		return typeInteger, nil
	case parquet.Types.Int96:
		return typeTimestamp, nil
	case parquet.Types.Float, parquet.Types.Double:
		return typeFloat, nil
	case parquet.Types.ByteArray, parquet.Types.FixedLenByteArray:
		return typeBytes, nil
	}
	return "", fmt.Errorf("Parquet type %s is not emulated", p.PhysicalType())
}

// decimalType is the BigQuery type of a Parquet DECIMAL(p, s): NUMERIC when it fits (at most 29
// integer digits and 9 fractional ones), BIGNUMERIC otherwise.
func decimalType(precision, scale int) string {
	if precision-scale <= 29 && scale <= 9 {
		return typeNumeric
	}
	return typeBigNumeric
}

func timestampType(t schema.TimestampLogicalType) string {
	if t.IsAdjustedToUTC() {
		return typeTimestamp
	}
	return typeDatetime
}

// loadPlan is what a load job does to DuckDB when it turns DONE.
type loadPlan struct {
	create   bool // the table does not exist: create it with schema
	schema   []*bq.TableFieldSchema
	added    []*bq.TableFieldSchema
	relaxed  []string
	truncate bool
	// fileCols maps the target's lower-case column names to the file's column names.
	fileCols map[string]string
	newTable *table
}

// runLoad is a load job turning DONE: it checks the Parquet files (the uploaded one, or the
// Cloud Storage objects of its source URIs, as they are now) against the destination table the
// way BigQuery does, then appends (or truncates and writes) the rows in one DuckDB transaction.
// It returns the rows written, or the job's errorResult; the caller holds j.mu.
func (s *Server) runLoad(ctx context.Context, j *job) (int64, *apiError) {
	lc := j.config.Load
	d, t := j.dest.dataset, j.dest.table
	tid := s.tableID(d, t)
	listInference := lc.ParquetOptions != nil && lc.ParquetOptions.EnableListInference
	srcs := []loadSource{{label: "the uploaded file", path: j.dataPath, size: j.dataBytes}}
	if len(lc.SourceUris) > 0 {
		var cleanup func()
		var aerr *apiError
		srcs, cleanup, aerr = s.snapshotSources(lc.SourceUris)
		if aerr != nil {
			return 0, aerr
		}
		defer cleanup()
		j.dataBytes = 0
		for _, src := range srcs {
			j.dataBytes += src.size
		}
	}
	j.inputFiles = len(srcs)
	pf, aerr := inspectSources(ctx, srcs, listInference)
	if aerr != nil {
		return 0, aerr
	}
	paths := make([]string, len(srcs))
	for i, src := range srcs {
		paths[i] = src.path
	}

	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	ds, aerr := s.lookupDataset(d)
	if aerr != nil {
		return 0, aerr
	}
	plan, aerr := s.planLoad(ds, t, lc, pf)
	if aerr != nil {
		return 0, aerr
	}
	if !plan.create && lc.WriteDisposition == "WRITE_EMPTY" {
		var n int64
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(d)+"."+quoteIdent(t)).Scan(&n); err != nil {
			return 0, backendErr("counting rows of "+tid, err)
		}
		if n > 0 {
			return 0, errDuplicate("Already Exists: Table %s", tid)
		}
	}
	rows, aerr := s.applyLoad(ctx, d, t, paths, plan)
	if aerr != nil {
		return 0, aerr
	}
	now := s.now()
	if plan.create {
		plan.newTable.created, plan.newTable.modified, plan.newTable.version = now, now, 1
		ds.tables[t] = plan.newTable
	} else {
		tb := ds.tables[t]
		tb.schema = plan.schema
		tb.modified = now
		tb.version++
		if len(plan.added) > 0 || len(plan.relaxed) > 0 {
			s.refreshViews(ctx)
		}
	}
	return rows, nil
}

// planLoad checks the file against the destination and decides the schema changes; the caller
// holds catalogMu.
func (s *Server) planLoad(ds *dataset, t string, lc *bq.JobConfigurationLoad, pf *parquetFile) (*loadPlan, *apiError) {
	tid := s.tableID(ds.id, t)
	allowAdd, allowRelax := false, false
	for _, o := range lc.SchemaUpdateOptions {
		allowAdd = allowAdd || o == "ALLOW_FIELD_ADDITION"
		allowRelax = allowRelax || o == "ALLOW_FIELD_RELAXATION"
	}
	var explicit []*bq.TableFieldSchema
	if lc.Schema != nil && len(lc.Schema.Fields) > 0 {
		var aerr *apiError
		if explicit, aerr = normalizeSchema(lc.Schema.Fields); aerr != nil {
			return nil, aerr
		}
	}
	for _, ff := range pf.fields {
		if why, ok := pf.unsupported[strings.ToLower(ff.Name)]; ok {
			return nil, errInvalid("Error while reading data, error message: column %s: %s", ff.Name, why)
		}
	}
	plan := &loadPlan{truncate: lc.WriteDisposition == "WRITE_TRUNCATE", fileCols: map[string]string{}}
	tb, exists := ds.tables[t]
	switch {
	case exists && tb.view != "":
		return nil, errInvalid("Cannot load into %s: it is a view", tid)
	case !exists && lc.CreateDisposition == "CREATE_NEVER":
		return nil, errNotFound("Not found: Table %s", tid)
	case !exists:
		fields := explicit
		if fields == nil {
			fields = cloneFields(pf.fields)
		}
		var aerr *apiError
		if fields, aerr = normalizeSchema(fields); aerr != nil {
			return nil, aerr
		}
		tp, cl, aerr := validatePartitioning(lc.TimePartitioning, lc.Clustering, fields)
		if aerr != nil {
			return nil, aerr
		}
		plan.create = true
		plan.schema = fields
		plan.newTable = &table{id: t, schema: fields, partition: tp, clustering: cl}
		if p := lc.DestinationTableProperties; p != nil {
			plan.newTable.description, plan.newTable.friendly, plan.newTable.labels = p.Description, p.FriendlyName, p.Labels
		}
	default:
		plan.schema = cloneFields(tb.schema)
		if explicit != nil {
			out, added, relaxed, aerr := s.evolveSchema(ds.id, t, tb.schema, explicit, false, allowRelax)
			if aerr != nil {
				return nil, aerr
			}
			if len(added) > 0 && !allowAdd {
				return nil, errInvalid("Provided Schema does not match Table %s. Cannot add fields (field: %s)", tid, added[0].Name)
			}
			plan.schema, plan.added, plan.relaxed = out, added, relaxed
		}
	}

	// The file against the target schema.
	seen := map[string]bool{}
	for _, ff := range pf.fields {
		key := strings.ToLower(ff.Name)
		seen[key] = true
		tf := findField(plan.schema, ff.Name)
		if tf == nil {
			if !allowAdd {
				return nil, errInvalid("Provided Schema does not match Table %s. Cannot add fields (field: %s)", tid, ff.Name)
			}
			nf := cloneFields([]*bq.TableFieldSchema{ff})[0]
			if nf.Mode == modeRequired {
				nf.Mode = modeNullable
			}
			if _, aerr := normalizeSchema([]*bq.TableFieldSchema{nf}); aerr != nil {
				return nil, aerr
			}
			plan.added = append(plan.added, nf)
			plan.schema = append(plan.schema, nf)
			tf = nf
		}
		if aerr := checkColumn(tid, tf.Name, tf, ff, explicit != nil || plan.create, allowRelax, &plan.relaxed); aerr != nil {
			return nil, aerr
		}
		plan.fileCols[strings.ToLower(tf.Name)] = ff.Name
		// Data checks.
		if tf.Mode == modeRequired && pf.nulls[key] > 0 {
			return nil, errInvalid("Error while reading data, error message: Required field %s cannot be null", tf.Name)
		}
		if tf.Mode == modeRepeated && pf.elemNulls[key] > 0 {
			return nil, errInvalid("Error while reading data, error message: REPEATED field %s has a NULL element", tf.Name)
		}
	}
	for _, tf := range plan.schema {
		if tf.Mode != modeRequired || seen[strings.ToLower(tf.Name)] {
			continue
		}
		if !allowRelax {
			return nil, errInvalid("Provided Schema does not match Table %s. Field %s is missing in new schema", tid, tf.Name)
		}
		tf.Mode = modeNullable
		plan.relaxed = append(plan.relaxed, tf.Name)
	}
	if plan.create {
		// A new table has no columns to add or relax: its schema is the plan's.
		plan.added, plan.relaxed = nil, nil
		plan.newTable.schema = plan.schema
	}
	return plan, nil
}

// checkColumn checks one file column against its target column. A NULLABLE file column may fill a
// REQUIRED column only when the job gave a schema (the data is then checked for nulls) or allows
// relaxation (the column becomes NULLABLE).
func checkColumn(tid, path string, tf, ff *bq.TableFieldSchema, schemaGiven, allowRelax bool, relaxed *[]string) *apiError {
	if tf.Type != ff.Type {
		return errInvalid("Provided Schema does not match Table %s. Field %s has changed type from %s to %s", tid, path, tf.Type, ff.Type)
	}
	tRep, fRep := tf.Mode == modeRepeated, ff.Mode == modeRepeated
	if tRep != fRep {
		return errInvalid("Provided Schema does not match Table %s. Field %s has changed mode from %s to %s", tid, path, tf.Mode, ff.Mode)
	}
	if tf.Mode == modeRequired && ff.Mode == modeNullable && !schemaGiven {
		if !allowRelax {
			return errInvalid("Provided Schema does not match Table %s. Field %s has changed mode from REQUIRED to NULLABLE", tid, path)
		}
		tf.Mode = modeNullable
		if !strings.Contains(path, ".") {
			*relaxed = append(*relaxed, tf.Name)
		}
	}
	if tf.Type == typeRecord {
		for _, sub := range ff.Fields {
			ts := findField(tf.Fields, sub.Name)
			if ts == nil {
				return errInvalid("Provided Schema does not match Table %s. Cannot add fields (field: %s.%s)", tid, path, sub.Name)
			}
			if aerr := checkColumn(tid, path+"."+ts.Name, ts, sub, schemaGiven, false, relaxed); aerr != nil {
				return aerr
			}
		}
		for _, ts := range tf.Fields {
			if ts.Mode == modeRequired && findField(ff.Fields, ts.Name) == nil {
				return errInvalid("Provided Schema does not match Table %s. Field %s.%s is missing in new schema", tid, path, ts.Name)
			}
		}
	}
	return nil
}

// applyLoad writes a load of the Parquet files at paths into DuckDB in one transaction; the
// caller holds catalogMu.
func (s *Server) applyLoad(ctx context.Context, d, t string, paths []string, plan *loadPlan) (int64, *apiError) {
	tid := s.tableID(d, t)
	ref := quoteIdent(d) + "." + quoteIdent(t)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, backendErr("loading "+tid, err)
	}
	defer tx.Rollback()
	if plan.create {
		if _, err := tx.ExecContext(ctx, createTableSQL(d, t, plan.schema)); err != nil {
			return 0, errInvalid("Creating table %s: %v", tid, err)
		}
	}
	for _, f := range plan.added {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+ref+" ADD COLUMN "+columnDef(f)); err != nil {
			return 0, errInvalid("Adding column %s to %s: %v", f.Name, tid, err)
		}
	}
	for _, name := range plan.relaxed {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+ref+" ALTER COLUMN "+quoteIdent(name)+" DROP NOT NULL"); err != nil {
			return 0, errInvalid("Relaxing column %s of %s: %v", name, tid, err)
		}
	}
	if plan.truncate {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+ref); err != nil {
			return 0, backendErr("truncating "+tid, err)
		}
	}
	var cols []string
	for _, f := range plan.schema {
		src, ok := plan.fileCols[strings.ToLower(f.Name)]
		typ := duckType(f)
		switch {
		case ok && f.Mode == modeRepeated:
			cols = append(cols, fmt.Sprintf("COALESCE(CAST(%s AS %s), []) AS %s", quoteIdent(src), typ, quoteIdent(f.Name)))
		case ok:
			cols = append(cols, fmt.Sprintf("CAST(%s AS %s) AS %s", quoteIdent(src), typ, quoteIdent(f.Name)))
		case f.Mode == modeRepeated:
			cols = append(cols, fmt.Sprintf("CAST([] AS %s) AS %s", typ, quoteIdent(f.Name)))
		}
	}
	if len(cols) == 0 {
		return 0, errInvalid("Error while reading data, error message: the file has no column of table %s", tid)
	}
	files := make([]string, len(paths))
	for i, p := range paths {
		files[i] = quoteLiteral(p)
	}
	insert := fmt.Sprintf("INSERT INTO %s BY NAME SELECT %s FROM read_parquet([%s])", ref, strings.Join(cols, ", "), strings.Join(files, ", "))
	res, err := tx.ExecContext(ctx, insert)
	if err != nil {
		// DuckDB's message may quote values: keep only its kind.
		kind, _, _ := strings.Cut(err.Error(), ":")
		return 0, &apiError{code: http.StatusBadRequest, reason: ReasonInvalid,
			message: fmt.Sprintf("Error while reading data, error message: the rows could not be written to %s (%s)", tid, kind)}
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, backendErr("loading "+tid, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, backendErr("committing the load into "+tid, err)
	}
	return n, nil
}
