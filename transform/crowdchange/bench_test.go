package crowdchange_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/transform"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
)

const benchPageSize = 100

// benchRowGroupPages is how many pages of benchPageSize transactions make one row group of the
// pipeline (load/pipeline's rowGroupTransactions, 2,000 transactions).
const benchRowGroupPages = 20

var firstID = regexp.MustCompile(`^\{\s*"id":\s*\d+`)

// benchPage is a page of 100 transactions: the example's transaction, byte for byte but for its
// id, repeated with ids 1..100.
func benchPage(b *testing.B) []byte {
	b.Helper()
	tx := pageTransactions(b, crowdchangetest.ExamplePage())[0]
	if !firstID.Match(tx) {
		b.Fatal("the example transaction does not start with its id")
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"dt_start": "2021-01-01T00:00:00", "dt_end": "2021-01-31T00:00:00", "count": %d, "data": [`, benchPageSize)
	for i := 1; i <= benchPageSize; i++ {
		if i > 1 {
			buf.WriteString(",\n")
		}
		buf.Write(firstID.ReplaceAll(tx, []byte(fmt.Sprintf(`{"id": %d`, i))))
	}
	buf.WriteString("]}")
	return buf.Bytes()
}

// benchInput is what benchmarks run on: pages of benchPageSize transactions, taken in turn.
type benchInput struct {
	name  string
	pages [][]byte
}

// benchInputs are the example transaction repeated (one page), and benchRowGroupPages pages of
// the sandbox's generated transactions (varied: refunds, several items per list, nulls, unicode),
// 2,000 transactions that each appear once, as in a row group of a real run: a row group of the
// same transactions again and again would flatter the Parquet writer's dictionaries.
func benchInputs(b *testing.B) []benchInput {
	b.Helper()
	end := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := crowdchangetest.New(crowdchangetest.Options{
		Seed: 7, Transactions: benchPageSize * benchRowGroupPages, From: end.AddDate(-1, 0, 0), To: end,
		Now: func() time.Time { return end },
	})
	var sandbox [][]byte
	for n := 1; n <= benchRowGroupPages; n++ {
		req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v2/private/transactions?sort=id&limit=%d&page=%d", benchPageSize, n), nil)
		req.Header.Set("Authorization", "Bearer "+crowdchangetest.DefaultAPIKey)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("sandbox page %d: status %d", n, rec.Code)
		}
		sandbox = append(sandbox, rec.Body.Bytes())
	}
	return []benchInput{{"example", [][]byte{benchPage(b)}}, {"sandbox", sandbox}}
}

// benchWindow is the window the benchmarks' pages are said to belong to.
var benchWindow = extract.Window{
	Stream: crowdchange.StreamDate,
	Start:  time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	End:    time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
}

var benchMeta = transform.Meta{RunID: "run", BatchID: "batch", ExtractedAt: time.Unix(1700000000, 0)}

// windowOf is the window result of one decoded page, as FetchWindow hands it to the pipeline.
func windowOf(p *crowdchange.DecodedPage) *crowdchange.WindowResult {
	q := append([]extract.Quarantined(nil), p.Quarantined...)
	for i := range q {
		q[i].Page = 1
	}
	return &crowdchange.WindowResult{Window: benchWindow, Transactions: p.Transactions, Quarantined: q, Pages: 1, Requests: 1}
}

// parquetSink is what load.Batch writes a table to: a pqarrow file writer with the batch's writer
// properties (load.WriterProperties), kept open, whose bytes are discarded.
type parquetSink struct {
	writers []*pqarrow.FileWriter
	tables  []schemas.Table
}

func newParquetSink(b *testing.B, mem memory.Allocator, tables []schemas.Table) *parquetSink {
	b.Helper()
	s := &parquetSink{tables: tables}
	for _, t := range tables {
		props, arrowProps := load.WriterProperties(t, mem)
		w, err := pqarrow.NewFileWriter(t.ArrowSchema(), nopCloser{io.Discard}, props, arrowProps)
		if err != nil {
			b.Fatal(err)
		}
		s.writers = append(s.writers, w)
	}
	return s
}

// nopCloser hides a writer's Close from the Parquet writer, as load.Batch's bufferedWriter does.
type nopCloser struct{ w io.Writer }

func (n nopCloser) Write(p []byte) (int, error) { return n.w.Write(p) }

// write writes one record per table as one row group each, as load.Batch.Write does (a record
// without rows writes nothing).
func (s *parquetSink) write(b *testing.B, recs []arrow.Record) {
	for i, r := range recs {
		if r.NumRows() == 0 {
			continue
		}
		if err := s.writers[i].Write(r); err != nil {
			b.Fatal(err)
		}
	}
}

func (s *parquetSink) close(b *testing.B) {
	for _, w := range s.writers {
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func release(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// BenchmarkStages measures the stages of the real path, per page of 100 transactions (the input's
// pages in turn), in µs per transaction (µs/tx) and allocations per page:
//
//   - floor: json.Valid over the page's bytes, one pass: what every stage is compared with;
//   - decode: the client's decoding of a 2xx body (PageDecoder.DecodePage, what FetchWindow does
//     with every page), with the known leaves the pipeline's client is given (KnownLeaves);
//   - transform: the pipeline's builder (Source.NewBuilder) adding the page's window
//     (AddWindow), and its records taken (NewRecords) every 2,000 transactions, as the pipeline
//     drains them;
//   - encode: those records written to Parquet as load.Batch writes them (Snappy, one row group
//     per table per 2,000 transactions, to file writers kept open), the bytes discarded;
//   - all: decode, transform and encode of each page.
func BenchmarkStages(b *testing.B) {
	pages := crowdchange.NewPageDecoder(transformcrowdchange.KnownLeaves())
	src := transformcrowdchange.NewSource(nil)
	for _, in := range benchInputs(b) {
		var windows []*crowdchange.WindowResult // the pages decoded
		bytes := 0
		for _, page := range in.pages {
			decoded, err := pages.DecodePage(page)
			if err != nil {
				b.Fatal(err)
			}
			if n := len(decoded.Transactions) + len(decoded.Quarantined); n != benchPageSize {
				b.Fatalf("%s: %d items on a page, want %d", in.name, n, benchPageSize)
			}
			windows = append(windows, windowOf(decoded))
			bytes += len(page)
		}
		pageBytes := int64(bytes / len(in.pages))
		// stage runs f for each page in turn (i counts the pages from 1), and reports µs/tx.
		stage := func(name string, setup func(b *testing.B) (f func(i int, page []byte, w *crowdchange.WindowResult), done func())) {
			b.Run(in.name+"/"+name, func(b *testing.B) {
				f, done := setup(b)
				b.SetBytes(pageBytes)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					k := i % len(in.pages)
					i++
					f(i, in.pages[k], windows[k])
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*benchPageSize), "µs/tx")
				b.StopTimer()
				done()
			})
		}
		nothing := func() {}
		stage("floor", func(b *testing.B) (func(int, []byte, *crowdchange.WindowResult), func()) {
			return func(_ int, page []byte, _ *crowdchange.WindowResult) {
				if !json.Valid(page) {
					b.Fatal("invalid page")
				}
			}, nothing
		})
		stage("decode", func(b *testing.B) (func(int, []byte, *crowdchange.WindowResult), func()) {
			return func(_ int, page []byte, _ *crowdchange.WindowResult) {
				if _, err := pages.DecodePage(page); err != nil {
					b.Fatal(err)
				}
			}, nothing
		})
		stage("transform", func(b *testing.B) (func(int, []byte, *crowdchange.WindowResult), func()) {
			tb := src.NewBuilder(memory.NewGoAllocator(), schemas.Policy{})
			return func(i int, _ []byte, w *crowdchange.WindowResult) {
				tb.AddWindow(w, benchMeta)
				if i%benchRowGroupPages == 0 {
					release(tb.NewRecords())
				}
			}, tb.Release
		})
		stage("encode", func(b *testing.B) (func(int, []byte, *crowdchange.WindowResult), func()) {
			mem := memory.NewGoAllocator()
			tb := src.NewBuilder(mem, schemas.Policy{})
			defer tb.Release()
			for i := range benchRowGroupPages {
				tb.AddWindow(windows[i%len(windows)], benchMeta)
			}
			recs := tb.NewRecords()
			sink := newParquetSink(b, mem, src.Tables())
			return func(i int, _ []byte, _ *crowdchange.WindowResult) {
					if i%benchRowGroupPages == 0 {
						sink.write(b, recs)
					}
				}, func() {
					sink.close(b)
					release(recs)
				}
		})
		stage("all", func(b *testing.B) (func(int, []byte, *crowdchange.WindowResult), func()) {
			mem := memory.NewGoAllocator()
			tb := src.NewBuilder(mem, schemas.Policy{})
			sink := newParquetSink(b, mem, src.Tables())
			return func(i int, page []byte, _ *crowdchange.WindowResult) {
					p, err := pages.DecodePage(page)
					if err != nil {
						b.Fatal(err)
					}
					tb.AddWindow(windowOf(p), benchMeta)
					if i%benchRowGroupPages == 0 {
						recs := tb.NewRecords()
						sink.write(b, recs)
						release(recs)
					}
				}, func() {
					sink.close(b)
					tb.Release()
				}
		})
	}
}

// BenchmarkUnknownPaths is the walk that finds a transaction's leaves without a home
// (transformcrowdchange.UnknownPaths), which Add makes when the client did not find them.
func BenchmarkUnknownPaths(b *testing.B) {
	for _, in := range benchInputs(b) {
		var raws []json.RawMessage
		for _, page := range in.pages {
			raws = append(raws, pageTransactions(b, page)...)
		}
		b.Run(in.name, func(b *testing.B) {
			for b.Loop() {
				for _, raw := range raws {
					if _, err := transformcrowdchange.UnknownPaths(raw); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*len(raws)), "µs/tx")
		})
	}
}
