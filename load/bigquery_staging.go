package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	storage "google.golang.org/api/storage/v1"
)

// Staging in Cloud Storage (config.BigQuery.StagingBucket): Commit uploads each table's Parquet
// file to gs://<bucket>/ccsync/<batch>/<table>.parquet, then loads it from there with the same
// load job (same job IDs, retries and 409 handling) it would otherwise send the file with. Once
// the batch's checkpoints are committed the files are deleted; after a failed Commit they are
// left for Commit to overwrite when the batch is committed again (or for a lifecycle rule).

const (
	// stagingPrefix starts the name of every staged file.
	stagingPrefix = "ccsync/"
	// stagingChunkSize is the size of the chunks of a staged file's upload: a file up to this
	// size is uploaded in one request, a larger one by a resumable upload of chunks this size
	// (one buffer this size per table being staged).
	stagingChunkSize = 8 << 20
	// parquetContentType is the staged files' Content-Type.
	parquetContentType = "application/vnd.apache.parquet"
)

// stagingPerms are the permissions the sink needs on the bucket: create the files (and replace
// them, which deletes the older generation), delete them after the commit, and read them (BigQuery
// reads them as the identity that started the load job: the sink's).
var stagingPerms = []string{"storage.objects.create", "storage.objects.delete", "storage.objects.get"}

// stagingRolesHint says which role the staging bucket needs.
const stagingRolesHint = "grant roles/storage.objectAdmin on the bucket to the identity ccsync runs as " +
	"(BigQuery reads the staged files with that same identity)"

// staging is the bucket where Commit stages the tables' files.
type staging struct {
	svc       *storage.Service
	bucket    string
	chunkSize int
}

// newStaging creates the Cloud Storage client of the staging bucket.
func newStaging(ctx context.Context, bucket string, opts []option.ClientOption, chunkSize int) (*staging, error) {
	svc, err := storage.NewService(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &staging{svc: svc, bucket: bucket, chunkSize: chunkSize}, nil
}

// uri is the gs:// URI of the object name.
func (s *staging) uri(name string) string { return "gs://" + s.bucket + "/" + name }

// check tells whether the bucket exists and the sink may stage files in it, with
// buckets.testIamPermissions: unlike buckets.get, it needs no permission beyond those it tests
// (roles/storage.objectAdmin does not grant storage.buckets.get). location is the dataset's, for
// the hint to create the bucket.
func (s *staging) check(ctx context.Context, location string) error {
	res, err := s.svc.Buckets.TestIamPermissions(s.bucket, stagingPerms).Context(ctx).Do()
	if err != nil {
		var ge *googleapi.Error
		if !errors.As(err, &ge) {
			return fmt.Errorf("%w: checking staging bucket gs://%s (credentials: --bq-credentials or Application Default Credentials; is Cloud Storage reachable from here?): %w",
				ErrWarehouseUnavailable, s.bucket, err)
		}
		switch ge.Code {
		case http.StatusNotFound:
			if location == "" {
				location = "US"
			}
			return fmt.Errorf("%w: staging bucket gs://%s not found: create it: gcloud storage buckets create gs://%s --location %s (in the dataset's location), or leave bq-staging-bucket unset",
				ErrWarehouseUnavailable, s.bucket, s.bucket, location)
		case http.StatusForbidden:
			return fmt.Errorf("%w: no access to staging bucket gs://%s: %s: %w", ErrWarehouseUnavailable, s.bucket, stagingRolesHint, err)
		case http.StatusUnauthorized:
			return fmt.Errorf("%w: checking staging bucket gs://%s: Cloud Storage refused the credentials (--bq-credentials, or Application Default Credentials): %w",
				ErrWarehouseUnavailable, s.bucket, err)
		}
		return fmt.Errorf("%w: checking staging bucket gs://%s: %w", ErrWarehouseUnavailable, s.bucket, err)
	}
	var missing []string
	for _, p := range stagingPerms {
		if !slices.Contains(res.Permissions, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no permission to stage files in gs://%s (%s): %s", ErrWarehouseUnavailable, s.bucket, strings.Join(missing, ", "), stagingRolesHint)
	}
	return nil
}

// stagedObjectName is the name of a batch's staged file for table: ccsync/<batch>/<table>.parquet,
// <batch> being the batch's job ID base without "ccsync-" (the batch ID, after the run ID when it
// does not start with it, in [A-Za-z0-9_-]): deterministic, so staging the batch again
// overwrites the same files.
func stagedObjectName(base, table string) string {
	return stagedPrefix(base) + sanitizeJobPart(table) + ".parquet"
}

// stagedPrefix is the common prefix of a batch's staged files.
func stagedPrefix(base string) string {
	return stagingPrefix + strings.TrimPrefix(base, "ccsync-") + "/"
}

// stage uploads the file at path as the staging bucket's object name, replacing the object if it
// exists (only the same batch's same file has that name). A transient failure (5xx, 429, a
// connection lost) is retried after a backoff, up to maxAttempts uploads: the same name makes a
// retry harmless. Chunks of a resumable upload are also retried by the client itself.
func (q *BigQuery) stage(ctx context.Context, table, path, name string) error {
	st := q.staging
	uri := st.uri(name)
	for try := 1; ; try++ {
		err := st.uploadOnce(ctx, path, name)
		if err == nil {
			return nil
		}
		var openErr *openError
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("loading %s: staging its file at %s: %w", table, uri, ctx.Err())
		case errors.As(err, &openErr):
			return fmt.Errorf("loading %s: staging its file at %s: %w", table, uri, err)
		case !transientInsertError(err):
			return fmt.Errorf("loading %s: staging its file at %s: %w%s", table, uri, err, stagingHint(err))
		case try >= q.maxAttempts:
			return fmt.Errorf("loading %s: staging its file at %s: gave up after %d attempts: %w", table, uri, try, err)
		}
		q.log.WithFields(logrus.Fields{"table": table, "object": uri, "try": try}).WithError(err).Warn("staging upload failed transiently; retrying")
		if err := q.sleep(ctx, backoff(try)); err != nil {
			return fmt.Errorf("loading %s: waiting to retry staging its file at %s: %w", table, uri, err)
		}
	}
}

// stagingHint says what to do about a permanent upload failure, when something can be done.
func stagingHint(err error) string {
	switch apiCode(err) {
	case http.StatusForbidden:
		return ": " + stagingRolesHint
	case http.StatusNotFound:
		return ": does the bucket still exist?"
	}
	return ""
}

// uploadOnce uploads the file once, with a CRC32C checksum Cloud Storage verifies.
func (s *staging) uploadOnce(ctx context.Context, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return &openError{err}
	}
	defer f.Close()
	_, err = s.svc.Objects.Insert(s.bucket, &storage.Object{Name: name, ContentType: parquetContentType}).
		Media(f, googleapi.ChunkSize(s.chunkSize), googleapi.EnableAutoChecksum()).
		Fields("name", "generation", "size").
		Context(ctx).Do()
	return err
}

