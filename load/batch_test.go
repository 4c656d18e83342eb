package load

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	pqschema "github.com/apache/arrow/go/v17/parquet/schema"

	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

func TestBatchWriteRefuses(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	tr, _ := schemas.ByName(crowdchange.Transactions)
	good := func(over map[string]any) []cell {
		return genRow(tr, 0, with(txKey(tr, 1), stamp("run-1", "batch-1", day1), over))
	}
	// A record whose schema lacks the field descriptions.
	plainFields := tr.ArrowSchema().Fields()
	for i := range plainFields {
		plainFields[i].Metadata = arrow.Metadata{}
	}
	plain := array.NewRecordBuilder(mem, arrow.NewSchema(plainFields, nil))
	defer plain.Release()
	for i, c := range good(nil) {
		if err := appendCell(plain.Field(i), c); err != nil {
			t.Fatal(err)
		}
	}
	plainRec := plain.NewRecord()
	defer plainRec.Release()

	tests := []struct {
		name    string
		table   string
		rec     func() arrow.Record
		wantErr string
	}{
		{"unknown table", "transaction", func() arrow.Record { return mustRecord(t, mem, crowdchange.Transactions, good(nil)) }, "not a table loaded in batches"},
		{"bookkeeping table", schemas.Checkpoints, func() arrow.Record { return mustRecord(t, mem, crowdchange.Transactions, good(nil)) }, "not a table loaded in batches"},
		{"another table's schema", crowdchange.TransactionItem, func() arrow.Record { return mustRecord(t, mem, crowdchange.Transactions, good(nil)) }, "schema differs"},
		{"schema without descriptions", crowdchange.Transactions, func() arrow.Record { plainRec.Retain(); return plainRec }, "other metadata"},
		{"another batch's row", crowdchange.Transactions, func() arrow.Record {
			return mustRecord(t, mem, crowdchange.Transactions, good(nil), good(map[string]any{schemas.ColBatchID: "batch-0"}))
		}, "row 1: _batch_id"},
		{"another run's row", crowdchange.Transactions, func() arrow.Record {
			return mustRecord(t, mem, crowdchange.Transactions, good(map[string]any{schemas.ColRunID: "run-0"}))
		}, "row 0: _run_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBatch(t, mem, "run-1", "batch-1")
			rec := tt.rec()
			defer rec.Release()
			err := b.Write(tt.table, rec)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Write error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "O'Brien") || strings.Contains(err.Error(), "105.15") {
				t.Errorf("error shows row values: %v", err)
			}
			if err := b.Close(); err != nil {
				t.Errorf("Close after a refused write: %v", err)
			}
			if len(b.Files()) != 0 || len(b.Rows()) != 0 {
				t.Errorf("a refused write left files %v, rows %v", b.Files(), b.Rows())
			}
		})
	}
}

