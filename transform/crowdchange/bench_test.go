package crowdchange_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
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

// benchInputs are the pages benchmarks run on: the example transaction repeated, and a page of
// 100 of the sandbox's generated transactions (varied: refunds, several items per list, nulls).
func benchInputs(b *testing.B) []struct {
	name string
	page []byte
} {
	return []struct {
		name string
		page []byte
	}{{"example", benchPage(b)}, {"sandbox", sandboxPage(b, 1)}}
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
// properties (load/batch.go's fileFor), kept open, whose bytes are discarded.
type parquetSink struct {
	writers []*pqarrow.FileWriter
	tables  []schemas.Table
}

func newParquetSink(b *testing.B, mem memory.Allocator, tables []schemas.Table) *parquetSink {
	b.Helper()
	s := &parquetSink{tables: tables}
	for _, t := range tables {
		props := parquet.NewWriterProperties(
			parquet.WithAllocator(mem),
			parquet.WithCompression(compress.Codecs.Snappy),
		)
		arrowProps := pqarrow.NewArrowWriterProperties(
			pqarrow.WithAllocator(mem),
			pqarrow.WithStoreSchema(),
		)
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

// BenchmarkStages measures the stages of the real path, per page of 100 transactions, in µs per
// transaction (µs/tx) and allocations per page:
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
	for _, in := range benchInputs(b) {
		decoded, err := pages.DecodePage(in.page)
		if err != nil {
			b.Fatal(err)
		}
		txs := len(decoded.Transactions) + len(decoded.Quarantined)
		if txs != benchPageSize {
			b.Fatalf("%s: %d items on the page, want %d", in.name, txs, benchPageSize)
		}
		perTx := func(b *testing.B) {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*txs), "µs/tx")
		}
		src := transformcrowdchange.NewSource(nil)
		b.Run(in.name, func(b *testing.B) {
			b.Run("floor", func(b *testing.B) {
				b.SetBytes(int64(len(in.page)))
				b.ReportAllocs()
				for b.Loop() {
					if !json.Valid(in.page) {
						b.Fatal("invalid page")
					}
				}
				perTx(b)
			})
			b.Run("decode", func(b *testing.B) {
				b.SetBytes(int64(len(in.page)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := pages.DecodePage(in.page); err != nil {
						b.Fatal(err)
					}
				}
				perTx(b)
			})
			b.Run("transform", func(b *testing.B) {
				b.SetBytes(int64(len(in.page)))
				b.ReportAllocs()
				tb := src.NewBuilder(memory.NewGoAllocator())
				defer tb.Release()
				res := windowOf(decoded)
				i := 0
				for b.Loop() {
					tb.AddWindow(res, benchMeta)
					if i++; i%benchRowGroupPages == 0 {
						release(tb.NewRecords())
					}
				}
				perTx(b)
			})
			b.Run("encode", func(b *testing.B) {
				b.SetBytes(int64(len(in.page)))
				mem := memory.NewGoAllocator()
				tb := src.NewBuilder(mem)
				defer tb.Release()
				res := windowOf(decoded)
				for range benchRowGroupPages {
					tb.AddWindow(res, benchMeta)
				}
				recs := tb.NewRecords()
				defer release(recs)
				sink := newParquetSink(b, mem, src.Tables())
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if i++; i%benchRowGroupPages == 0 {
						sink.write(b, recs)
					}
				}
				perTx(b)
				b.StopTimer()
				sink.close(b)
			})
			b.Run("all", func(b *testing.B) {
				b.SetBytes(int64(len(in.page)))
				mem := memory.NewGoAllocator()
				tb := src.NewBuilder(mem)
				defer tb.Release()
				sink := newParquetSink(b, mem, src.Tables())
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					p, err := pages.DecodePage(in.page)
					if err != nil {
						b.Fatal(err)
					}
					tb.AddWindow(windowOf(p), benchMeta)
					if i++; i%benchRowGroupPages == 0 {
						recs := tb.NewRecords()
						sink.write(b, recs)
						release(recs)
					}
				}
				perTx(b)
				b.StopTimer()
				sink.close(b)
			})
		})
	}
}

// BenchmarkUnknownPaths is the walk that finds a transaction's leaves without a home
// (transformcrowdchange.UnknownPaths), over every transaction of a page.
func BenchmarkUnknownPaths(b *testing.B) {
	for _, in := range benchInputs(b) {
		p, err := crowdchange.NewPageDecoder(nil).DecodePage(in.page)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.page)))
			for b.Loop() {
				for _, f := range p.Transactions {
					if _, err := transformcrowdchange.UnknownPaths(f.Raw); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*len(p.Transactions)), "µs/tx")
		})
	}
}
