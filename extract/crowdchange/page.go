package crowdchange

import (
	"encoding/json"

	"github.com/ccsync/ccsync/extract"
)

// PageDecoder decodes the bodies of the client's pages (DecodePage). It is safe for concurrent
// use.
type PageDecoder struct {
	tx    *extract.Decoder[Transaction] // nil: every page the slow way (a model the Decoder refuses)
	found bool                          // known leaves were given: the items' unknown leaves are theirs
}

// NewPageDecoder returns the decoder of pages whose transactions' unknown leaves (Fetched.Unknown)
// are found among known, the JSON paths of the leaves that have a home; with none (nil), they are
// not looked for.
func NewPageDecoder(known []string) *PageDecoder {
	d, err := extract.NewDecoder[Transaction](known)
	if err != nil {
		return &PageDecoder{} // a test makes sure it is not so
	}
	return &PageDecoder{tx: d, found: known != nil}
}

// DecodedPage is a page body as the client reads it: the envelope, and every item decoded.
type DecodedPage struct {
	// Page is the envelope; its Data are the items, each exactly as the API sent it.
	Page
	// Transactions are the items with a readable id, in the page's order; an id may repeat (the
	// window deduplicates).
	Transactions []Fetched
	// Quarantined are the items without a readable id, in the page's order, with their Position
	// on the page and their Reason (Page is left 0: the window sets it).
	Quarantined []extract.Quarantined
}

// DecodePage decodes a 2xx body as FetchWindow does with every page: the envelope
// {dt_start, dt_end, count, data[]} (decodePage's rules), then each item: its id (an item without
// a readable one is quarantined, decodeItem's rules) and the typed model, leniently.
//
// It scans the body once (extract.Decoder.DecodeList): the envelope, the list and every
// transaction are validated and decoded, and their unknown leaves found, in one pass; the items'
// Raw are sub-slices of body, which must not be modified afterwards, and their strings share
// one copy of it. A transaction that pass is not sure of (a mistyped field, an id that is not a
// positive JSON integer, a key in another case...) is decoded by itself the slow way
// (decodeItem), and a body it is not sure of (not valid JSON, not the envelope, "data" twice)
// the slow way too, which tells why it is not a page. It fails, without quoting the body, when
// the body is not a valid page; the retry transport then retries the request.
func (d *PageDecoder) DecodePage(body []byte) (*DecodedPage, error) {
	if d.tx != nil {
		if l, ok := d.tx.DecodeList(body, "data", "dt_start", "dt_end", "count"); ok {
			return d.page(l), nil
		}
	}
	return decodePageSlow(body)
}

// decodePageSlow decodes a page as the client did before it decoded pages in one pass: the
// envelope (decodePage), then each item by itself (decodeItem). It tells why a page is not valid.
func decodePageSlow(body []byte) (*DecodedPage, error) {
	p, err := decodePage(body)
	if err != nil {
		return nil, err
	}
	out := &DecodedPage{Page: *p}
	for i, raw := range p.Data {
		out.add(i, raw)
	}
	return out, nil
}

// page is the DecodedPage of a list decoded in one pass.
func (d *PageDecoder) page(l *extract.List[Transaction]) *DecodedPage {
	out := &DecodedPage{}
	// The envelope's other members are informative only, kept when they have the expected type,
	// as decodePage keeps them.
	_ = json.Unmarshal(l.Members[0], &out.DTStart)
	_ = json.Unmarshal(l.Members[1], &out.DTEnd)
	_ = json.Unmarshal(l.Members[2], &out.Count)
	if l.Items == nil {
		return out
	}
	out.Data = make([]json.RawMessage, len(l.Items))
	out.Transactions = make([]Fetched, 0, len(l.Items))
	for i := range l.Items {
		it := &l.Items[i]
		out.Data[i] = it.Raw
		if !it.Decoded || it.Value.ID <= 0 {
			out.add(i, it.Raw) // no id, or one itemID reads otherwise: its rules
			continue
		}
		out.Transactions = append(out.Transactions, Fetched{
			ID: it.Value.ID, Raw: it.Raw, Tx: it.Value,
			Unknown: extract.UnknownLeaves{Paths: it.Unknown, Found: d.found},
		})
		if !d.found {
			out.Transactions[len(out.Transactions)-1].Unknown.Paths = nil
		}
	}
	return out
}

// add decodes the item at position i the slow way (decodeItem): a transaction, or a quarantined
// item.
func (p *DecodedPage) add(i int, raw json.RawMessage) {
	f, err := decodeItem(raw)
	if err != nil {
		p.Quarantined = append(p.Quarantined, extract.Quarantined{Raw: raw, Position: i, Reason: err.Error()})
		return
	}
	p.Transactions = append(p.Transactions, f)
}
