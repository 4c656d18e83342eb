package crowdchange

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ccsync/ccsync/extract"
)

func TestDecodeAPIError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   APIError
	}{
		{
			name: "422 validation envelope", status: 422,
			body: `{"message":"The given data was invalid.","errors":{"limit":["The limit may not be greater than 100."],"dt_start":["The dt start is not a valid date.","The dt start must be before dt end."]}}`,
			want: APIError{StatusCode: 422, Message: "The given data was invalid.", Fields: map[string][]string{
				"limit":    {"The limit may not be greater than 100."},
				"dt_start": {"The dt start is not a valid date.", "The dt start must be before dt end."},
			}},
		},
		{
			name: "other envelope", status: 400,
			body: `{"status":"error","message":{"error":["Invalid date range.","Try again."]}}`,
			want: APIError{StatusCode: 400, Message: "Invalid date range.; Try again."},
		},
		{
			name: "other envelope, error key first then the rest by name", status: 404,
			body: `{"status":"error","message":{"zeta":"z","error":"Not found.","alpha":["a"]}}`,
			want: APIError{StatusCode: 404, Message: "Not found.; a; z"},
		},
		{
			name: "message as a plain string", status: 403,
			body: `{"status":"error","message":"Forbidden"}`,
			want: APIError{StatusCode: 403, Message: "Forbidden"},
		},
		{
			name: "top-level error string", status: 401,
			body: `{"error":"Unauthenticated."}`,
			want: APIError{StatusCode: 401, Message: "Unauthenticated."},
		},
		{
			name: "a field with a single string", status: 422,
			body: `{"message":"Invalid.","errors":{"page":"must be >= 1","sort":[1,"bad",null]}}`,
			want: APIError{StatusCode: 422, Message: "Invalid.", Fields: map[string][]string{"page": {"must be >= 1"}, "sort": {"bad"}}},
		},
		{name: "empty body", status: 502, body: ``, want: APIError{StatusCode: 502}},
		{name: "HTML", status: 503, body: `<html><body>Service Unavailable</body></html>`, want: APIError{StatusCode: 503}},
		{name: "truncated JSON", status: 500, body: `{"status":"error","message":{"err`, want: APIError{StatusCode: 500}},
		{name: "a JSON list", status: 400, body: `["x"]`, want: APIError{StatusCode: 400}},
		{name: "null", status: 400, body: `null`, want: APIError{StatusCode: 400}},
		{name: "message of the wrong type", status: 400, body: `{"message":42,"errors":[1]}`, want: APIError{StatusCode: 400}},
		{
			name: "control characters and newlines are flattened", status: 400,
			body: `{"message":"line one\nline\ttwo\u0007  end"}`,
			want: APIError{StatusCode: 400, Message: "line one line two end"},
		},
		{
			name: "request id header", status: 429, header: http.Header{"X-Request-Id": {"req-123"}},
			body: `{"status":"error","message":{"error":["Too many requests."]}}`,
			want: APIError{StatusCode: 429, Message: "Too many requests.", RequestID: "req-123"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := decodeAPIError(tt.status, h, []byte(tt.body))
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %#v\nwant %#v", *got, tt.want)
			}
		})
	}
}

func TestDecodeAPIErrorBounds(t *testing.T) {
	long := strings.Repeat("é", 1000)
	fields := map[string][]string{}
	for i := 0; i < 50; i++ {
		fields[strings.Repeat("f", i+1)] = []string{long, "b", "c", "d", "e", "f", "g"}
	}
	body, _ := json.Marshal(map[string]any{"message": long, "errors": fields})
	e := decodeAPIError(422, http.Header{"X-Request-Id": {strings.Repeat("r", 1000)}}, body)
	if len(e.Message) > maxMessageLen || !utf8.ValidString(e.Message) || !strings.HasSuffix(e.Message, "…") {
		t.Errorf("message not bounded: %d bytes, valid %v", len(e.Message), utf8.ValidString(e.Message))
	}
	if len(e.Fields) != maxFields {
		t.Errorf("%d fields, want %d", len(e.Fields), maxFields)
	}
	for name, msgs := range e.Fields {
		if len(msgs) != maxFieldMsgs || len(name) > maxNameLen {
			t.Errorf("field %q: %d messages", name, len(msgs))
		}
		for _, m := range msgs {
			if len(m) > maxFieldLen {
				t.Errorf("field %q: message of %d bytes", name, len(m))
			}
		}
	}
	if len(e.RequestID) > maxRequestID {
		t.Errorf("request id of %d bytes", len(e.RequestID))
	}
}

