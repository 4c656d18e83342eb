// Package extract reads CrowdChange transactions from GET /v2/private/transactions: the typed
// transaction model, window planning, query building, paging, rate limiting, retries and the
// classification of the API's errors. It knows nothing of Arrow or warehouses.
//
// # Windows
//
// A Window is the unit of extraction and of commit. The date stream cuts time into [Start, End)
// windows (PlanDateWindows); the API is asked for dt_start=Start and dt_end=End-1s, both inclusive
// at its one-second resolution, so adjacent windows neither overlap nor leave gaps. The payout
// stream has one window per payout date and account (PlanPayoutWindows). All times are UTC, where
// every day is 24 hours long.
//
// # Paging
//
// Client.FetchWindow reads pages 1, 2, ... with limit=PageSize, sorted by id ascending, until the
// API has nothing more for the window: a full page is followed by the next; an empty page ends
// the window; a shorter page ends it when the answer's count agrees that every row was read, and
// is followed by the next page when the count says more exist (an API that caps its pages below
// the limit). Without a usable count, a short page of a round length is confirmed with one more
// request, and a cap seen once is remembered by the Client. A page that repeats the previous one,
// or two pages in a row without a new id, fail the window with ErrPagingBroken (an API that
// ignores the page parameter). WithPaging(PagingUntilEmpty) reads until an empty page whatever
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
// # Retries and rate limiting
//
// Every platform's client sends through the same machinery, built by NewHTTP from an HTTPConfig
// (the shared settings of config.API, HTTPConfigOf, and the platform's own check of a 2xx body):
// an HTTP whose Do returns each answer read whole, whatever its status, with what the body check
// decoded, and whose Stats count requests, retries, throttling, server errors, invalid bodies,
// pages and backoff. The options (WithLimiter, WithSleeper, WithClock, WithRand, WithObserver,
// WithTransport, WithVersion, WithMaxPages) apply to every platform alike; clients given one
// WithLimiter share one limiter. The CrowdChange Client and package extract/donately are built on
// it; DecodeLenient and CleanMessage serve the other platforms' models and errors too, and
// IsTransient asks their errors through a method Transient() bool.
//
// Requests go through RetryTransport(RateLimitTransport(base)). The RateLimitTransport waits for a
// golang.org/x/time/rate limiter shared by everything in a run, so retries are throttled too. The
// RetryTransport retries 429, 5xx, network errors, timeouts and 2xx answers whose body is truncated
// or not a valid page (ErrInvalidBody), up to MaxAttempts attempts, waiting for Retry-After when
// the API sends one (seconds or an HTTP date, capped at DefaultMaxRetryAfter) and otherwise a
// capped exponential backoff with full jitter. Every other status is permanent: 403 (and 401)
// unwrap to ErrForbidden and stop the run at once, 404 unwraps to ErrNotFound (a wrong base URL);
// 400, 404, 422 become an APIError decoded from
// either of the API's error envelopes. IsTransient tells the two kinds apart after the fact. Each
// attempt is bounded by the configured timeout, body included; waiting for the limiter and backing
// off are not. Every retry is logged at info level with its cause. Waits go through an injectable
// Sleeper and the jitter through an injectable random source, so tests never sleep.
//
// # Secrets and row values
//
// The API key is sent only in the Authorization header. No error or log line of this package holds
// the key, a response body or a transaction's values: statuses, sizes, page numbers and ids only,
// plus the API's own error messages, cleaned and with the key removed should the API echo it.
package extract