// unstage deletes a committed batch's staged files, at most loadConcurrency at a time. It is
// best effort: a file that cannot be deleted is logged at warn level, and left for a lifecycle
// rule or for the operator; a file already gone is fine. It returns the number of files deleted.
func (q *BigQuery) unstage(ctx context.Context, batchID string, names []string) int {
	var g errgroup.Group
	g.SetLimit(loadConcurrency)
	deleted := make([]bool, len(names))
	for i, name := range names {
		g.Go(func() error {
			err := q.staging.svc.Objects.Delete(q.staging.bucket, name).Context(ctx).Do()
			switch {
			case err == nil:
				deleted[i] = true
			case apiCode(err) == http.StatusNotFound:
				q.log.WithFields(logrus.Fields{"batch": batchID, "object": q.staging.uri(name)}).Debug("staged file already deleted")
			default:
				q.log.WithFields(logrus.Fields{"batch": batchID, "object": q.staging.uri(name)}).WithError(err).
					Warn("could not delete a committed batch's staged file; delete it, or let a lifecycle rule on the bucket expire " + stagingPrefix)
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error
	n := 0
	for _, d := range deleted {
		if d {
			n++
		}
	}
	return n
}

// keepStaged logs that a failed Commit leaves its staged files (the names it tried to upload).
func (q *BigQuery) keepStaged(batchID, base string, names []string) {
	if len(names) == 0 {
		return
	}
	q.log.WithFields(logrus.Fields{"batch": batchID, "files": len(names), "prefix": q.staging.uri(stagedPrefix(base))}).
		Warn("the batch was not committed: its staged files, if any, are left in place (committing the batch again overwrites them; otherwise delete them, or let a lifecycle rule on the bucket expire " + stagingPrefix + ")")
}
