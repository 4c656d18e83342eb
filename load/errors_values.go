package load

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/ccsync/ccsync/schemas"
)

// Errors of the warehouses about the data they load can quote the offending value: DuckDB's
// "Could not convert string 'Jane Doe' to INT64 when casting from source column id", BigQuery's
// "Could not parse 'jane@example.com' as INT64 for field amount". A value is a donor's name,
// e-mail or address, and an error ends up on stderr, in the logs and in the run log's error
// column: the sinks pass such errors through valueFree, and name the table and the batch
// themselves.

// elided replaces a removed value.
const elided = "…"

// valueFree returns err with its message stripped of the values it may quote (see scrubValues):
// the error's class, its first words and its structure stay, as do the names of schemas' tables
// and columns. errors.Is sees through it (ErrWarehouseUnavailable, context.Canceled, ...), and
// errors.As finds load's own *JobError, whose message is already value-free; the driver's error
// types are hidden, since their messages are not. nil stays nil.
func valueFree(err error) error {
	if err == nil {
		return nil
	}
	return &valueFreeError{msg: scrubValues(err.Error()), err: err}
}

// valueFreeError is an error whose message had its values removed.
type valueFreeError struct {
	msg string
	err error // the original, never printed
}

func (e *valueFreeError) Error() string { return e.msg }

// Is reports whether the original error matches target.
func (e *valueFreeError) Is(target error) bool { return errors.Is(e.err, target) }

// As finds load's own error types in the original error.
func (e *valueFreeError) As(target any) bool {
	if _, ok := target.(**JobError); ok {
		return errors.As(e.err, target)
	}
	return false
}

// scrubValues removes from a warehouse's error message what may be a row value:
//
//   - DuckDB's echo of the statement ("LINE 1: ..." and what follows), whose literals may be
//     values;
//   - quoted material: from an opening quote (' or ", at the start of the text or after a
//     character that is not a letter or digit) to the last closing quote of the same kind in the
//     text (followed by the end or a character that is not a letter or digit), so that a value
//     holding quotes or new lines itself ('Jane O'Brien', "a "b" c") goes whole, whatever text
//     between two quoted parts goes with it; an opening quote without a closing one removes
//     everything after it. A quoted name of one of schemas' tables, views or columns
//     ('amount_total_paid') stays.
//   - after the word "value" followed by ':' or '=' (BigQuery's "Value: x"), the rest of the text;
//   - the word after "value" (DuckDB's "with value 123456 can't be cast"), unless it is a plain
//     lowercase word ("the value is out of range") or was quoted (removed already).
func scrubValues(msg string) string {
	if i := strings.Index(msg, "\nLINE "); i >= 0 {
		msg = strings.TrimRight(msg[:i], "\n ")
	}
	protected, names := protectIdentifiers(msg)
	out := stripQuoted(protected)
	out = stripAfterValue(out)
	for i, n := range names {
		out = strings.ReplaceAll(out, placeholder(i), n)
	}
	return out
}

// placeholder stands for the i-th protected identifier while quotes are stripped: it holds no
// quote, letter-or-digit boundary issues aside (NUL never appears in the messages).
func placeholder(i int) string { return "\x00" + strconv.Itoa(i) + "\x00" }

// identifiers are the names of schemas' tables, views and columns.
var identifiers = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, t := range schemas.AllTables() {
		out[t.Name] = true
		out[t.CurrentView()] = true
		for _, c := range t.Columns {
			out[c.Name] = true
		}
	}
	return out
})

// protectIdentifiers replaces each quoted identifier of the schemas ('name' or "name") with a
// placeholder and returns the quoted originals, by placeholder number.
func protectIdentifiers(msg string) (string, []string) {
	var b strings.Builder
	var names []string
	for i := 0; i < len(msg); {
		q := msg[i]
		if q == '\'' || q == '"' {
			if end := strings.IndexByte(msg[i+1:], q); end > 0 && identifiers()[msg[i+1:i+1+end]] {
				names = append(names, msg[i:i+2+end])
				b.WriteString(placeholder(len(names) - 1))
				i += end + 2
				continue
			}
		}
		b.WriteByte(q)
		i++
	}
	return b.String(), names
}

// stripQuoted removes quoted material (see scrubValues).
func stripQuoted(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		q := s[i]
		if (q != '\'' && q != '"') || !boundaryBefore(s, i) {
			b.WriteByte(q)
			i++
			continue
		}
		closing := -1
		for j := len(s) - 1; j > i; j-- {
			if s[j] == q && boundaryAfter(s, j) {
				closing = j
				break
			}
		}
		b.WriteByte(q)
		b.WriteString(elided)
		if closing < 0 { // unbalanced: nothing after the quote can be trusted
			return b.String()
		}
		b.WriteByte(q)
		i = closing + 1
	}
	return b.String()
}

// boundaryBefore tells whether s[i] is at the start or after a character that is not a letter or
// digit (an apostrophe inside a word, as in O'Brien, opens nothing).
func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// boundaryAfter tells whether s[i] is at the end or before a character that is not a letter or
// digit.
func boundaryAfter(s string, i int) bool {
	if i == len(s)-1 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i+1:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// stripAfterValue applies the "value" rules of scrubValues.
func stripAfterValue(s string) string {
	var b strings.Builder
	lower := strings.ToLower(s)
	for i := 0; i < len(s); {
		k := strings.Index(lower[i:], "value")
		if k < 0 {
			b.WriteString(s[i:])
			break
		}
		k += i
		end := k + len("value")
		if !boundaryBefore(s, k) || (end < len(s) && !boundaryAfter(s, end-1)) {
			b.WriteString(s[i:end]) // part of another word ("values", "evaluated")
			i = end
			continue
		}
		b.WriteString(s[i:end])
		rest := s[end:]
		if trimmed := strings.TrimLeft(rest, " "); strings.HasPrefix(trimmed, ":") || strings.HasPrefix(trimmed, "=") {
			b.WriteString(rest[:len(rest)-len(trimmed)+1])
			b.WriteString(" " + elided)
			return b.String()
		}
		if !strings.HasPrefix(rest, " ") {
			i = end
			continue
		}
		word := rest[1:]
		if n := strings.IndexAny(word, " \n\t"); n >= 0 {
			word = word[:n]
		}
		b.WriteByte(' ')
		if keepWord(word) {
			b.WriteString(word)
		} else {
			b.WriteString(elided)
		}
		i = end + 1 + len(word)
	}
	return b.String()
}

// keepWord tells whether the word after "value" is prose, not a value: a plain lowercase word,
// or a quoted value already removed.
func keepWord(w string) bool {
	if w == "" || w == elided || w == "'"+elided+"'" || w == `"`+elided+`"` || strings.HasPrefix(w, "'"+elided) || strings.HasPrefix(w, `"`+elided) {
		return true
	}
	for _, r := range w {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}
