package transform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/schemas"
)

func testHash(s string) string {
	m := hmac.New(sha256.New, []byte("a test key of 32 bytes, no more."))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rules []schemas.Redaction
		raw   string
		want  string // "" : unchanged, same bytes
	}{
		{name: "nothing to redact", rules: []schemas.Redaction{{Path: "email", Treatment: schemas.Hash}}, raw: `{ "id": 1, "name": "x" }`},
		{name: "a hashed string", rules: []schemas.Redaction{{Path: "email", Treatment: schemas.Hash}},
			raw: `{"id": 1, "email": "Ann@example.org", "n": 1.50}`, want: `{"id":1,"email":"` + testHash("Ann@example.org") + `","n":1.50}`},
		{name: "a dropped member", rules: []schemas.Redaction{{Path: "phone", Treatment: schemas.Drop}},
			raw: `{"phone": "555", "id": 1}`, want: `{"id":1}`},
		{name: "null stays null", rules: []schemas.Redaction{{Path: "email", Treatment: schemas.Hash}}, raw: `{"email": null}`},
		{name: "a nested object and its list", rules: []schemas.Redaction{{Path: "donor.email", Treatment: schemas.Hash}, {Path: "items[].answer", Treatment: schemas.Drop}},
			raw:  `{"donor": {"email": "a@b.c", "id": 7}, "items": [{"answer": "secret", "q": 1}, {"q": 2}]}`,
			want: `{"donor":{"email":"` + testHash("a@b.c") + `","id":7},"items":[{"q":1},{"q":2}]}`},
		{name: "a hashed object is the hash of its JSON text", rules: []schemas.Redaction{{Path: "metadata", Treatment: schemas.Hash}},
			raw: `{"metadata": {"a": 1}}`, want: `{"metadata":"` + testHash(`{"a": 1}`) + `"}`},
		{name: "a list of strings", rules: []schemas.Redaction{{Path: "names[]", Treatment: schemas.Hash}},
			raw: `{"names": ["a", "b"]}`, want: `{"names":["` + testHash("a") + `","` + testHash("b") + `"]}`},
		{name: "escapes and unicode survive", rules: []schemas.Redaction{{Path: "email", Treatment: schemas.Drop}},
			raw: `{"email": "x", "title": "Niños \u00e9 \"q\" 🌱"}`, want: `{"title":"Niños \u00e9 \"q\" 🌱"}`},
		{name: "not JSON", rules: []schemas.Redaction{{Path: "email", Treatment: schemas.Drop}}, raw: `{"email": `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, changed := redact([]byte(tc.raw), newRedactTree(tc.rules), testHash)
			want := tc.want
			if want == "" {
				want = tc.raw
			}
			if string(got) != want || changed != (tc.want != "") {
				t.Errorf("redact(%s) = %s (changed %v), want %s", tc.raw, got, changed, want)
			}
			if changed && !json.Valid(got) {
				t.Errorf("redacted JSON is not valid: %s", got)
			}
		})
	}
}

// piiModel is a record with PII of every shape the policy treats.
type piiModel struct {
	ID       string          `json:"id"`
	Email    *string         `json:"email"`
	Name     *string         `json:"name"`
	Phone    *string         `json:"phone"`
	Tags     []string        `json:"tags"`
	Metadata json.RawMessage `json:"metadata"`
	Created  time.Time       `json:"created"`
}

func piiFlattening() schemas.Flattening {
	t := schemas.WithDonorKey(schemas.RecordTable("people", "People.",
		schemas.Column{Name: "created_day", Type: schemas.Date, Derived: schemas.RecordDate, Description: "Day."},
		schemas.FieldAt("id", schemas.Column{Name: "id", Type: schemas.String, Required: true, Description: "ID."}),
		schemas.FieldAt("email", schemas.Column{Name: "email", Type: schemas.String, PII: true, Description: "E-mail."}),
		schemas.FieldAt("name", schemas.Column{Name: "name", Type: schemas.String, PII: true, Description: "Name."}),
		schemas.FieldAt("phone", schemas.Column{Name: "phone", Type: schemas.String, PII: true, Description: "Phone."}),
		schemas.FieldAt("tags[]", schemas.Column{Name: "tags", Type: schemas.String, Repeated: true, PII: true, Description: "Tags."}),
		schemas.FieldAt("metadata", schemas.Column{Name: "metadata", Type: schemas.String, PII: true, Description: "Metadata."}),
		schemas.FieldAt("created", schemas.Column{Name: "created", Type: schemas.Timestamp, Description: "Created."}),
	), "email", "email")
	raw := schemas.RawTable("raw_people", "people", "person_id", "created_day", "Raw.", "Raw JSON.")
	return schemas.Flattening{Record: "person", Key: "id", Date: "created", Tables: []schemas.Table{t, raw}}
}

// rowOf is the first row of rec as column → value text ("" null).
func rowOf(t *testing.T, rec arrow.Record) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, f := range rec.Schema().Fields() {
		c := rec.Column(i)
		if c.IsNull(0) {
			out[f.Name] = ""
			continue
		}
		switch a := c.(type) {
		case *array.String:
			out[f.Name] = a.Value(0)
		case *array.List:
			out[f.Name] = a.ValueStr(0)
		default:
			out[f.Name] = a.ValueStr(0)
		}
	}
	return out
}

