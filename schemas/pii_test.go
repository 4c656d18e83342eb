package schemas_test

import (
	"strings"
	"testing"

	"github.com/ccsync/ccsync/schemas"
)

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	hash := func(s string) string { return "h" }
	tables := schemas.SourceDataTables()
	for _, tc := range []struct {
		name   string
		policy schemas.Policy
		want   string // "" valid, else part of the error
	}{
		{name: "keep all", policy: schemas.Policy{}},
		{name: "hash with a key", policy: schemas.Policy{Default: schemas.Hash, Hash: hash}},
		{name: "hash without a key", policy: schemas.Policy{Default: schemas.Hash}, want: "needs a key"},
		{name: "an override hashing without a key", policy: schemas.Policy{Columns: map[string]schemas.Treatment{"crowdtilt_users.email": schemas.Hash}}, want: "needs a key"},
		{name: "drop without a key", policy: schemas.Policy{Default: schemas.Drop, Columns: map[string]schemas.Treatment{"donately_people.email": schemas.Keep}}},
		{name: "an unknown column", policy: schemas.Policy{Columns: map[string]schemas.Treatment{"crowdtilt_users.shoe_size": schemas.Drop}}, want: "not a PII column"},
		{name: "a column that is not PII", policy: schemas.Policy{Columns: map[string]schemas.Treatment{"crowdtilt_payments.amount": schemas.Drop}}, want: "not a PII column"},
		{name: "the raw JSON is redacted field by field, not dropped", policy: schemas.Policy{Columns: map[string]schemas.Treatment{"raw_transactions.raw": schemas.Drop}}, want: "not a PII column"},
		{name: "a misspelt treatment", policy: schemas.Policy{Default: "hide"}, want: "not keep, hash or drop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.policy.Validate(tables)
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
}

// Under a policy a table loses the columns dropped, never its raw JSON or its donor key, and the
// policy tag goes to the PII columns kept or hashed; String names the policy, never the key.
func TestPolicyTable(t *testing.T) {
	t.Parallel()
	p := schemas.Policy{Default: schemas.Hash, Columns: map[string]schemas.Treatment{"crowdtilt_users.lastname": schemas.Drop},
		Hash: func(s string) string { return s }, BigQueryTag: "projects/p/locations/us/taxonomies/1/policyTags/2"}
	users, _ := schemas.ByName("crowdtilt_users")
	got := p.Table(users)
	for _, c := range got.Columns {
		if c.Name == "lastname" {
			t.Errorf("lastname is still there")
		}
		if c.Name == "email" && (c.Treatment != schemas.Hash || c.PolicyTag == "") {
			t.Errorf("email: treatment %q, tag %q", c.Treatment, c.PolicyTag)
		}
		if c.Name == "id" && (c.Treatment != schemas.Keep || c.PolicyTag != "") {
			t.Errorf("id: treatment %q, tag %q", c.Treatment, c.PolicyTag)
		}
	}
	if len(got.Columns) != len(users.Columns)-1 {
		t.Errorf("%d columns, want %d", len(got.Columns), len(users.Columns)-1)
	}
	if _, ok := got.Column(schemas.ColDonorKey); !ok {
		t.Error("the donor key is gone")
	}
	raw, _ := schemas.ByName("raw_crowdtilt_users")
	if len(schemas.Policy{Default: schemas.Drop}.Table(raw).Columns) != len(raw.Columns) {
		t.Error("a raw table lost a column")
	}
	if s := p.String(); s != "default hash; crowdtilt_users.lastname drop; key set; policy tag projects/p/locations/us/taxonomies/1/policyTags/2" {
		t.Errorf("String() = %q", s)
	}
}
