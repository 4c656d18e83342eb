package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// PIIKeyEnv is the environment variable the PII key is read from (besides --pii-key-file).
const PIIKeyEnv = "CCSYNC_PII_KEY"

// minPIIKeyLen is the shortest PII key accepted: the key is what keeps a dictionary of e-mails
// from reversing the hashes.
const minPIIKeyLen = 16

// PII is the donor PII policy's configuration: what becomes of every PII-tagged column of the
// source tables (package schemas: schemas.Policy), and the key of its hash.
//
// Its settings are pii-default, pii-columns and pii-key-file; the key itself has no setting: it
// comes only from CCSYNC_PII_KEY or the key file (ReadKey), never from a flag or the config
// file, and it is never printed, logged or stored.
type PII struct {
	// Default is keep, hash or drop (default keep).
	Default string
	// Columns are per-column overrides, "table.column=treatment" comma-separated (in the config
	// file, also a map of table.column to treatment).
	Columns string
	// KeyFile names a file holding the key; it wins over CCSYNC_PII_KEY.
	KeyFile string
	// Key is the key of the keyed hash (HMAC-SHA256).
	Key Secret
}

// SetDefaults fills unset fields.
func (p *PII) SetDefaults() {
	if p.Default == "" {
		p.Default = "keep"
	}
}

// Validate checks the treatments' spelling, the overrides' shape and the key's length (whether the
// overrides name PII columns, and whether a hash has its key, is schemas.Policy.Validate's).
// Errors name settings, never the key.
func (p PII) Validate() error {
	var errs []error
	if !validTreatment(p.Default) {
		errs = append(errs, fmt.Errorf("pii-default: %q is not keep, hash or drop", p.Default))
	}
	if _, err := p.Overrides(); err != nil {
		errs = append(errs, err)
	}
	if k := p.Key.Reveal(); k != "" && len(k) < minPIIKeyLen {
		errs = append(errs, fmt.Errorf("pii key: shorter than %d bytes (%s or --pii-key-file)", minPIIKeyLen, PIIKeyEnv))
	}
	return errors.Join(errs...)
}

func validTreatment(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "keep", "hash", "drop":
		return true
	}
	return false
}

// Overrides parses Columns: table.column → treatment (lower case).
func (p PII) Overrides() (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	for _, pair := range strings.Split(p.Columns, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		name, treatment, ok := strings.Cut(pair, "=")
		name, treatment = strings.TrimSpace(name), strings.ToLower(strings.TrimSpace(treatment))
		table, column, dotted := strings.Cut(name, ".")
		switch {
		case !ok || !dotted || table == "" || column == "":
			errs = append(errs, fmt.Errorf("pii-columns: %q is not table.column=keep|hash|drop", pair))
		case !validTreatment(treatment):
			errs = append(errs, fmt.Errorf("pii-columns: %s: %q is not keep, hash or drop", name, treatment))
		default:
			out[name] = treatment
		}
	}
	return out, errors.Join(errs...)
}

// ReadKey reads the key into p.Key: from the file KeyFile names when set (white space around it
// trimmed; an empty file is an error), else from CCSYNC_PII_KEY when set. Errors name the
// setting and the file, never the key.
func (p *PII) ReadKey(src Source) error {
	if p.KeyFile != "" {
		b, err := src.ReadFile(p.KeyFile)
		if err != nil {
			return fmt.Errorf("pii-key-file: %w", err)
		}
		k := strings.TrimSpace(string(b))
		if k == "" {
			return fmt.Errorf("pii-key-file: %s is empty", p.KeyFile)
		}
		p.Key = Secret(k)
		return nil
	}
	readEnvSecret(src, PIIKeyEnv, &p.Key)
	return nil
}

// piiColumnsOfYAML writes a config file's pii-columns map as the setting's text.
func piiColumnsOfYAML(m map[string]any) string {
	pairs := make([]string, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
