package schemas

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The donations model: one view, donations, with one row per current gift or refund of every
// registered source, and the marts built on it, campaign_monthly and donors. Each source declares
// how its current views become donation rows (SourceInfo.Donations, a DonationSelect); this file
// unions them and declares the marts, and names no platform. The sinks create the views after the
// *_current views (ModelViews), in DuckDB and BigQuery alike.

// Dialect is the SQL dialect a view is written for. The model's SQL is the same in both but for
// the month of a timestamp (MonthSQL).
type Dialect int

const (
	// DuckDB is the embedded warehouse's SQL.
	DuckDB Dialect = iota
	// BigQuery is GoogleSQL; it must also run in load/bqtest, which hands the query to DuckDB.
	BigQuery
)

// Model view names.
const (
	DonationsView       = "donations"
	CampaignMonthlyView = "campaign_monthly"
	DonorsView          = "donors"
)

// Donation kinds (column kind).
const (
	KindGift   = "gift"
	KindRefund = "refund"
)

// The model's statuses (column status): every source maps its own vocabulary to these
// (source_status keeps the source's). A gift is completed, pending (money not taken yet),
// refunded (taken, then given back: its refund is a row of its own) or rejected (never taken).
// A refund row is completed.
const (
	StatusCompleted = "completed"
	StatusPending   = "pending"
	StatusRefunded  = "refunded"
	StatusRejected  = "rejected"
)

// CountedStatuses are the statuses whose rows the marts add up: money that was taken (a refunded
// gift was, and its refund row takes it back). Pending and rejected gifts, and any status a source
// does not map, are left out of the marts; they stay in donations.
var CountedStatuses = []string{StatusCompleted, StatusRefunded}

// DonationColumns are the columns of the donations view, in order.
var DonationColumns = []Column{
	{Name: "source", Type: String, Description: "The source (platform): crowdchange, donately, crowdtilt."},
	{Name: "source_id", Type: String, Description: "The row's key within its source: the gift's record id, or the refund's (a refund that is a status of its gift: the gift's id with ':refund')."},
	{Name: "kind", Type: String, Description: "gift or refund."},
	{Name: "status", Type: String, Description: "completed, pending, refunded or rejected (the model's vocabulary; a refund row is completed)."},
	{Name: "source_status", Type: String, Description: "The status as the source spells it."},
	{Name: "occurred_at", Type: Timestamp, Description: "When the gift was made or the refund given (UTC)."},
	{Name: "amount", Type: Numeric, Description: "The donated amount, exact; negative for a refund."},
	{Name: "currency", Type: String, Description: "ISO currency code, upper case."},
	{Name: "campaign_key", Type: String, Description: "The campaign, qualified by its source ('<source>:<source_campaign_id>'): unique across sources."},
	{Name: "campaign_name", Type: String, Description: "The campaign's name, as the source has it now."},
	{Name: "donor_key", Type: String, PII: true, Description: "The donor across sources: the sources' donor_key columns (the keyed hash of the e-mail, trimmed and in lower case, under the PII policy; DonorKeySQL); NULL without one."},
	{Name: "is_recurring", Type: Bool, Description: "Whether the gift (or the refunded gift) is part of a recurring donation."},
	{Name: "source_record_id", Type: String, Description: "The source's record the row comes from: a transaction, donation or payment id."},
	{Name: "source_gift_id", Type: String, Description: "The source's record of the gift: the row's own for a gift, the refunded gift's for a refund."},
	{Name: "source_campaign_id", Type: String, Description: "The source's campaign id."},
	{Name: "source_donor_id", Type: String, Description: "The source's id of the donor (a person or user), when it has one."},
}

