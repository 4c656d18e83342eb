package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Layouts of the API's dates (UTC).
const (
	DateTimeLayout = "2006-01-02 15:04:05"
	DateLayout     = "2006-01-02"
)

// Money is an amount exactly as the API wrote it: the JSON number literal, never a float64. The
// empty Money is JSON null (or an absent field). A quoted number ("29.95") is accepted too.
type Money string

// IsNull reports whether the amount is null or absent.
func (m Money) IsNull() bool { return m == "" }

// UnmarshalJSON keeps the literal.
func (m *Money) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*m = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	if !isJSONNumber(b) {
		return errors.New("money: not a JSON number")
	}
	*m = Money(b)
	return nil
}

// MarshalJSON writes the literal, or null.
func (m Money) MarshalJSON() ([]byte, error) {
	if m == "" {
		return []byte("null"), nil
	}
	if !isJSONNumber([]byte(m)) {
		return nil, errors.New("money: not a JSON number")
	}
	return []byte(m), nil
}

// Errors of these types never carry the value itself: row values must not reach logs.

// DateTime is a UTC timestamp written by the API as "YYYY-MM-DD hh:mm:ss". The zero DateTime is
// JSON null.
type DateTime struct{ time.Time }

// dateTimeLayouts are the layouts a DateTime is read in: the API's, then the obvious ISO 8601
// variants (a "T" separator, fractional seconds, "Z" or a UTC offset, a bare date at midnight).
// A time with an offset is converted to UTC.
var dateTimeLayouts = []string{
	DateTimeLayout,
	"2006-01-02T15:04:05",
	time.RFC3339Nano,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	DateLayout,
}

// UnmarshalJSON parses "YYYY-MM-DD hh:mm:ss" as UTC, and the ISO 8601 variants of
// dateTimeLayouts.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	t, err := parseTime(b, dateTimeLayouts...)
	if err != nil {
		return fmt.Errorf("datetime: %w", err)
	}
	d.Time = t
	return nil
}

// MarshalJSON writes the API's layout, or null.
func (d DateTime) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(strconv.Quote(d.UTC().Format(DateTimeLayout))), nil
}

// Date is a calendar date written by the API as "YYYY-MM-DD". The zero Date is JSON null.
type Date struct{ time.Time }

// UnmarshalJSON parses "YYYY-MM-DD"; a date written with a time of day (any layout DateTime
// reads) is the calendar date written, whatever the time and offset.
func (d *Date) UnmarshalJSON(b []byte) error {
	t, err := parseTime(b, DateLayout)
	if err != nil {
		if t, err = parseTime(b, dateTimeLayouts...); err == nil && !t.IsZero() {
			var s string
			_ = json.Unmarshal(bytes.TrimSpace(b), &s)
			t, err = time.ParseInLocation(DateLayout, strings.TrimSpace(s)[:len(DateLayout)], time.UTC)
		}
	}
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	d.Time = t
	return nil
}

// MarshalJSON writes "YYYY-MM-DD", or null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(strconv.Quote(d.UTC().Format(DateLayout))), nil
}

// JSONText holds a value of any JSON type as text: a JSON string is unquoted, any other value is
// kept as its JSON text, null is the empty JSONText with Valid false. Custom question answers use
// it because the API does not promise their type.
type JSONText struct {
	Text  string
	Valid bool
}

// UnmarshalJSON keeps the value as text.
func (j *JSONText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*j = JSONText{}
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*j = JSONText{Text: s, Valid: true}
	default:
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			return err
		}
		*j = JSONText{Text: c.String(), Valid: true}
	}
	return nil
}

// MarshalJSON writes a JSON string, or null.
func (j JSONText) MarshalJSON() ([]byte, error) {
	if !j.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(j.Text)
}

// String returns a pointer to s, for building transactions by hand.
func String(s string) *string { return &s }

// Int returns a pointer to i.
func Int(i int64) *int64 { return &i }

// Bool returns a pointer to b.
func Bool(b bool) *bool { return &b }

func parseTime(b []byte, layouts ...string) (time.Time, error) {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return time.Time{}, errors.New("not a JSON string")
	}
	if s == "" {
		return time.Time{}, nil
	}
	s = strings.TrimSpace(s)
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not in the layout %s", layouts[0])
}

// isJSONNumber reports whether b is a JSON number literal (RFC 8259 §6).
func isJSONNumber(b []byte) bool { return isJSONNumberString(string(b)) }

// isJSONNumberString reports whether b is a JSON number literal (RFC 8259 §6).
func isJSONNumberString(b string) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(b)
}
