package crowdchangetest

import _ "embed"

// examplePage is the API's documented example response, verbatim (the golden fixture).
//
//go:embed testdata/transactions_page_example.json
var examplePage []byte

// ExamplePage returns the API's documented example response of GET /v2/private/transactions,
// byte for byte as published. Tests use it as the golden fixture.
func ExamplePage() []byte { return append([]byte(nil), examplePage...) }
