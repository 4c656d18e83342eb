package crowdchangetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ccsync/ccsync/extract/crowdchange"
)

// Hostile makes the sandbox misbehave the way real APIs have been seen to. The zero value is a
// well-behaved API: the answers are byte for byte those of a sandbox without it.
type Hostile struct {
	// PageCap > 0 caps every page at PageCap transactions whatever the limit asked: page p holds
	// the positions [(p-1)·m, p·m) of the window, m being min(limit, PageCap), and count stays the
	// window's total. A client that stops at the first page shorter than its limit stops after
	// page 1.
	PageCap int
	// IgnorePage answers page 1 whatever page is asked, as an API that ignores the parameter does:
	// a client that pages until a short page never ends on a window larger than one page.
	IgnorePage bool
	// Rate is the fraction of the generated transactions that GET renders with a trick (one
	// each), from 0 (none) to 1 (all). Whether transaction i is tricked, and with which trick of
	// Tricks, is a hash of (Seed, i): it does not depend on the request, the stream (date window
	// or payout date), the page, the clock or Mutate. The example and the transactions created by
	// POST or Mutate are never tricked.
	Rate float64
	// Tricks are the tricks to draw from (default AllTricks()).
	Tricks []Trick
	// Canary, when not empty, is planted in every tricked transaction and in no other, so that a
	// test can grep everything ccsync writes (logs, errors, reports) for it: donated_by and billing
	// (when not null) get first_name and last_name Canary, name Canary+" "+Canary and email
	// Canary+"@example.org" (each only where the member is not null), and donation_comment is
	// Canary. TrickInvalidUTF8 then overwrites one of them (see there).
	Canary string
}

// Trick is one way a hostile API mangles a transaction. Each leaves the rest of the
// transaction's JSON byte for byte as it is without the trick.
type Trick string

// The tricks. Money, dates and ids are otherwise written as the API documents them.
const (
	// TrickInvalidUTF8: donated_by.first_name holds the raw bytes of InvalidUTF8Value (invalid
	// UTF-8 inside the JSON string); billing.first_name when donated_by is null; when both are
	// null, donation_comment holds InvalidUTF8Value (followed by " "+Canary when Hostile.Canary is
	// set). Ground truth unchanged.
	TrickInvalidUTF8 Trick = "invalid-utf8"
	// TrickMistyped: amount.donation is the JSON string MistypedDonation ("fifty"). Generated
	// transactions always carry a donation (0 when there is none), so every transaction drawn is
	// eligible. The transaction counts, but Truth leaves its donation out of Sums[cur].Donation and
	// counts it in Truth.UnreadableDonations.
	TrickMistyped Trick = "mistyped"
	// TrickISODate: date is ISO 8601 in UTC ("2024-03-01T12:34:56Z", the same instant), and so is
	// tax_receipt.issued_on when there is a tax receipt. Ground truth unchanged.
	TrickISODate Trick = "iso-date"
	// TrickMoneyString: every amount.* money value that is not null is a JSON string with two
	// decimals ("50.00", "-12.30") instead of a number. Ground truth unchanged.
	TrickMoneyString Trick = "money-string"
	// TrickIntString: fundraiser.id and donated_by.user_id, when not null, are JSON strings
	// ("123"). Ground truth unchanged.
	TrickIntString Trick = "int-string"
	// TrickNoID: the "id" member is removed (every other member kept). Truth leaves the
	// transaction out and counts it in Truth.Quarantined.
	TrickNoID Trick = "no-id"
	// TrickBadID: "id" is the JSON string BadID ("abc"). Truth leaves the transaction out and
	// counts it in Truth.Quarantined.
	TrickBadID Trick = "bad-id"
)

// The values the tricks write.
const (
	// InvalidUTF8Value is the invalid UTF-8 of TrickInvalidUTF8: "Jo", two bytes that never occur
	// in UTF-8, "n", then a lead byte cut off by the end of the string.
	InvalidUTF8Value = "Jo\xff\xfen\xc3"
	// MistypedDonation is amount.donation under TrickMistyped.
	MistypedDonation = "fifty"
	// BadID is the id under TrickBadID.
	BadID = "abc"
)

// AllTricks returns every trick: the default Hostile.Tricks.
func AllTricks() []Trick {
	return []Trick{TrickInvalidUTF8, TrickMistyped, TrickISODate, TrickMoneyString, TrickIntString, TrickNoID, TrickBadID}
}

