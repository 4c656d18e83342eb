package extract

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"unsafe"
)

// decModel has a field of every kind a Decoder decodes.
type decModel struct {
	ID     int64            `json:"id"`
	Small  *int8            `json:"small"`
	Mid    *int32           `json:"mid,omitempty"`
	Plain  int              `json:"plain"`
	Name   *string          `json:"name"`
	Label  string           `json:"label"`
	Flag   *bool            `json:"flag"`
	On     bool             `json:"on"`
	Amount Money            `json:"amount"`
	When   DateTime         `json:"when"`
	Day    Date             `json:"day"`
	Answer JSONText         `json:"answer"`
	Blob   json.RawMessage  `json:"blob"`
	IDs    []int64          `json:"ids"`
	Tags   []string         `json:"tags"`
	Child  *decChild        `json:"child"`
	Inline decChild         `json:"inline"`
	Kids   []decChild       `json:"kids"`
	PKids  []*decChild      `json:"pkids"`
	Groups *decGroup        `json:"groups"`
	NoTag  *string          //nolint: the Go name is the JSON name
	Skip   string           `json:"-"`
	hidden string           //nolint:unused // unexported: never decoded
	Nested map[string]int64 `json:"-"`
}

type decChild struct {
	ID    *int64   `json:"id"`
	Price Money    `json:"price"`
	Notes []string `json:"notes"`
	Kids  []decKid `json:"kids"`
}

type decKid struct {
	Name *string `json:"name"`
}

type decGroup struct {
	Count *int64     `json:"count,omitempty"`
	Items []decChild `json:"items"`
}

// decodeBoth decodes raw with the Decoder and with json.Unmarshal; ok is the Decoder's answer.
func decodeBoth(t testing.TB, raw []byte) (fast, slow decModel, ok bool, slowErr error) {
	t.Helper()
	c, err := coreOf(reflect.TypeFor[decModel]())
	if err != nil {
		t.Fatal(err)
	}
	ok = c.decodeOne(raw, unsafe.Pointer(&fast))
	slowErr = json.Unmarshal(raw, &slow)
	return fast, slow, ok, slowErr
}

func TestDecoderAgreesWithEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		fast bool // the Decoder decodes it (else the caller takes the slow path)
	}{
		{"empty", `{}`, true},
		{"every kind", `{"id": 12, "small": -8, "mid": 70000, "plain": 3, "name": "Ada", "label": "x", "flag": true, "on": true,
			"amount": 105.15, "when": "2024-03-01 10:00:00", "day": "2024-02-29", "answer": "yes", "blob": {"a": [1, 2]},
			"ids": [1, 2, 3], "tags": ["a", "b"], "child": {"id": 1, "price": "5.00", "notes": []}, "inline": {"id": 2},
			"kids": [{"id": 3, "kids": [{"name": "k"}]}, {"id": 4}], "pkids": [null, {"id": 5}], "groups": {"count": 2, "items": [{"id": 6}]},
			"NoTag": "t", "Skip": "no", "hidden": "no"}`, true},
		{"nulls", `{"id": null, "small": null, "name": null, "label": null, "on": null, "amount": null, "when": null, "day": null,
			"answer": null, "blob": null, "ids": null, "child": null, "inline": null, "kids": null, "pkids": [null]}`, true},
		{"empty lists are not nil", `{"ids": [], "kids": [], "tags": []}`, true},
		{"escapes and unicode", `{"name": "O'Brien \u0026 Sons \"q\" \ud83c\udf31 \\ \/ \b\f\n\r\t", "label": "中文 🌱", "answer": "caf\u00e9"}`, true},
		{"a lone surrogate", `{"name": "\ud800x"}`, true},
		{"invalid UTF-8", "{\"name\": \"a\xffb\", \"answer\": \"\xc3\"}", true},
		{"other date layouts", `{"when": "2024-03-01T10:00:00Z", "day": "2024-03-01 23:00:00"}`, true},
		{"empty dates", `{"when": "", "day": ""}`, true},
		{"answers of any type", `{"answer": 12.5}`, true},
		{"an answer that is an object", `{"answer": {"b": [1, true]}}`, true},
		{"money as a string", `{"amount": "-0.05"}`, true},
		{"money with an exponent", `{"amount": 1.5e2}`, true},
		{"limits of int64", `{"id": -9223372036854775808, "plain": 9223372036854775807}`, true},
		{"unknown members", `{"zeta": {"a": [1, {"b": null}]}, "id": 1, "child": {"extra": 1}}`, true},
		{"out of order", `{"tags": ["a"], "id": 1, "name": "x"}`, true},
		{"whitespace", " \t\n{ \"id\" : 1 , \"tags\" : [ \"a\" , \"b\" ] }\r\n", true},
		{"a number for a string", `{"name": 5}`, false},
		{"a string for a number", `{"id": "5"}`, false},
		{"a fraction for an integer", `{"id": 1.5}`, false},
		{"an exponent for an integer", `{"id": 1e2}`, false},
		{"out of range", `{"small": 300}`, false},
		{"beyond int64", `{"id": 9223372036854775808}`, false},
		{"an object for a list", `{"kids": {}}`, false},
		{"a list for an object", `{"child": []}`, false},
		{"a scalar for an object", `{"child": 5}`, false},
		{"money that is a word", `{"amount": "fifty"}`, false},
		{"a bad date", `{"when": "31/12/2024"}`, false},
		{"February 30th", `{"day": "2023-02-30"}`, false},
		{"a key in another case", `{"ID": 5}`, false},
		{"an escaped key", `{"i\u0064": 5}`, false},
		{"a key twice", `{"id": 5, "id": 6}`, false},
		{"a number for a bool", `{"flag": 1}`, false},
		{"truncated", `{"id": 5`, false},
		{"not an object", `[1]`, false},
		{"trailing data", `{"id": 5} x`, false},
		{"a bad literal", `{"flag": tru}`, false},
		{"a bad number", `{"id": 01}`, false},
		{"a control character", "{\"name\": \"a\x01\"}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, slow, ok, slowErr := decodeBoth(t, []byte(tt.raw))
			if ok != tt.fast {
				t.Fatalf("decoded: %v, want %v (json.Unmarshal: %v)", ok, tt.fast, slowErr)
			}
			if !ok {
				return
			}
			if slowErr != nil {
				t.Fatalf("the Decoder decoded what json.Unmarshal refuses: %v", slowErr)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("the Decoder decoded\n%#v\njson.Unmarshal\n%#v", fast, slow)
			}
		})
	}
}

