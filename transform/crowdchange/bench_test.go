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
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/transform"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
)

const benchPageSize = 100

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

// decodePage decodes a page as the client does: the envelope, then each transaction.
func decodePage(page []byte) ([]crowdchange.Fetched, error) {
	var p crowdchange.Page
	if err := json.Unmarshal(page, &p); err != nil {
		return nil, err
	}
	out := make([]crowdchange.Fetched, len(p.Data))
	for i, raw := range p.Data {
		out[i] = decodeFetched(raw)
	}
	return out, nil
}

func perTx(b *testing.B, txs int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*txs), "µs/tx")
}

// benchInputs are the pages benchmarks run on: the example transaction repeated, and a page of
// the sandbox's generated transactions (varied: refunds, several items per list, nulls).
func benchInputs(b *testing.B) []struct {
	name string
	page []byte
} {
	return []struct {
		name string
		page []byte
	}{{"example", benchPage(b)}, {"sandbox", sandboxPage(b, 1)}}
}

// eachInput runs f as a sub-benchmark per input, with the page decoded.
func eachInput(b *testing.B, f func(b *testing.B, page []byte, fs []crowdchange.Fetched)) {
	for _, in := range benchInputs(b) {
		fs, err := decodePage(in.page)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.page)))
			b.ResetTimer()
			f(b, in.page, fs)
			perTx(b, len(fs))
		})
	}
}

// BenchmarkJSONValid is the floor: one pass over the page's bytes.
func BenchmarkJSONValid(b *testing.B) {
	eachInput(b, func(b *testing.B, page []byte, _ []crowdchange.Fetched) {
		for i := 0; i < b.N; i++ {
			if !json.Valid(page) {
				b.Fatal("invalid page")
			}
		}
	})
}

// BenchmarkDecode decodes a page into the typed model (extract's share of the work).
func BenchmarkDecode(b *testing.B) {
	eachInput(b, func(b *testing.B, page []byte, _ []crowdchange.Fetched) {
		for i := 0; i < b.N; i++ {
			if _, err := decodePage(page); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTransform turns a decoded page into the records of every table.
func BenchmarkTransform(b *testing.B) {
	meta := transform.Meta{RunID: "run", BatchID: "batch", ExtractedAt: time.Unix(1700000000, 0)}
	eachInput(b, func(b *testing.B, _ []byte, fs []crowdchange.Fetched) {
		tb := transformcrowdchange.NewBuilder(memory.NewGoAllocator())
		defer tb.Release()
		for i := 0; i < b.N; i++ {
			for _, f := range fs {
				tb.Add(f, meta)
			}
			for _, r := range tb.NewRecords() {
				r.Release()
			}
		}
	})
}

// BenchmarkUnknownPaths is UnknownPaths' share of BenchmarkTransform.
func BenchmarkUnknownPaths(b *testing.B) {
	eachInput(b, func(b *testing.B, _ []byte, fs []crowdchange.Fetched) {
		for i := 0; i < b.N; i++ {
			for _, f := range fs {
				if _, err := transformcrowdchange.UnknownPaths(f.Raw); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkParquetEncode writes the page's records, one Snappy-compressed Parquet file per table,
// to a writer that discards them.
func BenchmarkParquetEncode(b *testing.B) {
	meta := transform.Meta{RunID: "run", BatchID: "batch", ExtractedAt: time.Unix(1700000000, 0)}
	eachInput(b, func(b *testing.B, _ []byte, fs []crowdchange.Fetched) {
		b.StopTimer()
		mem := memory.NewGoAllocator()
		tb := transformcrowdchange.NewBuilder(mem)
		defer tb.Release()
		for _, f := range fs {
			tb.Add(f, meta)
		}
		recs := tb.NewRecords()
		defer func() {
			for _, r := range recs {
				r.Release()
			}
		}()
		props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithAllocator(mem))
		arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem))
		var written int64
		b.StartTimer()
		for i := 0; i < b.N; i++ {
			for _, r := range recs {
				n, err := writeParquet(r, props, arrowProps)
				if err != nil {
					b.Fatal(err)
				}
				written += n
			}
		}
		b.ReportMetric(float64(written)/float64(b.N*len(fs)), "parquet-B/tx")
	})
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return io.Discard.Write(p)
}

func writeParquet(r arrow.Record, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties) (int64, error) {
	cw := &countingWriter{}
	w, err := pqarrow.NewFileWriter(r.Schema(), cw, props, arrowProps)
	if err != nil {
		return 0, err
	}
	if err := w.Write(r); err != nil {
		w.Close()
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return cw.n, nil
}
