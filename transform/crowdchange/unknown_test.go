package crowdchange_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ccsync/ccsync/extract"
	crowdchangeapi "github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/schemas/crowdchange"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
)

func TestUnknownPaths(t *testing.T) {
	example := pageTransactions(t, crowdchangetest.ExamplePage())[0]
	hats := map[string]any{"count": json.Number("1"), "items": []any{map[string]any{"id": json.Number("1"), "price": json.Number("5")}}}
	cases := []struct {
		name string
		raw  []byte
		want []string
	}{
		{"the example", example, nil},
		{"an extra top-level field", withChanges(t, example, map[string]any{"loyalty_points": json.Number("3")}),
			[]string{"loyalty_points"}},
		{"an extra field in an apparel item", withChanges(t, example, map[string]any{"purchased_items.apparel.items.0.color": "red"}),
			[]string{"purchased_items.apparel.items[].color"}},
		{"a new item category", withChanges(t, example, map[string]any{"purchased_items.hats": hats}),
			[]string{"purchased_items.hats.count", "purchased_items.hats.items[].id", "purchased_items.hats.items[].price"}},
		{"all three, sorted", withChanges(t, example, map[string]any{
			"zeta": true, "purchased_items.hats": hats, "purchased_items.apparel.items.0.color": nil}),
			[]string{"purchased_items.apparel.items[].color", "purchased_items.hats.count", "purchased_items.hats.items[].id",
				"purchased_items.hats.items[].price", "zeta"}},
		{"known objects null", withChanges(t, example, map[string]any{
			"tax_receipt": nil, "fundraiser.user": nil, "purchased_items.apparel": nil, "custom_data": nil, "refund_children_ids": nil}), nil},
		{"known objects empty", withChanges(t, example, map[string]any{
			"tax_receipt": map[string]any{}, "purchased_items.apparel.items": []any{}, "fundraiser.tags_list": []any{}}), nil},
		{"unknown null and empty values are leaves", withChanges(t, example, map[string]any{
			"a": nil, "b": map[string]any{}, "c": []any{}, "fundraiser.d": map[string]any{"e": []any{}}}),
			[]string{"a", "b", "c", "fundraiser.d.e"}},
		{"a custom answer of any JSON type is one leaf", withChanges(t, example, map[string]any{
			"custom_data.0.content": map[string]any{"nested": []any{json.Number("1"), "x"}}}), nil},
		{"a scalar where an object is expected", withChanges(t, example, map[string]any{"tax_receipt": json.Number("5")}),
			[]string{"tax_receipt"}},
		{"an object inside a list of scalars", withChanges(t, example, map[string]any{
			"refund_children_ids": []any{json.Number("1"), map[string]any{"x": json.Number("2")}}}), nil},
		{"a path repeated in many elements is listed once", []byte(`{"id": 1, "custom_data": [{"x": 1}, {"x": 2}, {"y": [1, 2]}]}`),
			[]string{"custom_data[].x", "custom_data[].y[]"}},
		{"escaped keys are decoded", []byte(`{"id": 1, "caf\u00e9": 1, "a\"b": 2}`), []string{"a\"b", "café"}},
		{"an empty object", []byte(` {} `), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := transformcrowdchange.UnknownPaths(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("UnknownPaths = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnknownPathsRejectsWhatIsNotAnObject(t *testing.T) {
	const secret = "s3cr3t-value"
	for _, raw := range []string{
		``, `null`, `[]`, `"` + secret + `"`, `{"id": 1`, `{"id": 1,}`, `{"id": 01}`, `{"id": "` + secret + `}`,
		`{"id": 1} x`, `{"id": tru}`, `{"a": "\x"}`, `{"a": "` + "\x01" + `"}`, `{"a" 1}`, `{1: 2}`, `{"a": [1 2]}`,
		`{"a": -}`, `{"a": 1.}`, `{"a": 1e}`, `{"a": .5}`, `{"a": "\u12"}`,
		`{"a":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`,
	} {
		_, err := transformcrowdchange.UnknownPaths([]byte(raw))
		if err == nil {
			t.Errorf("UnknownPaths(%q) succeeded, want an error", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error holds a value: %v", err)
		}
	}
}

// FuzzUnknownPaths: never a panic; an error exactly when the input is not a JSON object (or is
// nested absurdly deep); paths sorted, unique, and none of them a mapped leaf.
func FuzzUnknownPaths(f *testing.F) {
	f.Add([]byte(pageTransactions(f, crowdchangetest.ExamplePage())[0]))
	for _, s := range []string{`{}`, `{"id": 1, "x": {"y": [1, {}]}}`, `{"custom_data": [{"content": {"a": 1}}]}`, `[]`, `{"a": "\u00e9"}`, `{"a\"b": null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := transformcrowdchange.UnknownPaths(raw)
		var obj map[string]json.RawMessage
		isObject := json.Unmarshal(raw, &obj) == nil && obj != nil
		if err != nil {
			if isObject && !strings.Contains(err.Error(), "nesting too deep") {
				t.Fatalf("UnknownPaths(%q) failed on a JSON object: %v", raw, err)
			}
			return
		}
		if !isObject {
			t.Fatalf("UnknownPaths(%q) accepted what is not a JSON object", raw)
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("paths not sorted and unique: %q", got)
		}
		for _, p := range got {
			if _, ok := crowdchange.HomeOf(p); ok {
				t.Fatalf("%s is reported unknown but has a home", p)
			}
		}
	})
}

// The client given KnownLeaves finds the unknown fields UnknownPaths finds, while it decodes; the
// Builder's rows are the same whether it found them or the Builder walks the transaction.
func TestKnownLeavesFindTheUnknownFields(t *testing.T) {
	example := pageTransactions(t, crowdchangetest.ExamplePage())[0]
	var items [][]byte
	for _, c := range []map[string]any{
		{"loyalty_points": json.Number("3")},
		{"fundraiser.user.language": "fr", "purchased_items.apparel.items.0.color": nil},
		{"fundraiser.user.language": nil, "refund_children_ids": []any{}},
		{"tax_receipt": map[string]any{}, "zeta": map[string]any{"a": []any{json.Number("1"), map[string]any{"b": true}}}},
		{"custom_data.0.content": map[string]any{"nested": []any{json.Number("1"), "x"}}},
	} {
		items = append(items, withChanges(t, example, c))
	}
	for page := 1; page <= 3; page++ {
		for _, raw := range pageTransactions(t, sandboxPage(t, page)) {
			items = append(items, raw)
		}
	}
	var body bytes.Buffer
	body.WriteString(`{"count": 1, "data": [`)
	for i, it := range items {
		if i > 0 {
			body.WriteString(",\n")
		}
		body.Write(it)
	}
	body.WriteString("]}")
	p, err := crowdchangeapi.NewPageDecoder(transformcrowdchange.KnownLeaves()).DecodePage(body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Transactions) != len(items) {
		t.Fatalf("%d transactions of %d", len(p.Transactions), len(items))
	}
	unknown := 0
	for i, f := range p.Transactions {
		if !f.Unknown.Found {
			t.Fatalf("transaction %d: its unknown fields were not looked for", i)
		}
		want, err := transformcrowdchange.UnknownPaths(f.Raw)
		if err != nil || !slices.Equal(f.Unknown.Paths, want) {
			t.Errorf("transaction %d: unknown %q, want %q (%v)", i, f.Unknown.Paths, want, err)
		}
		unknown += len(want)
	}
	if unknown < 6 {
		t.Errorf("only %d unknown fields: the test lost its point", unknown)
	}
	walked := make([]crowdchangeapi.Fetched, len(p.Transactions))
	for i, f := range p.Transactions {
		f.Unknown = extract.UnknownLeaves{}
		walked[i] = f
	}
	got, gotStats := build(t, p.Transactions...)
	want, wantStats := build(t, walked...)
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotStats, wantStats) {
		t.Errorf("the rows differ when the Builder walks the transactions itself")
	}
}
