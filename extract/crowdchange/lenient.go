package crowdchange

import "github.com/ccsync/ccsync/extract"

// decodeTransaction decodes one transaction into tx, keeping every field that can be decoded
// (DecodeLenient).
func decodeTransaction(raw []byte, tx *Transaction) error {
	return extract.DecodeLenient(raw, tx, "transaction")
}