func TestDecoderLeaves(t *testing.T) {
	d, err := NewDecoder[decModel](nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"NoTag", "amount", "answer", "blob",
		"child.id", "child.kids[].name", "child.notes[]", "child.price",
		"day", "flag",
		"groups.count", "groups.items[].id", "groups.items[].kids[].name", "groups.items[].notes[]", "groups.items[].price",
		"id", "ids[]",
		"inline.id", "inline.kids[].name", "inline.notes[]", "inline.price",
		"kids[].id", "kids[].kids[].name", "kids[].notes[]", "kids[].price",
		"label", "mid", "name", "on",
		"pkids[].id", "pkids[].kids[].name", "pkids[].notes[]", "pkids[].price",
		"plain", "small", "tags[]", "when",
	}
	if got := d.Leaves(); !slices.Equal(got, want) {
		t.Errorf("Leaves = %q\nwant %q", got, want)
	}
}

func TestNewDecoderRefuses(t *testing.T) {
	type float struct {
		X float64 `json:"x"`
	}
	type stringOpt struct {
		X int64 `json:"x,string"`
	}
	type embeds struct {
		decKid
	}
	type self struct {
		Next *self `json:"next"`
	}
	type clash struct {
		A string `json:"a"`
		B string `json:"A"`
	}
	type bytes struct {
		B []byte `json:"b"`
	}
	type decodesItself struct {
		T json.Number     `json:"t"`
		U struct{ Money } `json:"u"`
	}
	for name, f := range map[string]func() error{
		"float":         func() error { _, err := NewDecoder[float](nil); return err },
		"string option": func() error { _, err := NewDecoder[stringOpt](nil); return err },
		"embedded":      func() error { _, err := NewDecoder[embeds](nil); return err },
		"recursive":     func() error { _, err := NewDecoder[self](nil); return err },
		"names clash":   func() error { _, err := NewDecoder[clash](nil); return err },
		"bytes":         func() error { _, err := NewDecoder[bytes](nil); return err },
		"not a struct":  func() error { _, err := NewDecoder[[]int](nil); return err },
		"embeds money":  func() error { _, err := NewDecoder[decodesItself](nil); return err },
	} {
		if f() == nil {
			t.Errorf("%s: NewDecoder accepted it", name)
		}
	}
}

