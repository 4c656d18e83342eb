// Package crowdchange assembles the CrowdChange source the run loop (package load/pipeline) runs:
// windows planned by transaction date or payout date (PlanBackfill, PlanSync), fetched by the
// CrowdChange client (package extract/crowdchange), turned into rows of every table of schemas/crowdchange.BatchTables() by
// Builder: a transform.Flattener of the client's Transaction keyed by the id the client read, and
// the quarantine, whose columns come from the run (the window, page and reason of an item).
//
// A Builder accumulates rows; NewRecords hands them over, one record per table. For each
// transaction version added:
//
//   - transactions: one row; nested objects flattened into prefixed columns (amount_*, billing_*,
//     fundraiser_*, team_*, page_*, tax_receipt_*, ...); transaction_date is the UTC date of date;
//     refund_children_ids and fundraiser_tags_list are lists (empty when null or absent); the
//     counts the API reports per item category go to purchased_<category>_count and
//     refunded_<category>_count.
//   - transaction_items: one row per line item of every category of purchased_items, of the
//     top-level sponsorship list (direction purchased, category sponsorship) and of
//     refunded_items, with its position in its list from 0; an e-card's price is its card's price.
//   - registrations, ecards, tribute_cards, self_donations: one row per item of that category, keyed
//     like its transaction_items row by (direction, position) and carrying the item's id.
//   - custom_data: one row per answer at every level: transaction, fundraiser, team, page (owned by
//     the transaction, campaign, team or page id), registration (the registration item's id) and
//     self_donation_page (the self-donation's page id); item-level answers carry the item's
//     direction and position.
//   - raw_transactions: the transaction's JSON byte for byte, the paths of its leaves without a
//     home in schemas (UnknownPaths) and, when something could not be decoded or stored, why.
//
// AddQuarantined adds a quarantine row for an item without a readable id: whole, with its window,
// page, position and reason. UnknownPaths lists a transaction's leaves without a home in
// schemas/crowdchange.HomeOf; the client given KnownLeaves (extract.WithKnownLeaves) finds them
// while it decodes each page, and Add then takes them from Fetched.Unknown instead of walking the
// transaction again.
package crowdchange
