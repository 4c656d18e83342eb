// Package crowdtilt reads a Crowdtilt account through the Crowdtilt API v1 (seed 003): campaigns
// (GET /v1/campaigns), each campaign's payments (GET /v1/campaigns/:id/payments) and users (GET
// /v1/users/:id, and those the campaigns and payments embed), into typed models that keep every
// record's raw JSON. It shares package extract's HTTP machinery (extract.NewHTTP): the same rate
// limiter semantics, retries, backoff and counters as the other platforms' clients. It knows
// nothing of Arrow or warehouses, nor of checkpoints: the pipeline decides what to fetch and what
// changed.
//
// # Access
//
// NewClient takes its configuration from package config: config.Crowdtilt (the base URL, the key
// and the secret) and config.API (the HTTP settings every platform of a run shares). The base URL
// is the only one the seed documents, https://api-sandbox.crowdtilt.com
// (config.DefaultCrowdtiltURL; --api-url overrides it; a trailing /v1 is dropped, requests add
// /v1/…). The key and the secret come from CROWDTILT_API_KEY and CROWDTILT_API_SECRET, or from
// the file --api-key-file names, which holds key:secret (config.Crowdtilt.ReadCredentials). Every
// request carries "Authorization: Basic base64(key:secret)" (HTTP Basic, the seed's only
// authentication), "Accept: application/json" and the User-Agent "ccsync/<version>". Client.Check
// makes one cheap request (the first campaign) so that wrong credentials or a wrong URL stop a
// run before any work.
//
// Errors of the API, in the seed's shape {"error": "..." or an object or list, "request_id",
// "status"} (even in a 2xx body), become an *APIError. 401 and 403 unwrap to extract.ErrForbidden:
// never retried, the run stops at once (exit code 3). 404 unwraps to extract.ErrNotFound (a wrong
// --api-url; for User, also ErrUnknownID). 429, 5xx, network errors, timeouts and 2xx bodies that
// are cut short or not an envelope are retried by the shared retry transport, honouring
// Retry-After, up to the configured attempts (extract.IsTransient says they are transient); 400
// and any other status are not.
//
// # The walk
//
// The API has no filter by date at all, so a sync walks everything: Campaigns (every page), then
// Payments of each campaign. Lists are asked page by page with per_page PerPage (100, the largest
// the client asks for; the seed names 50 as the default and no maximum). Records are in the API's
// order (the sandbox's: oldest first, so a campaign created later lands at the end and a walk can
// resume at the campaign where its last commit stopped). Payments embed their user, their card's
// user and their campaign with its admin, first contributor and tilter, all in full (the seed's
// API example): EmbeddedUsers and CollectUsers give the users a walk needs without any request,
// so a walk that finds no change costs exactly its campaign pages and payment pages. User fetches
// one user, for a user embedded as a mere reference (Record.IsReference) only.
//
// # Paging
//
// A list ends on an empty page, or on a short page when no signal says more exist; it goes on while
// any signal says more (page < pagination.total_pages, or the entries through this page fewer than
// total_entries), so that an API capping its pages below per_page is read to the end (the page
// size is pagination.per_page when the API says it serves fewer than asked). A full page is the
// last only when total_pages and total_entries both say so, exactly: total_pages alone is never
// trusted. Without any pagination object, a short page of a round length (a cap?) is confirmed by
// one more request. The listing fails with extract.ErrPagingBroken when the API answers a page
// for another page number than asked (pagination.page), repeats the page before byte for byte
// (extract.SamePage), sends two pages in a row without a new record, or has not ended after
// extract.WithMaxPages pages (default extract.DefaultMaxPages). Records are deduplicated by id
// across the pages of a listing (the first read is kept; a repeat is counted in
// Result.Duplicates and logged). When a listing read fewer distinct records than the last
// total_entries, it is read once more from page 1 and the passes are merged by id; still fewer
// fails it with ErrIncomplete, so that nothing partial is committed.
//
// # Records
//
// Each record keeps its JSON byte for byte, less card data (Record.Raw), and is decoded into its
// typed model (Campaign, Payment, User) with extract.DecodeLenient: a mistyped field leaves that
// field empty and is named in Record.Err, and the record is kept. An item without a usable id
// (absent, not a string, not a short printable identifier without slashes) cannot be
// deduplicated or versioned: it is quarantined whole (Result.Quarantined) and the rest of the page
// is kept. Timestamps are read in both of the seed's layouts ("2011-07-02T14:20:48Z" and
// "2013-03-19T03:29:34.605286000Z") into UTC by extract.DateTime, microseconds kept. Amounts
// (amount, user_fee_amount, admin_fee_amount, tilt_amount, …) are integer cents as sent, int64;
// the seed names no currency: Currency is USD, and DecimalString writes cents as an exact decimal
// ("12.34").
//
// # Change detection
//
// Without date filters, a sync appends a new version only for a record that changed since its
// current version. modification_date does not always move: a campaign's stats follow its payments
// without it (the seed's own example), a verification sets is_verified without it, a back office
// may rewrite a payment's metadata without it. ContentHash is therefore the test: the SHA-256 of
// the record's canonical content (members sorted, white space and escapes normalized), which
// covers modification_date and every own member, and reduces each embedded record (campaign,
// user, admin, first_contributor, tilter) to its id, since those are versioned on their own and
// would otherwise make every payment of an edited campaign look changed. A user's hash is the same
// whether it was read embedded or from GET /v1/users/:id.
//
// # Card data and credentials
//
// The key and secret live only in the closure that sets the Authorization header: no error or
// log line holds them (the API's messages are cleaned of them, of key:secret and of its base64
// form). A payment's card carries its token (the card's id, with which a payment can be made
// again) and its uri (which holds the id); the seed also shows number and security_code in the
// create-card request. Before anything reads a body, the client removes, at any depth and in any
// case, with their values and one comma, every other byte kept: the members id, uri, number and
// token of any object that is the value of a member "card" (or an item of a list "cards"), and
// the members card_number, card_id, card_token, security_code, cvv, cvv2, cvc, account_number,
// bank_code, routing_number and ssn of any object. So they reach no Record.Raw, typed model,
// hash, error or log line; the API's error messages are also cleaned of anything shaped like a
// card token (CCP…, BAP…) or a card number (13 to 19 digits passing the Luhn check). last_four,
// card_type and the expiration are kept. Log lines hold ids, pages, counts and field names, never
// a record's values.
package crowdtilt
