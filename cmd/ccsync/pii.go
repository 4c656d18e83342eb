package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
	"sync"

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

// keyedHash is HMAC-SHA256 with key, in hex. It is safe for concurrent use (verify hashes from
// several goroutines). It runs for every PII value of every record, so its HMAC states are reused
// (a new one hashes the key again and allocates both SHA-256 states).
func keyedHash(key []byte) func(string) string {
	macs := sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	return func(s string) string {
		m := macs.Get().(hash.Hash)
		m.Reset()
		m.Write([]byte(s))
		var sum [sha256.Size]byte
		out := hex.EncodeToString(m.Sum(sum[:0]))
		macs.Put(m)
		return out
	}
}
