// Package transform flattens CrowdChange transactions, as decoded by package extract, into rows of
// every table of schemas.BatchTables(), as Apache Arrow records whose schemas are the tables'
// ArrowSchema(). Where each leaf of the API's JSON goes is schemas.PathMap(); this package follows
// it and its tests check it leaf by leaf against the API's example response.
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
// page, position and reason.
//
// Every string column holds valid UTF-8, as Parquet, DuckDB and BigQuery require: invalid byte
// sequences are replaced by U+FFFD and noted in decode_error, and a raw JSON that is not valid
// UTF-8 keeps its original bytes, base64-encoded, in raw_bytes_base64.
//
// Every row carries the version stamps of Meta (_run_id, _batch_id, _extracted_at) and every child
// row its transaction's id and transaction_date. Timestamps are microseconds UTC, calendar dates
// date32.
//
// Money is exact: every Numeric column is parsed from the JSON literal kept by extract.Money with
// ParseDecimal into decimal128(38, 9), never through a float. A literal that does not fit exactly
// is stored as null and noted (by path, never by value) in the raw row's decode_error.
//
// Add never fails: unknown fields and undecodable parts are recorded in raw_transactions and
// counted in Stats. transform does no I/O and does not log.
package transform
