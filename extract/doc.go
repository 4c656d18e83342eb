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
// limiter shared by everything in a client, so retries are throttled too: by default an
// AdaptiveLimiter (below); a *rate.Limiter given with WithLimiter keeps its rate. The
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
// # Adaptive rate
//
// The configured rate is a ceiling. An AdaptiveLimiter (a golang.org/x/time/rate limiter at that
// rate) is told, for every answer, when its request was sent, its status and the wait its
// Retry-After asks for, and counts answers per level (the time since the rate last changed) by
// the time their request was sent. It must tell two kinds of 429 apart: those of a limit below
// the rate, which stop below the limit, and those that do not depend on the rate (an API's load
// shedding, the sandbox's --sandbox-faults), which keep their share at any rate. One rate cannot
// tell them apart; two can, so it cuts and checks:
//
//   - A cluster of 429s starts an episode: more among the last 50 answers than the baseline share
//     of 429s explains by three standard deviations (with no 429 in the baseline, any 429). The
//     rate goes at once to 97% of what the API accepted over the latest 20 answers (when requests
//     come in bursts, the rate of a burst), the baseline share taken out, with a burst of one.
//   - The API's bucket was empty when it answered that 429, and is again at a later one; between
//     them it accepted its limit times the time, give or take one (a request in flight when the
//     429 came back counts half: it may have reached the API first). That holds while requests
//     went at 80% of the limiter's rate at least, or sending paused right after a 429 that asked
//     for a wait (every worker waited its Retry-After); otherwise what the API accepted is only
//     what was asked of it. A 429 at a level with clearly more 429s than random ones make then
//     refines the cut to 97% of that measure, when that is below 80% of the rate (random 429s
//     never call for so much) and measured over 300 ms and five accepted answers at least, or
//     below half the rate.
//   - Each level settles for ten answers (and again after a pause in sending right after a 429
//     that asked for a wait: the API's bucket filled up meanwhile), then checks. A check with two
//     429s or more, too many for the baseline, cuts once more, to 97% of what the API accepted
//     during it (or over its latest 20 answers, when higher), the first time or when the cut
//     lowered the share from the check before; otherwise the 429s did not depend on the rate. At
//     40 answers, then on each 429, and at 150, Fisher's exact test compares the check with the
//     episode's answers at the rates above it: if the 429s above are unlikely for equal shares
//     (1%; after 150 answers without a 429, 5%, or 2% for a single 429 above) the cut is kept;
//     if the check has two 429s, or reaches 150 answers, the rate goes back up.
//   - Going back up doubles the rate at most, and goes on every 50 answers without too many 429s
//     until it reaches the rate before the episode: random 429s do not cut that deep, and a limit
//     far below, whose evidence was too weak yet, costs fewer 429s on the way. An episode that
//     starts within those 50 answers cuts back to the rate the check was at.
//   - The baseline share is that of the checks' first 20 answers, a sample of fixed length (a
//     check ends sooner the more 429s it has): all of the episode's when the last check still had
//     429s, else the last check's only. A baseline of 100 answers or more that later explains a
//     kept cut's 429s above (5%) undoes it. A 429 that ended a sample for more reasons than being
//     one is left out of it.
//   - A level 300 answers long with no more 429s than the baseline explains tries 2% more, up to
//     the ceiling, so that a limit that was lifted is found again (1000 answers long to go above
//     the limit the latest kept cut measured).
//
// HTTP.Stats reports the limiter's figures (RateStats): the rate at the end, cuts, restores and
// the baseline. A simulation on a fake clock (four workers honouring Retry-After against a token
// bucket of 20/s, ten runs each) shows at least 95% of the limit used and at most 2% of answers
// 429 from --rate 25 and 40 over 300 requests and from 100 over 400 (its first contact costs seven
// 429s whatever the length), none at or below the limit, and with 8% of random 429s the rate kept
// at 90% of --rate and more.
//
// # Secrets and row values
//
// No error or log line of this package holds a credential, a response body or a record's values:
// statuses, sizes, page numbers and attempts only.
package extract