// The error-envelope decoder takes whatever the API (or a proxy in front of it) sends: it must
// never panic, and what it keeps must be one bounded, printable line.
func FuzzDecodeError(f *testing.F) {
	seeds := []string{
		`{"message":"The given data was invalid.","errors":{"fieldname":["Error message"]}}`,
		`{"status":"error","message":{"error":["A description of what went wrong."]}}`,
		`{"status":"error","message":"plain"}`,
		`{"error":"x"}`,
		`<html>502 Bad Gateway</html>`,
		``,
		`null`,
		`{"message":{"error":{"nested":["deep"]}},"errors":{"a":[[["x"]]]}}`,
		`{"message":"\u0000\ud800\n","errors":{"\u0007":["\u2028"]}}`,
		"{\"message\":\"\xff\xfe\"}",
	}
	for _, s := range seeds {
		f.Add(422, s, "req-1")
		f.Add(500, s, "")
	}
	f.Fuzz(func(t *testing.T, status int, body, requestID string) {
		e := decodeAPIError(status, http.Header{"X-Request-Id": {requestID}}, []byte(body))
		if e.StatusCode != status {
			t.Fatalf("status %d became %d", status, e.StatusCode)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "crowdchange: ") {
			t.Fatalf("Error() = %q", msg)
		}
		for _, s := range append([]string{e.Message, e.RequestID}, flatten(e.Fields)...) {
			if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 || len(s) > maxMessageLen {
				t.Fatalf("unclean or unbounded text %q", s)
			}
		}
		_ = errors.Is(e, extract.ErrForbidden)
		_ = extract.IsTransient(e)
	})
}

func flatten(fields map[string][]string) []string {
	var out []string
	for k, v := range fields {
		out = append(out, k)
		out = append(out, v...)
	}
	return out
}

