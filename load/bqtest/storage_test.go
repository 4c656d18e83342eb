package bqtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"
	"github.com/apache/arrow/go/v17/arrow"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	storage "google.golang.org/api/storage/v1"

	"github.com/ccsync/ccsync/load/bqtest"
)

const testBucket = "staging-bucket"

// startStorage starts a server with a bucket and returns a Cloud Storage client whose upload
// requests are recorded.
func startStorage(t *testing.T, opts bqtest.Options) (*bqtest.Server, *storage.Service, *recorder) {
	t.Helper()
	opts.Project = testProject
	srv := bqtest.Start(t, opts)
	srv.CreateBucket(testBucket)
	rec := &recorder{next: srv.HTTPClient().Transport}
	svc, err := storage.NewService(context.Background(), option.WithEndpoint(srv.StorageEndpoint()), option.WithoutAuthentication(),
		option.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		t.Fatal(err)
	}
	return srv, svc, rec
}

// upload inserts an object the way the BigQuery sink does: checksummed, chunked by chunkSize.
func upload(svc *storage.Service, bucket, name string, data []byte, chunkSize int, opts ...googleapi.CallOption) (*storage.Object, error) {
	return svc.Objects.Insert(bucket, &storage.Object{Name: name, ContentType: "application/vnd.apache.parquet"}).
		Media(bytes.NewReader(data), googleapi.ChunkSize(chunkSize), googleapi.EnableAutoChecksum()).
		Context(context.Background()).Do(opts...)
}

