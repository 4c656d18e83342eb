package donately

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/donately"
	"github.com/ccsync/ccsync/load/pipeline"
	"github.com/ccsync/ccsync/schemas"
	donatelyschema "github.com/ccsync/ccsync/schemas/donately"
	"github.com/ccsync/ccsync/transform"
)

// donationRow is a donation as its tables store it (donatelyschema.DonationsFlattening): the
// API's fields, the currency upper-cased, and two fields the API does not send, derived here.
type donationRow struct {
	donately.Donation
	// Amount is amount_in_cents / 100, exact.
	Amount extract.Money `json:"amount"`
	// MetaEntries are meta_data's members, by key.
	MetaEntries []metaEntry `json:"meta_data_entries"`
}

type metaEntry struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// newDonationRow derives the stored shape of d.
func newDonationRow(d *donately.Donation) donationRow {
	row := donationRow{Donation: *d}
	if d.Currency != nil {
		upper := strings.ToUpper(*d.Currency)
		row.Currency = &upper
	}
	if d.AmountInCents != nil {
		row.Amount = extract.Money(new(big.Rat).SetFrac64(*d.AmountInCents, 100).FloatString(2))
	}
	var members map[string]json.RawMessage
	if len(d.MetaData) > 0 && json.Unmarshal(d.MetaData, &members) == nil {
		for k, v := range members {
			row.MetaEntries = append(row.MetaEntries, metaEntry{Key: k, Value: v})
		}
		sort.Slice(row.MetaEntries, func(i, j int) bool { return row.MetaEntries[i].Key < row.MetaEntries[j].Key })
	}
	return row
}

// tables are the tables of a Donately batch, in the order builder.NewRecords returns them.
func tables() []schemas.Table {
	var out []schemas.Table
	for _, f := range []schemas.Flattening{donatelyschema.DonationsFlattening(), donatelyschema.CampaignsFlattening(), donatelyschema.PeopleFlattening()} {
		out = append(out, f.Tables...)
	}
	q, _ := schemas.ByName(schemas.QuarantineTable)
	return append(out, q)
}

// Tables are Donately's tables and the quarantine.
func (s *Source) Tables() []schemas.Table { return tables() }

// NewBuilder returns an empty builder of Donately's rows.
func (s *Source) NewBuilder(mem memory.Allocator) pipeline.Builder {
	b, err := newBuilder(mem)
	if err != nil {
		panic(err) // the declarations do not fit the model: a programming mistake, caught by the tests
	}
	return b
}

// builder fills Donately's tables: a Flattener per record kind, and the quarantine.
type builder struct {
	donations  *transform.Flattener[donationRow]
	campaigns  *transform.Flattener[donately.Campaign]
	people     *transform.Flattener[donately.Person]
	quarantine *transform.Quarantine
}

func newBuilder(mem memory.Allocator) (*builder, error) {
	b := &builder{}
	var err error
	if b.donations, err = transform.NewFlattener[donationRow](mem, donatelyschema.DonationsFlattening()); err != nil {
		return nil, err
	}
	if b.campaigns, err = transform.NewFlattener[donately.Campaign](mem, donatelyschema.CampaignsFlattening()); err != nil {
		b.Release()
		return nil, err
	}
	if b.people, err = transform.NewFlattener[donately.Person](mem, donatelyschema.PeopleFlattening()); err != nil {
		b.Release()
		return nil, err
	}
	if b.quarantine, err = transform.NewQuarantine(mem); err != nil {
		b.Release()
		return nil, err
	}
	return b, nil
}

// AddWindow adds a fetched window's records and quarantined items.
func (b *builder) AddWindow(f extract.WindowFetch, m transform.Meta) {
	fetched, ok := f.(*Fetched)
	if !ok {
		panic(fmt.Sprintf("donately: a %T is not a Donately window", f)) // a wiring mistake
	}
	for i := range fetched.Result.Records {
		r := &fetched.Result.Records[i]
		switch {
		case r.Donation != nil:
			row := newDonationRow(r.Donation)
			b.donations.Add(&row, r.Raw, r.Err, m)
		case r.Campaign != nil:
			b.campaigns.Add(r.Campaign, r.Raw, r.Err, m)
		case r.Person != nil:
			b.people.Add(r.Person, r.Raw, r.Err, m)
		}
	}
	for _, q := range fetched.Result.Quarantined {
		b.quarantine.Add(q, fetched.Window, m)
	}
}

// Len is the number of records added since the last NewRecords.
func (b *builder) Len() int { return b.donations.Len() + b.campaigns.Len() + b.people.Len() }

// Stats adds up the flatteners' counters and the quarantine's.
func (b *builder) Stats() transform.Stats {
	out := transform.Stats{Rows: map[string]int64{}}
	for _, s := range []transform.Stats{b.donations.Stats(), b.campaigns.Stats(), b.people.Stats()} {
		out.Transactions += s.Transactions
		out.UnknownFields += s.UnknownFields
		out.Invalid += s.Invalid
		for t, n := range s.Rows {
			out.Rows[t] += n
		}
	}
	out.Quarantined = int(b.quarantine.Total())
	out.Rows[schemas.QuarantineTable] = b.quarantine.Total()
	return out
}

// NewRecords returns a record per table of Tables, in its order.
func (b *builder) NewRecords() []arrow.Record {
	recs := b.donations.NewRecords()
	recs = append(recs, b.campaigns.NewRecords()...)
	recs = append(recs, b.people.NewRecords()...)
	return append(recs, b.quarantine.NewRecord())
}

// Release frees what was not returned.
func (b *builder) Release() {
	if b.donations != nil {
		b.donations.Release()
	}
	if b.campaigns != nil {
		b.campaigns.Release()
	}
	if b.people != nil {
		b.people.Release()
	}
	if b.quarantine != nil {
		b.quarantine.Release()
	}
}

// WarehouseQuery reads the current donations created in [from, to), and those whose creation time
// could not be read, with their raw JSON.
func (s *Source) WarehouseQuery(ref func(string) string, from, to time.Time) string {
	return fmt.Sprintf(`SELECT d.id, d.currency, CAST(d.amount AS STRING), r.raw, r.raw_bytes_base64, CAST(d.created_at IS NULL AS STRING)
FROM %s AS d
JOIN %s AS r ON r.donation_id = d.id AND r.%s = d.%s AND r.%s = d.%s
WHERE (d.created_at >= TIMESTAMP '%s' AND d.created_at < TIMESTAMP '%s') OR d.created_at IS NULL`,
		ref(donatelyschema.Donations+"_current"), ref(donatelyschema.RawDonations+"_current"),
		schemas.ColRunID, schemas.ColRunID, schemas.ColExtractedAt, schemas.ColExtractedAt,
		from.UTC().Format("2006-01-02 15:04:05"), to.UTC().Format("2006-01-02 15:04:05"))
}
