// Package crowdtilttest is the Crowdtilt sandbox: a faithful, deterministic local Crowdtilt API v1
// (seed 003), in the manner of net/http/httptest. Tests use it, and so will `ccsync --source
// crowdtilt --sandbox` and `ccsync sandbox --source crowdtilt`. Production code paths other than
// those must not import it; it imports nothing of ccsync (the standard library only).
//
// # What it serves
//
// Under /v1 (Start's URL is the base URL; requests go to URL/v1/…):
//
//	GET  /v1                                   {} (the seed's "test our API in 2 seconds")
//	GET  /v1/campaigns                         {"pagination": {...}, "campaigns": [...]}
//	GET  /v1/campaigns/:id                     {"campaign": {...}}
//	GET  /v1/campaigns/:id/payments            {"pagination": {...}, "payments": [...]}
//	GET  /v1/campaigns/:id/rejected_payments   the same, rejected payments only
//	GET  /v1/campaigns/:id/payments/:id        {"payment": {...}}
//	POST /v1/campaigns/:id/payments/:id/refund 200 {} (an authorized or charged payment is refunded)
//	GET  /v1/users                             {"pagination": {...}, "users": [...]}
//	GET  /v1/users/:id                         {"user": {...}}
//	GET  /v1/users/:id/payments                {"pagination": {...}, "payments": [...]}
//	GET  /v1/users/:id/campaigns               the campaigns the user is admin of or paid for
//
// Objects have the seed's members, in the order of its examples: a campaign embeds its admin,
// first_contributor and tilter as full user objects (or null) and its stats; a payment embeds its
// campaign (with those users), its card (with its user) and its user, all in full, as the seed's
// API example shows. Amounts are integer cents (JSON numbers). Other paths are 404; other methods
// on these paths 405 with Allow (the seed's POST and PUT that create or edit records are not
// served).
//
// Timestamps are UTC in the seed's two layouts: whole seconds ("2011-07-02T14:20:48Z",
// LayoutSeconds) and microseconds padded to nine digits ("2013-03-19T03:29:34.605286000Z",
// LayoutMicros); FormatTime picks the first for a whole second. As in the seed's real answers,
// records created through the API (three in four users, campaigns, cards and payments) have
// microseconds and imported ones whole seconds; a payment's modification_date, set by the
// payment processor's answer a few seconds after its creation, and later status changes have
// whole seconds; edits through the API (titles, names) have microseconds; expiration_date is
// always noon UTC, whole seconds.
//
// Auth. HTTP Basic with the key as user name and the secret as password (Options.Key,
// Options.Secret). Missing or wrong credentials are 401 with WWW-Authenticate and the seed's
// error shape {"error": "Unauthorized", "request_id": "REQ…", "status": 401}, the shape of every
// error (request_id "REQ" and 32 hex digits). The seed names no 403: the sandbox never answers one.
//
// Lists. page (from 1, default 1) and per_page (default DefaultPerPage 50, as the seed says;
// the seed names no maximum: above MaxPerPage 100 it is served as 100). A page or per_page that is
// not a positive integer is 400. pagination is {"page", "entries_on_this_page", "total_pages",
// "total_entries", "per_page"} with page and per_page as applied; total_pages is at least 1 (an
// empty list is one empty page, as Perl's Data::Page, whose names the object shares, counts it).
// A page past the last is 200 with an empty list and the pagination of the page asked for. Lists
// are in (creation_date, id) order, oldest first (the seed names no order): a record created later
// lands at the end, so that a walk can resume at a campaign and page-number paging of a growing
// list neither skips nor repeats. Unknown query parameters are ignored.
//
// # What it generates
//
// Options.Campaigns campaigns (CMP ids) and Options.Payments payments (CON ids) with
// creation_date in [From, To), drawn from one random stream seeded by Options.Seed: the same
// options give the same bytes. Ids are the prefix and 32 upper-case hex digits shaped like a
// version-1 UUID, as the seed's long ids. With the defaults (40 campaigns, 3000 payments): one
// campaign in ten has no payment, one in ten has about ten times the others' share (several
// pages of 100), and, from 1000 payments on, one campaign has exactly MaxPerPage payments (one
// full page: the edge where a walk must stop without asking for an empty page).
// Titles and names carry accents, apostrophes, CJK, Arabic, Cyrillic, emoji and "&"; some users
// have null names (created with an email only, as the seed's examples). Users (USR ids) are
// made as campaigns (admins) and payments (payers, some paying several times) need them, each
// with one or two cards (CCP ids: the tokens that charge them; VISA, Mastercard, American
// Express or Discover test numbers).
//
// Payments follow a campaign's life: rejected (the card declined, 4%), else authorized until the
// campaign's authorized and charged amounts reach its tilt_amount; the payment that gets there
// tilts the campaign (tilter), every authorized payment of it is charged at that moment, and
// later payments are charged at once. Some authorized and charged payments are refunded later;
// some campaigns get a new title and some users a new last name or profile image later. Campaign
// stats (raised_amount and number_of_contributions over authorized and charged payments,
// unique_contributors, tilt_percent = ⌊100·raised/tilt⌋), is_tilted, is_expired
// (expiration_date passed), is_paid (tilted and expired) and needs_bank (tilted, admin not
// verified) are computed at Now(). Records created after Now() do not exist yet; histories
// unfold as Now() passes their moments.
//
// Card data. A payment's card carries its id (the token), last_four, expiration, card_type and its
// user. The API would never answer a card's number or security code, which only the create-card
// request carries; the sandbox echoes both on about 3% of payments (and always on the second
// created) so that a client's scrubbing of card data is exercised. Secrets lists the card ids and
// numbers served.
//
// # Faults and rate limit
//
// Options.Faults injects failures into list answers only: 429 with Retry-After, 500, 502 (an HTML
// body), 503, and a 200 whose JSON is cut in half. Whether a request is faulted is a hash of the
// seed, the request (method, path, canonical query) and how many times it was already faulted, so
// faults do not depend on timing or on the order of concurrent requests, and a request is faulted
// at most Faults.MaxPerRequest times. Options.RPS enforces a token bucket on the clock Now (a test
// moves the clock instead of sleeping); a request over it is 429 with Retry-After, the whole
// seconds until a token is free. ServerStats counts every kind of answer and each fault kind.
//
// # Changes and ground truth
//
// Mutate changes the records at Now() the way an account changes between syncs (refunds, voided
// authorizations, rejected payments retried with a new card, new payments — one that tilts its
// campaign charges the campaign's authorized payments —, new users, campaign titles, user names)
// and returns exactly what it changed (Changes). Some changes do not move modification_date
// (Changes.Silent), so that a client needs a content hash to see them: a campaign's stats move
// with its payments without its modification_date moving (the seed's own example shows a
// campaign with one contribution and its creation's modification_date), a user's verification
// sets is_verified without it, and — the sandbox's choice — a back office rewrites some payments'
// metadata without it. POST …/refund refunds one payment.
//
// Truth adds up the sandbox's own records at Now(): count, cents, user and admin fees by status,
// payments and cents per campaign, the payment, campaign and user ids, independently of ccsync's
// code; Truth.Pages is the number of pages a full walk reads (what a sync that changes nothing
// requests). TruthCreated restricts the payments to a creation_date range (a backfill's).
// Payment and PaymentJSON give one payment as it is held and served.
//
// # What is simplified
//
// The seed documents shapes, not behaviour; where it is silent the sandbox chooses, and says so
// here. One set of credentials; no 403. Lists are oldest first; per_page is capped at 100;
// total_pages is at least 1; a page past the last is empty. GET /v1 answers {}. The success
// answers carry no request_id (the seed's examples show none; crowdtilt.js's responses add one,
// and the errors have one). User objects have the reference's members (not the later
// paid_campaigns_uri). Settlements, comments, banks, cards lists and every POST and PUT but the
// refund are not served; no record is ever deleted. Campaigns are never created after the
// generation, so the campaigns list only changes by edits. Timestamps keep microseconds, as the
// seed's do.
package crowdtilttest
