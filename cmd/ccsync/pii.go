package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/ccsync/ccsync/schemas"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
	transformcrowdtilt "github.com/ccsync/ccsync/transform/crowdtilt"
	transformdonately "github.com/ccsync/ccsync/transform/donately"
)

// piiPolicy builds the run's PII policy from --pii-default, --pii-columns and the PII key
// (--pii-key-file or CCSYNC_PII_KEY), checked against the source tables. The key lives only in
// the hash's closure: no formatting of the policy prints it.
func (inv *invocation) piiPolicy() (schemas.Policy, error) {
	cfg := inv.cfg.PII
	if err := cfg.Validate(); err != nil {
		return schemas.Policy{}, usagef(err)
	}
	overrides, err := cfg.Overrides()
	if err != nil {
		return schemas.Policy{}, usagef(err)
	}
	p := schemas.Policy{Default: schemas.Treatment(strings.ToLower(strings.TrimSpace(cfg.Default))), BigQueryTag: inv.cfg.BigQuery.PolicyTag}
	if len(overrides) > 0 {
		p.Columns = map[string]schemas.Treatment{}
		for name, t := range overrides {
			p.Columns[name] = schemas.Treatment(t)
		}
	}
	if key := cfg.Key.Reveal(); key != "" {
		p.Hash = keyedHash([]byte(key))
	}
	if err := p.Validate(schemas.SourceDataTables()); err != nil {
		return schemas.Policy{}, usagef(err)
	}
	return p, nil
}

// piiComparer is a platform whose verify must see the API's records as the PII policy stored
// them: their raw JSON redacted (CrowdChange, Donately), or their content hash computed over it
// (Crowdtilt).
type piiComparer interface {
	ComparePII(p schemas.Policy)
}

var (
	_ piiComparer = (*transformcrowdchange.Source)(nil)
	_ piiComparer = (*transformdonately.Source)(nil)
	_ piiComparer = (*transformcrowdtilt.Source)(nil)
)

// keyedHash is HMAC-SHA256 with key, in hex.
func keyedHash(key []byte) func(string) string {
	return func(s string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return hex.EncodeToString(m.Sum(nil))
	}
}