// DonationSelect is how a source's current views become rows of donations: the FROM clause and
// one SQL expression per column. Expressions read the FROM clause's aliases; table names come from
// the ref the source's SourceInfo.Donations was given. The shared machinery adds source and
// campaign_key, upper-cases currency, and casts nothing: every expression must already have its
// column's type (STRING, TIMESTAMP, NUMERIC, BOOL), which CAST(x AS STRING) gives an integer id in
// both dialects.
type DonationSelect struct {
	// From is the FROM clause, joins included, without the keyword.
	From string
	// Where keeps the rows that are donations ("" for every row).
	Where string
	// The columns of DonationColumns, but source and campaign_key. Kind is left empty when
	// RefundedWhen is set.
	SourceID, Kind, Status, SourceStatus, OccurredAt, Amount, Currency, CampaignName, DonorKey,
	IsRecurring, SourceRecordID, SourceGiftID, SourceCampaignID, SourceDonorID string
	// RefundedWhen is set by a source whose API has no refund record: a refund is only the
	// gift's status. It is the condition under which a row is refunded; each such row then also
	// gives a refund row: source_id with ':refund', kind refund, status completed, occurred_at
	// RefundedAt, amount negated, the other columns the gift's.
	RefundedWhen, RefundedAt string
}

// check reports an expression that is missing.
func (d DonationSelect) check() error {
	need := map[string]string{"From": d.From, "SourceID": d.SourceID, "Status": d.Status, "SourceStatus": d.SourceStatus,
		"OccurredAt": d.OccurredAt, "Amount": d.Amount, "Currency": d.Currency, "CampaignName": d.CampaignName,
		"DonorKey": d.DonorKey, "IsRecurring": d.IsRecurring, "SourceRecordID": d.SourceRecordID, "SourceGiftID": d.SourceGiftID,
		"SourceCampaignID": d.SourceCampaignID, "SourceDonorID": d.SourceDonorID}
	switch {
	case d.RefundedWhen == "" && d.Kind == "":
		need["Kind"] = ""
	case d.RefundedWhen != "" && d.Kind != "":
		return fmt.Errorf("donations: Kind and RefundedWhen are both set")
	case d.RefundedWhen != "":
		need["RefundedAt"] = d.RefundedAt
	}
	for _, name := range slices.Sorted(maps.Keys(need)) {
		if strings.TrimSpace(need[name]) == "" {
			return fmt.Errorf("donations: %s is missing", name)
		}
	}
	return nil
}

// sql is the source's branch of the donations view.
func (d DonationSelect) sql(source string) string {
	e := d
	from, where := d.From, d.Where
	if d.RefundedWhen != "" {
		const k = "refund_kind.kind"
		e.Kind = k
		e.SourceID = fmt.Sprintf("CASE %s WHEN '%s' THEN %s ELSE %s || ':refund' END", k, KindGift, d.SourceID, d.SourceID)
		e.Status = fmt.Sprintf("CASE %s WHEN '%s' THEN %s ELSE '%s' END", k, KindGift, d.Status, StatusCompleted)
		e.OccurredAt = fmt.Sprintf("CASE %s WHEN '%s' THEN %s ELSE %s END", k, KindGift, d.OccurredAt, d.RefundedAt)
		e.Amount = fmt.Sprintf("CASE %s WHEN '%s' THEN %s ELSE -(%s) END", k, KindGift, d.Amount, d.Amount)
		from += fmt.Sprintf("\nCROSS JOIN (SELECT '%s' AS kind UNION ALL SELECT '%s' AS kind) AS refund_kind", KindGift, KindRefund)
		refunds := fmt.Sprintf("(%s = '%s' OR (%s))", k, KindGift, d.RefundedWhen)
		if where == "" {
			where = refunds
		} else {
			where = "(" + where + ") AND " + refunds
		}
	}
	lit := quoteLiteral(source)
	cols := []string{
		lit, e.SourceID, e.Kind, e.Status, e.SourceStatus, e.OccurredAt, e.Amount, "UPPER(" + e.Currency + ")",
		lit[:len(lit)-1] + ":' || " + e.SourceCampaignID, e.CampaignName, e.DonorKey, e.IsRecurring,
		e.SourceRecordID, e.SourceGiftID, e.SourceCampaignID, e.SourceDonorID,
	}
	var b strings.Builder
	b.WriteString("SELECT")
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "\n  %s AS %s%s", c, DonationColumns[i].Name, sep)
	}
	b.WriteString("\nFROM " + from)
	if where != "" {
		b.WriteString("\nWHERE " + where)
	}
	return b.String()
}