// A page: the items are sub-slices of the body, decoded with their unknown leaves; what the
// Decoder is not sure of is left to the caller.
func TestDecodeList(t *testing.T) {
	d, err := NewDecoder[decModel](nil)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"count": 3, "next": {"x": 1}, "data": [{"id": 1, "zz": [1, {"y": 2}], "child": {"id": 2, "w": null}}, {"id": "2"}, 7, {"id": 3}], "dt": "x"}`)
	l, ok := d.DecodeList(body, "data", "count", "dt", "none")
	if !ok {
		t.Fatal("not decoded")
	}
	if string(l.Members[0]) != "3" || string(l.Members[1]) != `"x"` || l.Members[2] != nil {
		t.Errorf("members %q", l.Members)
	}
	want := []struct {
		raw     string
		decoded bool
		id      int64
		unknown []string
	}{
		{`{"id": 1, "zz": [1, {"y": 2}], "child": {"id": 2, "w": null}}`, true, 1, []string{"child.w", "zz[]", "zz[].y"}},
		{`{"id": "2"}`, false, 0, nil},
		{`7`, false, 0, nil},
		{`{"id": 3}`, true, 3, nil},
	}
	if len(l.Items) != len(want) {
		t.Fatalf("%d items", len(l.Items))
	}
	known := ClassifyPaths(d.Leaves())
	for i, w := range want {
		it := l.Items[i]
		if string(it.Raw) != w.raw || it.Decoded != w.decoded || it.Value.ID != w.id || !slices.Equal(it.Unknown, w.unknown) {
			t.Errorf("item %d: %s decoded %v id %d unknown %q", i, it.Raw, it.Decoded, it.Value.ID, it.Unknown)
		}
		if it.Decoded {
			if u, err := known.UnknownPaths(it.Raw); err != nil || !slices.Equal(u, it.Unknown) {
				t.Errorf("item %d: UnknownPaths = %q, %v", i, u, err)
			}
		}
	}
	for _, bad := range []string{
		`{"data": [{"id": 1}]`, `{"data": [{"id": 1}]} x`, `[]`, `{"count": 1}`, `{"data": {}}`, `{"data": "x"}`,
		`{"Data": []}`, `{"data": [], "data": []}`, `{"count": 1, "COUNT": 2, "data": []}`, `{"count": 1, "count": 2, "data": []}`,
		`{"d\u0061ta": []}`, `{"data": [{"id": 1} {"id": 2}]}`, `{"data": [{"id": 1, "name": "a` + "\x01" + `"}]}`,
	} {
		if _, ok := d.DecodeList([]byte(bad), "data", "count"); ok {
			t.Errorf("%s: decoded", bad)
		}
	}
	if l, ok := d.DecodeList([]byte(`{"data": null}`), "data"); !ok || len(l.Items) != 0 {
		t.Errorf("null data: %v %v", l, ok)
	}
}

// DecodeLenient's one-pass decoding leaves the slow path's answers as they were.
func TestDecodeLenientOnePass(t *testing.T) {
	for _, raw := range []string{`{"id": 1, "name": "x"}`, `{"id": "7", "name": 5}`, `{"ID": 3}`, `[1]`} {
		var fast, slow decModel
		ferr := DecodeLenient([]byte(raw), &fast, "record")
		serr := decodeSlow([]byte(raw), reflect.ValueOf(&slow).Elem(), "record")
		if !reflect.DeepEqual(fast, slow) || (ferr == nil) != (serr == nil) || (ferr != nil && ferr.Error() != serr.Error()) {
			t.Errorf("%s: %v %+v, want %v %+v", raw, ferr, fast, serr, slow)
		}
	}
}

// The Decoder never decodes what json.Unmarshal would decode otherwise, or refuse; and the
// unknown leaves it finds are UnknownPaths'.
func FuzzDecoder(f *testing.F) {
	seeds := []string{
		`{}`, `{"id": 12, "small": -8, "name": "Ada", "flag": true, "amount": 105.15, "when": "2024-03-01 10:00:00", "day": "2024-02-29",
			"answer": "yes", "blob": {"a": [1]}, "ids": [1, 2], "tags": ["a"], "child": {"id": 1, "price": "5.00"}, "kids": [{"id": 3, "kids": [{"name": "k"}]}],
			"pkids": [null, {"id": 5}], "groups": {"count": 2, "items": [{"id": 6}]}, "zz": {"y": [1, null, {}]}}`,
		`{"name": "\u0026 \ud83c\udf31 \ud800"}`, "{\"name\": \"a\xffb\"}", `{"id": 1e2}`, `{"ID": 1}`, `{"id": 1, "id": 2}`,
		`{"when": "2024-03-01T10:00:00+02:00", "day": "2024-13-01"}`, `{"answer": [1, "x", {"a": null}]}`, `{"amount": "1e5"}`,
		`{"kids": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}], "pkids": [{"id": 1, "kids": [{}, {}, {}]}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	self, err := NewDecoder[decModel](nil)
	if err != nil {
		f.Fatal(err)
	}
	other, err := NewDecoder[decModel](otherLeaves)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, slow, ok, slowErr := decodeBoth(t, raw)
		if ok && !json.Valid(raw) {
			t.Fatalf("decoded invalid JSON: %q", raw)
		}
		if ok {
			if slowErr != nil {
				t.Fatalf("decoded what json.Unmarshal refuses (%v): %q", slowErr, raw)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%q: decoded\n%#v\njson.Unmarshal\n%#v", raw, fast, slow)
			}
		}
		page := append(append([]byte(`{"data": [`), raw...), "]}"...)
		for _, d := range []*Decoder[decModel]{self, other} {
			checkList(t, d, page)
		}
	})
}

