package load

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
	"github.com/ccsync/ccsync/schemas/crowdtilt"
	"github.com/ccsync/ccsync/schemas/donately"
	"github.com/ccsync/ccsync/transform"
)

// The donations model on a hand-made fixture, in both sinks (a case of TestSinkContract): a few
// current rows of each source, committed the way the run loop commits them, and the model views
// compared with values computed by hand.

// commitModelRows commits one batch of rows (table → rows, each row its columns' values; the
// columns not given are filled by genRow) with the checkpoint cp.
func commitModelRows(t *testing.T, w *warehouse, batchID string, ext time.Time, cp Checkpoint, rows map[string][]map[string]any) {
	t.Helper()
	b := newBatch(t, w.mem, "run-"+batchID, batchID)
	for _, table := range slices.Sorted(maps.Keys(rows)) {
		tbl, ok := schemas.ByName(table)
		if !ok {
			t.Fatalf("no table %s", table)
		}
		var cells [][]cell
		for i, r := range rows[table] {
			cells = append(cells, genRow(tbl, i, with(r, stamp(b.RunID(), b.ID(), ext))))
		}
		writeRows(t, b, w.mem, table, cells...)
	}
	b.AddCheckpoint(cp)
	if err := w.sink.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit %s: %v", batchID, err)
	}
}

func at(s string) time.Time {
	ts, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return ts.UTC()
}

// ccTx is a CrowdChange transaction row with the columns the model reads.
func ccTx(id int64, typ, status, date, donation, currency string, donatedBy, billing any, recurring bool, parent any) map[string]any {
	return map[string]any{
		"id": id, "type": typ, "status": status, "date": at(date), "amount_donation": donation, "amount_currency": currency,
		"fundraiser_id": int64(100), "fundraiser_name": "Ride", "donated_by_email": donatedBy, "billing_email": billing,
		schemas.ColDonorKey: donorKey(donatedBy), crowdchange.ColBillingDonorKey: donorKey(billing),
		"amount_is_recurring": recurring, "parent_id": parent, "donated_by_user_id": id + 7000,
	}
}

// donorKey is the donor key transform derives from an e-mail when no PII key is configured: the
// e-mail trimmed and lower-cased (transform.NormalizeEmail), nil for none.
func donorKey(email any) any {
	s, ok := email.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return nil
	}
	return transform.NormalizeEmail(s)
}

// person is a Donately person or a Crowdtilt user row with its e-mail and donor key.
func person(id, email string) map[string]any {
	return map[string]any{"id": id, "email": email, schemas.ColDonorKey: donorKey(email)}
}

// dnDonation is a Donately donation row with the columns the model reads.
func dnDonation(id, status, created, updated, amount string, person any, recurring bool) map[string]any {
	return map[string]any{
		"id": id, "status": status, "created_at": at(created), "updated_at": at(updated), "amount": amount, "currency": "usd",
		"campaign_id": "100", "person_id": person, "recurring": recurring, "subscription_id": nil,
	}
}

// ctPayment is a Crowdtilt payment row with the columns the model reads.
func ctPayment(id, status, created, modified, amount, user string) map[string]any {
	return map[string]any{
		"id": id, "status": status, "creation_date": at(created), "modification_date": at(modified), "amount": amount,
		"currency": "USD", "campaign_id": "CMP1", "user_id": user,
	}
}

