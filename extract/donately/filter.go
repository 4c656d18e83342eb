package donately

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// The timestamps a Filter can select on.
const (
	FieldCreated = "created" // created_at
	FieldUpdated = "updated" // updated_at
)

// TimestampLayout is how filter bounds are sent: RFC 3339 in UTC with whole seconds, as the API
// writes its own timestamps ("2026-03-01T14:30:00Z"). The reference calls them "timestamp"
// without a layout.
const TimestampLayout = "2006-01-02T15:04:05Z"

// Filter selects the records whose Field timestamp t is in [After, Before): After <= t < Before.
// A zero bound is no bound; an empty Field is no filter (and no bounds).
//
// The API's filters are strict on both sides (created[gt], created[lt]). Its timestamps have whole
// seconds, so [After, Before) is asked as gt = After − 1s, lt = Before: a record at exactly After
// is in, one at exactly Before is out, and a record on the edge between two adjacent windows
// lands in exactly one of them. Should the API keep finer timestamps than it writes (a record at
// After − 0.4s), the answer may hold a record of the previous window; the client drops every
// record whose timestamp it reads outside [After, Before) (Result.OutsideWindow), so that each
// record still lands once. Bounds must be whole seconds.
type Filter struct {
	Field         string
	After, Before time.Time
}

// Validate checks the filter.
func (f Filter) Validate() error {
	switch f.Field {
	case "":
		if !f.After.IsZero() || !f.Before.IsZero() {
			return errors.New("filter: bounds without a field (created or updated)")
		}
		return nil
	case FieldCreated, FieldUpdated:
	default:
		return fmt.Errorf("filter: field %q is not created or updated", f.Field)
	}
	for _, b := range []struct {
		name string
		t    time.Time
	}{{"after", f.After}, {"before", f.Before}} {
		if !b.t.IsZero() && b.t.Nanosecond() != 0 {
			return fmt.Errorf("filter: %s %s is not a whole second (the API's timestamps are)", b.name, b.t.UTC().Format(time.RFC3339Nano))
		}
	}
	if !f.After.IsZero() && !f.Before.IsZero() && !f.Before.After(f.After) {
		return fmt.Errorf("filter: before %s is not after after %s", f.Before.UTC().Format(TimestampLayout), f.After.UTC().Format(TimestampLayout))
	}
	return nil
}

// String reads like "created [2026-03-01T00:00:00Z, 2026-03-02T00:00:00Z)", or "all".
func (f Filter) String() string {
	if f.Field == "" {
		return "all"
	}
	bound := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return t.UTC().Format(TimestampLayout)
	}
	return f.Field + " [" + bound(f.After, "-∞") + ", " + bound(f.Before, "+∞") + ")"
}

// setAPIParams adds the API's strict filter parameters for [After, Before) to q.
func (f Filter) setAPIParams(q url.Values) {
	if f.Field == "" {
		return
	}
	if !f.After.IsZero() {
		q.Set(f.Field+"[gt]", f.After.Add(-time.Second).UTC().Format(TimestampLayout))
	}
	if !f.Before.IsZero() {
		q.Set(f.Field+"[lt]", f.Before.UTC().Format(TimestampLayout))
	}
}

// timeOf is the record's timestamp the filter selects on (zero when unreadable or absent).
func (f Filter) timeOf(r *Record) time.Time {
	if f.Field == FieldUpdated {
		return r.UpdatedAt
	}
	return r.CreatedAt
}

// contains reports whether t, a readable timestamp, is in [After, Before).
func (f Filter) contains(t time.Time) bool {
	return (f.After.IsZero() || !t.Before(f.After)) && (f.Before.IsZero() || t.Before(f.Before))
}
