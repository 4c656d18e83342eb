// Package donately reads a Donately account through the Donately REST API v2 (seed 004):
// donations (GET /v2/donations), campaigns (GET /v2/campaigns) and people (GET /v2/people), into
// typed models that keep every record's raw JSON. It shares package extract's HTTP machinery
// (extract.NewHTTP): the same rate limiter semantics, retries, backoff and counters as the
// CrowdChange client. It knows nothing of Arrow or warehouses.
//
// # Access
//
// Every request carries "Authorization: Basic base64(token + ":")" (the token as the user name,
// no password), "Donately-Account: act_…" (and account_id, which the list endpoints call
// required), "Donately-Version: 2022-12-15" and the User-Agent "ccsync/<version>". Client.Check
// makes one cheap request (the account's donations, limit 1) so that a wrong token, account or URL
// stops a run before any work.
//
// Errors of the API, in either of its formats (2022-12-15's {"type", "message", "code",
// "request_id"}, 2019-03-15's {"success": false, "error"}, even in a 200), become an *APIError.
// 401 and 403 unwrap to extract.ErrForbidden: never retried, the run stops at once (exit code 3).
// 404 unwraps to extract.ErrNotFound (a wrong --api-url). 429, 5xx, network errors, timeouts
// and 2xx bodies that are cut short or not the list envelope are retried by the shared retry
// transport, honouring Retry-After, up to the configured attempts (extract.IsTransient says they
// are transient); 400, 422 and any other status are not.
//
// # Paging
//
// A list is read with limit=100 and offset=0, 100, …, ordered by created_at ascending where the
// list takes an order (donations, campaigns): created_at never changes, so a record updated while
// the list is read keeps its place. The API offers one order_by key and no secondary one, so ties
// on created_at (records of the same second) may be ordered differently from one request to the
// next, and offset paging over a list that changes can shift records between pages. The client
// therefore deduplicates by id across the pages of a listing (the first read is kept, a repeat in
// the same pass is counted in Result.Duplicates and logged), and checks what it read against
// summary.total_count: when a listing read fewer distinct records than the API's total, it is read
// once more from offset 0 and the passes are merged by id; still fewer after that fails the
// listing with ErrIncomplete, so that nothing partial is committed.
//
// A listing ends on an empty page, or on a short page when no signal says more exist; it goes on
// while any signal says more (a full page, summary.has_more, summary.total_count beyond the records
// read), so that an API capping its pages below the limit is read to the end. A full page is the
// last only when has_more and the total both say so; without any summary, a short page of a round
// length (a cap?) is confirmed by one more request. The listing fails with extract.ErrPagingBroken
// when the API answers a page for another offset than asked (params.offset), repeats the page
// before byte for byte, sends two pages in a row without a new record, or has not ended after
// extract.WithMaxPages pages (default extract.DefaultMaxPages).
//
// # Windows and their edges
//
// Filter{Field, After, Before} selects the records whose created_at (or updated_at) is in
// [After, Before). For donations the API filters: its created[gt]/created[lt] (updated[…]) are
// strict and its timestamps whole seconds, so the client asks gt = After − 1s and lt = Before
// (RFC 3339, UTC): a record exactly on the edge between two adjacent windows lands in exactly
// one, the later. The client also drops any record it reads outside [After, Before)
// (Result.OutsideWindow), should the API keep finer timestamps than it writes. The API has no
// date filter for campaigns or people: their whole list is read and the filter applied by the
// client; a record whose timestamp cannot be read is kept by the window without an After bound
// only (for donations, by the window the API put it in).
//
// # Records
//
// Each record keeps its JSON byte for byte (Record.Raw) and is decoded into its typed model
// (Donation, Campaign, Person) with extract.DecodeLenient: a mistyped field leaves that field
// empty and is named in Record.Err, and the record is kept. An item without a usable id (absent,
// not a string, not a short printable identifier) cannot be deduplicated or versioned: it is
// quarantined whole (Result.Quarantined) and the rest of the page is kept.
//
// # Secrets
//
// The token lives only in the closure that sets the Authorization header: no error or log line
// holds it (the API's messages are cleaned of it and of its base64 form). A donation's
// payment_intent_secret is a credential (a Stripe client secret): every member of that name, at
// any depth and in any case, is removed from each body before anything reads it, with its value
// and one comma, every other byte kept; so it reaches no Record.Raw, typed model, error or log
// line, and the API's error messages are cleaned of anything shaped like a Stripe client secret.
// Log lines hold ids, offsets, counts and field names, never a record's values.
package donately
