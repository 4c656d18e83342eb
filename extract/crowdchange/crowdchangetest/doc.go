// Package crowdchangetest is the sandbox: a faithful, deterministic local CrowdChange API, in the
// manner of net/http/httptest. Tests use it, and so do `make run`, `ccsync sandbox` and the
// `--sandbox` flag. Production code paths other than `ccsync sandbox` and `--sandbox` must not
// import it.
//
// # What it serves
//
// GET /v2/private/transactions, as the API documents it: the key in "Authorization: Bearer <key>"
// (the Bearer prefix optional; a missing or wrong key is 403 with the error envelope
// {"status":"error","message":{"error":[...]}}); dt_start and dt_end ("2006-01-02T15:04:05", UTC,
// both inclusive; a missing dt_start means no lower bound, a missing dt_end means now);
// payout_date ("2006-01-02"; when given, dt_start and dt_end have no effect) and payout_account
// (global|user; without it both); page (from 1, default 1); limit (1..100, default 100); sort
// (id|date, default id; ties by id); direction (asc|desc, default asc). Invalid parameters are 422
// with the validation envelope {"message":"The given data was invalid.","errors":{field:[...]}}.
// The answer is {"dt_start","dt_end","count","data"}, count being the number of matching
// transactions; a page past the end has an empty data list.
//
// POST /v2/client/transactions creates a charge dated Now() (currency of its campaign, USD for an
// unknown campaign) and answers in the documented shape with status "received"; the charge then
// appears in GET answers, Transaction and Truth. Other paths are 404 and other methods 405, with
// the error envelope.
//
// # What it generates
//
// Options.Transactions transactions with ids 100001, 100002, ... whose dates grow with the id over
// [From, To): a date window is an index range, so nothing is stored per transaction and memory
// stays flat however many there are. Transaction i is made from (Seed, i) alone: the same seed
// always gives the same bytes (for a given clock). About 7% are refunds (type refund) of a charge
// a few indexes earlier: the charge has is_refunded, status refunded and the refunds in
// refund_children_ids; together its refunds give back the whole charge, with negative amounts,
// and list what they give back in refunded_items (donations, covered fees, apparel,
// registrations, tickets, e-cards, sponsorships, custom fees, self-donations). Charges buy every
// item category (apparel, registrations with their pages, teams, users, self-donations, mailing
// addresses and custom answers; tickets; e-cards; tribute cards; custom fees; sponsorships), some
// are pending, recurring, anonymous, disputed or pledges; custom answers occur at every level
// (transaction, campaign, team, page, registration, self-donation page). Names and texts carry
// accents, apostrophes, CJK and emoji. Currencies are CAD, USD, AUD and EUR; money is a JSON
// number with cents; total_paid is the sum of the parts and total_net is total_paid minus
// covered_fees. Optional objects (team, page, donor, mailing address, tax receipt, recurring
// plan, payout, payee, ...) are null on a realistic share.
//
// Time moves: transactions dated after Now() do not exist yet, a refund flags its charge only
// once it exists, a tax receipt appears once issued, and a payout (2 to 9 days after the
// transaction, to the global or the user account) is seen from the day after its date. Mutate
// changes existing transactions the way a night of activity does.
//
// With Options.IncludeExample the documented example transaction (id 10001) is served too, byte
// for byte as published.
//
// # Faults
//
// Options.Faults injects failures into GET answers: 429 with Retry-After, 500, 502 (an HTML body),
// 503, a 200 whose JSON is cut in half, and a slow answer. Whether a request is faulted is a hash
// of the seed, the request (method, path, canonical query) and how many times it was already
// faulted, so the faults do not depend on timing or on the order of concurrent requests, and a
// request is faulted at most Faults.MaxPerRequest times. Options.RPS enforces a real token-bucket
// rate limit (429 with Retry-After "1").
//
// # Hostile behaviour
//
// Options.Hostile makes GET answers misbehave the way real APIs have been seen to, so that a test
// reproduces each misbehaviour without a hand-written stub; its zero value changes no byte.
// PageCap serves at most PageCap transactions a page whatever the limit asked (count unchanged),
// and IgnorePage serves page 1 whatever page is asked; ServerStats counts such pages in
// CappedPages and IgnoredPages. Rate renders that fraction of the generated transactions with
// one Trick each, drawn from Tricks by a hash of (Seed, index), so that a transaction is mangled
// the same way on every page, stream (date window or payout date) and clock, and after Mutate:
// invalid UTF-8 in a name (TrickInvalidUTF8), a donation that is the string "fifty"
// (TrickMistyped), ISO 8601 dates (TrickISODate), money as strings (TrickMoneyString), ids as
// strings (TrickIntString), no id (TrickNoID) or the id "abc" (TrickBadID). Each trick rewrites
// only its own members: every other byte is what the sandbox serves without it. Canary plants a
// marker in the donor's names and email and the donation comment of every tricked transaction,
// for a test to grep ccsync's output for. Server.Tricked tells which transaction carries which
// trick. The example and created transactions are never tricked.
//
// # Ground truth
//
// Truth and TruthByPayout add up the sandbox's own data (counts, exact sums by currency, line
// items by direction and category, custom answers by level, ids), independently of ccsync's
// transform code: they are what a test compares ccsync's warehouse with. Under Options.Hostile
// they describe what a lossless client can know: a transaction without a usable id (TrickNoID,
// TrickBadID) is only counted in Truth.Quarantined, and a TrickMistyped donation is left out of
// the donation sums and counted in Truth.UnreadableDonations.
package crowdchangetest