func TestBatchLifecycle(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	tr, _ := schemas.ByName(crowdchange.Transactions)
	items, _ := schemas.ByName(crowdchange.TransactionItem)
	b := newBatch(t, mem, "run-1", "batch-1")
	if b.ID() != "batch-1" || b.RunID() != "run-1" {
		t.Fatalf("ID, RunID = %s, %s", b.ID(), b.RunID())
	}
	for i := int64(1); i <= 2; i++ { // two writes: two row groups
		writeRows(t, b, mem, tr.Name, genRow(tr, int(i), with(txKey(tr, i), stamp("run-1", "batch-1", day1))))
	}
	writeRows(t, b, mem, items.Name) // no rows: no file
	b.AddCheckpoint(Checkpoint{Source: "crowdchange", Stream: StreamDate, WindowStart: day1.In(time.FixedZone("X", 3600)), WindowEnd: day2, RunID: "other", BatchID: "other"})
	b.AddCheckpoint(Checkpoint{Source: "crowdchange", Stream: StreamPayout, PayoutAccount: "user", WindowStart: day1, WindowEnd: day2})

	if len(b.Files()) != 0 || b.Bytes() != 0 {
		t.Errorf("before Close: Files() = %v, Bytes() = %d", b.Files(), b.Bytes())
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	files := b.Files()
	if len(files) != 1 || files[tr.Name] == "" {
		t.Fatalf("Files() = %v, want transactions only", files)
	}
	if got := b.Rows(); len(got) != 1 || got[tr.Name] != 2 {
		t.Errorf("Rows() = %v, want transactions: 2", got)
	}
	if b.Windows() != 2 {
		t.Errorf("Windows() = %d, want 2", b.Windows())
	}
	cps := b.Checkpoints()
	if cps[0].RunID != "run-1" || cps[0].BatchID != "batch-1" || cps[0].WindowStart.Location() != time.UTC || !cps[0].WindowStart.Equal(day1) {
		t.Errorf("checkpoint not stamped with the batch, in UTC: %+v", cps[0])
	}
	rd, err := file.OpenParquetFile(files[tr.Name], false)
	if err != nil {
		t.Fatal(err)
	}
	if rd.NumRowGroups() != 2 || rd.NumRows() != 2 {
		t.Errorf("%d row groups, %d rows; want 2, 2", rd.NumRowGroups(), rd.NumRows())
	}
	rd.Close()

	rec := mustRecord(t, mem, tr.Name, genRow(tr, 0, with(txKey(tr, 3), stamp("run-1", "batch-1", day1))))
	defer rec.Release()
	if err := b.Write(tr.Name, rec); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Write after Close: %v, want an error", err)
	}

	if err := b.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(files[tr.Name]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file still there after Remove: %v", err)
	}
	if len(b.Files()) != 0 {
		t.Errorf("Files() after Remove = %v", b.Files())
	}
}

