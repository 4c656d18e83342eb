// Package extract is what every platform's client shares: the HTTP machinery (rate limiter,
// retries, counters), windows and plans, lenient decoding, the scalars of the APIs' JSON and the
// classification of errors. Each platform's client lives in its own sub-package
// (extract/crowdchange, extract/donately), with its sandbox beside it. It knows nothing of Arrow
// or warehouses.
//
// # Windows and plans
//
// A Window is the unit of extraction and of commit: the records of a stream (and, for a stream
// kept per account, of one account) in [Start, End), UTC. PlanDateWindows cuts a range into
// windows of a size; a Plan is what one run extracts. What a window asks of an API is the
// platform's.
//
// # Retries and rate limiting
//
// Every platform's client sends through the same machinery, built by NewHTTP from an HTTPConfig
// (the shared settings of config.API, HTTPConfigOf, and the platform's own check of a 2xx body):
// an HTTP whose Do returns each answer read whole, whatever its status, with what the body check
// decoded, and whose Stats count requests, retries, throttling, server errors, invalid bodies,
// pages and backoff. The options (WithLimiter, WithSleeper, WithClock, WithRand, WithObserver,
// WithTransport, WithVersion, WithMaxPages, WithPaging) apply to every platform alike; clients
// given one WithLimiter share one limiter. DecodeLenient decodes a platform's model field by
// field, CleanMessage makes an API's message safe for a log line, and IsTransient asks a
// platform's errors through a method Transient() bool. A platform's APIError classifies its status
// with StatusError (what it unwraps to) and TransientStatus, the rules RetryTransport follows, and
// reads a request id from the headers with HeaderValue.
//
// Requests go through RetryTransport(RateLimitTransport(base)). The RateLimitTransport waits for a
// golang.org/x/time/rate limiter shared by everything in a run, so retries are throttled too. The
// RetryTransport retries 429, 5xx, network errors, timeouts and 2xx answers whose body is truncated
// or not a valid page (ErrInvalidBody), up to MaxAttempts attempts, waiting for Retry-After when
// the API sends one (seconds or an HTTP date, capped at DefaultMaxRetryAfter) and otherwise a
// capped exponential backoff with full jitter. Every other status is permanent: a platform's
// client turns 403 (and 401) into an error that unwraps to ErrForbidden, which stops the run at
// once, and 404 into one that unwraps to ErrNotFound (a wrong base URL). IsTransient tells the two
// kinds apart after the fact. Each
// attempt is bounded by the configured timeout, body included; waiting for the limiter and backing
// off are not. Every retry is logged at info level with its cause. Waits go through an injectable
// Sleeper and the jitter through an injectable random source, so tests never sleep.
//
// # Decoding in one pass
//
// A Decoder is encoding/json's Unmarshal specialised once to a platform's model: DecodeList
// validates a page and decodes its envelope, its list and every record in one scan, the records'
// strings sharing one copy of the page and their small values and lists carved from chunks
// allocated a few at a time. It is a fast path, never other rules: what it is not sure to decode as
// json.Unmarshal would (a mistyped member, a key matching only ignoring case, an escaped or
// repeated key) it leaves to the caller's slow path, and DecodeLenient, which platforms decode their
// records with, tries it first. On the way it finds each record's unknown leaves, the leaves
// not among the known leaves the client was given (WithKnownLeaves: transform's JSON-path map),
// as PathClassifier.UnknownPaths would (UnknownLeaves), so that transform need not walk the record
// again.
//
// # Secrets and row values
//
// No error or log line of this package holds a credential, a response body or a record's values:
// statuses, sizes, page numbers and attempts only.
package extract
