package donately

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

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
func tables() []schemas.Table { return schemas.BatchTables(flattenings(schemas.Policy{})...) }

// flattenings are Donately's record kinds under a PII policy, in the order of their tables:
// donations, campaigns, people.
func flattenings(policy schemas.Policy) []schemas.Flattening {
	return []schemas.Flattening{policy.Flattening(donatelyschema.DonationsFlattening()),
		policy.Flattening(donatelyschema.CampaignsFlattening()), policy.Flattening(donatelyschema.PeopleFlattening())}
}

// Tables are Donately's tables and the quarantine.
func (s *Source) Tables() []schemas.Table { return tables() }

// NewBuilder returns an empty builder of Donately's rows.
func (s *Source) NewBuilder(mem memory.Allocator, policy schemas.Policy) pipeline.Builder {
	b, err := newBuilder(mem, policy)
	if err != nil {
		panic(err) // the declarations do not fit the model: a programming mistake, caught by the tests
	}
	return b
}

// builder fills Donately's tables: a Flattener per record kind and the quarantine (Group).
type builder struct {
	*transform.Group
	donations *transform.Flattener[donationRow]
	campaigns *transform.Flattener[donately.Campaign]
	people    *transform.Flattener[donately.Person]
}

func newBuilder(mem memory.Allocator, policy schemas.Policy) (*builder, error) {
	fs := flattenings(policy)
	donations, err := transform.NewFlattener[donationRow](mem, fs[0])
	if err != nil {
		return nil, err
	}
	campaigns, err := transform.NewFlattener[donately.Campaign](mem, fs[1])
	if err != nil {
		donations.Release()
		return nil, err
	}
	people, err := transform.NewFlattener[donately.Person](mem, fs[2])
	if err != nil {
		donations.Release()
		campaigns.Release()
		return nil, err
	}
	g, err := transform.NewGroup(mem, donations, campaigns, people)
	if err != nil {
		return nil, err
	}
	g.Quarantine().RedactAs(fs...)
	return &builder{Group: g, donations: donations, campaigns: campaigns, people: people}, nil
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
		b.Quarantine().Add(q, fetched.Window, m)
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
