package transform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/ccsync/ccsync/schemas"
)

// Resolving the JSON paths of schemas' declarations against a source's Go model, once per
// Flattener: each key is matched to the struct field encoding/json decodes it into (its `json`
// tag), and what Add then follows are the fields' offsets, never names.
//
// Add reads the model's fields through unsafe pointers at those offsets: reading them through
// reflect.Value costs more than the rest of filling a row does. It is safe because every offset,
// width and kind read comes from reflect's description of the very type the Flattener was made
// for (Flattener[T].Add only takes a *T), a pointer is followed only once checked not to be nil,
// and a list element is addressed only below the list's length. The race detector's pointer
// checks (checkptr) run over all of it in the tests.

// fieldStep is one step from an object's address: to the field at offset (the offsets of nested
// struct fields that are not pointers are summed into one step); deref: that field is a pointer to
// the next object, followed, and a nil pointer ends the way (the leaves behind it are null).
type fieldStep struct {
	offset uintptr
	deref  bool
}

// follow takes steps from the object at p; it returns nil at a nil pointer.
func follow(p unsafe.Pointer, steps []fieldStep) unsafe.Pointer {
	for _, s := range steps {
		p = unsafe.Add(p, s.offset)
		if s.deref {
			if p = *(*unsafe.Pointer)(p); p == nil {
				return nil
			}
		}
	}
	return p
}

// jsonField finds the field of struct type st that encoding/json decodes key into: the exported
// field whose JSON name (its `json` tag, else its Go name) is key, else the first whose JSON name
// is key ignoring case, as encoding/json matches. The exported fields of embedded exported structs
// without a tag are promoted, after the struct's own fields. It returns the steps to the field
// (the last one, to the field itself, never dereferences) and the field's type.
func jsonField(st reflect.Type, key string) ([]fieldStep, reflect.Type, bool) {
	fields := jsonFieldsOf(st)
	for _, f := range fields {
		if f.name == key {
			return f.steps, f.typ, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f.steps, f.typ, true
		}
	}
	return nil, nil, false
}

// jsonFieldOf is a field of a struct as encoding/json sees it.
type jsonFieldOf struct {
	name  string
	steps []fieldStep
	typ   reflect.Type
}

// jsonFieldsCache holds jsonFieldsOf's answers: reflect.Type → []jsonFieldOf.
var jsonFieldsCache sync.Map

// jsonFieldsOf lists the fields of struct type st by JSON name: its own exported fields, then
// the promoted fields of its embedded exported structs without a tag that it does not shadow.
func jsonFieldsOf(st reflect.Type) []jsonFieldOf {
	if cached, ok := jsonFieldsCache.Load(st); ok {
		return cached.([]jsonFieldOf)
	}
	var out []jsonFieldOf
	seen := map[string]bool{}
	var embedded []reflect.StructField
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-" || !f.IsExported():
			continue
		case f.Anonymous && tag == "":
			embedded = append(embedded, f)
			continue
		case name == "":
			name = f.Name
		}
		out = append(out, jsonFieldOf{name: name, steps: []fieldStep{{offset: f.Offset}}, typ: f.Type})
		seen[name] = true
	}
	for _, f := range embedded {
		et, deref := f.Type, false
		if et.Kind() == reflect.Pointer {
			et, deref = et.Elem(), true
		}
		if et.Kind() != reflect.Struct {
			continue
		}
		for _, inner := range jsonFieldsOf(et) {
			if !seen[inner.name] {
				out = append(out, jsonFieldOf{name: inner.name, steps: joinSteps([]fieldStep{{offset: f.Offset, deref: deref}}, inner.steps), typ: inner.typ})
				seen[inner.name] = true
			}
		}
	}
	jsonFieldsCache.Store(st, out)
	return out
}

// joinSteps appends next to steps, summing a step that does not dereference into the one after.
func joinSteps(steps, next []fieldStep) []fieldStep {
	out := append([]fieldStep(nil), steps...)
	for _, s := range next {
		if n := len(out); n > 0 && !out[n-1].deref {
			out[n-1] = fieldStep{offset: out[n-1].offset + s.offset, deref: s.deref}
			continue
		}
		out = append(out, s)
	}
	return out
}

// resolve follows a dot path of keys (no lists) from the struct type t to a field: the steps to
// it (every object on the way that is a pointer is dereferenced) and the field's declared type.
func resolve(t reflect.Type, path string) ([]fieldStep, reflect.Type, error) {
	var steps []fieldStep
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		if t.Kind() != reflect.Struct {
			return nil, nil, fmt.Errorf("%s is not an object in the Go model (%s)", strings.Join(segs[:i], "."), t)
		}
		fs, ft, ok := jsonField(t, seg)
		if !ok {
			return nil, nil, fmt.Errorf("%s has no field for the JSON key %q", t, seg)
		}
		if i < len(segs)-1 && ft.Kind() == reflect.Pointer {
			fs = joinSteps(fs, nil)
			fs[len(fs)-1].deref = true
			ft = ft.Elem()
		}
		steps = joinSteps(steps, fs)
		t = ft
	}
	return steps, t, nil
}

// leafKind is how a Go value fills a column.
type leafKind uint8

const (
	intLeaf        leafKind = iota + 1 // an integer, to INT64
	stringLeaf                         // a string, to STRING
	boolLeaf                           // a bool, to BOOL
	decimalLeaf                        // a string kind holding a JSON number literal ("" null), to NUMERIC
	timestampLeaf                      // a time.Time (zero null), to TIMESTAMP
	dateLeaf                           // a time.Time (zero null), to DATE: its UTC calendar date
	jsonTextLeaf                       // a json.RawMessage (empty or null: null), to STRING
	intListLeaf                        // a slice of integers, to a repeated INT64
	stringListLeaf                     // a slice of strings, to a repeated STRING
	boolListLeaf                       // a slice of bools, to a repeated BOOL
)