// otherLeaves are known leaves that differ from decModel's: some of its leaves are missing
// ("name", "child.id", "kids[].kids[].name"), a list of scalars and an object are known whole
// ("ids", "groups"), a leaf is known as an object ("blob.x") and a leaf it does not have is known
// ("zz[]").
var otherLeaves = []string{
	"NoTag", "amount", "answer", "blob.x", "child.kids[].name", "child.notes[]", "child.price", "day", "flag", "groups",
	"id", "ids", "inline.id", "inline.kids[].name", "inline.notes[]", "inline.price", "kids[].id", "kids[].notes[]",
	"kids[].price", "label", "mid", "on", "pkids[].id", "pkids[].kids[].name", "pkids[].notes[]", "pkids[].price",
	"plain", "small", "tags[]", "when", "zz[]",
}

// checkList checks d.DecodeList on page against json.Valid, json.Unmarshal and UnknownPaths.
func checkList(t *testing.T, d *Decoder[decModel], page []byte) {
	t.Helper()
	l, ok := d.DecodeList(page, "data")
	if !ok {
		return
	}
	if !json.Valid(page) {
		t.Fatalf("decoded an invalid page: %q", page)
	}
	for _, it := range l.Items { // the page may hold several items, or close the list: "{}], "x": ["
		if !it.Decoded {
			continue
		}
		var slow decModel
		if err := json.Unmarshal(it.Raw, &slow); err != nil || !reflect.DeepEqual(it.Value, slow) {
			t.Fatalf("%q: decoded in a list\n%#v\njson.Unmarshal (%v)\n%#v", it.Raw, it.Value, err, slow)
		}
		u, err := d.known.UnknownPaths(it.Raw)
		if err != nil || !slices.Equal(u, it.Unknown) {
			t.Fatalf("%q: unknown %q, UnknownPaths %q (%v)", it.Raw, it.Unknown, u, err)
		}
	}
}

// The unknown leaves are those of the known leaves the Decoder was given, where they differ from
// the model's.
func TestDecodeListOtherLeaves(t *testing.T) {
	d, err := NewDecoder[decModel](otherLeaves)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		`{"id": 1, "name": null, "child": {"id": 2, "price": 1}, "kids": [{"id": 1, "kids": [{"name": "x"}, {}]}], "ids": [1, 2],
			"groups": {"count": 1, "items": [{"id": 1, "zz": 1}]}, "blob": {"x": 1, "y": [1]}, "zz": [1, {"a": 1}]}`,
		`{"blob": null, "child": null, "kids": [], "ids": null}`,
		`{"blob": 5, "blob2": {}, "tags": ["a", "b"], "pkids": [null, {"kids": null}]}`,
	} {
		page := []byte(`{"data": [` + raw + `]}`)
		l, ok := d.DecodeList(page, "data")
		if !ok || len(l.Items) != 1 || !l.Items[0].Decoded {
			t.Fatalf("%s: not decoded", raw)
		}
		checkList(t, d, page)
	}
}