// TestBatchRemoveWithoutClose releases the writers' memory (checked by the allocator).
func TestBatchRemoveWithoutClose(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	b := newBatch(t, mem, "run-1", "batch-1")
	fullBatch(t, mem, b, day1, 1, 2)
	if mem.CurrentAlloc() == 0 {
		t.Fatal("open writers hold no memory; the test checks nothing")
	}
	if err := b.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestBatchConcurrentWrites(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	d := openTestDB(t, "")
	b := newBatch(t, mem, "run-1", "batch-1")
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(crowdchange.DataTables()))
	for w := 0; w < 4; w++ { // four "windows" in parallel, each writing every table
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for _, tbl := range crowdchange.DataTables() {
				id := int64(w + 1)
				rec, err := buildRecord(mem, tbl, [][]cell{genRow(tbl, w, with(txKey(tbl, id), stamp("run-1", "batch-1", day1)))})
				if err != nil {
					errs <- err
					return
				}
				if err := b.Write(tbl.Name, rec); err != nil {
					errs <- fmt.Errorf("window %d: %w", w, err)
				}
				rec.Release()
			}
			b.AddCheckpoint(Checkpoint{Source: "crowdchange", Stream: StreamDate, WindowStart: day1.Add(time.Duration(w) * time.Hour), WindowEnd: day1.Add(time.Duration(w+1) * time.Hour)})
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := d.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range crowdchange.DataTables() {
		if n := countRows(t, d.DB(), tbl.CurrentView()); n != 4 {
			t.Errorf("%s has %d rows, want 4", tbl.CurrentView(), n)
		}
	}
	if b.Windows() != 4 {
		t.Errorf("Windows() = %d, want 4", b.Windows())
	}
}

// TestParquetForBigQuery checks the Parquet encoding BigQuery's load jobs rely on: DECIMAL(38, 9)
// in 16-byte FIXED_LEN_BYTE_ARRAY (NUMERIC), TIMESTAMP(MICROS, UTC), DATE, three-level LIST
// (REPEATED with list inference), REQUIRED for non-null columns, Snappy, the Arrow schema kept.
func TestParquetForBigQuery(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	b := newBatch(t, mem, "run-1", "batch-1")
	fullBatch(t, mem, b, day1, 1)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range crowdchange.DataTables() {
		t.Run(tbl.Name, func(t *testing.T) {
			rd, err := file.OpenParquetFile(b.Files()[tbl.Name], false)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			md := rd.MetaData()
			if md.KeyValueMetadata().FindValue("ARROW:schema") == nil {
				t.Error("no ARROW:schema in the file's metadata")
			}
			root := md.Schema.Root()
			if root.NumFields() != len(tbl.Columns) {
				t.Fatalf("%d fields, want %d", root.NumFields(), len(tbl.Columns))
			}
			for i, c := range tbl.Columns {
				n := root.Field(i)
				if n.Name() != c.Name {
					t.Errorf("field %d is %s, want %s", i, n.Name(), c.Name)
					continue
				}
				wantRep := parquet.Repetitions.Optional
				if c.Required || c.Repeated {
					wantRep = parquet.Repetitions.Required
				}
				if n.RepetitionType() != wantRep {
					t.Errorf("%s: repetition %s, want %s", c.Name, n.RepetitionType(), wantRep)
				}
				if c.Repeated {
					g, ok := n.(*pqschema.GroupNode)
					if !ok || !n.LogicalType().Equals(pqschema.ListLogicalType{}) || g.NumFields() != 1 ||
						g.Field(0).Name() != "list" || g.Field(0).RepetitionType() != parquet.Repetitions.Repeated {
						t.Errorf("%s: not a three-level LIST", c.Name)
						continue
					}
					inner := g.Field(0).(*pqschema.GroupNode)
					if inner.NumFields() != 1 || inner.Field(0).Name() != "element" {
						t.Errorf("%s: list element is not called element", c.Name)
						continue
					}
					n = inner.Field(0)
				}
				checkLeaf(t, c, n)
			}
			for rg := 0; rg < rd.NumRowGroups(); rg++ {
				for col := 0; col < md.Schema.NumColumns(); col++ {
					cc, err := md.RowGroup(rg).ColumnChunk(col)
					if err != nil {
						t.Fatal(err)
					}
					if cc.Compression() != compress.Codecs.Snappy {
						t.Errorf("column %d: compression %s, want snappy", col, cc.Compression())
					}
				}
			}
		})
	}
}

func checkLeaf(t *testing.T, c schemas.Column, n pqschema.Node) {
	t.Helper()
	p, ok := n.(*pqschema.PrimitiveNode)
	if !ok {
		t.Errorf("%s: not a primitive", c.Name)
		return
	}
	lt := p.LogicalType()
	switch c.Type {
	case schemas.Numeric:
		d, ok := lt.(*pqschema.DecimalLogicalType)
		if !ok || p.PhysicalType() != parquet.Types.FixedLenByteArray || p.TypeLength() != 16 || d.Precision() != 38 || d.Scale() != 9 {
			t.Errorf("%s: %s %s(%d), want DECIMAL(38, 9) in FIXED_LEN_BYTE_ARRAY(16)", c.Name, lt, p.PhysicalType(), p.TypeLength())
		}
	case schemas.Timestamp:
		ts, ok := lt.(*pqschema.TimestampLogicalType)
		if !ok || p.PhysicalType() != parquet.Types.Int64 || !ts.IsAdjustedToUTC() || ts.TimeUnit() != pqschema.TimeUnitMicros {
			t.Errorf("%s: %s %s, want INT64 TIMESTAMP(MICROS, UTC)", c.Name, lt, p.PhysicalType())
		}
	case schemas.Date:
		if !lt.Equals(pqschema.DateLogicalType{}) || p.PhysicalType() != parquet.Types.Int32 {
			t.Errorf("%s: %s %s, want INT32 DATE", c.Name, lt, p.PhysicalType())
		}
	case schemas.String:
		if !lt.Equals(pqschema.StringLogicalType{}) || p.PhysicalType() != parquet.Types.ByteArray {
			t.Errorf("%s: %s %s, want BYTE_ARRAY STRING", c.Name, lt, p.PhysicalType())
		}
	case schemas.Int64:
		if p.PhysicalType() != parquet.Types.Int64 || !(lt.Equals(pqschema.NoLogicalType{}) || lt.Equals(pqschema.NewIntLogicalType(64, true))) {
			t.Errorf("%s: %s %s, want INT64", c.Name, lt, p.PhysicalType())
		}
	case schemas.Bool:
		if p.PhysicalType() != parquet.Types.Boolean {
			t.Errorf("%s: %s, want BOOLEAN", c.Name, p.PhysicalType())
		}
	default:
		t.Errorf("%s: unexpected type %s", c.Name, c.Type)
	}
}
