package crowdtilt

import (
	"fmt"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdtilt"
	"github.com/ccsync/ccsync/load/pipeline"
	"github.com/ccsync/ccsync/schemas"
	crowdtiltschema "github.com/ccsync/ccsync/schemas/crowdtilt"
	"github.com/ccsync/ccsync/transform"
)

// paymentRow is a payment as its tables store it (crowdtiltschema.PaymentsFlattening): the API's
// fields and what ccsync derives.
type paymentRow struct {
	crowdtilt.Payment
	// AmountDecimal is amount / 100, exact.
	AmountDecimal extract.Money `json:"amount_decimal"`
	// Currency is crowdtilt.Currency: the API names none.
	Currency    string `json:"currency"`
	ContentHash string `json:"content_hash"`
}

// campaignRow and userRow are a campaign and a user with their content hash.
type campaignRow struct {
	crowdtilt.Campaign
	ContentHash string `json:"content_hash"`
}

type userRow struct {
	crowdtilt.User
	ContentHash string `json:"content_hash"`
}

// tables are the tables of a Crowdtilt batch, in the order builder.NewRecords returns them.
func tables() []schemas.Table { return schemas.BatchTables(flattenings(schemas.Policy{})...) }

// flattenings are Crowdtilt's record kinds under a PII policy, in the order of their tables:
// payments, campaigns, users.
func flattenings(policy schemas.Policy) []schemas.Flattening {
	return []schemas.Flattening{policy.Flattening(crowdtiltschema.PaymentsFlattening()),
		policy.Flattening(crowdtiltschema.CampaignsFlattening()), policy.Flattening(crowdtiltschema.UsersFlattening())}
}

// Tables are Crowdtilt's tables and the quarantine.
func (s *Source) Tables() []schemas.Table { return tables() }

// NewBuilder returns an empty builder of Crowdtilt's rows, which appends a version of a record
// only when its content hash differs from its current version's.
func (s *Source) NewBuilder(mem memory.Allocator, policy schemas.Policy) pipeline.Builder {
	if s.current == nil {
		s.current = map[crowdtilt.Kind]map[string]string{}
	}
	b, err := newBuilder(mem, policy, s.current)
	if err != nil {
		panic(err) // the declarations do not fit the model: a programming mistake, caught by the tests
	}
	return b
}

// builder fills Crowdtilt's tables: a Flattener per record kind and the quarantine (Group), and
// appends a version only of a record that changed.
type builder struct {
	*transform.Group
	payments  *transform.Flattener[paymentRow]
	campaigns *transform.Flattener[campaignRow]
	users     *transform.Flattener[userRow]
	// current are the content hashes of the current versions by kind and id, the versions this
	// builder appended included.
	current map[crowdtilt.Kind]map[string]string
	// read are the records read in this run, by kind and id: the modification_date of the
	// version that is current since (read first, or appended).
	read              map[crowdtilt.Kind]map[string]time.Time
	unchanged, reread int
	// hasher computes each kind's content hash under the PII policy (contentHasher).
	hasher contentHasher
}

func newBuilder(mem memory.Allocator, policy schemas.Policy, current map[crowdtilt.Kind]map[string]string) (*builder, error) {
	fs := flattenings(policy)
	payments, err := transform.NewFlattener[paymentRow](mem, fs[0])
	if err != nil {
		return nil, err
	}
	campaigns, err := transform.NewFlattener[campaignRow](mem, fs[1])
	if err != nil {
		payments.Release()
		return nil, err
	}
	users, err := transform.NewFlattener[userRow](mem, fs[2])
	if err != nil {
		payments.Release()
		campaigns.Release()
		return nil, err
	}
	g, err := transform.NewGroup(mem, payments, campaigns, users)
	if err != nil {
		return nil, err
	}
	g.Quarantine().RedactAs(fs...)
	for _, k := range []crowdtilt.Kind{crowdtilt.KindPayment, crowdtilt.KindCampaign, crowdtilt.KindUser} {
		if current[k] == nil {
			current[k] = map[string]string{}
		}
	}
	read := map[crowdtilt.Kind]map[string]time.Time{}
	for _, k := range []crowdtilt.Kind{crowdtilt.KindPayment, crowdtilt.KindCampaign, crowdtilt.KindUser} {
		read[k] = map[string]time.Time{}
	}
	return &builder{Group: g, payments: payments, campaigns: campaigns, users: users, current: current, read: read,
		hasher: newContentHasher(fs)}, nil
}

