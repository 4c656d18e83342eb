package transform_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/transform"
	"github.com/ccsync/ccsync/transform/transformtest"
)

// A second source, declared exactly as CrowdChange is: its own Go model (shaped like a Donately
// donation: flat, a few nested objects, a list of metadata entries) and its own tables in a
// schemas.Flattening. The engine is the one NewBuilder uses; nothing in transform names these
// tables or fields. (A test-only declaration: the real Donately tables are declared elsewhere.)

type exampleDonation struct {
	ID            string           `json:"id"`
	AmountInCents *int64           `json:"amount_in_cents"`
	Fee           extract.Money    `json:"fee"` // an exact decimal literal
	Currency      *string          `json:"currency"`
	Recurring     *bool            `json:"recurring"`
	Person        *examplePerson   `json:"person"`
	Campaign      *exampleCampaign `json:"campaign"`
	Tags          []string         `json:"tags"`
	MetaData      []exampleMeta    `json:"meta_data"`
	CreatedAt     extract.DateTime `json:"created_at"`
}

type examplePerson struct {
	ID        *string `json:"id"`
	Email     *string `json:"email"`
	FirstName *string `json:"first_name"`
}

type exampleCampaign struct {
	ID    string  `json:"id"`
	Title *string `json:"title"`
}

type exampleMeta struct {
	Key   *string          `json:"key"`
	Value extract.JSONText `json:"value"` // any JSON value, as text
}

// exampleFlattening declares the second source's tables: one row per donation, one per metadata
// entry, and the raw donation.
func exampleFlattening() schemas.Flattening {
	versioned := func(cols ...schemas.Column) []schemas.Column {
		return append(cols,
			schemas.Column{Name: schemas.ColRunID, Type: schemas.String, Required: true, Derived: schemas.RunID, Description: "Run."},
			schemas.Column{Name: schemas.ColBatchID, Type: schemas.String, Required: true, Derived: schemas.BatchID, Description: "Batch."},
			schemas.Column{Name: schemas.ColExtractedAt, Type: schemas.Timestamp, Required: true, Derived: schemas.ExtractedAt, Description: "Extracted at."})
	}
	child := func(cols ...schemas.Column) []schemas.Column {
		return versioned(append([]schemas.Column{
			{Name: "donation_id", Type: schemas.String, Required: true, Derived: schemas.RecordKey, Description: "The donation."},
			{Name: "donation_date", Type: schemas.Date, Derived: schemas.RecordDate, Description: "The donation's UTC date."},
		}, cols...)...)
	}
	leaf := func(path, col string) schemas.Leaf { return schemas.Leaf{Path: path, Column: col} }
	return schemas.Flattening{
		Record: "donation", Key: "id", Date: "created_at",
		Tables: []schemas.Table{
			{
				Name: "example_donations", Kind: schemas.Data, Description: "One row per donation version.",
				Columns: versioned(
					schemas.Column{Name: "id", Type: schemas.String, Required: true, Description: "Donation ID."},
					schemas.Column{Name: "donation_date", Type: schemas.Date, Derived: schemas.RecordDate, Description: "The UTC date of created_at."},
					schemas.Column{Name: "amount_in_cents", Type: schemas.Int64, Description: "Amount, in cents."},
					schemas.Column{Name: "fee", Type: schemas.Numeric, Description: "Fee."},
					schemas.Column{Name: "currency", Type: schemas.String, Description: "Currency."},
					schemas.Column{Name: "recurring", Type: schemas.Bool, Description: "Recurring."},
					schemas.Column{Name: "person_id", Type: schemas.String, Description: "Donor ID."},
					schemas.Column{Name: "person_email", Type: schemas.String, PII: true, Description: "Donor email."},
					schemas.Column{Name: "person_first_name", Type: schemas.String, PII: true, Description: "Donor first name."},
					schemas.Column{Name: "campaign_id", Type: schemas.String, Description: "Campaign ID."},
					schemas.Column{Name: "campaign_title", Type: schemas.String, Description: "Campaign title."},
					schemas.Column{Name: "tags", Type: schemas.String, Repeated: true, Description: "Tags."},
					schemas.Column{Name: "created_at", Type: schemas.Timestamp, Description: "Created (UTC)."},
				),
				Rows: []schemas.RowSource{{Each: "", Leaves: []schemas.Leaf{
					leaf("id", "id"), leaf("amount_in_cents", "amount_in_cents"), leaf("fee", "fee"),
					leaf("currency", "currency"), leaf("recurring", "recurring"),
					leaf("person.id", "person_id"), leaf("person.email", "person_email"), leaf("person.first_name", "person_first_name"),
					leaf("campaign.id", "campaign_id"), leaf("campaign.title", "campaign_title"),
					leaf("tags[]", "tags"), leaf("created_at", "created_at"),
				}}},
			},
			{
				Name: "example_donation_meta_data", Kind: schemas.Data, Description: "One row per metadata entry of a donation.",
				Columns: child(
					schemas.Column{Name: "position", Type: schemas.Int64, Required: true, Derived: schemas.Position, Description: "The entry's position, from 0."},
					schemas.Column{Name: "person_id", Type: schemas.String, Derived: schemas.RowCopy, Description: "The donor (example_donations.person_id)."},
					schemas.Column{Name: "key", Type: schemas.String, Description: "Key."},
					schemas.Column{Name: "value", Type: schemas.String, PII: true, Description: "Value, as text."},
				),
				Rows: []schemas.RowSource{{
					Each:   "meta_data[]",
					Leaves: []schemas.Leaf{leaf("key", "key"), leaf("value", "value")},
					Copies: []schemas.Leaf{leaf("person.id", "person_id")},
				}},
			},
			{
				Name: "example_raw_donations", Kind: schemas.Data, Description: "Every donation version's JSON.",
				Columns: child(
					schemas.Column{Name: "raw", Type: schemas.String, Required: true, PII: true, Derived: schemas.RawJSON, Description: "Raw JSON."},
					schemas.Column{Name: "unknown_fields", Type: schemas.String, Repeated: true, Derived: schemas.UnknownFields, Description: "Unknown fields."},
					schemas.Column{Name: "decode_error", Type: schemas.String, Derived: schemas.DecodeError, Description: "Decode error."},
					schemas.Column{Name: "raw_bytes_base64", Type: schemas.String, PII: true, Derived: schemas.RawJSONBase64, Description: "Original bytes."},
				),
				Rows: []schemas.RowSource{{Each: ""}},
			},
		},
	}
}

