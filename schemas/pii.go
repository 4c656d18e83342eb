package schemas

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Treatment is what becomes of a PII-tagged column (Column.PII) and of its value in the raw JSON.
type Treatment string

// The treatments.
const (
	// Keep stores the value as the API sent it (the default).
	Keep Treatment = "keep"
	// Hash stores the keyed hash of the value (HMAC-SHA256 with the PII key, 64 hex digits): the
	// same value hashes the same across sources and runs, so joins still work, while a dictionary
	// of values cannot reverse it without the key.
	Hash Treatment = "hash"
	// Drop stores nothing: the column is absent from the table, the member from the raw JSON.
	Drop Treatment = "drop"
	// Null is a donor key's treatment when it can be neither hashed (no key) nor kept (its e-mail
	// is not): the column stays, a column of nulls, since the donations model reads it. It is the
	// policy's own; no setting spells it.
	Null Treatment = "null"
)

// ParseTreatment reads keep, hash or drop.
func ParseTreatment(s string) (Treatment, error) {
	switch t := Treatment(strings.ToLower(strings.TrimSpace(s))); t {
	case Keep, Hash, Drop:
		return t, nil
	}
	return "", fmt.Errorf("%q is not keep, hash or drop", s)
}

// Policy is the PII policy of a run: a treatment for every PII-tagged column of the source
// tables. It applies to the tables (Table: dropped columns are absent), to the rows transform
// writes (Flattening: hashed values) and to the raw JSON, where a hashed field's value is replaced
// by its hash and a dropped field is removed, so that the raw tables never undo the policy.
//
// Two columns are not PII columns as the policy sees them although tagged: a raw JSON column
// (Derived RawJSON), which is redacted field by field instead, and its raw_bytes_base64
// (RawJSONBase64), which is left empty whenever a record's JSON was redacted.
type Policy struct {
	// Default is the treatment of every PII column without an override ("" is Keep).
	Default Treatment
	// Columns overrides the treatment of single columns, by "table.column".
	Columns map[string]Treatment
	// Hash is the keyed hash (HMAC-SHA256 with the PII key, hex); nil when no key is configured,
	// in which case no column may be hashed.
	Hash func(string) string
	// BigQueryTag, when set, is the policy tag (a Data Catalog taxonomy path,
	// projects/…/locations/…/taxonomies/…/policyTags/…) attached in BigQuery to every PII column
	// kept or hashed, raw JSON columns and donor keys included.
	BigQueryTag string
}

// Of is the treatment of column c of table: Keep for a column that is not PII or is a raw JSON
// column.
func (p Policy) Of(table string, c Column) Treatment {
	if !c.PII || c.Derived == RawJSON || c.Derived == RawJSONBase64 {
		return Keep
	}
	if t, ok := p.Columns[table+"."+c.Name]; ok {
		return t
	}
	if p.Default == "" {
		return Keep
	}
	return p.Default
}

// KeepsAll reports whether the policy keeps every value as it is.
func (p Policy) KeepsAll() bool {
	if p.Default != "" && p.Default != Keep {
		return false
	}
	for _, t := range p.Columns {
		if t != Keep {
			return false
		}
	}
	return true
}

// Validate checks the policy against the tables it will apply to: every override names a PII
// column of one of them, and a key is configured when anything is hashed. Errors name columns,
// never a key.
func (p Policy) Validate(tables []Table) error {
	var errs []error
	if p.Default != "" {
		if _, err := ParseTreatment(string(p.Default)); err != nil {
			errs = append(errs, fmt.Errorf("pii-default: %w", err))
		}
	}
	pii := map[string]bool{}
	for _, t := range tables {
		for _, c := range t.Columns {
			if c.PII && c.Derived != RawJSON && c.Derived != RawJSONBase64 && c.Derived != DonorKey {
				pii[t.Name+"."+c.Name] = true
			}
		}
	}
	hashes := p.Default == Hash
	for _, name := range slices.Sorted(maps.Keys(p.Columns)) {
		t := p.Columns[name]
		if _, err := ParseTreatment(string(t)); err != nil {
			errs = append(errs, fmt.Errorf("pii-columns: %s: %w", name, err))
		}
		if !pii[name] {
			errs = append(errs, fmt.Errorf("pii-columns: %s is not a PII column of a source table (ccsync schema lists them)", name))
		}
		hashes = hashes || t == Hash
	}
	if hashes && p.Hash == nil {
		errs = append(errs, errors.New("pii: hashing needs a key (--pii-key-file or CCSYNC_PII_KEY)"))
	}
	return errors.Join(errs...)
}