func TestStorageUploadProtocols(t *testing.T) {
	t.Parallel()
	big := txParquet(t, bigRows(6000))
	small := txParquet(t, sampleRows)
	const chunk = 256 * 1024
	if len(big) < 2*chunk {
		t.Fatalf("the big file has %d bytes, want more than %d", len(big), 2*chunk)
	}
	tests := []struct {
		name      string
		data      []byte
		chunkSize int
		want      func(reqs []string) error
	}{
		{"small file: multipart", small, chunk, func(reqs []string) error {
			if !reflect.DeepEqual(reqs, []string{"POST multipart"}) {
				return fmt.Errorf("requests = %q", reqs)
			}
			return nil
		}},
		{"unchunked: multipart, streamed", big, 0, func(reqs []string) error {
			if !reflect.DeepEqual(reqs, []string{"POST multipart"}) {
				return fmt.Errorf("requests = %q", reqs)
			}
			return nil
		}},
		{"file above ChunkSize: resumable in chunks", big, chunk, func(reqs []string) error {
			if len(reqs) < 3 || reqs[0] != "POST resumable" || !strings.HasSuffix(reqs[len(reqs)-1], fmt.Sprintf("/%d", len(big))) {
				return fmt.Errorf("requests = %q, want an initiation then chunks, the last one final", reqs)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, svc, rec := startStorage(t, bqtest.Options{})
			const name = "ccsync/run-1-0001/tx.parquet"
			obj, err := upload(svc, testBucket, name, tt.data, tt.chunkSize)
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			if err := tt.want(rec.requests()); err != nil {
				t.Error(err)
			}
			if obj.Name != name || obj.Bucket != testBucket || obj.Size != uint64(len(tt.data)) || obj.Generation == 0 {
				t.Errorf("object resource %+v", obj)
			}
			if got, ok := srv.ObjectData(testBucket, name); !ok || !bytes.Equal(got, tt.data) {
				t.Errorf("stored %d bytes (%v), want the %d uploaded", len(got), ok, len(tt.data))
			}
			if srv.ObjectUploads() != 1 {
				t.Errorf("ObjectUploads = %d, want 1", srv.ObjectUploads())
			}

			// Read back through the client: metadata and data.
			md, err := svc.Objects.Get(testBucket, name).Do()
			if err != nil || md.Size != uint64(len(tt.data)) || md.Generation != obj.Generation || md.ContentType != "application/vnd.apache.parquet" {
				t.Errorf("objects.get = %+v, %v", md, err)
			}
			res, err := svc.Objects.Get(testBucket, name).Download()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !bytes.Equal(got, tt.data) {
				t.Errorf("download: %d bytes differ from the upload", len(got))
			}

			// Uploading again replaces the object with a new generation.
			again, err := upload(svc, testBucket, name, small, chunk)
			if err != nil || again.Generation <= obj.Generation {
				t.Fatalf("second upload: %+v, %v", again, err)
			}
			if objs := srv.Objects(testBucket); len(objs) != 1 || objs[0].Size != int64(len(small)) || objs[0].Generation != again.Generation {
				t.Errorf("Objects = %+v, want only the second generation", objs)
			}
			// With ifGenerationMatch=0 ("only if absent") it is refused.
			if _, err := upload(svc, testBucket, name, small, chunk, googleapi.QueryParameter("ifGenerationMatch", "0")); !hasCode(err, http.StatusPreconditionFailed, "conditionNotMet") {
				t.Errorf("upload over an existing object with ifGenerationMatch=0: %v, want 412 conditionNotMet", err)
			}

			if err := svc.Objects.Delete(testBucket, name).Do(); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if err := svc.Objects.Delete(testBucket, name).Do(); !hasCode(err, http.StatusNotFound, "notFound") {
				t.Errorf("second delete: %v, want 404", err)
			}
			if srv.ObjectDeletes() != 1 || len(srv.Objects(testBucket)) != 0 {
				t.Errorf("ObjectDeletes %d, objects %v", srv.ObjectDeletes(), srv.Objects(testBucket))
			}
		})
	}
}

// hasCode tells whether err is a googleapi error with that code and first reason.
func hasCode(err error, code int, reason string) bool {
	c, r := apiCode(err)
	return c == code && r == reason
}

func TestStorageRefusals(t *testing.T) {
	t.Parallel()
	data := txParquet(t, sampleRows)
	tests := []struct {
		name   string
		setup  func(srv *bqtest.Server)
		call   func(srv *bqtest.Server, svc *storage.Service) error
		code   int
		reason string
	}{
		{"insert into a missing bucket", nil, func(_ *bqtest.Server, svc *storage.Service) error {
			_, err := upload(svc, "no-such-bucket", "o", data, 256*1024)
			return err
		}, http.StatusNotFound, "notFound"},
		{"insert denied", func(srv *bqtest.Server) { srv.DenyPermissions(bqtest.PermStorageObjectsCreate) }, func(_ *bqtest.Server, svc *storage.Service) error {
			_, err := upload(svc, testBucket, "o", data, 256*1024)
			return err
		}, http.StatusForbidden, bqtest.ReasonForbidden},
		{"insert 503 (injected)", func(srv *bqtest.Server) {
			srv.InjectFault(bqtest.Fault{Kind: bqtest.ObjectInsertUnavailable})
		}, func(_ *bqtest.Server, svc *storage.Service) error {
			_, err := upload(svc, testBucket, "o", data, 256*1024)
			return err
		}, http.StatusServiceUnavailable, bqtest.ReasonBackendError},
		{"resumable initiation 503 (injected)", func(srv *bqtest.Server) {
			srv.InjectFault(bqtest.Fault{Kind: bqtest.ObjectInsertUnavailable, Match: func(c bqtest.Call) bool { return c.Object == "big" }})
		}, func(_ *bqtest.Server, svc *storage.Service) error {
			_, err := upload(svc, testBucket, "big", txParquet(t, bigRows(3000)), 256*1024)
			return err
		}, http.StatusServiceUnavailable, bqtest.ReasonBackendError},
		{"wrong checksum", nil, func(_ *bqtest.Server, svc *storage.Service) error {
			_, err := svc.Objects.Insert(testBucket, &storage.Object{Name: "o", Crc32c: "AAAAAA=="}).Media(bytes.NewReader(data)).Do()
			return err
		}, http.StatusBadRequest, bqtest.ReasonInvalid},
		{"delete 503 (injected)", func(srv *bqtest.Server) {
			srv.InjectFault(bqtest.Fault{Kind: bqtest.ObjectDeleteUnavailable})
		}, func(srv *bqtest.Server, svc *storage.Service) error {
			if _, err := upload(svc, testBucket, "o", data, 256*1024); err != nil {
				return err
			}
			return svc.Objects.Delete(testBucket, "o").Do()
		}, http.StatusServiceUnavailable, bqtest.ReasonBackendError},
		{"delete denied", func(srv *bqtest.Server) { srv.DenyPermissions(bqtest.PermStorageObjectsDelete) }, func(_ *bqtest.Server, svc *storage.Service) error {
			return svc.Objects.Delete(testBucket, "o").Do()
		}, http.StatusForbidden, bqtest.ReasonForbidden},
		{"buckets.get of a missing bucket", nil, func(_ *bqtest.Server, svc *storage.Service) error {
			_, err := svc.Buckets.Get("no-such-bucket").Do()
			return err
		}, http.StatusNotFound, "notFound"},
		{"buckets.get denied", func(srv *bqtest.Server) { srv.DenyPermissions(bqtest.PermStorageBucketsGet) }, func(_ *bqtest.Server, svc *storage.Service) error {
			_, err := svc.Buckets.Get(testBucket).Do()
			return err
		}, http.StatusForbidden, bqtest.ReasonForbidden},
		{"testIamPermissions of a missing bucket", nil, func(_ *bqtest.Server, svc *storage.Service) error {
			_, err := svc.Buckets.TestIamPermissions("no-such-bucket", []string{"storage.objects.create"}).Do()
			return err
		}, http.StatusNotFound, "notFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, svc, _ := startStorage(t, bqtest.Options{})
			if tt.setup != nil {
				tt.setup(srv)
			}
			err := tt.call(srv, svc)
			if !hasCode(err, tt.code, tt.reason) {
				t.Fatalf("error %v, want %d %s", err, tt.code, tt.reason)
			}
			if strings.HasSuffix(tt.name, "(injected)") && srv.PendingFaults() != 0 {
				t.Errorf("%d faults pending", srv.PendingFaults())
			}
			if srv.StorageRequests() == 0 {
				t.Error("StorageRequests = 0")
			}
		})
	}
}

