package crowdchange

// DecodePageSlow is decodePageSlow, for the tests that compare PageDecoder.DecodePage with it.
var DecodePageSlow = decodePageSlow
