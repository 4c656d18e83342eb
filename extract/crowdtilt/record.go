package crowdtilt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ccsync/ccsync/extract"
)

// Kind is what a record is.
type Kind string

// The kinds of records.
const (
	KindCampaign Kind = "campaign"
	KindPayment  Kind = "payment"
	KindUser     Kind = "user"
)

// Record is one record read: its id, its raw JSON as the API sent it less the card data, and the
// typed model decoded from it (one of Campaign, Payment, User, by Kind).
type Record struct {
	Kind Kind
	// ID is the record's id (CMP…, CON…, USR…); always set.
	ID string
	// CampaignID is, for a payment, the campaign it was listed under.
	CampaignID string
	// CreationDate and ModificationDate are the record's creation_date and modification_date in
	// UTC, zero when absent or unreadable.
	CreationDate, ModificationDate time.Time
	// Raw is the record's JSON object byte for byte as the API sent it, but for the card data
	// members (removed at any depth with their value and one comma). For a user embedded in a
	// campaign or payment (EmbeddedUsers), the bytes of that object.
	Raw json.RawMessage
	// Campaign, Payment and User: the typed model of the record's kind; when Err is set it holds
	// what could be decoded (and ID).
	Campaign *Campaign
	Payment  *Payment
	User     *User
	// Err says which fields could not be decoded (an *extract.DecodeError naming fields, never
	// values); the record is kept whole in Raw.
	Err error
}

// ContentHash is ContentHash(r.Raw).
func (r Record) ContentHash() string { return ContentHash(r.Raw) }

// IsReference reports whether the record is a user that an embedding object only names ({"id",
// "uri"}: no email, creation_date nor modification_date): its content is not known, User fetches
// it.
func (r Record) IsReference() bool {
	if r.Kind != KindUser || r.User == nil {
		return false
	}
	u := r.User
	return u.Email == nil && u.CreationDate.IsZero() && u.ModificationDate.IsZero()
}

// maxIDLen bounds a record id: ids are logged and sent in paths, so one that is not a short plain
// identifier is not taken as an id.
const maxIDLen = 128

// decodeRecord reads one item of the given kind into its typed model, field by field where the
// whole does not decode; an item without a usable id is an error (quarantined).
func decodeRecord(kind Kind, raw json.RawMessage) (Record, error) {
	r := Record{Kind: kind, Raw: raw}
	switch kind {
	case KindCampaign:
		m := &Campaign{}
		r.Err = extract.DecodeLenient(raw, m, string(kind))
		r.ID, r.Campaign = m.ID, m
		r.CreationDate, r.ModificationDate = m.CreationDate.Time, m.ModificationDate.Time
	case KindPayment:
		m := &Payment{}
		r.Err = extract.DecodeLenient(raw, m, string(kind))
		r.ID, r.Payment = m.ID, m
		r.CreationDate, r.ModificationDate = m.CreationDate.Time, m.ModificationDate.Time
	case KindUser:
		m := &User{}
		r.Err = extract.DecodeLenient(raw, m, string(kind))
		r.ID, r.User = m.ID, m
		r.CreationDate, r.ModificationDate = m.CreationDate.Time, m.ModificationDate.Time
	default:
		return Record{}, fmt.Errorf("unknown kind %q", kind)
	}
	if err := checkID(r.ID); err != nil {
		// Why: itemID reads the member alone (the model leaves a mistyped id empty).
		if _, ierr := itemID(raw); ierr != nil {
			return Record{}, ierr
		}
		return Record{}, fmt.Errorf(`"id" %w`, err)
	}
	return r, nil
}