func TestStorageBucketMetadataAndPermissions(t *testing.T) {
	t.Parallel()
	srv, svc, _ := startStorage(t, bqtest.Options{Location: "EU"})
	b, err := svc.Buckets.Get(testBucket).Do()
	if err != nil || b.Name != testBucket || b.Location != "EU" {
		t.Fatalf("buckets.get = %+v, %v", b, err)
	}
	perms := []string{"storage.objects.create", "storage.objects.delete", "storage.objects.get"}
	res, err := svc.Buckets.TestIamPermissions(testBucket, perms).Do()
	if err != nil || !reflect.DeepEqual(res.Permissions, perms) {
		t.Fatalf("testIamPermissions = %+v, %v; want all of %v", res, err, perms)
	}
	srv.DenyPermissions(bqtest.PermStorageObjectsDelete)
	res, err = svc.Buckets.TestIamPermissions(testBucket, perms).Do()
	if err != nil || !reflect.DeepEqual(res.Permissions, []string{"storage.objects.create", "storage.objects.get"}) {
		t.Fatalf("testIamPermissions after denying delete = %+v, %v", res, err)
	}
}

func TestStorageRawMediaUpload(t *testing.T) {
	t.Parallel()
	srv, _, _ := startStorage(t, bqtest.Options{})
	data := txParquet(t, sampleRows)
	url := srv.URL() + "/upload/storage/v1/b/" + testBucket + "/o?uploadType=media&name=" + "a%2Fb.parquet"
	res, err := srv.HTTPClient().Post(url, "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got, ok := srv.ObjectData(testBucket, "a/b.parquet"); !ok || !bytes.Equal(got, data) {
		t.Errorf("stored %d bytes (%v)", len(got), ok)
	}
}

// loadFromGCS starts a load job of uris into tb the way the BigQuery sink does.
func loadFromGCS(t *testing.T, tb *bigquery.Table, jobID string, uris ...string) (*bigquery.Job, error) {
	t.Helper()
	src := bigquery.NewGCSReference(uris...)
	src.SourceFormat = bigquery.Parquet
	src.ParquetOptions = &bigquery.ParquetOptions{EnableListInference: true}
	src.Schema = txSchema
	l := tb.LoaderFrom(src)
	l.WriteDisposition = bigquery.WriteAppend
	l.CreateDisposition = bigquery.CreateNever
	l.JobID = jobID
	return l.Run(context.Background())
}