// quoteLiteral quotes s as a SQL string literal (both dialects).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// DonorKeySQL is the donor_key of the donations model, in one place: the first of the sources'
// donor key columns (DonorKey derivations: the keyed hash of the normalised e-mail, under the
// PII policy) that is not NULL. The model reads no e-mail: it holds whatever the policy does to
// them, and the views work under every policy.
func DonorKeySQL(keys ...string) string {
	if len(keys) == 0 {
		panic("schemas: DonorKeySQL without a donor key")
	}
	if len(keys) == 1 {
		return keys[0]
	}
	return "COALESCE(" + strings.Join(keys, ", ") + ")"
}

// MonthSQL is the first day (a DATE) of the UTC month of the timestamp ts. DuckDB's views convert
// to UTC themselves, so a DuckDB session in another time zone gets the same months; BigQuery's
// timestamps are UTC already, and the expression avoids DATE_TRUNC(…, MONTH), whose form differs
// between the two, so that it runs in the local BigQuery stand-in (load/bqtest) too.
func MonthSQL(d Dialect, ts string) string {
	if d == DuckDB {
		return "CAST(date_trunc('month', timezone('UTC', " + ts + ")) AS DATE)"
	}
	return "CAST(DATE_ADD(CAST(" + ts + " AS DATE), INTERVAL (1 - EXTRACT(DAY FROM " + ts + ")) DAY) AS DATE)"
}

// ModelView is one view of the donations model.
type ModelView struct {
	Name, Description, SQL string
}

// ModelViews returns the donations view and its marts, in the order they must be created (the
// marts read donations), in dialect d; ref names a table or view in it. None when no registered
// source declares its donations.
func ModelViews(ref func(name string) string, d Dialect) []ModelView {
	var branches []string
	for _, name := range SourceNames() {
		if f := sourceRegistry[name].Donations; f != nil {
			branches = append(branches, f(ref).sql(name))
		}
	}
	if len(branches) == 0 {
		return nil
	}
	counted := make([]string, len(CountedStatuses))
	for i, s := range CountedStatuses {
		counted[i] = quoteLiteral(s)
	}
	inCounted := "status IN (" + strings.Join(counted, ", ") + ")"
	gift := "kind = '" + KindGift + "'"
	refund := "kind = '" + KindRefund + "'"
	return []ModelView{
		{
			Name: DonationsView,
			Description: "One row per current gift or refund of every source: the gift with its status (a refunded gift stays, " +
				"its refund is a row with a negative amount), in one shape across sources. See the README, Donations model.",
			SQL: strings.Join(branches, "\nUNION ALL\n"),
		},
		{
			Name: CampaignMonthlyView,
			Description: "Per campaign, UTC month and currency: gross (completed and refunded gifts), refunds (negative), net, gifts and " +
				"distinct donors. Pending and rejected gifts are left out. A refund counts in the month it was given.",
			SQL: fmt.Sprintf(`SELECT
  campaign_key,
  MAX(campaign_name) AS campaign_name,
  %s AS month,
  currency,
  SUM(CASE WHEN %s THEN amount ELSE 0 END) AS gross,
  SUM(CASE WHEN %s THEN amount ELSE 0 END) AS refunds,
  SUM(amount) AS net,
  COUNT(CASE WHEN %s THEN 1 END) AS gift_count,
  COUNT(DISTINCT CASE WHEN %s THEN donor_key END) AS donor_count
FROM %s
WHERE %s
GROUP BY campaign_key, month, currency`, MonthSQL(d, "occurred_at"), gift, refund, gift, gift, ref(DonationsView), inCounted),
		},
		{
			Name: DonorsView,
			Description: "Per donor (donor_key) and currency: first and last gift, gifts, lifetime net (gifts less refunds) and whether " +
				"any gift is recurring. Completed and refunded gifts and their refunds only; gifts without a donor_key are left out.",
			SQL: fmt.Sprintf(`SELECT
  donor_key,
  currency,
  MIN(CASE WHEN %s THEN occurred_at END) AS first_gift_at,
  MAX(CASE WHEN %s THEN occurred_at END) AS last_gift_at,
  COUNT(CASE WHEN %s THEN 1 END) AS gift_count,
  SUM(amount) AS lifetime_net,
  MAX(CASE WHEN %s AND is_recurring THEN 1 ELSE 0 END) = 1 AS is_recurring
FROM %s
WHERE %s AND donor_key IS NOT NULL
GROUP BY donor_key, currency`, gift, gift, gift, gift, ref(DonationsView), inCounted),
		},
	}
}