// String describes the policy for logs and the run log: "default hash; crowdtilt_users.email
// drop; key set". It never holds the key.
func (p Policy) String() string {
	def := p.Default
	if def == "" {
		def = Keep
	}
	parts := []string{"default " + string(def)}
	for _, name := range slices.Sorted(maps.Keys(p.Columns)) {
		parts = append(parts, name+" "+string(p.Columns[name]))
	}
	if p.Hash != nil {
		parts = append(parts, "key set")
	}
	if p.BigQueryTag != "" {
		parts = append(parts, "policy tag "+p.BigQueryTag)
	}
	return strings.Join(parts, "; ")
}

// Table is t under the policy: its dropped columns removed, each column's Treatment set.
func (p Policy) Table(t Table) Table {
	cols := make([]Column, 0, len(t.Columns))
	for _, c := range t.Columns {
		c.Treatment = p.Of(t.Name, c)
		if c.Derived == DonorKey {
			c.Treatment = p.donorKey(t, c)
		}
		if c.Treatment == Drop {
			continue
		}
		if c.PII && p.BigQueryTag != "" && c.Treatment != Drop {
			c.PolicyTag = p.BigQueryTag
		}
		cols = append(cols, c)
	}
	t.Columns = cols
	return t
}

// Tables are ts under the policy.
func (p Policy) Tables(ts []Table) []Table {
	out := make([]Table, len(ts))
	for i, t := range ts {
		out[i] = p.Table(t)
	}
	return out
}

// donorKey is the treatment of the DonorKey column dk of t: hashed when a key is configured, else
// the normalised e-mail in clear where the e-mail it copies is kept, else Null.
func (p Policy) donorKey(t Table, dk Column) Treatment {
	if p.Hash != nil {
		return Hash
	}
	for _, rs := range t.Rows {
		for _, cp := range rs.Copies {
			if cp.Column != dk.Name {
				continue
			}
			for _, l := range rs.Leaves {
				if JoinPath(rs.Each, l.Path) == cp.Path && p.Of(t.Name, t.Columns[t.ColumnIndex(l.Column)]) == Keep {
					return Keep
				}
			}
		}
	}
	return Null
}

// Flattening is f under the policy: its tables (Table), the leaves of dropped columns taken out of
// its row sources but still known (Dropped), the redactions of its raw JSON (Redact) and the hash.
func (p Policy) Flattening(f Flattening) Flattening {
	out := f
	out.Tables = make([]Table, len(f.Tables))
	out.Hash = p.Hash
	out.Dropped = slices.Clone(f.Dropped)
	out.Redact = p.redactions(f, "")
	for i, t := range f.Tables {
		pt := p.Table(t)
		kept := map[string]bool{}
		for _, c := range pt.Columns {
			kept[c.Name] = true
		}
		pt.Rows = make([]RowSource, len(t.Rows))
		for j, rs := range t.Rows {
			prs := rs
			prs.Leaves = nil
			for _, l := range rs.Leaves {
				if kept[l.Column] {
					prs.Leaves = append(prs.Leaves, l)
				} else {
					out.Dropped = append(out.Dropped, JoinPath(rs.Each, l.Path))
				}
			}
			prs.Copies = nil
			for _, c := range rs.Copies {
				if kept[c.Column] {
					prs.Copies = append(prs.Copies, c)
				}
			}
			pt.Rows[j] = prs
		}
		out.Tables[i] = pt
	}
	return out
}

// Redaction is a JSON path of a record (its lists written "[]") whose value the raw JSON does
// not keep as it is: replaced by its hash, or removed.
type Redaction struct {
	Path      string
	Treatment Treatment
}

// redactions are the paths of f's leaves whose columns the policy hashes or drops, under prefix,
// and those of the records it embeds.
func (p Policy) redactions(f Flattening, prefix string) []Redaction {
	var out []Redaction
	for _, t := range f.Tables {
		for _, rs := range t.Rows {
			for _, l := range rs.Leaves {
				c := t.Columns[t.ColumnIndex(l.Column)]
				if tr := p.Of(t.Name, c); tr != Keep {
					out = append(out, Redaction{Path: JoinPath(prefix, JoinPath(rs.Each, l.Path)), Treatment: tr})
				}
			}
		}
	}
	for _, e := range f.Embedded {
		if e.Record != nil {
			out = append(out, p.redactions(e.Record(), JoinPath(prefix, e.Path))...)
		}
	}
	return out
}
