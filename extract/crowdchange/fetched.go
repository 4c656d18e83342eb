package crowdchange

import (
	"encoding/json"

	"github.com/ccsync/ccsync/extract"
)

// Fetched is one transaction as read from the API: its id, its raw JSON kept byte for byte, and
// the typed model decoded from it.
type Fetched struct {
	// ID is the transaction's id (always set: a transaction without a readable numeric id fails
	// its page).
	ID int64
	// Raw is the transaction object exactly as the API sent it.
	Raw json.RawMessage
	// Tx is the typed model; when Err is set it holds what could be decoded (and ID).
	Tx Transaction
	// Err says why the model could not fully decode Raw, if it could not; it names the field,
	// never the value.
	Err error
	// Unknown are Raw's leaves without a home, found while decoding it when the client was given
	// the known leaves (extract.WithKnownLeaves) and the transaction decoded in one pass;
	// Unknown.Found is false otherwise.
	Unknown extract.UnknownLeaves
}
