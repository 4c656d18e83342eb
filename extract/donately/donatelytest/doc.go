// Package donatelytest is the Donately sandbox: a faithful, deterministic local Donately REST API
// v2, in the manner of net/http/httptest. Tests use it, and so do `ccsync --source donately
// --sandbox` and `ccsync sandbox --source donately`. Production code paths other than those must
// not import it, and it imports nothing of ccsync's Donately client.
//
// # What it serves
//
// GET /v2/donations, /v2/campaigns and /v2/people (lists); GET /v2/donations/:id,
// /v2/campaigns/:id and /v2/people/:id; GET /v2/accounts/mine and /v2/accounts/:id; POST
// /v2/donations. Other paths are 404 and other methods 405 (with Allow), in the version's error
// format.
//
// Versions. The Donately-Version header selects the shapes. 2022-12-15 (Version2022) answers lists
// as {"object":"list","data":[...],"summary":{...},"params":{...},"request_id":"req_…"}, single
// objects as the object itself with "object" first and "request_id" last, and errors as
// {"type","message","code","request_id"} (type bad_request, unauthorized, forbidden, not_found,
// method_not_allowed, unprocessable_entity, rate_limited, internal_server_error,
// service_unavailable; code the status as a string). Without the header, or with 2019-03-15
// (Version2019), lists and single objects are {"success":true,"data":...} and errors
// {"success":false,"error":"..."}; objects have no "object" member. Any other version is 400 in
// the 2019-03-15 format.
//
// Auth. "Authorization: Basic base64(token + ':')"; the password part is ignored, a Bearer token or
// a token without the colon is refused. A missing or wrong token is 401 with WWW-Authenticate,
// except on the public endpoints, which may come without any Authorization header: POST
// /v2/donations (the embeddable form), GET /v2/campaigns and /v2/campaigns/:id (published
// campaigns only: drafts and archived ones are left out of the list and 404) and GET
// /v2/accounts/:id; a wrong token is 401 there too. The account comes from the Donately-Account
// header, else the account_id query parameter (else, for POST, the body's account_id): none is
// 400, another account 403. /v2/accounts/mine needs no account; /v2/accounts/:id of another act_
// id is 403 (404 without a token).
//
// Lists. limit (default DefaultLimit 20; above MaxLimit 100 it is served as 100; below 1 or not an
// integer is 400) and offset (default 0; negative is 400); sort ASC or DESC (any case, default
// DESC); order_by created_at (default), updated_at or id, plus amount_in_cents for donations and
// goal_in_cents and title for campaigns; any other is 400. The order is total: ties on the field
// are broken by id, in the same direction, so DESC is exactly the reverse of ASC and offset paging
// neither skips nor repeats a record (while nothing changes). created[gt], created[lt],
// updated[gt] and updated[lt] filter on created_at and updated_at, all strictly (gt: after, lt:
// before; an exact match is excluded by both), with a timestamp in unix seconds ("1767225600") or
// RFC 3339 with or without a fraction and offset ("2026-01-01T00:00:00Z"); anything else is 400.
// Times in answers are RFC 3339 UTC with whole seconds, so a bound with a fraction counts to the
// nanosecond. Donations also filter on status, person_id, campaign_id, fundraiser_id,
// donation_type (either version's vocabulary, cc matching card and stripe, cash_or_check matching
// cash and dipjar), recurring, anonymous, currency (any case), amount_in_cents and keyword (in the
// comment and on_behalf_of); campaigns on status, type, keyword (title) and has_fundraisers;
// people on keyword (names, email). Invalid values are 400; unknown parameters are ignored, as the
// API ignores them. summary is {"total_count" (records matching the filters), "count" (on this
// page), "has_more"}; params echoes the parameters as applied: account_id, limit (after the cap),
// offset, sort (upper case), order_by, created and updated as {"gt","lt"} (as sent) and the
// filters the list understood (ignored parameters are not echoed).
//
// POST /v2/donations takes a JSON object: amount_in_cents (required, an integer > 0, or a string
// of digits), currency (three letters, default usd), campaign_id, fundraiser_id (must exist; the
// fundraiser gives the campaign), first_name, last_name, email, anonymous, comment, on_behalf_of,
// meta_data (an object), donation_type (card, stripe, ach, paypal, cash, dipjar, or cc for card),
// and with 2022-12-15 also origin (default api), notes and ecard. A body that is not a JSON object
// is 400; invalid members are 422, all named in one message. The donation is created at Now()
// (whole seconds), completed (pending for ach), with a payment intent secret for card, stripe and
// ach; its donor is the person with that email, created at Now() if new; without an email it has
// none (person_id null). The answer is 200 with the donation in the version's single-object shape.
//
// # What it generates
//
// Options.Donations donations (dnt_ ids) with created_at in [From, To), whole seconds, drawn from
// one random stream seeded by Options.Seed: the same options give the same bytes. Two of them fall
// exactly on a midnight UTC inside the range (a window edge and a tie at once), three share one
// second, and about 1.5% more fall on midnights and 3% more share a second with another, so that
// window edges and paging ties are exercised. Currencies are usd, cad, eur, gbp and aud (at least
// three occur); amounts are integer cents from 1 to 50 000 000. Donation types are card, stripe,
// ach, paypal, cash and dipjar (2019-03-15 answers cc for card and stripe, cash for dipjar);
// card, stripe and ach donations carry payment_intent_secret "pi_<24>_secret_<25>", the credential
// a client must drop (SecretOf, Secrets), paypal ones a paypal_order_id. About 15% are recurring,
// from subscriptions (sub_) that several donations share; donations to peer-to-peer campaigns
// mostly name a fundraiser (fun_); form donations name a form (frm_). Comments, names and titles
// carry accents, apostrophes, CJK, Arabic, emoji and a newline; some comments are empty strings.
//
// Each donation has a history that unfolds as Now() passes its moments, all within 20 days of its
// creation: ach donations (and some others) are pending and complete later, some completed
// donations are refunded later, some are rejected (some after pending), a few have their comment
// edited; updated_at is the moment of the latest state. At a clock 20 days past To, everything has
// settled. Records created after Now() do not exist yet (lists, GET and Truth ignore them).
//
// People (per_) are created with their first donation and their updated_at is their latest
// donation's created_at (the API touches the donor on each gift). Campaigns (cmp_; at least four,
// one of them a draft without donations; most created before From) have an updated_at of a later
// edit once the clock reaches it; their total_raised_in_cents is the sum of their completed
// donations in the campaign's currency at Now().
//
// # Faults and rate limit
//
// Options.Faults injects failures into list answers only: 429 with Retry-After, 500, 502 (an HTML
// body), 503, a 200 whose JSON is cut in half, and a slow answer that ends early when the request's
// context is done. Whether a request is faulted is a hash of the seed, the request (method, path,
// canonical query) and how many times it was already faulted, so faults do not depend on timing or
// on the order of concurrent requests, and a request is faulted at most Faults.MaxPerRequest
// times. Options.RPS enforces a token bucket on the clock Now (a test moves the clock instead of
// sleeping); a request over it is 429 with Retry-After, the whole seconds until a token is free.
// ServerStats counts every kind of answer, each fault kind, and each auth and account refusal.
//
// # Changes and ground truth
//
// Mutate changes a fraction of the existing donations at Now() (pending → completed or rejected,
// completed → refunded, comment edits) and adds a few new ones, all with updated_at Now(), so a sync
// following updated[gt] sees exactly them. Truth and TruthAll add up the sandbox's own records at
// Now() (count, cents and counts by upper-case currency and status, ids, campaigns and people),
// independently of ccsync's code; Donation and DonationJSON give one donation as it is served.
//
// # What is simplified
//
// The reference documents shapes, not behaviour; where it is silent the sandbox chooses, and says
// so here. Only the endpoints above exist (no subscriptions, fundraisers, forms, webhooks or
// updates). One account and one token. The list summary's members, the 2022-12-15 error types
// other than bad_request, the person shape (the reference shows none) and updated_at on campaigns
// and people (the reference's campaign shows none) are the sandbox's. 2019-03-15 hides exactly
// what the reference says it hides (ecard, origin, notes, the subscription's schedule, the
// fundraiser's type) and the object member; it keeps payment_intent_secret, paypal_order_id, form
// and meta_data, which its example leaves out, so that a client meets the secret whatever version
// it asks for. meta_data is the same in both versions. Request ids are drawn from the seed and the
// request's rank, not unique across sandboxes. People and campaigns do not change through
// Mutate. Offset paging is as unstable under concurrent changes as any offset paging.
package donatelytest