func TestLoadFromCloudStorage(t *testing.T) {
	t.Parallel()
	srv, svc, _ := startStorage(t, bqtest.Options{})
	c, err := bigquery.NewClient(context.Background(), testProject, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	first, second := txParquet(t, sampleRows[:2]), txParquet(t, sampleRows[2:])
	for name, data := range map[string][]byte{"ccsync/b/1.parquet": first, "ccsync/b/2.parquet": second} {
		if _, err := upload(svc, testBucket, name, data, 256*1024); err != nil {
			t.Fatal(err)
		}
	}
	uris := []string{"gs://" + testBucket + "/ccsync/b/1.parquet", "gs://" + testBucket + "/ccsync/b/2.parquet"}
	j, err := loadFromGCS(t, tb, "gcs-1", uris...)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	st := waitJob(t, j)
	if st.Err() != nil {
		t.Fatalf("load: %v", st.Err())
	}
	ls, _ := st.Statistics.Details.(*bigquery.LoadStatistics)
	if ls == nil || ls.OutputRows != 3 || ls.InputFiles != 2 || ls.InputFileBytes != int64(len(first)+len(second)) {
		t.Errorf("load statistics %+v", ls)
	}
	info, _ := srv.Job("gcs-1")
	if !reflect.DeepEqual(info.SourceURIs, uris) {
		t.Errorf("JobInfo.SourceURIs = %v, want %v", info.SourceURIs, uris)
	}
	// The rows are the files', exactly; deleting the objects afterwards changes nothing.
	for _, name := range []string{"ccsync/b/1.parquet", "ccsync/b/2.parquet"} {
		if err := svc.Objects.Delete(testBucket, name).Do(); err != nil {
			t.Fatal(err)
		}
	}
	checkTxRows(t, readAll(t, c, "SELECT id, name, active, amount, created_at, day, tags FROM `ds.tx` ORDER BY id"), sampleRows)

	// The same job ID again: 409, nothing appended twice.
	if _, err := loadFromGCS(t, tb, "gcs-1", uris...); !hasCode(err, http.StatusConflict, bqtest.ReasonDuplicate) {
		t.Errorf("second insert of gcs-1: %v, want 409", err)
	}
}

func TestLoadFromCloudStorageFailures(t *testing.T) {
	t.Parallel()
	data := txParquet(t, sampleRows)
	other := parquetOf(t, []arrow.Field{fID, fCreated}, []any{int64(9), created0})
	tests := []struct {
		name   string
		setup  func(t *testing.T, srv *bqtest.Server, svc *storage.Service)
		uris   []string
		insert int    // the insert's HTTP error (0: accepted)
		reason string // the insert's or the job's error reason
	}{
		{"object missing", nil, []string{"gs://" + testBucket + "/nope.parquet"}, 0, bqtest.ReasonNotFound},
		{"bucket missing", nil, []string{"gs://no-such-bucket/a.parquet"}, 0, bqtest.ReasonNotFound},
		{"reading denied", func(_ *testing.T, srv *bqtest.Server, _ *storage.Service) {
			srv.DenyPermissions(bqtest.PermStorageObjectsGet)
		},
			[]string{"gs://" + testBucket + "/a.parquet"}, 0, bqtest.ReasonAccessDenied},
		{"files with different columns", func(t *testing.T, _ *bqtest.Server, svc *storage.Service) {
			if _, err := upload(svc, testBucket, "other.parquet", other, 0); err != nil {
				t.Fatal(err)
			}
		}, []string{"gs://" + testBucket + "/a.parquet", "gs://" + testBucket + "/other.parquet"}, 0, bqtest.ReasonInvalid},
		{"not a Cloud Storage URI", nil, []string{"s3://b/a.parquet"}, http.StatusBadRequest, bqtest.ReasonInvalid},
		{"wildcard", nil, []string{"gs://" + testBucket + "/*.parquet"}, http.StatusNotImplemented, bqtest.ReasonNotImplemented},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, svc, _ := startStorage(t, bqtest.Options{})
			c, err := bigquery.NewClient(context.Background(), testProject, srv.ClientOptions()...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			createDataset(t, c)
			tb := createTxTable(t, c, "tx")
			if _, err := upload(svc, testBucket, "a.parquet", data, 0); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, srv, svc)
			}
			j, err := loadFromGCS(t, tb, fmt.Sprintf("gcs-fail-%d", i), tt.uris...)
			if tt.insert != 0 {
				if !hasCode(err, tt.insert, tt.reason) {
					t.Fatalf("insert: %v, want %d %s", err, tt.insert, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			st := waitJob(t, j)
			var be *bigquery.Error
			if st.Err() == nil || !asBQError(st.Err(), &be) || be.Reason != tt.reason {
				t.Fatalf("job error %v, want reason %s", st.Err(), tt.reason)
			}
			t.Logf("job error: %v", st.Err())
			if got := readAll(t, c, "SELECT count(*) FROM `ds.tx`"); got[0][0] != int64(0) {
				t.Errorf("a failed load appended %v rows", got[0][0])
			}
		})
	}
}

// asBQError is errors.As for *bigquery.Error.
func asBQError(err error, target **bigquery.Error) bool {
	be, ok := err.(*bigquery.Error)
	if ok {
		*target = be
	}
	return ok
}