// A record flattened under a policy: hashed columns hold the keyed hash of their values (the
// same in the raw JSON), dropped columns are absent and their members gone from the raw JSON
// (but not unknown fields), and the donor key is the keyed hash of the normalised e-mail; without
// a key, the donor key is the normalised e-mail where the e-mail is kept, else null.
func TestFlatteningUnderPolicy(t *testing.T) {
	t.Parallel()
	raw := `{"id": "p1", "email": " Ann@Example.org ", "name": "Ann Ó", "phone": "555-1234", "tags": ["vip"], "metadata": {"k": "v"}, "created": "2026-01-02T03:04:05Z"}`
	var model piiModel
	if err := json.Unmarshal([]byte(raw), &model); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		policy schemas.Policy
		want   map[string]string // column → value; absent: the column must not exist
		inRaw  []string          // must be in the raw JSON
		notRaw []string          // must not
	}{
		{name: "keep", policy: schemas.Policy{},
			want:  map[string]string{"email": " Ann@Example.org ", "name": "Ann Ó", "phone": "555-1234", "donor_key": "ann@example.org", "metadata": `{"k": "v"}`},
			inRaw: []string{"Ann@Example.org", "555-1234"}},
		{name: "hash by default, the phone dropped",
			policy: schemas.Policy{Default: schemas.Hash, Columns: map[string]schemas.Treatment{"people.phone": schemas.Drop}, Hash: testHash},
			want: map[string]string{"email": testHash(" Ann@Example.org "), "name": testHash("Ann Ó"), "donor_key": testHash("ann@example.org"),
				"metadata": testHash(`{"k": "v"}`), "tags": `["` + testHash("vip") + `"]`},
			inRaw:  []string{testHash(" Ann@Example.org "), testHash("Ann Ó"), testHash("vip")},
			notRaw: []string{"Ann", "555", "phone", "vip", `"k"`}},
		{name: "drop without a key: no donor key",
			policy: schemas.Policy{Default: schemas.Drop},
			want:   map[string]string{"donor_key": ""},
			notRaw: []string{"Ann", "555", "email", "metadata"}},
		{name: "a key, everything kept: the donor key is hashed",
			policy: schemas.Policy{Hash: testHash},
			want:   map[string]string{"email": " Ann@Example.org ", "donor_key": testHash("ann@example.org")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			x, err := NewFlattener[piiModel](mem, tc.policy.Flattening(piiFlattening()))
			if err != nil {
				t.Fatal(err)
			}
			defer x.Release()
			x.Add(&model, []byte(raw), nil, Meta{RunID: "r", BatchID: "b", ExtractedAt: time.Unix(0, 0)})
			recs := x.NewRecords()
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			row, rawRow := rowOf(t, recs[0]), rowOf(t, recs[1])
			for _, col := range []string{"email", "name", "phone", "tags", "metadata", "donor_key"} {
				want, wanted := tc.want[col]
				got, present := row[col]
				switch {
				case wanted && !present:
					t.Errorf("column %s is absent", col)
				case wanted && got != want:
					t.Errorf("%s = %q, want %q", col, got, want)
				case !wanted && tc.policy.Default == schemas.Drop && present && col != "donor_key":
					t.Errorf("column %s is present; the policy drops it", col)
				}
			}
			if _, dropped := tc.policy.Columns["people.phone"]; dropped {
				if _, present := row["phone"]; present {
					t.Errorf("the dropped column phone is present")
				}
			}
			for _, s := range tc.inRaw {
				if !strings.Contains(rawRow["raw"], s) {
					t.Errorf("the raw JSON lacks %q: %s", s, rawRow["raw"])
				}
			}
			for _, s := range tc.notRaw {
				if strings.Contains(rawRow["raw"], s) {
					t.Errorf("the raw JSON holds %q: %s", s, rawRow["raw"])
				}
			}
			if rawRow["unknown_fields"] != "[]" && rawRow["unknown_fields"] != "" {
				t.Errorf("unknown fields %s: a dropped leaf is still a known one", rawRow["unknown_fields"])
			}
			if rawRow["raw_bytes_base64"] != "" {
				t.Errorf("raw_bytes_base64 is set: it would undo the policy")
			}
		})
	}
}

// A quarantined item (no usable id) may be any record of the source: its raw JSON is redacted
// under the policy all the same.
func TestQuarantineUnderPolicy(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	q, err := NewQuarantine(mem)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Release()
	q.RedactAs(schemas.Policy{Default: schemas.Drop}.Flattening(piiFlattening()))
	q.Add(extract.Quarantined{Raw: []byte(`{"id": {"bad": 1}, "email": "ann@example.org", "name": "Ann"}`), Page: 1, Reason: "no usable id"},
		extract.Window{Stream: "s", Start: time.Unix(0, 0), End: time.Unix(1, 0)}, Meta{RunID: "r", BatchID: "b", ExtractedAt: time.Unix(0, 0)})
	rec := q.NewRecord()
	defer rec.Release()
	raw := rowOf(t, rec)["raw"]
	if strings.Contains(raw, "ann@") || strings.Contains(raw, "Ann") || !strings.Contains(raw, `"id":{"bad": 1}`) {
		t.Errorf("quarantined raw JSON %s: want its PII dropped and the rest kept", raw)
	}
}