// exampleDonations are what the second source's client would hand over: each record's JSON and
// what its model decoded.
func exampleDonations(t *testing.T) []struct {
	raw []byte
	rec exampleDonation
	err error
} {
	t.Helper()
	full := []byte(`{"id": "dnt_1", "amount_in_cents": 5000, "fee": 1.45, "currency": "usd", "recurring": true,
		"person": {"id": "per_1", "email": "zoe@example.org", "first_name": "Zoë"}, "campaign": {"id": "cmp_1", "title": "Spring"},
		"tags": ["gala", "2024"], "meta_data": [{"key": "source", "value": "web"}, {"key": "answers", "value": {"q": [1, 2]}}],
		"created_at": "2024-03-01 23:30:00"}`)
	var rec exampleDonation
	if err := json.Unmarshal(full, &rec); err != nil {
		t.Fatal(err)
	}
	// The second's values cannot all be stored: a fee finer than NUMERIC(38, 9), invalid UTF-8
	// (in its JSON and in a name), a field the declarations do not know, and a field its model
	// could not decode (the client says so, the field is left at its zero value).
	bad := []byte("{\"id\": \"dnt_2\", \"fee\": 0.0000000001, \"person\": {\"first_name\": \"Jo\xff\"}, \"gift_aid\": true, \"amount_in_cents\": \"lots\"}")
	badRec := exampleDonation{ID: "dnt_2", Fee: "0.0000000001", Person: &examplePerson{FirstName: extract.String("Jo\xff")}}
	return []struct {
		raw []byte
		rec exampleDonation
		err error
	}{
		{full, rec, nil},
		{bad, badRec, errors.New("decoding the donation: amount_in_cents: a JSON string is not an integer")},
	}
}