// itemID reads an item's "id": a non-empty JSON string of at most maxIDLen bytes of printable
// characters without spaces or slashes (ids go into paths). Its errors name no value.
func itemID(raw json.RawMessage) (string, error) {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return "", errors.New("the item is not a JSON object")
	}
	b := bytes.TrimSpace(probe.ID)
	switch {
	case len(b) == 0:
		return "", errors.New(`the item has no "id"`)
	case string(b) == "null":
		return "", errors.New(`"id" is null`)
	case b[0] != '"':
		return "", errors.New(`"id" is not a string`)
	}
	var id string
	if json.Unmarshal(b, &id) != nil {
		return "", errors.New(`"id" is not a string that can be read`)
	}
	if err := checkID(id); err != nil {
		return "", fmt.Errorf(`"id" %w`, err)
	}
	return id, nil
}

// checkID says what makes id unusable, if anything; it names no value.
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("is empty")
	case len(id) > maxIDLen:
		return fmt.Errorf("is longer than %d bytes", maxIDLen)
	case !utf8.ValidString(id) || strings.IndexFunc(id, func(r rune) bool {
		return !unicode.IsPrint(r) || unicode.IsSpace(r) || r == utf8.RuneError || r == '/' || r == '?' || r == '#' || r == '%'
	}) >= 0:
		return errors.New("holds spaces, slashes or characters that cannot be printed")
	}
	return nil
}

// embeddedMembers are the members that embed another versioned record (a campaign or a user).
var embeddedMembers = map[string]bool{"campaign": true, "user": true, "admin": true, "first_contributor": true, "tilter": true}

// ContentHash is the hex SHA-256 of a record's canonical content, for change detection: raw (a
// record's Raw, already rid of card data) decoded, every embedded record (the members campaign,
// user, admin, first_contributor and tilter, at any depth outside metadata) reduced to {"id"},
// and encoded again with the members sorted by name, no white space, numbers as written and
// strings escaped one way. So it ignores the order of members, white space and escapes; it
// covers modification_date and every own member, the campaign's stats included (they move
// without the modification_date); and it does not change when an embedded user or campaign
// does (those are versioned on their own). Two layouts of the same instant hash differently; the
// API writes each timestamp one way. A raw that is not one JSON value is hashed as it is.
func ContentHash(raw []byte) string {
	b, err := canonical(raw)
	if err != nil {
		b = raw
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonical is raw's canonical content (see ContentHash).
func canonical(raw []byte) ([]byte, error) {
	v, err := canonicalValue(raw, false)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// canonicalValue decodes the JSON value raw, numbers as written; outside metadata (whole, set),
// an object's embedded records become {"id"} without their contents being decoded.
func canonicalValue(raw []byte, whole bool) (any, error) {
	raw = bytes.TrimSpace(raw)
	if !whole && len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
		if raw[0] == '[' {
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				return nil, err
			}
			out := make([]any, len(items))
			for i, it := range items {
				v, err := canonicalValue(it, false)
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(members))
		for k, m := range members {
			var v any
			var err error
			m = bytes.TrimSpace(m)
			switch {
			case embeddedMembers[k] && len(m) > 0 && m[0] == '{':
				var ref struct {
					ID json.RawMessage `json:"id"`
				}
				if err = json.Unmarshal(m, &ref); err == nil {
					r := map[string]any{}
					if ref.ID != nil {
						if r["id"], err = canonicalValue(ref.ID, true); err != nil {
							return nil, err
						}
					}
					v = r
				}
			default:
				v, err = canonicalValue(m, whole || k == "metadata")
			}
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// Currency is the currency of every amount: the seed names none, and Crowdtilt's API (Balanced
// Payments) was US dollars only ("Support for multiple currencies … coming soon").
const Currency = "USD"

// DecimalString is an amount in cents as an exact decimal string of dollars: 1234 is "12.34", 5
// is "0.05", -5 is "-0.05". It never goes through a float.
func DecimalString(cents int64) string {
	neg := cents < 0
	u := uint64(cents)
	if neg {
		u = -u // two's complement: exact for math.MinInt64 too
	}
	s := strconv.FormatUint(u/100, 10) + "." + fmt.Sprintf("%02d", u%100)
	if neg {
		return "-" + s
	}
	return s
}
