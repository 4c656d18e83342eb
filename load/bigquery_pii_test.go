package load

import (
	"context"
	"testing"

	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
)

// Under a PII policy, BigQuery tables are created without the dropped columns, and the policy
// tag is attached to the PII columns kept or hashed, the raw JSON and the donor key included.
func TestBigQueryTablesUnderPIIPolicy(t *testing.T) {
	t.Parallel()
	e := startBQ(t, bqtest.Options{}, false)
	const tag = "projects/p/locations/us/taxonomies/1/policyTags/2"
	p := schemas.Policy{Default: schemas.Hash, Hash: func(s string) string { return s }, BigQueryTag: tag,
		Columns: map[string]schemas.Treatment{"crowdtilt_users.lastname": schemas.Drop}}
	e.open(t, WithBigQueryPII(p))
	tagsOf := func(table string) map[string][]string {
		md, err := e.client.Dataset(bqDataset).Table(table).Metadata(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, f := range md.Schema {
			out[f.Name] = nil
			if f.PolicyTags != nil {
				out[f.Name] = f.PolicyTags.Names
			}
		}
		return out
	}
	users := tagsOf("crowdtilt_users")
	if _, ok := users["lastname"]; ok {
		t.Error("crowdtilt_users.lastname exists: the policy drops it")
	}
	for _, tc := range []struct {
		table, column string
		tagged        bool
	}{
		{"crowdtilt_users", "email", true},
		{"crowdtilt_users", "donor_key", true},
		{"crowdtilt_users", "id", false},
		{"raw_crowdtilt_users", "raw", true},
		{"transactions", "billing_email", true},
		{"transactions", "amount_donation", false},
	} {
		tags, ok := tagsOf(tc.table)[tc.column]
		switch {
		case !ok:
			t.Errorf("%s.%s is missing", tc.table, tc.column)
		case tc.tagged != (len(tags) == 1 && tags[0] == tag):
			t.Errorf("%s.%s has policy tags %v; tagged: want %v", tc.table, tc.column, tags, tc.tagged)
		}
	}
}
