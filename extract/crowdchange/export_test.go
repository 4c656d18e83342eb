package crowdchange

// DecodePageSlow decodes a page the slow way, as the client did before it decoded pages in one
// pass: the envelope (decodePage), then each item by itself (decodeItem). Tests compare
// PageDecoder.DecodePage with it.
func DecodePageSlow(body []byte) (*DecodedPage, error) {
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
