package bqtest_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/sirupsen/logrus"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/ccsync/ccsync/load/bqtest"
)

const (
	testProject = "proj"
	testDataset = "ds"
)

// fakeClock is a settable clock for Options.Now (read on the server's goroutines).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start starts a server with test defaults and returns it with a client pointed at it.
func start(t *testing.T, opts bqtest.Options) (*bqtest.Server, *bigquery.Client) {
	t.Helper()
	if opts.Project == "" {
		opts.Project = testProject
	}
	if os.Getenv("BQTEST_DEBUG") != "" {
		l := logrus.New()
		l.SetLevel(logrus.DebugLevel)
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: "15:04:05.000"})
		opts.Log = logrus.NewEntry(l).WithField("test", t.Name())
	}
	srv := bqtest.Start(t, opts)
	c, err := bigquery.NewClient(context.Background(), opts.Project, srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("bigquery.NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c
}

// txSchema is the test table: every type ccsync uses.
var txSchema = bigquery.Schema{
	{Name: "id", Type: bigquery.IntegerFieldType, Required: true, Description: "Transaction ID."},
	{Name: "name", Type: bigquery.StringFieldType, Description: "Donor name."},
	{Name: "active", Type: bigquery.BooleanFieldType},
	{Name: "amount", Type: bigquery.NumericFieldType, Description: "Amount."},
	{Name: "created_at", Type: bigquery.TimestampFieldType, Required: true},
	{Name: "day", Type: bigquery.DateFieldType},
	{Name: "tags", Type: bigquery.IntegerFieldType, Repeated: true},
}

// txArrowSchema is txSchema as ccsync's transform writes it.
var txArrowSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "active", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "amount", Type: &arrow.Decimal128Type{Precision: 38, Scale: 9}, Nullable: true},
	{Name: "created_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "tags", Type: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64)},
}, nil)

// txRow is one row of the test table.
type txRow struct {
	id      int64
	name    *string
	active  bool
	amount  string // decimal text, scale ≤ 9
	created time.Time
	day     time.Time
	tags    []int64
}

func strp(s string) *string { return &s }

var sampleRows = []txRow{
	{id: 1, name: strp("Ada"), active: true, amount: "105.15", created: time.Date(2024, 3, 1, 12, 30, 0, 123456000, time.UTC), day: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), tags: []int64{1, 2}},
	{id: 2, name: nil, active: false, amount: "-0.000000001", created: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC), day: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC), tags: []int64{}},
	{id: 3, name: strp("Émile \"quoted\""), active: true, amount: "99999999999999999999999999999.999999999", created: time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC), day: time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), tags: []int64{7}},
}

// decimalFromString parses decimal text into an Arrow decimal128 of scale 9.
func decimalFromString(t testing.TB, s string) decimal128.Num {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("bad decimal %q", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(9), nil)))
	if !r.IsInt() {
		t.Fatalf("decimal %q has more than 9 fractional digits", s)
	}
	return decimal128.FromBigInt(r.Num())
}

// decimal128FromRat converts an integral rational (an unscaled decimal) to decimal128.
func decimal128FromRat(t testing.TB, r *big.Rat) decimal128.Num {
	t.Helper()
	if !r.IsInt() {
		t.Fatalf("%s has more fractional digits than the column's scale", r.FloatString(12))
	}
	return decimal128.FromBigInt(r.Num())
}

// txRecord builds an Arrow record of rows with txArrowSchema.
func txRecord(t testing.TB, mem memory.Allocator, rows []txRow) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(mem, txArrowSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(r.id)
		if r.name == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(*r.name)
		}
		b.Field(2).(*array.BooleanBuilder).Append(r.active)
		b.Field(3).(*array.Decimal128Builder).Append(decimalFromString(t, r.amount))
		b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(r.created.UnixMicro()))
		b.Field(5).(*array.Date32Builder).Append(arrow.Date32FromTime(r.day))
		lb := b.Field(6).(*array.ListBuilder)
		lb.Append(true)
		for _, tag := range r.tags {
			lb.ValueBuilder().(*array.Int64Builder).Append(tag)
		}
	}
	return b.NewRecord()
}

// parquetBytes writes rec as a Parquet file the way ccsync's loader does (pqarrow, compliant
// nested types so lists are 3-level LISTs).
func parquetBytes(t testing.TB, mem memory.Allocator, rec arrow.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithAllocator(mem))
	w, err := pqarrow.NewFileWriter(rec.Schema(), &buf, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatalf("pqarrow.NewFileWriter: %v", err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatalf("writing parquet: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("closing parquet writer: %v", err)
	}
	return buf.Bytes()
}

// txParquet is parquetBytes(txRecord(rows)), with allocations checked.
func txParquet(t testing.TB, rows []txRow) []byte {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := txRecord(t, mem, rows)
	defer rec.Release()
	return parquetBytes(t, mem, rec)
}

// createDataset creates the test dataset.
func createDataset(t *testing.T, c *bigquery.Client) *bigquery.Dataset {
	t.Helper()
	ds := c.Dataset(testDataset)
	if err := ds.Create(context.Background(), &bigquery.DatasetMetadata{Location: "US"}); err != nil {
		t.Fatalf("creating dataset: %v", err)
	}
	return ds
}

// createTxTable creates table name with txSchema.
func createTxTable(t *testing.T, c *bigquery.Client, name string) *bigquery.Table {
	t.Helper()
	tb := c.Dataset(testDataset).Table(name)
	if err := tb.Create(context.Background(), &bigquery.TableMetadata{Schema: txSchema}); err != nil {
		t.Fatalf("creating table %s: %v", name, err)
	}
	return tb
}

// loader returns a loader of data into tb the way ccsync loads: Parquet, list inference,
// WRITE_APPEND, CREATE_NEVER, a chosen job ID.
func loader(tb *bigquery.Table, data []byte, jobID string) *bigquery.Loader {
	src := bigquery.NewReaderSource(bytes.NewReader(data))
	src.SourceFormat = bigquery.Parquet
	src.ParquetOptions = &bigquery.ParquetOptions{EnableListInference: true}
	l := tb.LoaderFrom(src)
	l.WriteDisposition = bigquery.WriteAppend
	l.CreateDisposition = bigquery.CreateNever
	l.JobID = jobID
	return l
}

// waitJob polls a job's status until DONE without sleeping: every jobs.get advances a bqtest job,
// so a bounded loop is enough. It fails t if the status cannot be read.
func waitJob(t *testing.T, j *bigquery.Job) *bigquery.JobStatus {
	t.Helper()
	for i := 0; i < 10; i++ {
		st, err := j.Status(context.Background())
		if err != nil {
			t.Fatalf("job %s status: %v", j.ID(), err)
		}
		if st.Done() {
			return st
		}
	}
	t.Fatalf("job %s not DONE after 10 polls", j.ID())
	return nil
}

// apiCode returns the HTTP code and first reason of a googleapi error (0, "" otherwise).
func apiCode(err error) (int, string) {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return 0, ""
	}
	reason := ""
	if len(ge.Errors) > 0 {
		reason = ge.Errors[0].Reason
	}
	return ge.Code, reason
}

// readAll reads every row of a query.
func readAll(t *testing.T, c *bigquery.Client, sql string) [][]bigquery.Value {
	t.Helper()
	it, err := c.Query(sql).Read(context.Background())
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	var out [][]bigquery.Value
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			return out
		}
		if err != nil {
			t.Fatalf("reading %q: %v", sql, err)
		}
		out = append(out, row)
	}
}
