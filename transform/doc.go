// Package transform flattens CrowdChange transactions, as decoded by package extract, into rows of
// every table of schemas.BatchTables(), as Apache Arrow records whose schemas are the tables'
// ArrowSchema(). Where each leaf of the API's JSON goes is schemas.PathMap(); this package follows
// it and its tests check it leaf by leaf against the API's example response.
//
// The rows are filled table-driven, from the declarations of schemas alone: a Flattener fills
// the tables of a schemas.Flattening from records of the source's Go model, every column from
// the leaf at its JSON path (resolved once, when the Flattener is made, against the model's `json`
// struct tags) or by its derivation, every row source's list element by element. No table or
// column is named here: a column added to schemas is filled without code, and a second source
// (its Go model, its Flattening) uses the same engine (NewFlattener). A declaration that does not
// fit the model (a path without a field, a Go type that cannot fill its column, a float for a
// NUMERIC, a required column a row can leave null) is an error of NewFlattener, never of Add.
// Builder is CrowdChange's: a Flattener of extract.Transaction keyed by the id the client read,
// and the quarantine, whose columns come from the run (the window, page and reason of an item).
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