func TestSecondSourceGolden(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := exampleFlattening()
	fl, err := transform.NewFlattener[exampleDonation](mem, f)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Release()
	for _, d := range exampleDonations(t) {
		fl.Add(&d.rec, d.raw, d.err, testMeta)
	}
	if fl.Len() != 2 {
		t.Errorf("Len = %d, want 2", fl.Len())
	}
	recs := fl.NewRecords()
	got := transformtest.RenderRecords(f.Tables, recs)
	for i, r := range recs {
		if !r.Schema().Equal(f.Tables[i].ArrowSchema()) {
			t.Errorf("record %d does not have %s's schema", i, f.Tables[i].Name)
		}
		r.Release()
	}
	transformtest.Golden(t, "second_source.golden.jsonl", got, *update)

	s := fl.Stats()
	want := transform.Stats{Transactions: 2, UnknownFields: 1, Invalid: 1,
		Rows: map[string]int64{"example_donations": 2, "example_donation_meta_data": 2, "example_raw_donations": 2}}
	if s.Transactions != want.Transactions || s.UnknownFields != want.UnknownFields || s.Invalid != want.Invalid || !equalRows(s.Rows, want.Rows) {
		t.Errorf("Stats = %+v, want %+v", s, want)
	}
	for _, w := range []string{"amount_in_cents: a JSON string", "invalid UTF-8 in the API's JSON", "example_donations.person_first_name: invalid UTF-8",
		"fee: more fractional digits", `"unknown_fields":["gift_aid"]`, `"raw_bytes_base64":"eyJ`} {
		if !bytes.Contains(got, []byte(w)) {
			t.Errorf("the records do not hold %q", w)
		}
	}
}