// ParseTrick returns the trick named s (as spelled by its value, e.g. "no-id").
func ParseTrick(s string) (Trick, error) {
	for _, t := range AllTricks() {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("crowdchangetest: unknown trick %q", s)
}

// Validate reports what is wrong with h: a negative PageCap, a Rate outside [0, 1] or an unknown
// trick. New panics on an invalid Hostile; check it first when it comes from user input.
func (h Hostile) Validate() error {
	var errs []error
	if h.PageCap < 0 {
		errs = append(errs, fmt.Errorf("crowdchangetest: hostile page cap %d is negative", h.PageCap))
	}
	if math.IsNaN(h.Rate) || h.Rate < 0 || h.Rate > 1 {
		errs = append(errs, fmt.Errorf("crowdchangetest: hostile rate %v is not between 0 and 1", h.Rate))
	}
	for _, t := range h.Tricks {
		if _, err := ParseTrick(string(t)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Tricked reports the trick GET renders transaction id with, if any. It is only a function of
// the options and the id: the answer holds whether or not the transaction exists yet, and is the
// same on every stream, on every page and after Mutate. Only generated transactions are tricked.
func (s *Server) Tricked(id int64) (Trick, bool) {
	return s.trickOf(id - idBase)
}

// trickOf is the trick of generated transaction i, if any.
func (s *Server) trickOf(i int64) (Trick, bool) {
	h := &s.opts.Hostile
	if h.Rate <= 0 || i < 0 || i >= s.gen.n {
		return "", false
	}
	if float64(s.gen.h(sHostile, i)>>11)/(1<<53) >= h.Rate {
		return "", false
	}
	return h.Tricks[s.gen.h(sHostileTrick, i)%uint64(len(h.Tricks))], true
}

// trickOfRef is the trick of a matching transaction, if any: stored ones are never tricked.
func (s *Server) trickOfRef(rf ref) (Trick, bool) {
	if rf.e != nil {
		return "", false
	}
	return s.trickOf(rf.idx)
}

// hostileQuery applies PageCap and IgnorePage to a valid query, reporting whether each changed it.
func (s *Server) hostileQuery(q *query) (capped, ignored bool) {
	h := &s.opts.Hostile
	if h.PageCap > 0 && q.limit > h.PageCap {
		q.limit, capped = h.PageCap, true
	}
	if h.IgnorePage && q.page != 1 {
		q.page, ignored = 1, true
	}
	return capped, ignored
}

// renderTricked renders generated transaction tx with trick tr: the canary goes into the model,
// then the trick rewrites the marshalled bytes member by member.
func (s *Server) renderTricked(tx crowdchange.Transaction, tr Trick) ([]byte, error) {
	canary := s.opts.Hostile.Canary
	plantCanary(&tx, canary)
	j, err := json.Marshal(&tx)
	if err != nil {
		return nil, err
	}
	out, err := applyTrick(j, &tx, tr, canary)
	if err != nil {
		return nil, fmt.Errorf("transaction %d: trick %s: %w", tx.ID, tr, err)
	}
	return out, nil
}

// plantCanary writes the canary into the donor's names and email and the donation comment. The
// objects changed are copies: the rendered transaction may share nothing with the sandbox, but
// this keeps it so should that change.
func plantCanary(tx *crowdchange.Transaction, canary string) {
	if canary == "" {
		return
	}
	name, email := canary+" "+canary, canary+"@example.org"
	set := func(dst **string, v string) {
		if *dst != nil {
			*dst = &v
		}
	}
	if tx.DonatedBy != nil {
		d := *tx.DonatedBy
		set(&d.FirstName, canary)
		set(&d.LastName, canary)
		set(&d.Name, name)
		set(&d.Email, email)
		tx.DonatedBy = &d
	}
	if tx.Billing != nil {
		b := *tx.Billing
		set(&b.FirstName, canary)
		set(&b.LastName, canary)
		set(&b.Name, name)
		set(&b.Email, email)
		tx.Billing = &b
	}
	tx.DonationComment = &canary
}

// applyTrick rewrites the JSON of tx (j, as json.Marshal wrote it) with trick tr.
func applyTrick(j []byte, tx *crowdchange.Transaction, tr Trick, canary string) ([]byte, error) {
	o, err := parseObject(j)
	if err != nil {
		return nil, err
	}
	switch tr {
	case TrickInvalidUTF8:
		// InvalidUTF8Value has no quote, backslash or control byte: quoting it is enough.
		val := []byte(`"` + InvalidUTF8Value + `"`)
		switch {
		case tx.DonatedBy != nil:
			err = o.edit("donated_by", func(d jsonObject) error { return d.replace("first_name", val) })
		case tx.Billing != nil:
			err = o.edit("billing", func(b jsonObject) error { return b.replace("first_name", val) })
		default:
			if canary != "" {
				rest, _ := json.Marshal(" " + canary)
				val = append([]byte(`"`+InvalidUTF8Value), rest[1:]...)
			}
			err = o.replace("donation_comment", val)
		}
	case TrickMistyped:
		err = o.edit("amount", func(a jsonObject) error {
			if v, ok := a.get("donation"); !ok || isNull(v) {
				return errors.New("no donation")
			}
			return a.replace("donation", quote(MistypedDonation))
		})
	case TrickISODate:
		err = o.replace("date", quote(tx.Date.UTC().Format(time.RFC3339)))
		if err == nil && tx.TaxReceipt != nil && !tx.TaxReceipt.IssuedOn.IsZero() {
			issued := tx.TaxReceipt.IssuedOn.UTC().Format(time.RFC3339)
			err = o.edit("tax_receipt", func(r jsonObject) error { return r.replace("issued_on", quote(issued)) })
		}
	case TrickMoneyString:
		err = o.edit("amount", func(a jsonObject) error {
			for k, m := range a {
				if isNumber(m.val) {
					a[k].val = quote(moneyString(m.val))
				}
			}
			return nil
		})
	case TrickIntString:
		err = o.edit("fundraiser", quoteInt("id"))
		if err == nil && tx.DonatedBy != nil {
			err = o.edit("donated_by", quoteInt("user_id"))
		}
	case TrickNoID:
		if _, ok := o.get("id"); !ok {
			return nil, errors.New(`no member "id"`)
		}
		o = o.without("id")
	case TrickBadID:
		err = o.replace("id", quote(BadID))
	default:
		err = errors.New("unknown trick")
	}
	if err != nil {
		return nil, err
	}
	return o.encode(), nil
}

// quoteInt turns the integer member key of an object into a JSON string, when it is not null.
func quoteInt(key string) func(jsonObject) error {
	return func(o jsonObject) error {
		v, ok := o.get(key)
		if !ok {
			return fmt.Errorf("no member %q", key)
		}
		if isNull(v) {
			return nil
		}
		return o.replace(key, quote(string(v)))
	}
}

// moneyString writes a money literal with two decimals, the way an API that reads decimals out of
// SQL as strings does ("50.00"); a literal with more decimals is kept as it is.
func moneyString(lit []byte) string {
	c, err := parseCents(string(lit))
	if err != nil {
		return string(lit)
	}
	return decimal2(c)
}

func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// isNumber reports whether a JSON value is a number.
func isNumber(v []byte) bool { return len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') }

// member is one member of a JSON object: its key and the verbatim bytes of its value.
type member struct {
	key string
	val []byte
}

// jsonObject is a JSON object as its members in order, each value kept verbatim. Encoding it again
// gives back compact JSON (as encoding/json writes it) byte for byte, so that editing one member
// leaves every other byte as it was.
type jsonObject []member

var errNotObject = errors.New("not a JSON object")

// parseObject splits the JSON object b into its members. b is JSON as encoding/json writes it
// (the sandbox's own output): the scan finds the members' boundaries without validating them.
func parseObject(b []byte) (jsonObject, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, errNotObject
	}
	var o jsonObject
	for i = skipSpace(b, i+1); i < len(b) && b[i] != '}'; {
		end := skipValue(b, i)
		if b[i] != '"' || end < 0 {
			return nil, errNotObject
		}
		var key string
		if err := json.Unmarshal(b[i:end], &key); err != nil {
			return nil, errNotObject
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, errNotObject
		}
		i = skipSpace(b, i+1)
		end = skipValue(b, i)
		if end < 0 {
			return nil, errNotObject
		}
		o = append(o, member{key: key, val: b[i:end:end]})
		if i = skipSpace(b, end); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	if i >= len(b) {
		return nil, errNotObject
	}
	return o, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value that starts at b[i], or -1 when b ends first.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			if i = closingQuote(b, i); i < 0 {
				return -1
			}
		case '{', '[':
			depth++
			continue
		case '}', ']':
			if depth == 0 { // the end of the enclosing object or array: a scalar ended
				return i
			}
			depth--
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
			continue
		default:
			continue
		}
		if depth == 0 {
			return i + 1
		}
	}
	if depth == 0 {
		return i
	}
	return -1
}

// closingQuote returns the index of the quote that closes the string opened at b[i], or -1.
func closingQuote(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// encode writes the object as compact JSON.
func (o jsonObject) encode() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for n, m := range o {
		if n > 0 {
			b.WriteByte(',')
		}
		writeString(&b, m.key)
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func (o jsonObject) index(key string) int {
	for n, m := range o {
		if m.key == key {
			return n
		}
	}
	return -1
}

// get returns the value of member key.
func (o jsonObject) get(key string) ([]byte, bool) {
	if n := o.index(key); n >= 0 {
		return o[n].val, true
	}
	return nil, false
}

// replace sets the value of the existing member key.
func (o jsonObject) replace(key string, val []byte) error {
	n := o.index(key)
	if n < 0 {
		return fmt.Errorf("no member %q", key)
	}
	o[n].val = val
	return nil
}

// without is the object without member key.
func (o jsonObject) without(key string) jsonObject {
	out := make(jsonObject, 0, len(o))
	for _, m := range o {
		if m.key != key {
			out = append(out, m)
		}
	}
	return out
}

// edit changes the object value of member key with fn.
func (o jsonObject) edit(key string, fn func(jsonObject) error) error {
	v, ok := o.get(key)
	if !ok || isNull(v) {
		return fmt.Errorf("no object %q", key)
	}
	inner, err := parseObject(v)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if err := fn(inner); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return o.replace(key, inner.encode())
}
