// Package crowdchange reads CrowdChange transactions from GET /v2/private/transactions (seeds
// 000–002): the typed transaction model, the payout stream's windows, query building, paging and
// the API's errors, on the HTTP machinery package extract shares between platforms (rate limiter,
// retries, counters). It knows nothing of Arrow or warehouses.
//
// # Windows
//
// An extract.Window is the unit of extraction and of commit. The date stream cuts time into
// [Start, End) windows (extract.PlanDateWindows); the API is asked for dt_start=Start and
// dt_end=End-1s, both inclusive at its one-second resolution (WindowQuery), so adjacent windows
// neither overlap nor leave gaps. The payout stream has one window per payout date and account
// (PlanPayoutWindows). All times are UTC, where every day is 24 hours long. A run's plan, from its
// range and the committed checkpoints, is transform/crowdchange's (PlanBackfill, PlanSync).
//
// # Paging
//
// Client.FetchWindow reads pages 1, 2, ... with limit=PageSize, sorted by id ascending, until the
// API has nothing more for the window: a full page is followed by the next; an empty page ends
// the window; a shorter page ends it when the answer's count agrees that every row was read, and
// is followed by the next page when the count says more exist (an API that caps its pages below
// the limit). Without a usable count, a short page of a round length is confirmed with one more
// request, and a cap seen once is remembered by the Client. A page that repeats the previous one,
// or two pages in a row without a new id, fail the window with extract.ErrPagingBroken (an API that
// ignores the page parameter). extract.WithPaging(extract.PagingUntilEmpty) reads until an empty page whatever
// the lengths and the count say (verify).
//
// Transactions are deduplicated by id within the window (the first is kept, the rest counted and
// logged with their id). Each transaction is kept as its raw JSON and decoded into the typed model:
// when the whole does not decode, it is decoded field by field (decodeTransaction), so that one
// mistyped field leaves only that field empty, named in Fetched.Err (a *DecodeError); obvious
// variants (ISO 8601 dates, numbers and booleans as JSON strings) are accepted. An item without a
// readable numeric id is not a transaction ccsync can version: it is quarantined whole
// (WindowResult.Quarantined) and the rest of the window is kept.
//
// A page's body is decoded once, by the retry transport's check of it (PageDecoder.DecodePage):
// one scan validates it and decodes the envelope, the list and every transaction
// (extract.Decoder), each item's Raw a sub-slice of the body; an item or a body that scan is not
// sure of is decoded the slow way, by the rules above. A client given the known leaves
// (extract.WithKnownLeaves, which cmd/ccsync takes from transform/crowdchange.KnownLeaves) finds
// each transaction's unknown fields in that scan too (Fetched.Unknown).
//
// # Errors and secrets
//
// A non-2xx answer becomes an *APIError decoded from either of the API's error envelopes; 403 (and
// 401) unwrap to extract.ErrForbidden and stop the run at once, 404 unwraps to extract.ErrNotFound
// (a wrong base URL); 429 and 5xx are retried by the shared transport (APIError.Transient). The API
// key is sent only in the Authorization header. No error or log line of this package holds the
// key, a response body or a transaction's values: statuses, sizes, page numbers and ids only, plus
// the API's own error messages, cleaned and with the key removed should the API echo it.
package crowdchange
