package schemas_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ccsync/ccsync/schemas"
)

// bqRef names a table as the BigQuery sink does.
func bqRef(name string) string { return "`proj.ds." + name + "`" }

// TestModelViewsGolden pins the SQL of the donations model's views in both dialects: a change
// shows up as a reviewed diff of testdata/models_*.sql.
func TestModelViewsGolden(t *testing.T) {
	for _, d := range []struct {
		file string
		ref  func(string) string
		dia  schemas.Dialect
	}{
		{"models_duckdb.sql", schemas.QuoteIdent, schemas.DuckDB},
		{"models_bigquery.sql", bqRef, schemas.BigQuery},
	} {
		t.Run(d.file, func(t *testing.T) {
			var b strings.Builder
			for _, v := range schemas.ModelViews(d.ref, d.dia) {
				fmt.Fprintf(&b, "-- %s\nCREATE OR REPLACE VIEW %s AS\n%s;\n\n", v.Description, d.ref(v.Name), v.SQL)
			}
			golden(t, d.file, []byte(b.String()))
		})
	}
}

// The donations view has one branch per registered source, each naming its source, selecting
// every column in order and reading only that source's tables; the marts read donations.
func TestModelDonationsCoverEverySource(t *testing.T) {
	views := schemas.ModelViews(schemas.QuoteIdent, schemas.DuckDB)
	var names []string
	for _, v := range views {
		names = append(names, v.Name)
	}
	if want := []string{schemas.DonationsView, schemas.CampaignMonthlyView, schemas.DonorsView}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("ModelViews = %v, want %v (donations first: the marts read it)", names, want)
	}
	sources := schemas.SourceNames()
	if len(sources) != 3 {
		t.Fatalf("registered sources %v, want the three platforms", sources)
	}
	branches := strings.Split(views[0].SQL, "\nUNION ALL\n")
	if len(branches) != len(sources) {
		t.Fatalf("donations has %d branches for %d sources", len(branches), len(sources))
	}
	tableOwner := map[string]string{}
	for _, s := range sources {
		info, _ := schemas.SourceNamed(s)
		if info.Donations == nil {
			t.Errorf("source %s declares no donations", s)
		}
		for _, f := range info.Flattenings {
			for _, tb := range f.Tables {
				tableOwner[tb.CurrentView()] = s
			}
		}
	}
	quoted := regexp.MustCompile(`"([a-z_]+)"`)
	for i, s := range sources {
		br := branches[i]
		t.Run(s, func(t *testing.T) {
			if !strings.HasPrefix(br, "SELECT\n  '"+s+"' AS source,") {
				t.Errorf("branch %d does not start with source %s:\n%s", i, s, br)
			}
			if !strings.Contains(br, "'"+s+":' || ") {
				t.Errorf("branch %s does not qualify campaign_key with its source", s)
			}
			// Every column, in order, once.
			pos := 0
			for _, c := range schemas.DonationColumns {
				k := strings.Index(br[pos:], " AS "+c.Name+",\n")
				if k < 0 {
					k = strings.Index(br[pos:], " AS "+c.Name+"\nFROM")
				}
				if k < 0 {
					t.Errorf("column %s is missing or out of order", c.Name)
					continue
				}
				pos += k + 1
			}
			for _, m := range quoted.FindAllStringSubmatch(br, -1) {
				if owner := tableOwner[m[1]]; owner != s {
					t.Errorf("branch %s reads %s, a view of %q", s, m[1], owner)
				}
			}
		})
	}
	for _, v := range views[1:] {
		if !strings.Contains(v.SQL, "FROM "+schemas.QuoteIdent(schemas.DonationsView)) {
			t.Errorf("%s does not read donations:\n%s", v.Name, v.SQL)
		}
	}
}

// The donor key reads the sources' donor key columns (the first not NULL), never an e-mail: the
// views then hold whatever the PII policy did to the e-mails, and work under every policy.
func TestModelDonorKeySQL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		keys []string
		want string
	}{
		{[]string{"p.donor_key"}, "p.donor_key"},
		{[]string{"t.donor_key", "t.billing_donor_key"}, "COALESCE(t.donor_key, t.billing_donor_key)"},
	}
	for _, tt := range tests {
		if got := schemas.DonorKeySQL(tt.keys...); got != tt.want {
			t.Errorf("DonorKeySQL(%v) = %s, want %s", tt.keys, got, tt.want)
		}
	}
	for _, v := range schemas.ModelViews(schemas.QuoteIdent, schemas.DuckDB) {
		if strings.Contains(v.SQL, "email") {
			t.Errorf("%s reads an e-mail column: under the drop policy it does not exist", v.Name)
		}
	}
}

// A source whose donations lack a column, or set both a kind and a refund status, is refused at
// registration.
func TestModelRegisterSourceRefusesIncompleteDonations(t *testing.T) {
	full := func() schemas.DonationSelect {
		return schemas.DonationSelect{From: "x", SourceID: "x.id", Kind: "'gift'", Status: "x.s", SourceStatus: "x.s", OccurredAt: "x.t",
			Amount: "x.a", Currency: "x.c", CampaignName: "NULL", DonorKey: "NULL", IsRecurring: "FALSE", SourceRecordID: "x.id",
			SourceGiftID: "x.id", SourceCampaignID: "x.c", SourceDonorID: "NULL"}
	}
	tests := []struct {
		name   string
		change func(d *schemas.DonationSelect)
		want   string
	}{
		{"no amount", func(d *schemas.DonationSelect) { d.Amount = "" }, "Amount is missing"},
		{"blank currency", func(d *schemas.DonationSelect) { d.Currency = " " }, "Currency is missing"},
		{"no kind", func(d *schemas.DonationSelect) { d.Kind = "" }, "Kind is missing"},
		{"kind and refund status", func(d *schemas.DonationSelect) { d.RefundedWhen, d.RefundedAt = "x.s = 'r'", "x.u" }, "both set"},
		{"refund status without its date", func(d *schemas.DonationSelect) { d.Kind, d.RefundedWhen = "", "x.s = 'r'" }, "RefundedAt is missing"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := full()
			tt.change(&d)
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tt.want) {
					t.Errorf("RegisterSource: panic %v, want one saying %q", r, tt.want)
				}
				if _, ok := schemas.SourceNamed(fmt.Sprintf("modeltest%d", i)); ok {
					t.Error("the source was registered")
				}
			}()
			schemas.RegisterSource(schemas.SourceInfo{Name: fmt.Sprintf("modeltest%d", i), Donations: func(func(string) string) schemas.DonationSelect { return d }})
		})
	}
}

// The README's "Donations model" section documents every column of donations.
func TestModelREADMEDocumentsEveryColumn(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Donations model\n")
	if !ok {
		t.Fatal("README.md has no section ## Donations model")
	}
	if end := strings.Index(sec, "\n## "); end >= 0 {
		sec = sec[:end]
	}
	for _, c := range schemas.DonationColumns {
		if !strings.Contains(sec, "| `"+c.Name+"` |") {
			t.Errorf("README's Donations model has no row for column %s", c.Name)
		}
	}
	for _, v := range []string{schemas.CampaignMonthlyView, schemas.DonorsView} {
		if !strings.Contains(sec, "`"+v+"`") {
			t.Errorf("README's Donations model does not describe %s", v)
		}
	}
}