// leafPlan is how one leaf fills its column.
type leafPlan struct {
	col  col
	kind leafKind
	// ptr: the field is a pointer, nil is null.
	ptr bool
	// nullable: the field is a struct following the database/sql convention (sql.NullString,
	// extract.JSONText): the value at valueOffset when the bool at validOffset is true, else null.
	nullable                 bool
	validOffset, valueOffset uintptr
	// intKind is the kind of an integer, or of a list's elements.
	intKind reflect.Kind
	// timeOffset is the offset of the time.Time in a struct embedding it (extract.DateTime).
	timeOffset uintptr
	// elemSize is the size of an element of a list of scalars.
	elemSize uintptr
	// path is the leaf's JSON path relative to the object it is read from, for messages.
	path string
	// treatment is what the PII policy does with the value before it is stored.
	treatment leafTreatment
}

// canBeNull reports whether the leaf can leave its column null.
func (l *leafPlan) canBeNull() bool {
	switch l.kind {
	case intLeaf, stringLeaf, boolLeaf, intListLeaf, stringListLeaf, boolListLeaf:
		return l.ptr || l.nullable
	}
	return true
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	unsupportedHint = "an integer, string or bool (or a pointer to one), a string kind holding a JSON number for NUMERIC, time.Time or a struct embedding it, json.RawMessage, a struct with a Valid bool (the database/sql convention), or a slice of scalars for a repeated column"
)

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// planLeaf chooses how a field of Go type ft fills column c (at index at).
func planLeaf(ft reflect.Type, c schemas.Column, at col, path string) (*leafPlan, error) {
	l := &leafPlan{col: at, path: path}
	if ft.Kind() == reflect.Pointer {
		l.ptr, ft = true, ft.Elem()
	}
	if ft.Kind() == reflect.Struct && ft.NumField() == 2 && ft.Field(1).Name == "Valid" && ft.Field(1).Type.Kind() == reflect.Bool &&
		ft.Field(0).IsExported() && !ft.Field(0).Anonymous {
		l.nullable, l.validOffset, l.valueOffset, ft = true, ft.Field(1).Offset, ft.Field(0).Offset, ft.Field(0).Type
	}
	kind := ft.Kind()
	fits := false
	switch {
	case c.Repeated:
		if kind == reflect.Slice && ft != rawMessageType && !l.ptr && !l.nullable {
			ek := ft.Elem().Kind()
			l.elemSize, l.intKind = ft.Elem().Size(), ek
			switch {
			case c.Type == schemas.Int64 && isInt(ek):
				l.kind, fits = intListLeaf, true
			case c.Type == schemas.String && ek == reflect.String:
				l.kind, fits = stringListLeaf, true
			case c.Type == schemas.Bool && ek == reflect.Bool:
				l.kind, fits = boolListLeaf, true
			}
		}
	case c.Type == schemas.Int64 && isInt(kind):
		l.kind, l.intKind, fits = intLeaf, kind, true
	case c.Type == schemas.String && ft == rawMessageType:
		l.kind, fits = jsonTextLeaf, true
	case c.Type == schemas.String && kind == reflect.String:
		l.kind, fits = stringLeaf, true
	case c.Type == schemas.Bool && kind == reflect.Bool:
		l.kind, fits = boolLeaf, true
	case c.Type == schemas.Numeric && kind == reflect.String:
		// Money is exact: only a JSON number literal fills a NUMERIC column, never a float.
		l.kind, fits = decimalLeaf, true
	case c.Type == schemas.Timestamp || c.Type == schemas.Date:
		if off, ok := timeIn(ft); ok {
			l.kind, l.timeOffset, fits = timestampLeaf, off, true
			if c.Type == schemas.Date {
				l.kind = dateLeaf
			}
		}
	}
	if !fits {
		what := c.Type.String()
		if c.Repeated {
			what = "repeated " + what
		}
		return nil, fmt.Errorf("a Go %s cannot fill a %s column: want %s", ft, what, unsupportedHint)
	}
	return l, nil
}

// timeIn finds the time.Time of a time type: time.Time itself, or a struct whose first field
// embeds one (extract.DateTime, extract.Date). It returns its offset.
func timeIn(t reflect.Type) (uintptr, bool) {
	var off uintptr
	for t != timeType {
		if t.Kind() != reflect.Struct || t.NumField() == 0 || !t.Field(0).Anonymous || !t.Field(0).IsExported() {
			return 0, false
		}
		off, t = off+t.Field(0).Offset, t.Field(0).Type
	}
	return off, true
}

// listOf returns the address of the first element of the list (a slice of any type) at p, and
// the number of its elements: every slice type has the same header.
func listOf(p unsafe.Pointer) (unsafe.Pointer, int) {
	h := *(*[]byte)(p)
	return unsafe.Pointer(unsafe.SliceData(h)), len(h)
}

// readInt reads an integer of kind k at p.
func readInt(p unsafe.Pointer, k reflect.Kind) int64 {
	switch k {
	case reflect.Int8:
		return int64(*(*int8)(p))
	case reflect.Int16:
		return int64(*(*int16)(p))
	case reflect.Int32:
		return int64(*(*int32)(p))
	case reflect.Int:
		return int64(*(*int)(p))
	}
	return *(*int64)(p)
}
