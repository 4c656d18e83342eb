package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// DecodeLenient decodes the JSON object raw into the model v points to (a non-nil pointer to a
// struct), keeping every field that can be decoded. what names the record in errors
// ("transaction", "donation").
//
// The fast path decodes raw in one pass (the model's Decoder, when the model is one a Decoder
// decodes), then, where that is not sure to decode it as encoding/json would, one json.Unmarshal.
// When that fails too (one mistyped field stops encoding/json for the rest of the object), the
// record is decoded again field by field: each field that does not decode is left at its zero
// value (NULL in the warehouse) and named in the returned *DecodeError, and every other field,
// child lists included, is kept. Obvious variants are accepted on the way: a number or a boolean
// written as a JSON string ("50.00", "123", "true"). The error names the JSON paths and the kinds
// of values, never a value.
func DecodeLenient(raw []byte, v any, what string) error {
	rv := reflect.ValueOf(v).Elem()
	if c, err := coreOf(rv.Type()); err == nil {
		if c.decodeOne(raw, rv.Addr().UnsafePointer()) {
			return nil
		}
		rv.SetZero()
	}
	return decodeSlow(raw, rv, what)
}

// decodeSlow is DecodeLenient without its one-pass decoding: json.Unmarshal, then field by field
// when that fails. rv is the model value (addressable), zero.
func decodeSlow(raw []byte, rv reflect.Value, what string) error {
	if err := json.Unmarshal(raw, rv.Addr().Interface()); err == nil {
		return nil
	}
	rv.SetZero()
	d := lenientDecoder{what: what}
	d.value(raw, rv, "")
	if len(d.failed) == 0 {
		return nil // only accepted variants
	}
	return &DecodeError{What: what, Fields: d.failed}
}

// DecodeError names the fields of a record that could not be decoded; their columns are NULL,
// every other field was kept.
type DecodeError struct {
	// What names the record: "transaction" when empty.
	What string
	// Fields are "path: why" (for example "amount.donation: a JSON string is not money"), in the
	// order of the model's fields; they name no value.
	Fields []string
}

func (e *DecodeError) Error() string {
	return "decoding the " + orTransaction(e.What) + ": " + strings.Join(e.Fields, "; ")
}

func orTransaction(what string) string {
	if what == "" {
		return "transaction"
	}
	return what
}

// lenientDecoder decodes JSON into a model value field by field, recording what failed.
type lenientDecoder struct {
	what   string // the record, for a failure of the whole
	failed []string
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// value decodes raw into v (addressable), at the JSON path path. It reports whether v holds a
// value (a partly decoded object or list counts); JSON null leaves v zero and reports false.
func (d *lenientDecoder) value(raw []byte, v reflect.Value, path string) bool {
	raw = bytes.TrimSpace(raw)
	t := v.Type()
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return d.leaf(raw, v, path) // the model's own types decide what null means
	}
	if bytes.Equal(raw, []byte("null")) {
		v.SetZero()
		return false
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := reflect.New(t.Elem())
		if !d.value(raw, elem.Elem(), path) {
			return false
		}
		v.Set(elem)
		return true
	case reflect.Struct:
		return d.object(raw, v, path)
	case reflect.Slice:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			d.fail(path, "a JSON "+jsonKind(raw)+" is not a list")
			return false
		}
		list := reflect.MakeSlice(t, len(items), len(items))
		for i, it := range items {
			d.value(it, list.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(list)
		return true
	}
	return d.leaf(raw, v, path)
}

// object decodes a JSON object into the struct v, member by member. Members are matched to fields
// by their JSON names as encoding/json does: exactly, else case-insensitively.
func (d *lenientDecoder) object(raw []byte, v reflect.Value, path string) bool {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		d.fail(path, "a JSON "+jsonKind(raw)+" is not an object")
		return false
	}
	for _, f := range fieldsOf(v.Type()) {
		m, ok := members[f.name]
		if !ok {
			for k, mv := range members {
				if strings.EqualFold(k, f.name) {
					m, ok = mv, true
					break
				}
			}
		}
		if !ok {
			continue
		}
		d.value(m, v.Field(f.index), joinPath(path, f.name))
	}
	return true
}

// leaf decodes a scalar (or a type with its own UnmarshalJSON) into v. A number or boolean
// written as a JSON string is accepted; anything else that does not decode leaves v zero and is
// recorded.
func (d *lenientDecoder) leaf(raw []byte, v reflect.Value, path string) bool {
	ptr := reflect.New(v.Type())
	err := json.Unmarshal(raw, ptr.Interface())
	if err != nil && len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			inner := []byte(strings.TrimSpace(s))
			if isJSONNumber(inner) || string(inner) == "true" || string(inner) == "false" {
				if json.Unmarshal(inner, ptr.Interface()) == nil {
					err = nil
				}
			}
		}
	}
	if err != nil {
		v.SetZero()
		d.fail(path, leafReason(raw, v.Type(), err))
		return false
	}
	v.Set(ptr.Elem())
	return true
}

func (d *lenientDecoder) fail(path, why string) {
	if path == "" {
		path = "(the " + orTransaction(d.what) + ")"
	}
	d.failed = append(d.failed, path+": "+why)
}

// leafReason says why a value did not decode, without the value: encoding/json's type errors
// quote numbers, so only their kinds are kept; the model's own types never quote values.
func leafReason(raw []byte, t reflect.Type, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("a JSON %s does not fit %s", jsonKind(raw), typeName(t))
	}
	return err.Error()
}

// typeName names a model type for messages: "integer", "boolean", "string", or the Go type.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// jsonKind names the kind of a JSON value from its first byte.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "list"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// structField is a struct field decoded from a JSON member.
type structField struct {
	name  string
	index int
}

var fieldsCache sync.Map // reflect.Type → []structField

// fieldsOf lists the exported fields of a struct type with their JSON names.
func fieldsOf(t reflect.Type) []structField {
	if fs, ok := fieldsCache.Load(t); ok {
		return fs.([]structField)
	}
	var fs []structField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs = append(fs, structField{name: name, index: i})
	}
	fieldsCache.Store(t, fs)
	return fs
}