func TestDecodePage(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		items   int
		count   int64
		wantErr string
	}{
		{name: "page", body: `{"dt_start":"2021-01-01T00:00:00","dt_end":"2021-01-31T00:00:00","count":2,"data":[{"id":1},{"id":2}]}`, items: 2, count: 2},
		{name: "empty list", body: `{"count":0,"data":[]}`},
		{name: "null data is an empty page", body: `{"data":null}`},
		{name: "count of the wrong type is ignored", body: `{"count":"many","data":[{"id":1}]}`, items: 1},
		{name: "truncated", body: `{"count":1,"data":[{"id":1}`, wantErr: "not valid JSON"},
		{name: "HTML", body: `<html>`, wantErr: "not valid JSON"},
		{name: "empty", body: ``, wantErr: "not valid JSON"},
		{name: "a list", body: `[{"id":1}]`, wantErr: "not a JSON object"},
		{name: "no data", body: `{"status":"ok"}`, wantErr: `no "data"`},
		{name: "data not a list", body: `{"data":{"id":1}}`, wantErr: `"data" is not a list`},
		{name: "data a string", body: `{"data":"secret value"}`, wantErr: `"data" is not a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodePage([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error quotes the body: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Data) != tt.items || p.Count != tt.count {
				t.Errorf("got %d items, count %d; want %d, %d", len(p.Data), p.Count, tt.items, tt.count)
			}
		})
	}
}

func TestDecodeItem(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		wantID    int64
		noID      bool
		wantErr   string // in Fetched.Err
		forbidden string // must not appear in Fetched.Err
		check     func(t *testing.T, tx Transaction)
	}{
		{name: "complete", raw: `{"id":5,"type":"charge","amount":{"total_paid":12.30}}`, wantID: 5, check: func(t *testing.T, tx Transaction) {
			if tx.Amount == nil || tx.Amount.TotalPaid != "12.30" || *tx.Type != "charge" {
				t.Errorf("decoded %+v", tx)
			}
		}},
		{name: "a number of the wrong kind: the field is named, not the value", raw: `{"id":6,"parent_id":123.456,"type":"refund"}`,
			wantID: 6, wantErr: "parent_id", forbidden: "123.456", check: func(t *testing.T, tx Transaction) {
				if tx.Type == nil || *tx.Type != "refund" {
					t.Errorf("the rest was not decoded: %+v", tx)
				}
			}},
		{name: "bad money", raw: `{"id":7,"amount":{"total_paid":"12 dollars"}}`, wantID: 7, wantErr: "money", forbidden: "12 dollars"},
		{name: "bad date", raw: `{"id":8,"date":"31/12/2024"}`, wantID: 8, wantErr: "datetime", forbidden: "31/12"},
		{name: "quoted id is read", raw: `{"id":"9","type":"charge"}`, wantID: 9},
		{name: "no id", raw: `{"type":"charge"}`, noID: true},
		{name: "null id", raw: `{"id":null}`, noID: true},
		{name: "zero id", raw: `{"id":0}`, noID: true},
		{name: "negative id", raw: `{"id":-4}`, noID: true},
		{name: "fractional id", raw: `{"id":1.5}`, noID: true},
		{name: "id not a number", raw: `{"id":"Ada Lovelace"}`, noID: true},
		{name: "not an object", raw: `[1]`, noID: true},
		{name: "null", raw: `null`, noID: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := decodeItem(json.RawMessage(tt.raw))
			if tt.noID {
				if !errors.Is(err, errNoID) {
					t.Fatalf("got %v, want errNoID", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.ID != tt.wantID || f.Tx.ID != tt.wantID || string(f.Raw) != tt.raw {
				t.Errorf("ID %d, Tx.ID %d, Raw %s", f.ID, f.Tx.ID, f.Raw)
			}
			switch {
			case tt.wantErr == "" && f.Err != nil:
				t.Errorf("unexpected Err %v", f.Err)
			case tt.wantErr != "" && (f.Err == nil || !strings.Contains(f.Err.Error(), tt.wantErr)):
				t.Errorf("Err = %v, want it to mention %q", f.Err, tt.wantErr)
			}
			if tt.forbidden != "" && f.Err != nil && strings.Contains(f.Err.Error(), tt.forbidden) {
				t.Errorf("Err quotes the value: %v", f.Err)
			}
			if tt.check != nil {
				tt.check(t, f.Tx)
			}
		})
	}
}

func TestWindowQueryAndString(t *testing.T) {
	tests := []struct {
		name   string
		w      extract.Window
		page   int
		limit  int
		str    string
		encode string
	}{
		{
			name: "date window: dt_end is the last second, inclusive",
			w:    extract.Window{Stream: extract.StreamDate, Start: utc(2024, 1, 1, 0, 0, 0), End: utc(2024, 1, 2, 0, 0, 0)},
			page: 1, limit: 100,
			str:    "date 2024-01-01T00:00:00Z..2024-01-02T00:00:00Z",
			encode: "direction=asc&dt_end=2024-01-01T23%3A59%3A59&dt_start=2024-01-01T00%3A00%3A00&limit=100&page=1&sort=id",
		},
		{
			name: "date window given in another zone is asked in UTC",
			w: extract.Window{Stream: extract.StreamDate, Start: time.Date(2024, 2, 29, 1, 0, 0, 0, time.FixedZone("X", 3600)),
				End: time.Date(2024, 2, 29, 2, 0, 0, 0, time.FixedZone("X", 3600))},
			page: 7, limit: 3,
			str:    "date 2024-02-29T00:00:00Z..2024-02-29T01:00:00Z",
			encode: "direction=asc&dt_end=2024-02-29T00%3A59%3A59&dt_start=2024-02-29T00%3A00%3A00&limit=3&page=7&sort=id",
		},
		{
			name: "payout window: no dates, payout_date and account",
			w:    extract.Window{Stream: StreamPayout, Account: "user", Start: utc(2024, 2, 29, 0, 0, 0), End: utc(2024, 3, 1, 0, 0, 0)},
			page: 2, limit: 50,
			str:    "payout user 2024-02-29",
			encode: "direction=asc&limit=50&page=2&payout_account=user&payout_date=2024-02-29&sort=id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.w.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := WindowQuery(tt.w, tt.page, tt.limit).Encode(); got != tt.encode {
				t.Errorf("Query().Encode() = %q\nwant %q", got, tt.encode)
			}
		})
	}
}

func utc(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}
