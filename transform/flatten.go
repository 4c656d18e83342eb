package transform

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/schemas"
)

// Flattener fills the data tables of one source's schemas.Flattening with the records of the
// source's Go model T, table-driven: every column is filled as schemas declares it (the leaf at
// its JSON path, or its derivation), for every row of every row source. NewFlattener resolves
// each declared path against T's `json` struct tags once; Add follows the field offsets found.
// A new source declares its tables and its Flattening in schemas and gets its rows from a
// Flattener of its own model: nothing here names a source, a table or a column.
//
// It is not safe for concurrent use. Release it when done.
type Flattener[T any] struct {
	e *engine
}

// NewFlattener returns an empty Flattener of f's tables for records of model T (a struct type),
// whose records are allocated from mem. It fails, naming the table, column and path, when f's
// declarations do not fit T: a JSON path that leads to no field, a Go type that cannot fill its
// column (a float never fills a NUMERIC), a required column a row source can leave null.
func NewFlattener[T any](mem memory.Allocator, f schemas.Flattening) (*Flattener[T], error) {
	e, err := newEngine(mem, f, reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	return &Flattener[T]{e: e}, nil
}

// Add appends the rows of one version of a record to every table: rec is the record as the model
// decoded it (what could be decoded, when decodeErr says why not all), raw its JSON exactly as
// the API sent it. It never fails: decodeErr, leaves of raw without a home, values that cannot be
// stored (an amount that does not fit NUMERIC(38, 9), invalid UTF-8) are recorded in the
// DecodeError and UnknownFields columns and counted in Stats. rec must not be nil.
func (x *Flattener[T]) Add(rec *T, raw []byte, decodeErr error, m Meta) {
	x.AddDecoded(rec, raw, decodeErr, extract.UnknownLeaves{}, m)
}

// AddDecoded is Add of a record whose unknown leaves its client found while decoding it: when
// unknown.Found, they are the record's unknown fields and raw is not walked again (the client was
// given the flattening's known leaves, Leaves, with extract.WithKnownLeaves).
func (x *Flattener[T]) AddDecoded(rec *T, raw []byte, decodeErr error, unknown extract.UnknownLeaves, m Meta) {
	if rec == nil {
		panic("transform: Flattener.Add of a nil record")
	}
	x.e.add(unsafe.Pointer(rec), raw, nil, decodeErr, unknown, m)
}

// AddRedacted is Add of a record whose raw JSON the caller already redacted under the
// flattening's PII policy (Redactor), for its own use (Crowdtilt's content hash): redacted is
// stored as it is instead of raw being redacted again. raw is still what the unknown fields are
// found in.
func (x *Flattener[T]) AddRedacted(rec *T, raw, redacted []byte, decodeErr error, m Meta) {
	if rec == nil {
		panic("transform: Flattener.Add of a nil record")
	}
	x.e.add(unsafe.Pointer(rec), raw, redacted, decodeErr, extract.UnknownLeaves{}, m)
}

// Leaves are the JSON paths of the leaves that have a home in the flattening, and of its embedded
// records (schemas.Flattening.KnownLeaves), sorted: what a client is given (extract.WithKnownLeaves) to find the unknown fields while it decodes.
func Leaves(f schemas.Flattening) []string { return f.KnownLeaves() }

// Len is the number of records added since the last NewRecords.
func (x *Flattener[T]) Len() int { return x.e.added }

// Stats returns the counters since the Flattener was made (Stats.Transactions counts records).
func (x *Flattener[T]) Stats() Stats { return x.e.statsNow() }

// NewRecords returns the rows added since the last call: one record per table of the
// flattening, in its order, each with the table's Arrow schema. The Flattener starts afresh; the
// caller releases the records.
func (x *Flattener[T]) NewRecords() []arrow.Record { return x.e.newRecords(0) }

// Release frees the rows not yet returned by NewRecords.
func (x *Flattener[T]) Release() { x.e.release() }

// engine is a Flattener without its type parameter.
type engine struct {
	tables []*flatTable
	known  PathClassifier // the flattening's JSON-path map, for unknown fields
	// hash is the PII policy's keyed hash (nil: no key); redact the raw JSON's redactions (nil:
	// none).
	hash   func(string) string
	redact *redactTree
	issues []string // values of the record being added that could not be stored
	rec    recordState
	added  int // records since the last NewRecords
	stats  Stats
}

// recordState is what the record being added stamps and reports.
type recordState struct {
	raw            []byte
	redacted       []byte // raw already redacted under the policy (AddRedacted); nil: not yet
	decodeErr      error
	unknown        []string
	unknownErr     error
	runID, batchID string
	extracted      arrow.Timestamp
	reported       bool // its problems went to a DecodeError column
}

// flatTable is a table and how its rows are filled.
type flatTable struct {
	*table
	rows []*rowPlan
	// The record's own columns (noCol when the table has none): its raw JSON, the original bytes
	// when those were not valid UTF-8, its unknown fields and its decode error.
	rawJSON, rawBase64, unknownFields, decodeError col
	recordColumns                                  bool // has any of them
	replacedNote                                   string
}

// rowPlan fills the rows of one row source.
type rowPlan struct {
	lists   []listPlan    // from the record to the row objects, one per "[]" of each
	leaves  *objectPlan   // the row object's leaves
	derived []derivedPlan // the derived columns the row source fills, in column order
	// The objects of the row being filled: elems[0] is the record, elems[i] the current element
	// of lists[i-1]; pos[i] is that element's index.
	elems []unsafe.Pointer
	pos   []int
	where where
}

// listPlan leads from an object to a list whose elements are objects.
type listPlan struct {
	steps    []fieldStep
	elemSize uintptr        // the size of an element
	elemPtr  bool           // the elements are pointers; a nil one is an object without leaves
	zero     unsafe.Pointer // a zero element, standing for a nil one; never written
}

// objectPlan fills the leaves of an object and of the objects inside it, in declaration order.
type objectPlan struct {
	entries []objectEntry
}

// objectEntry is a field of an object, at offset: a leaf, or a pointer to an object whose
// leaves are filled (nil leaves them null).
type objectEntry struct {
	offset uintptr
	leaf   *leafPlan
	child  *objectPlan
}

// add adds the leaf found at steps (all of them dereference but the last, to the leaf).
func (o *objectPlan) add(steps []fieldStep, l *leafPlan) {
	n := o
	for _, s := range steps[:len(steps)-1] {
		n = n.child(s.offset)
	}
	n.entries = append(n.entries, objectEntry{offset: steps[len(steps)-1].offset, leaf: l})
}

func (o *objectPlan) child(offset uintptr) *objectPlan {
	for _, e := range o.entries {
		if e.child != nil && e.offset == offset {
			return e.child
		}
	}
	c := &objectPlan{}
	o.entries = append(o.entries, objectEntry{offset: offset, child: c})
	return c
}

// derivedPlan fills a derived column.
type derivedPlan struct {
	col   col
	kind  derivedKind
	value string    // RowConstant
	copy  *copyPlan // RecordKey, RecordDate, RowCopy
}

// derivedKind is a schemas.Derivation of a data table's row, as a number (the rows switch on it).
type derivedKind uint8

const (
	runIDKind derivedKind = iota + 1
	batchIDKind
	extractedAtKind
	positionKind
	outerPositionKind
	constantKind
	copyKind // RecordKey, RecordDate, RowCopy: a copy of a leaf
)

var derivedKinds = map[schemas.Derivation]derivedKind{
	schemas.RunID: runIDKind, schemas.BatchID: batchIDKind, schemas.ExtractedAt: extractedAtKind,
	schemas.Position: positionKind, schemas.OuterPosition: outerPositionKind, schemas.RowConstant: constantKind,
	schemas.RecordKey: copyKind, schemas.RecordDate: copyKind, schemas.RowCopy: copyKind, schemas.DonorKey: copyKind,
}

// copyPlan fills a column with a leaf of the record, or of an object on the way to the row.
type copyPlan struct {
	depth int // the leaf is in elems[depth]
	leaf  *objectPlan
	where where
}

// where locates the leaves of an object for messages: the object's path from the record and the
// current index of each of its lists.
type where struct {
	base string
	pos  []int
}

// path is the concrete path of the leaf at rel in the object: "purchased_items.apparel.items[3].price".
func (w *where) path(rel string) string {
	var b strings.Builder
	k := 0
	for i := 0; i < len(w.base); i++ {
		if strings.HasPrefix(w.base[i:], "[]") && k < len(w.pos) {
			b.WriteString("[" + strconv.Itoa(w.pos[k]) + "]")
			k++
			i++
			continue
		}
		b.WriteByte(w.base[i])
	}
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.WriteString(rel)
	return b.String()
}

// newEngine resolves every declaration of f against the model type.
func newEngine(mem memory.Allocator, f schemas.Flattening, model reflect.Type) (*engine, error) {
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	if model.Kind() != reflect.Struct {
		return nil, fmt.Errorf("transform: the %s model %s is not a struct", f.Record, model)
	}
	e := &engine{known: extract.ClassifyPaths(f.KnownLeaves()), stats: Stats{Rows: map[string]int64{}},
		hash: f.Hash, redact: newRedactTree(f.Redact)}
	for _, def := range f.Tables {
		t, err := e.planTable(mem, f, def, model)
		if err != nil {
			e.release()
			return nil, fmt.Errorf("transform: flattening the %s model %s: %w", f.Record, model, err)
		}
		e.tables = append(e.tables, t)
		e.stats.Rows[def.Name] = 0
	}
	return e, nil
}

// derivedTypes are the column types the derivations that do not follow a leaf fill.
var derivedTypes = map[schemas.Derivation]struct {
	typ      schemas.Type
	repeated bool
}{
	schemas.RunID:         {schemas.String, false},
	schemas.BatchID:       {schemas.String, false},
	schemas.ExtractedAt:   {schemas.Timestamp, false},
	schemas.Position:      {schemas.Int64, false},
	schemas.OuterPosition: {schemas.Int64, false},
	schemas.RowConstant:   {schemas.String, false},
	schemas.RawJSON:       {schemas.String, false},
	schemas.RawJSONBase64: {schemas.String, false},
	schemas.DecodeError:   {schemas.String, false},
	schemas.UnknownFields: {schemas.String, true},
}

func (e *engine) planTable(mem memory.Allocator, f schemas.Flattening, def schemas.Table, model reflect.Type) (*flatTable, error) {
	t := &flatTable{table: newTable(mem, def, &e.issues), rawJSON: noCol, rawBase64: noCol, unknownFields: noCol, decodeError: noCol}
	fail := func(err error) (*flatTable, error) {
		t.rb.Release()
		return nil, err
	}
	for i, c := range def.Columns {
		if want, ok := derivedTypes[c.Derived]; ok && (c.Type != want.typ || c.Repeated != want.repeated) {
			return fail(fmt.Errorf("%s.%s: a %s column is a %s (repeated: %t)", def.Name, c.Name, c.Derived, want.typ, want.repeated))
		}
		switch c.Derived {
		case schemas.RawJSON:
			t.rawJSON = col(i)
		case schemas.RawJSONBase64:
			t.rawBase64 = col(i)
		case schemas.UnknownFields:
			t.unknownFields = col(i)
		case schemas.DecodeError:
			t.decodeError = col(i)
		default:
			continue
		}
		t.recordColumns = true
	}
	if t.recordColumns && (len(def.Rows) != 1 || def.Rows[0].Each != "") {
		return fail(fmt.Errorf("%s: a table with the record's raw JSON, unknown fields or decode error has one row per record", def.Name))
	}
	if t.rawBase64 != noCol && t.rawJSON == noCol {
		return fail(fmt.Errorf("%s: the original bytes of a raw JSON column the table does not have", def.Name))
	}
	t.replacedNote = "invalid UTF-8 in the API's JSON, replaced by U+FFFD in every column"
	if t.rawBase64 != noCol {
		t.replacedNote += " (the original bytes are in " + def.Columns[t.rawBase64].Name + ")"
	}
	for _, rs := range def.Rows {
		r, err := planRows(f, def, rs, model)
		if err != nil {
			return fail(fmt.Errorf("%s (rows at %q): %w", def.Name, rs.Each, err))
		}
		t.rows = append(t.rows, r)
	}
	return t, nil
}

// planRows resolves a row source: the way to its row objects, its leaves and its derived
// columns. It checks that no required column can be left null.
func planRows(f schemas.Flattening, def schemas.Table, rs schemas.RowSource, model reflect.Type) (*rowPlan, error) {
	r := &rowPlan{leaves: &objectPlan{}}
	types := []reflect.Type{model} // types[i] is the type of elems[i]
	if rs.Each != "" {
		for _, seg := range strings.Split(strings.TrimSuffix(rs.Each, "[]"), "[].") {
			steps, ft, err := resolve(types[len(types)-1], seg)
			if err != nil {
				return nil, err
			}
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Slice {
				steps[len(steps)-1].deref = true
				ft = ft.Elem()
			}
			if ft.Kind() != reflect.Slice {
				return nil, fmt.Errorf("%s is a Go %s, not a list", seg, ft)
			}
			et, ptr := ft.Elem(), false
			if et.Kind() == reflect.Pointer {
				et, ptr = et.Elem(), true
			}
			if et.Kind() != reflect.Struct {
				return nil, fmt.Errorf("the elements of %s are Go %s, not objects", seg, et)
			}
			r.lists = append(r.lists, listPlan{steps: steps, elemSize: ft.Elem().Size(), elemPtr: ptr, zero: reflect.New(et).UnsafePointer()})
			types = append(types, et)
		}
	}
	r.elems = make([]unsafe.Pointer, len(types))
	r.pos = make([]int, len(r.lists))
	r.where = where{base: rs.Each, pos: r.pos}

	nullable := map[string]bool{} // the columns the row source fills: whether it may leave them null
	leafOf := func(obj *objectPlan, from reflect.Type, path, column string) error {
		ci := def.ColumnIndex(column)
		c := def.Columns[ci]
		steps, ft, err := resolve(from, strings.TrimSuffix(path, "[]"))
		if err != nil {
			return fmt.Errorf("column %s, JSON path %s: %w", column, path, err)
		}
		l, err := planLeaf(ft, c, col(ci), path)
		if err != nil {
			return fmt.Errorf("column %s, JSON path %s: %w", column, path, err)
		}
		if l.treatment = treatmentOf(c); l.treatment != storeAsIs {
			switch {
			case l.treatment == storeHash && f.Hash == nil:
				return fmt.Errorf("column %s is hashed, but the flattening has no key", column)
			case l.treatment == storeHash && l.kind != stringLeaf && l.kind != jsonTextLeaf && l.kind != stringListLeaf,
				l.treatment != storeHash && l.kind != stringLeaf:
				return fmt.Errorf("column %s: the PII policy hashes strings only, not a Go %s", column, ft)
			}
		}
		obj.add(steps, l)
		nullable[column] = l.canBeNull() || len(steps) > 1 // every step but the last follows a pointer
		return nil
	}
	for _, l := range rs.Leaves {
		if err := leafOf(r.leaves, types[len(types)-1], l.Path, l.Column); err != nil {
			return nil, err
		}
	}
	// copyOf plans the copy of the leaf at path (from the record, "[]" the current element).
	copyOf := func(path, column string) (*copyPlan, error) {
		cp := &copyPlan{leaf: &objectPlan{}}
		rel := path
		if i := strings.LastIndex(path, "[]"); i >= 0 {
			cp.depth = strings.Count(path[:i+2], "[]")
			cp.where.base, rel = path[:i+2], strings.TrimPrefix(path[i+2:], ".")
		}
		cp.where.pos = r.pos[:cp.depth]
		if err := leafOf(cp.leaf, types[cp.depth], rel, column); err != nil {
			return nil, err
		}
		return cp, nil
	}
	constants := map[string]string{}
	for _, k := range rs.Constants {
		constants[k.Column] = k.Value
	}
	copies := map[string]string{}
	for _, cp := range rs.Copies {
		copies[cp.Column] = cp.Path
	}
	for i, c := range def.Columns {
		d := derivedPlan{col: col(i), kind: derivedKinds[c.Derived]}
		switch c.Derived {
		case "", schemas.RawJSON, schemas.RawJSONBase64, schemas.UnknownFields, schemas.DecodeError:
			continue // leaves, and the record's own columns (flatTable)
		case schemas.RunID, schemas.BatchID, schemas.ExtractedAt:
		case schemas.Position:
			if len(r.lists) < 1 {
				continue // null: the row object is the record, in no list
			}
		case schemas.OuterPosition:
			if len(r.lists) < 2 {
				continue // null: the row object's list is in no list's element
			}
		case schemas.RowConstant:
			v, ok := constants[c.Name]
			if !ok {
				continue
			}
			d.value = v
		case schemas.RecordKey, schemas.RecordDate, schemas.RowCopy, schemas.DonorKey:
			path := copies[c.Name] // "" when the row source does not fill the column: null
			switch c.Derived {
			case schemas.RecordKey:
				path = f.Key
			case schemas.RecordDate:
				path = f.Date
			}
			if path == "" {
				continue
			}
			cp, err := copyOf(path, c.Name) // notes whether the copy can be null
			if err != nil {
				return nil, err
			}
			d.copy = cp
		default:
			return nil, fmt.Errorf("column %s: the derivation %q is not one of a data table", c.Name, c.Derived)
		}
		r.derived = append(r.derived, d)
		if d.copy == nil {
			nullable[c.Name] = false
		}
	}
	for _, c := range def.Columns {
		if !c.Required || c.Repeated || c.Derived == schemas.RawJSON {
			continue
		}
		if isNull, filled := nullable[c.Name]; !filled || isNull {
			return nil, fmt.Errorf("column %s is required, but these rows can leave it null", c.Name)
		}
	}
	return r, nil
}

// add appends the rows of one record version to every table.
func (e *engine) add(rec unsafe.Pointer, raw, redacted []byte, decodeErr error, unknown extract.UnknownLeaves, m Meta) {
	e.rec = recordState{raw: raw, redacted: redacted, decodeErr: decodeErr, runID: m.RunID, batchID: m.BatchID,
		extracted: arrow.Timestamp(m.ExtractedAt.UnixMicro())}
	if unknown.Found {
		e.rec.unknown = unknown.Paths
	} else {
		e.rec.unknown, e.rec.unknownErr = e.known.UnknownPaths(raw)
	}
	e.issues = e.issues[:0]
	for _, t := range e.tables {
		for _, r := range t.rows {
			r.elems[0] = rec
			e.rows(t, r, 0)
		}
	}
	if !e.rec.reported && (decodeErr != nil || e.rec.unknownErr != nil || len(e.issues) > 0) {
		e.stats.Invalid++
	}
	e.stats.UnknownFields += len(e.rec.unknown)
	e.added++
	e.stats.Transactions++
}

// rows adds a row per object at the end of r's lists, from list depth on.
func (e *engine) rows(t *flatTable, r *rowPlan, depth int) {
	if depth == len(r.lists) {
		e.row(t, r)
		return
	}
	l := &r.lists[depth]
	p := follow(r.elems[depth], l.steps)
	if p == nil {
		return
	}
	data, n := listOf(p)
	for i := 0; i < n; i++ {
		el := unsafe.Add(data, uintptr(i)*l.elemSize)
		if l.elemPtr {
			if el = *(*unsafe.Pointer)(el); el == nil {
				el = l.zero
			}
		}
		r.elems[depth+1], r.pos[depth] = el, i
		e.rows(t, r, depth+1)
	}
}

// row adds the row of the current row object of r.
func (e *engine) row(t *flatTable, r *rowPlan) {
	tb := t.table
	tb.begin()
	for i := range r.derived {
		d := &r.derived[i]
		switch d.kind {
		case runIDKind:
			tb.strv(d.col, e.rec.runID)
		case batchIDKind:
			tb.strv(d.col, e.rec.batchID)
		case extractedAtKind:
			tb.timestampv(d.col, e.rec.extracted)
		case positionKind:
			tb.intv(d.col, int64(r.pos[len(r.pos)-1]))
		case outerPositionKind:
			tb.intv(d.col, int64(r.pos[len(r.pos)-2]))
		case constantKind:
			tb.strv(d.col, d.value)
		case copyKind:
			e.fill(tb, d.copy.leaf, r.elems[d.copy.depth], &d.copy.where)
		}
	}
	e.fill(tb, r.leaves, r.elems[len(r.elems)-1], &r.where)
	if t.recordColumns {
		e.fillRecordColumns(t)
	}
	tb.end()
}

// fill sets the leaves of the object at p.
func (e *engine) fill(t *table, o *objectPlan, p unsafe.Pointer, w *where) {
	for i := range o.entries {
		en := &o.entries[i]
		fp := unsafe.Add(p, en.offset)
		if en.leaf != nil {
			e.write(t, en.leaf, fp, w)
			continue
		}
		if child := *(*unsafe.Pointer)(fp); child != nil {
			e.fill(t, en.child, child, w)
		}
	}
}

// write sets a leaf's column from its field at p; a null value leaves it unset. The common
// kinds are here, the others in writeOther (which keeps this one small: it runs for every leaf).
func (e *engine) write(t *table, l *leafPlan, p unsafe.Pointer, w *where) {
	if l.ptr {
		if p = *(*unsafe.Pointer)(p); p == nil {
			return
		}
	}
	if l.nullable {
		if !*(*bool)(unsafe.Add(p, l.validOffset)) {
			return
		}
		p = unsafe.Add(p, l.valueOffset)
	}
	switch l.kind {
	case stringLeaf:
		v := *(*string)(p)
		if l.treatment != storeAsIs {
			var ok bool
			if v, ok = e.treat(l, v); !ok {
				return
			}
		}
		t.strv(l.col, v)
	case intLeaf:
		t.intv(l.col, readInt(p, l.intKind))
	case boolLeaf:
		t.boolv(l.col, *(*bool)(p))
	case decimalLeaf:
		if lit := *(*string)(p); lit != "" {
			e.decimal(t, l, lit, w)
		}
	default:
		e.writeOther(t, l, p)
	}
}

func (e *engine) writeOther(t *table, l *leafPlan, p unsafe.Pointer) {
	switch l.kind {
	case timestampLeaf:
		t.timestamp(l.col, *(*time.Time)(unsafe.Add(p, l.timeOffset)))
	case dateLeaf:
		t.date(l.col, *(*time.Time)(unsafe.Add(p, l.timeOffset)))
	case jsonTextLeaf:
		text := *(*[]byte)(p)
		if l.treatment == storeHash {
			if trimmed := bytes.TrimSpace(text); len(trimmed) > 0 && string(trimmed) != "null" {
				t.strv(l.col, e.hash(string(text))) // the hash of the JSON text, as the raw JSON has it
			}
			return
		}
		t.jsonText(l.col, text)
	case intListLeaf:
		if lb := t.list(l.col); lb != nil {
			vb := lb.ValueBuilder().(*array.Int64Builder)
			data, n := listOf(p)
			for i := 0; i < n; i++ {
				vb.Append(readInt(unsafe.Add(data, uintptr(i)*l.elemSize), l.intKind))
			}
		}
	case stringListLeaf:
		if lb := t.list(l.col); lb != nil {
			vb := lb.ValueBuilder().(*array.StringBuilder)
			data, n := listOf(p)
			for i := 0; i < n; i++ {
				v := *(*string)(unsafe.Add(data, uintptr(i)*l.elemSize))
				if l.treatment == storeHash {
					v = e.hash(v)
				}
				vb.Append(t.validText(l.col, v))
			}
		}
	case boolListLeaf:
		if lb := t.list(l.col); lb != nil {
			vb := lb.ValueBuilder().(*array.BooleanBuilder)
			data, n := listOf(p)
			for i := 0; i < n; i++ {
				vb.Append(*(*bool)(unsafe.Add(data, uintptr(i)*l.elemSize)))
			}
		}
	}
}

// decimal sets a NUMERIC column from a JSON number literal, exactly. A literal that cannot be
// stored exactly leaves the column null and is noted (its path, never its value).
func (e *engine) decimal(t *table, l *leafPlan, lit string, w *where) {
	n, err := ParseDecimal(lit, schemas.NumericPrecision, schemas.NumericScale)
	if err != nil {
		e.issues = append(e.issues, w.path(l.path)+": "+err.Error())
		return
	}
	t.decimalv(l.col, n)
}

// fillRecordColumns sets the record's own columns of its row: its raw JSON, its unknown fields and
// what could not be decoded or stored (the problems of every table filled before this one).
func (e *engine) fillRecordColumns(t *flatTable) {
	tb := t.table
	var problems []string
	if e.rec.decodeErr != nil {
		problems = append(problems, e.rec.decodeErr.Error())
	}
	raw := e.rec.raw
	switch {
	case e.rec.redacted != nil:
		raw = e.rec.redacted
	case e.redact != nil:
		raw, _ = redact(raw, e.redact, e.hash) // JSON written again: valid UTF-8, no original bytes kept
	}
	if t.rawJSON != noCol && tb.rawJSON(t.rawJSON, t.rawBase64, raw) {
		problems = append(problems, t.replacedNote)
	}
	if e.rec.unknownErr != nil {
		problems = append(problems, e.rec.unknownErr.Error())
	}
	if t.unknownFields != noCol {
		tb.strs(t.unknownFields, e.rec.unknown)
	}
	problems = append(problems, e.issues...)
	if len(problems) > 0 {
		if t.decodeError != noCol {
			tb.strv(t.decodeError, strings.Join(problems, "; "))
		}
		e.stats.Invalid++
	}
	e.rec.reported = true
}

func (e *engine) statsNow() Stats {
	s := e.stats
	s.Rows = make(map[string]int64, len(e.tables))
	for _, t := range e.tables {
		s.Rows[t.def.Name] = t.total
	}
	return s
}

// newRecords returns a record per table, in a slice with room for extra more.
func (e *engine) newRecords(extra int) []arrow.Record {
	recs := make([]arrow.Record, len(e.tables), len(e.tables)+extra)
	for i, t := range e.tables {
		recs[i] = t.record()
	}
	e.added = 0
	return recs
}

func (e *engine) release() {
	for _, t := range e.tables {
		t.rb.Release()
	}
}