func equalRows(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A declaration that does not fit the model is refused when the Flattener is made, naming what
// does not fit; it never panics and never reaches Add.
func TestMisdeclaredFlatteningIsRefused(t *testing.T) {
	type floatModel struct {
		ID  string  `json:"id"`
		Fee float64 `json:"fee"`
	}
	cases := []struct {
		name   string
		change func(f *schemas.Flattening)
		model  func(mem memory.Allocator, f schemas.Flattening) error
		want   string
	}{
		{
			name:   "a path that names no field",
			change: func(f *schemas.Flattening) { f.Tables[0].Rows[0].Leaves[6].Path = "person.emial" },
			want:   `example_donations (rows at ""): column person_email, JSON path person.emial: transform_test.examplePerson has no field for the JSON key "emial"`,
		},
		{
			name: "a Go type that cannot fill its column",
			change: func(f *schemas.Flattening) {
				f.Tables[0].Rows[0].Leaves[3].Path = "recurring"
				f.Tables[0].Rows[0].Leaves[4].Path = "currency"
			},
			want: "column currency, JSON path recurring: a Go bool cannot fill a STRING column",
		},
		{
			name: "a float for money",
			model: func(mem memory.Allocator, _ schemas.Flattening) error {
				f := schemas.Flattening{Record: "fee", Key: "id", Tables: []schemas.Table{{
					Name: "fees", Kind: schemas.Data, Description: "Fees.",
					Columns: []schemas.Column{
						{Name: "id", Type: schemas.String, Required: true, Description: "ID."},
						{Name: "fee", Type: schemas.Numeric, Description: "Fee."},
					},
					Rows: []schemas.RowSource{{Leaves: []schemas.Leaf{{Path: "id", Column: "id"}, {Path: "fee", Column: "fee"}}}},
				}}}
				_, err := transform.NewFlattener[floatModel](mem, f)
				return err
			},
			want: "fees (rows at \"\"): column fee, JSON path fee: a Go float64 cannot fill a NUMERIC column",
		},
		{
			name:   "a required column a row can leave null",
			change: func(f *schemas.Flattening) { f.Tables[0].Columns[4].Required = true },
			want:   "column currency is required, but these rows can leave it null",
		},
		{
			name:   "rows at something that is not a list",
			change: func(f *schemas.Flattening) { f.Tables[1].Rows[0].Each = "tags[]" },
			want:   "the elements of tags are Go string, not objects",
		},
		{
			name:   "a column nothing fills",
			change: func(f *schemas.Flattening) { f.Tables[0].Rows[0].Leaves = f.Tables[0].Rows[0].Leaves[1:] },
			want:   "example_donations.id is filled by nothing",
		},
		{
			name: "a model that is not a struct",
			model: func(mem memory.Allocator, f schemas.Flattening) error {
				_, err := transform.NewFlattener[[]string](mem, f)
				return err
			},
			want: "the donation model []string is not a struct",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			f := exampleFlattening()
			var err error
			if tc.model != nil {
				err = tc.model(mem, f)
			} else {
				tc.change(&f)
				_, err = transform.NewFlattener[exampleDonation](mem, f)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// The Go shapes a model may use, beyond CrowdChange's: promoted fields of embedded structs (a
// nil embedded pointer leaves its fields null), untagged fields matched as encoding/json matches
// them, narrower integers, a database/sql Null type, and a list of pointers with a nil element
// (a row of nulls at its position).
func TestModelShapes(t *testing.T) {
	type shapeItem struct {
		SKU *string `json:"sku"`
	}
	type shapeRecord struct {
		ID int32 `json:"id"`
		ShapeBase
		*ShapeAudit
		Name   string
		Counts []int16           `json:"counts"`
		Note   sql.NullString    `json:"note"`
		Items  []*shapeItem      `json:"items"`
		At     *extract.DateTime `json:"at"`
	}
	col := func(name string, typ schemas.Type, d schemas.Derivation) schemas.Column {
		return schemas.Column{Name: name, Type: typ, Derived: d, Description: name + "."}
	}
	f := schemas.Flattening{Record: "shape", Key: "id", Date: "at", Tables: []schemas.Table{
		{
			Name: "shapes", Kind: schemas.Data, Description: "Shapes.",
			Columns: []schemas.Column{
				col("id", schemas.Int64, ""), col("source", schemas.String, ""), col("audited_by", schemas.String, ""),
				col("name", schemas.String, ""), {Name: "counts", Type: schemas.Int64, Repeated: true, Description: "Counts."},
				col("note", schemas.String, ""), col("at", schemas.Timestamp, ""),
			},
			Rows: []schemas.RowSource{{Leaves: []schemas.Leaf{
				{Path: "id", Column: "id"}, {Path: "source", Column: "source"}, {Path: "audited_by", Column: "audited_by"},
				{Path: "name", Column: "name"}, {Path: "counts[]", Column: "counts"}, {Path: "note", Column: "note"}, {Path: "at", Column: "at"},
			}}},
		},
		{
			Name: "shape_items", Kind: schemas.Data, Description: "Items.",
			Columns: []schemas.Column{
				col("shape_id", schemas.Int64, schemas.RecordKey), col("shape_date", schemas.Date, schemas.RecordDate),
				col("position", schemas.Int64, schemas.Position), col("sku", schemas.String, ""),
			},
			Rows: []schemas.RowSource{{Each: "items[]", Leaves: []schemas.Leaf{{Path: "sku", Column: "sku"}}}},
		},
	}}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fl, err := transform.NewFlattener[shapeRecord](mem, f)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Release()
	at := &extract.DateTime{Time: time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)}
	records := []shapeRecord{
		{ID: 1, ShapeBase: ShapeBase{Source: extract.String("web")}, ShapeAudit: &ShapeAudit{AuditedBy: "ann"}, Name: "a",
			Counts: []int16{3, -1}, Note: sql.NullString{String: "n", Valid: true}, Items: []*shapeItem{{SKU: extract.String("x")}, nil}, At: at},
		{ID: 2, Name: "b"},
	}
	for i := range records {
		fl.Add(&records[i], []byte(`{}`), nil, testMeta)
	}
	recs := fl.NewRecords()
	got := string(transformtest.RenderRecords(f.Tables, recs))
	for _, r := range recs {
		r.Release()
	}
	want := `{"_table":"shapes","id":1,"source":"web","audited_by":"ann","name":"a","counts":[3,-1],"note":"n","at":"2024-02-29T23:59:59Z"}
{"_table":"shapes","id":2,"source":null,"audited_by":null,"name":"b","counts":[],"note":null,"at":null}
{"_table":"shape_items","shape_id":1,"shape_date":"2024-02-29","position":0,"sku":"x"}
{"_table":"shape_items","shape_id":1,"shape_date":"2024-02-29","position":1,"sku":null}
`
	if got != want {
		t.Errorf("rows:\n%s\nwant:\n%s", got, want)
	}
}

// ShapeBase and ShapeAudit are embedded in TestModelShapes' model (exported, as encoding/json
// promotes only the fields of exported embedded types here).
type ShapeBase struct {
	Source *string `json:"source"`
}

type ShapeAudit struct {
	AuditedBy string `json:"audited_by"`
}
