package crowdchange

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	crowdchangeapi "github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/load/pipeline"
	"github.com/ccsync/ccsync/load/verify"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
	"github.com/ccsync/ccsync/transform"
)

// Fetcher is what the source needs of the API: *crowdchangeapi.Client.
type Fetcher interface {
	FetchWindow(ctx context.Context, w extract.Window) (*crowdchangeapi.WindowResult, error)
	Stats() extract.Stats
}

var (
	_ Fetcher         = (*crowdchangeapi.Client)(nil)
	_ pipeline.Source = (*Source)(nil)
)

// Source is CrowdChange as the run loop sees it.
type Source struct {
	api Fetcher
	// redact is what verify does to the API's raw JSON before comparing it (ComparePII).
	redact func([]byte) []byte
}

// NewSource returns the CrowdChange source reading through api.
func NewSource(api Fetcher) *Source { return &Source{api: api, redact: transform.Unredacted} }

// Name is crowdchangeschema.Name.
func (s *Source) Name() string { return crowdchangeschema.Name }

// Records names CrowdChange's records.
func (s *Source) Records() string { return "transactions" }

// PlanBackfill plans by transaction date or payout date (PlanBackfill).
func (s *Source) PlanBackfill(_ context.Context, r config.Run) (extract.Plan, error) {
	return PlanBackfill(r)
}

// PlanSync plans the date stream from its watermark and the payout stream per account
// (PlanSync).
func (s *Source) PlanSync(_ context.Context, cps []load.Checkpoint, r config.Run, now time.Time) (extract.Plan, error) {
	return PlanSync(cps, r, now)
}

// Fetch reads one window's transactions.
func (s *Source) Fetch(ctx context.Context, w extract.Window) (extract.WindowFetch, error) {
	res, err := s.api.FetchWindow(ctx, w)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Stats are the client's counters.
func (s *Source) Stats() extract.Stats { return s.api.Stats() }

// Tables are crowdchangeschema.BatchTables, the order Builder's records come in.
func (s *Source) Tables() []schemas.Table { return crowdchangeschema.BatchTables() }

// NewBuilder returns a Builder that takes whole windows.
func (s *Source) NewBuilder(mem memory.Allocator, policy schemas.Policy) pipeline.Builder {
	return windowBuilder{NewBuilderUnder(mem, policy)}
}

// windowBuilder adds a fetched window's transactions and quarantined items.
type windowBuilder struct{ *Builder }

func (b windowBuilder) AddWindow(f extract.WindowFetch, m transform.Meta) {
	res, ok := f.(*crowdchangeapi.WindowResult)
	if !ok {
		panic(fmt.Sprintf("crowdchange: a %T is not a CrowdChange window", f)) // a wiring mistake
	}
	for _, t := range res.Transactions {
		b.Add(t, m)
	}
	for _, q := range res.Quarantined {
		b.AddQuarantined(q, res.Window, m)
	}
}

var _ verify.Source = (*Source)(nil)

// VerifyWindows re-reads r's range by transaction date, in windows of r.Window.
func (s *Source) VerifyWindows(r config.Run) ([]extract.Window, error) {
	return extract.PlanDateWindows(r.From, r.RangeEnd(), r.Window)
}

// Amounts are the money verify sums per currency.
func (s *Source) Amounts() []string { return []string{"total_paid", "donation", "covered_fees"} }

// Facts are a fetched window's transactions as verify compares them.
func (s *Source) Facts(f extract.WindowFetch) []verify.Fact {
	res, ok := f.(*crowdchangeapi.WindowResult)
	if !ok {
		panic(fmt.Sprintf("crowdchange: a %T is not a CrowdChange window", f))
	}
	out := make([]verify.Fact, 0, len(res.Transactions))
	for _, t := range res.Transactions {
		var currency, paid, donation, covered string
		if a := t.Tx.Amount; a != nil {
			if a.Currency != nil {
				currency = *a.Currency
			}
			paid, donation, covered = string(a.TotalPaid), string(a.Donation), string(a.CoveredFees)
		}
		out = append(out, verify.NewFact(strconv.FormatInt(t.ID, 10), currency, s.redact(t.Raw), paid, donation, covered))
	}
	return out
}

// WarehouseQuery reads the current transactions of [from, to), and those whose date could not be
// read, with their raw JSON.
func (s *Source) WarehouseQuery(ref func(string) string, from, to time.Time) string {
	return fmt.Sprintf(`SELECT CAST(t.id AS STRING), t.amount_currency, CAST(t.amount_total_paid AS STRING), CAST(t.amount_donation AS STRING),
  CAST(t.amount_covered_fees AS STRING), r.raw, r.raw_bytes_base64, CAST(t.date IS NULL AS STRING)
FROM %s AS t
JOIN %s AS r ON r.transaction_id = t.id AND r.%s = t.%s AND r.%s = t.%s
WHERE (t.date >= TIMESTAMP '%s' AND t.date < TIMESTAMP '%s') OR t.date IS NULL`,
		ref(crowdchangeschema.Transactions+"_current"), ref(crowdchangeschema.RawTransactions+"_current"),
		schemas.ColRunID, schemas.ColRunID, schemas.ColExtractedAt, schemas.ColExtractedAt,
		from.UTC().Format("2006-01-02 15:04:05"), to.UTC().Format("2006-01-02 15:04:05"))
}

// ComparePII makes verify compare the API's transactions as the PII policy stores them (their raw
// JSON redacted).
func (s *Source) ComparePII(p schemas.Policy) {
	s.redact = transform.Redactor(p.Flattening(crowdchangeschema.Flattening()))
}