// changed says whether r is to be appended as a new version, and makes it the current one: then
// also its raw JSON as stored (redacted under the policy, computed once for the hash and the
// raw table) and its content hash. A record read for the first time in the run is appended when it
// differs from its current version. One read again (a user embedded in several campaigns'
// payments) is appended only when it differs and its modification_date is later than the
// version current since it was first read: windows arrive in the order their fetches end, not
// the order they were read, so an earlier read arriving later must not become current.
func (b *builder) changed(r *crowdtilt.Record) (stored []byte, hash string, ok bool) {
	stored = b.hasher.stored(r)
	h := crowdtilt.ContentHash(stored)
	since, again := b.read[r.Kind][r.ID]
	switch {
	case again:
		b.reread++
		if b.current[r.Kind][r.ID] == h || !r.ModificationDate.After(since) {
			return nil, "", false
		}
	case b.current[r.Kind][r.ID] == h:
		b.unchanged++
		b.read[r.Kind][r.ID] = r.ModificationDate
		return nil, "", false
	}
	b.read[r.Kind][r.ID] = r.ModificationDate
	b.current[r.Kind][r.ID] = h
	return stored, h, true
}

// AddWindow adds the records of a fetched window that changed, and its quarantined items.
func (b *builder) AddWindow(f extract.WindowFetch, m transform.Meta) {
	fetched, ok := f.(*Fetched)
	if !ok {
		panic(fmt.Sprintf("crowdtilt: a %T is not a Crowdtilt window", f)) // a wiring mistake
	}
	if c := fetched.Campaign; c != nil && c.Campaign != nil {
		if stored, h, ok := b.changed(c); ok {
			b.campaigns.AddRedacted(&campaignRow{Campaign: *c.Campaign, ContentHash: h}, c.Raw, stored, c.Err, m)
		}
	}
	for i := range fetched.Payments {
		p := &fetched.Payments[i]
		if p.Payment == nil {
			continue
		}
		if stored, h, ok := b.changed(p); ok {
			row := paymentRow{Payment: *p.Payment, Currency: crowdtilt.Currency, ContentHash: h}
			if p.Payment.Amount != nil {
				row.AmountDecimal = extract.Money(crowdtilt.DecimalString(*p.Payment.Amount))
			}
			b.payments.AddRedacted(&row, p.Raw, stored, p.Err, m)
		}
	}
	for i := range fetched.Users {
		u := &fetched.Users[i]
		if u.User == nil || u.IsReference() {
			continue
		}
		if stored, h, ok := b.changed(u); ok {
			b.users.AddRedacted(&userRow{User: *u.User, ContentHash: h}, u.Raw, stored, u.Err, m)
		}
	}
	for _, q := range fetched.Quarantined {
		b.Quarantine().Add(q, fetched.Window, m)
	}
}

// Stats are the Group's counters, the unchanged records and those read again.
func (b *builder) Stats() transform.Stats {
	out := b.Group.Stats()
	out.Unchanged += b.unchanged
	out.Reread += b.reread
	return out
}

// contentHasher is the content hash of a record as its tables store it: crowdtilt.ContentHash
// of its raw JSON redacted under the PII policy. So the hash, a column of its own, depends on no
// value the policy hashes or drops (a dictionary of e-mails cannot be run against it), and change
// detection follows exactly what is stored. Under a policy that keeps everything it is
// crowdtilt.ContentHash of the raw JSON as the API sent it.
type contentHasher map[crowdtilt.Kind]func([]byte) []byte

// newContentHasher takes the kinds' flattenings under the policy (flattenings).
func newContentHasher(fs []schemas.Flattening) contentHasher {
	return contentHasher{
		crowdtilt.KindPayment:  transform.Redactor(fs[0]),
		crowdtilt.KindCampaign: transform.Redactor(fs[1]),
		crowdtilt.KindUser:     transform.Redactor(fs[2]),
	}
}

// stored is r's raw JSON as its tables store it: redacted under the policy.
func (h contentHasher) stored(r *crowdtilt.Record) []byte {
	if redact := h[r.Kind]; redact != nil {
		return redact(r.Raw)
	}
	return r.Raw
}

// of is r's content hash.
func (h contentHasher) of(r *crowdtilt.Record) string { return crowdtilt.ContentHash(h.stored(r)) }