// contractDonationsModel: one donor who gave on the three platforms under three spellings of one
// e-mail is one donor_key; refunds are negative rows beside their gifts (a refund transaction for
// CrowdChange, a refunded status for Donately and Crowdtilt); pending and rejected gifts stay in
// donations and out of the marts; months are UTC; campaign keys carry their source, so
// CrowdChange's campaign 100 and Donately's campaign "100" stay apart.
func contractDonationsModel(t *testing.T, w *warehouse) {
	d1, d2 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)
	ext1, ext2 := time.Date(2024, 4, 10, 1, 0, 0, 0, time.UTC), time.Date(2024, 4, 11, 1, 0, 0, 0, time.UTC)

	// CrowdChange: an older version of 1001 (superseded), then the current ones.
	commitModelRows(t, w, "cc-1", ext1, Checkpoint{Source: crowdchange.Name, Stream: crowdchange.StreamDate, WindowStart: d1, WindowEnd: d2},
		map[string][]map[string]any{crowdchange.Transactions: {
			ccTx(1001, "charge", "pending", "2024-03-05 10:00:00", "999.00", "USD", " Ann@Example.ORG", "payer@example.org", false, nil),
		}})
	commitModelRows(t, w, "cc-2", ext2, Checkpoint{Source: crowdchange.Name, Stream: crowdchange.StreamDate, WindowStart: d2, WindowEnd: d2.AddDate(0, 0, 1)},
		map[string][]map[string]any{crowdchange.Transactions: {
			ccTx(1001, "charge", "completed", "2024-03-05 10:00:00", "50.00", "USD", " Ann@Example.ORG", "payer@example.org", false, nil),
			// No donated_by (an anonymous gift): the payer is the donor.
			ccTx(1002, "charge", "refunded", "2024-03-20 23:30:00", "30.00", "CAD", nil, "Bob@Example.org", true, nil),
			// 00:30 UTC on April 1st is still March in the Americas: April here.
			ccTx(1003, "refund", "completed", "2024-04-01 00:30:00", "-30.00", "CAD", nil, "Bob@Example.org", true, int64(1002)),
			ccTx(1004, "charge", "pending", "2024-03-10 08:00:00", "20.00", "USD", "zed@example.org", nil, false, nil),
			// Tickets only: no donation.
			ccTx(1005, "charge", "completed", "2024-03-11 08:00:00", "0", "USD", "tix@example.org", nil, false, nil),
		}})
	commitModelRows(t, w, "dn-1", ext2, Checkpoint{Source: donately.Name, Stream: donately.StreamCreated, WindowStart: d1, WindowEnd: d2},
		map[string][]map[string]any{
			donately.Donations: {
				dnDonation("dnt_1", "completed", "2024-03-07 12:00:00", "2024-03-07 12:00:00", "25.00", "per_1", true),
				dnDonation("dnt_2", "refunded", "2024-03-15 09:00:00", "2024-03-25 09:00:00", "40.00", "per_2", false),
				dnDonation("dnt_3", "rejected", "2024-03-16 09:00:00", "2024-03-16 09:00:00", "10.00", "per_2", false),
				dnDonation("dnt_4", "completed", "2024-03-18 09:00:00", "2024-03-18 09:00:00", "5.00", nil, false),
			},
			donately.Campaigns: {{"id": "100", "title": "Spring Appeal"}},
			donately.People:    {person("per_1", "ann@example.org"), person("per_2", "carl@example.org")},
		})
	commitModelRows(t, w, "ct-1", ext2, Checkpoint{Source: crowdtilt.Name, Stream: crowdtilt.StreamWalk, PayoutAccount: "CMP1", WindowStart: d1, WindowEnd: d2},
		map[string][]map[string]any{
			crowdtilt.Payments: {
				ctPayment("PMT1", "charged", "2024-03-08 15:00:00", "2024-03-08 15:00:00", "15.00", "USR1"),
				ctPayment("PMT2", "authorized", "2024-03-09 15:00:00", "2024-03-09 15:00:00", "60.00", "USR3"),
				ctPayment("PMT3", "refunded", "2024-02-29 23:59:59", "2024-03-01 00:00:30", "12.50", "USR2"),
			},
			crowdtilt.Campaigns: {{"id": "CMP1", "title": "Team Trip"}},
			crowdtilt.Users: {
				person("USR1", "ANN@example.org "), person("USR2", "dee@example.org"), person("USR3", "eve@example.org"),
			},
		})

	check := func(what, query string, want []string) {
		t.Helper()
		if got := w.texts(t, query); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n%s\n=\n  %s\nwant\n  %s", what, query, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	var cols []string
	for _, c := range schemas.DonationColumns {
		cols = append(cols, c.Name)
	}
	if got := w.columns(t, schemas.DonationsView); !reflect.DeepEqual(got, cols) {
		t.Errorf("donations has columns %v, want %v", got, cols)
	}

	check("donations", `SELECT source, source_id, kind, status, source_status, CAST(occurred_at AS STRING), CAST(amount AS STRING), currency,
  campaign_key, campaign_name, donor_key, is_recurring, source_record_id, source_gift_id, source_campaign_id, source_donor_id
FROM `+w.ref(schemas.DonationsView)+` ORDER BY source, source_id`, []string{
		"crowdchange 1001 gift completed completed 2024-03-05 10:00:00+00 50.000000000 USD crowdchange:100 Ride ann@example.org false 1001 1001 100 8001",
		"crowdchange 1002 gift refunded refunded 2024-03-20 23:30:00+00 30.000000000 CAD crowdchange:100 Ride bob@example.org true 1002 1002 100 8002",
		"crowdchange 1003 refund completed completed 2024-04-01 00:30:00+00 -30.000000000 CAD crowdchange:100 Ride bob@example.org true 1003 1002 100 8003",
		"crowdchange 1004 gift pending pending 2024-03-10 08:00:00+00 20.000000000 USD crowdchange:100 Ride zed@example.org false 1004 1004 100 8004",
		"crowdtilt PMT1 gift completed charged 2024-03-08 15:00:00+00 15.000000000 USD crowdtilt:CMP1 Team Trip ann@example.org false PMT1 PMT1 CMP1 USR1",
		"crowdtilt PMT2 gift pending authorized 2024-03-09 15:00:00+00 60.000000000 USD crowdtilt:CMP1 Team Trip eve@example.org false PMT2 PMT2 CMP1 USR3",
		"crowdtilt PMT3 gift refunded refunded 2024-02-29 23:59:59+00 12.500000000 USD crowdtilt:CMP1 Team Trip dee@example.org false PMT3 PMT3 CMP1 USR2",
		"crowdtilt PMT3:refund refund completed refunded 2024-03-01 00:00:30+00 -12.500000000 USD crowdtilt:CMP1 Team Trip dee@example.org false PMT3 PMT3 CMP1 USR2",
		"donately dnt_1 gift completed completed 2024-03-07 12:00:00+00 25.000000000 USD donately:100 Spring Appeal ann@example.org true dnt_1 dnt_1 100 per_1",
		"donately dnt_2 gift refunded refunded 2024-03-15 09:00:00+00 40.000000000 USD donately:100 Spring Appeal carl@example.org false dnt_2 dnt_2 100 per_2",
		"donately dnt_2:refund refund completed refunded 2024-03-25 09:00:00+00 -40.000000000 USD donately:100 Spring Appeal carl@example.org false dnt_2 dnt_2 100 per_2",
		"donately dnt_3 gift rejected rejected 2024-03-16 09:00:00+00 10.000000000 USD donately:100 Spring Appeal carl@example.org false dnt_3 dnt_3 100 per_2",
		"donately dnt_4 gift completed completed 2024-03-18 09:00:00+00 5.000000000 USD donately:100 Spring Appeal <nil> false dnt_4 dnt_4 100 <nil>",
	})
	check("donations: net = gross + refunds, per source", `SELECT source,
  CAST(SUM(CASE WHEN kind = 'gift' AND status IN ('completed', 'refunded') THEN amount ELSE 0 END) AS STRING),
  CAST(SUM(CASE WHEN kind = 'refund' THEN amount ELSE 0 END) AS STRING),
  CAST(SUM(CASE WHEN status IN ('completed', 'refunded') THEN amount ELSE 0 END) AS STRING)
FROM `+w.ref(schemas.DonationsView)+` GROUP BY source ORDER BY source`, []string{
		"crowdchange 80.000000000 -30.000000000 50.000000000",
		"crowdtilt 27.500000000 -12.500000000 15.000000000",
		"donately 70.000000000 -40.000000000 30.000000000",
	})
	check("campaign_monthly", `SELECT campaign_key, campaign_name, CAST(month AS STRING), currency, CAST(gross AS STRING), CAST(refunds AS STRING),
  CAST(net AS STRING), gift_count, donor_count
FROM `+w.ref(schemas.CampaignMonthlyView)+` ORDER BY campaign_key, month, currency`, []string{
		"crowdchange:100 Ride 2024-03-01 CAD 30.000000000 0.000000000 30.000000000 1 1",
		"crowdchange:100 Ride 2024-03-01 USD 50.000000000 0.000000000 50.000000000 1 1",
		"crowdchange:100 Ride 2024-04-01 CAD 0.000000000 -30.000000000 -30.000000000 0 0",
		"crowdtilt:CMP1 Team Trip 2024-02-01 USD 12.500000000 0.000000000 12.500000000 1 1",
		"crowdtilt:CMP1 Team Trip 2024-03-01 USD 15.000000000 -12.500000000 2.500000000 1 1",
		"donately:100 Spring Appeal 2024-03-01 USD 70.000000000 -40.000000000 30.000000000 3 2",
	})
	// The example queries (scripts/queries/model_*.sql) run on the model, in both dialects.
	examples, err := filepath.Glob("../scripts/queries/model_*.sql")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example queries of the model: %v", err)
	}
	for _, f := range examples {
		q, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sql := string(q)
		for _, v := range []string{schemas.DonationsView, schemas.CampaignMonthlyView, schemas.DonorsView} {
			sql = strings.ReplaceAll(sql, "FROM "+v+"\n", "FROM "+w.ref(v)+"\n")
		}
		if got := w.texts(t, sql); len(got) == 0 {
			t.Errorf("%s: no row", f)
		}
	}
	check("donors", `SELECT donor_key, currency, CAST(first_gift_at AS STRING), CAST(last_gift_at AS STRING), gift_count,
  CAST(lifetime_net AS STRING), is_recurring
FROM `+w.ref(schemas.DonorsView)+` ORDER BY donor_key, currency`, []string{
		"ann@example.org USD 2024-03-05 10:00:00+00 2024-03-08 15:00:00+00 3 90.000000000 true",
		"bob@example.org CAD 2024-03-20 23:30:00+00 2024-03-20 23:30:00+00 1 0.000000000 true",
		"carl@example.org USD 2024-03-15 09:00:00+00 2024-03-15 09:00:00+00 1 0.000000000 false",
		"dee@example.org USD 2024-02-29 23:59:59+00 2024-02-29 23:59:59+00 1 0.000000000 false",
	})
}
