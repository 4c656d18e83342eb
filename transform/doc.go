// Package transform flattens the records a platform's client decoded into rows of the source's
// tables, as Apache Arrow records whose schemas are the tables' ArrowSchema(). Where each leaf of
// a record's JSON goes is its schemas.Flattening's PathMap(); each source's sub-package
// (transform/crowdchange, transform/donately) assembles its Flatteners, and its tests check the
// rows leaf by leaf against the API's example responses.
//
// The rows are filled table-driven, from the declarations of schemas alone: a Flattener fills
// the tables of a schemas.Flattening from records of the source's Go model, every column from
// the leaf at its JSON path (resolved once, when the Flattener is made, against the model's `json`
// struct tags) or by its derivation, every row source's list element by element. No table or
// column is named here: a column added to schemas is filled without code, and a second source
// (its Go model, its Flattening) uses the same engine (NewFlattener). A declaration that does not
// fit the model (a path without a field, a Go type that cannot fill its column, a float for a
// NUMERIC, a required column a row can leave null) is an error of NewFlattener, never of Add.
//
// Every string column holds valid UTF-8, as Parquet, DuckDB and BigQuery require: invalid byte
// sequences are replaced by U+FFFD and noted in decode_error, and a raw JSON that is not valid
// UTF-8 keeps its original bytes, base64-encoded, in raw_bytes_base64.
//
// Every row carries the version stamps of Meta (_run_id, _batch_id, _extracted_at) and every child
// row its record's key and date. Timestamps are microseconds UTC, calendar dates
// date32.
//
// Money is exact: every Numeric column is parsed from the JSON literal kept by extract.Money with
// ParseDecimal into decimal128(38, 9), never through a float. A literal that does not fit exactly
// is stored as null and noted (by path, never by value) in the raw row's decode_error.
//
// Quarantine fills the quarantine table, shared by every source, with the items of a page that
// have no readable id: whole, with their window, page, position and reason. PathClassifier
// (package extract's) finds the leaves of a record that have no home in its flattening (unknown
// fields): Add walks the record for them, unless its client found them while decoding it, given
// the flattening's Leaves (extract.WithKnownLeaves, Flattener.AddDecoded).
//
// Each table's columns make room, when their rows are taken (NewRecords), for as many rows and
// bytes as they just held, so that filling the next record does not grow and copy them again and
// again.
//
// Add never fails: unknown fields and undecodable parts are recorded in the record's raw table and
// counted in Stats. transform does no I/O and does not log.
package transform
