package crowdchange_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

// knownLeaves are the model's leaves but a few, so that the unknown leaves differ from the
// model's fields, as a flattening's may.
func knownLeaves(t testing.TB) []string {
	t.Helper()
	leaves, ok := extract.ModelLeaves(reflect.TypeFor[crowdchange.Transaction]())
	if !ok {
		t.Fatal("no Decoder decodes the Transaction model")
	}
	return slices.DeleteFunc(leaves, func(p string) bool {
		return p == "fundraiser.user.language" || p == "amount.custom_fees" || p == "payee.billing.email"
	})
}

// samePage fails t unless the one-pass decoding of body (got) is the slow way's (want), item by
// item, and every transaction's unknown leaves are those UnknownPaths finds.
func samePage(t *testing.T, body []byte, got *crowdchange.DecodedPage, gotErr error, known extract.PathClassifier) {
	t.Helper()
	want, wantErr := crowdchange.DecodePageSlow(body)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("error %v, want %v", gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if !reflect.DeepEqual(got.Page, want.Page) {
		t.Errorf("envelope %+v, want %+v", got.Page, want.Page)
	}
	if !reflect.DeepEqual(got.Quarantined, want.Quarantined) {
		t.Errorf("quarantined %+v, want %+v", got.Quarantined, want.Quarantined)
	}
	if len(got.Transactions) != len(want.Transactions) {
		t.Fatalf("%d transactions, want %d", len(got.Transactions), len(want.Transactions))
	}
	for i, g := range got.Transactions {
		w := want.Transactions[i]
		if g.ID != w.ID || !bytes.Equal(g.Raw, w.Raw) || !reflect.DeepEqual(g.Tx, w.Tx) || fmt.Sprint(g.Err) != fmt.Sprint(w.Err) {
			t.Errorf("transaction %d (id %d): decoded\n%+v (%v)\nwant\n%+v (%v)", i, g.ID, g.Tx, g.Err, w.Tx, w.Err)
		}
		if !g.Unknown.Found {
			continue
		}
		u, err := known.UnknownPaths(g.Raw)
		if err != nil || !slices.Equal(u, g.Unknown.Paths) {
			t.Errorf("transaction %d (id %d): unknown %q, UnknownPaths %q (%v)", i, g.ID, g.Unknown.Paths, u, err)
		}
	}
}

// The one-pass decoding of a page is the slow way's, on the sandbox's pages with every trick of
// a hostile API, and on bodies that are not pages.
func TestDecodePageOnePass(t *testing.T) {
	leaves := knownLeaves(t)
	known := extract.ClassifyPaths(leaves)
	dec := crowdchange.NewPageDecoder(leaves)
	end := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := crowdchangetest.New(crowdchangetest.Options{
		Seed: 11, Transactions: 600, From: end.AddDate(-1, 0, 0), To: end, Now: func() time.Time { return end },
		IncludeExample: true,
		Hostile:        crowdchangetest.Hostile{Rate: 0.3, Tricks: crowdchangetest.AllTricks(), Canary: "Zebedee"},
	})
	found := 0
	for page := 1; page <= 7; page++ {
		req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v2/private/transactions?sort=id&limit=100&page=%d", page), nil)
		req.Header.Set("Authorization", "Bearer "+crowdchangetest.DefaultAPIKey)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("page %d: status %d", page, rec.Code)
		}
		body := rec.Body.Bytes()
		t.Run(fmt.Sprint("page ", page), func(t *testing.T) {
			got, err := dec.DecodePage(body)
			samePage(t, body, got, err, known)
			if err == nil {
				for _, f := range got.Transactions {
					if f.Unknown.Found {
						found++
					}
				}
			}
		})
	}
	if found < 300 {
		t.Errorf("only %d transactions decoded in one pass", found)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, crowdchangetest.ExamplePage()); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"example":             string(crowdchangetest.ExamplePage()),
		"compact example":     compact.String(),
		"empty":               `{"data": []}`,
		"null":                `{"data": null, "count": 0}`,
		"envelope of types":   `{"dt_start": 5, "dt_end": null, "count": "many", "data": [{"id": 1}], "more": {"x": [1]}}`,
		"keys in other cases": `{"Data": [{"id": 1}], "COUNT": 3}`,
		"data twice":          `{"data": [{"id": 1}], "data": [{"id": 2}]}`,
		"count twice":         `{"count": 1, "count": 2, "data": [{"id": 1}]}`,
		"items of every kind": `{"data": [{"id": 1, "ID": 2}, {"id": "3"}, {"id": 4.0}, {"id": -1}, {"id": 0}, null, [], "x", {"id": 5, "id": 6},
			{"id": 7, "amount": {"total_paid": "x"}}, {"id": 8, "extra": {"a": [1]}, "fundraiser": {"user": {"language": null}}}, {"i\u0064": 9}]}`,
		"truncated":          `{"data": [{"id": 1}`,
		"not an object":      `[{"id": 1}]`,
		"no data":            `{"count": 1}`,
		"data not a list":    `{"data": {"id": 1}}`,
		"trailing data":      `{"data": []} {}`,
		"an invalid escape":  `{"data": [{"id": 1, "type": "\x"}]}`,
		"a control":          "{\"data\": [{\"id\": 1, \"type\": \"a\x01\"}]}",
		"invalid UTF-8":      "{\"data\": [{\"id\": 1, \"type\": \"\xff\"}]}",
		"an escaped key":     `{"d\u0061ta": [{"id": 1}]}`,
		"not JSON":           `<html>`,
		"nothing":            ``,
		"deep unknown value": `{"data": [{"id": 1, "x": ` + string(bytes.Repeat([]byte("["), 2000)) + string(bytes.Repeat([]byte("]"), 2000)) + `}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := dec.DecodePage([]byte(body))
			samePage(t, []byte(body), got, err, known)
		})
	}
}

// NewPageDecoder decodes in one pass: the Transaction model is one a Decoder decodes.
func TestTransactionDecodable(t *testing.T) {
	if _, err := extract.NewDecoder[crowdchange.Transaction](nil); err != nil {
		t.Fatal(err)
	}
}

// Whatever the body, the one-pass decoding of a page is the slow way's.
func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(crowdchangetest.ExamplePage()))
	for _, s := range []string{
		`{"data": [{"id": 1, "amount": {"total_paid": 1.5}, "custom_data": [{"content": {"a": 1}}]}], "count": 1}`,
		`{"data": [{"id": "2"}, {"id": 3, "date": "2024-01-01T00:00:00Z"}, 5]}`,
		`{"data": null}`, `{"Data": []}`, `{"data": [{"id": 1, "x": [{"y": null}]}]}`,
	} {
		f.Add([]byte(s))
	}
	leaves := knownLeaves(f)
	known := extract.ClassifyPaths(leaves)
	dec := crowdchange.NewPageDecoder(leaves)
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := dec.DecodePage(body)
		samePage(t, body, got, err, known)
	})
}
