package load

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/sirupsen/logrus"
	"google.golang.org/api/googleapi"
)

// JobError is a load job that failed for good: BigQuery refused it (its jobs.insert answered a
// permanent error, such as the daily load-job quota), it ended with a permanent error (invalid,
// notFound, accessDenied, ...), or it kept failing transiently until the attempts ran out. Nothing
// of the job's data is in the table. Match it with errors.As.
type JobError struct {
	Table string // the destination table
	JobID string // the last job's ID
	// Reason and Message are BigQuery's (errorResult.reason and .message, or the insert's); any
	// value the message quoted is removed (see valueFree).
	Reason  string
	Message string
	// Attempts is the number of jobs started for the table (each with its own ID).
	Attempts int
	// Transient tells that the last failure was transient: the attempts ran out.
	Transient bool
	// Hint says what to do, when something can be done.
	Hint string
	// Err is the underlying error, when there is one (the insert's *googleapi.Error, the job's
	// *bigquery.Error). Its message may quote row values: never print it.
	Err error
}

// Error reads "loading transactions: job ccsync-…-transactions-1: invalid: message".
func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "loading %s: job %s: %s: %s", e.Table, e.JobID, e.Reason, e.Message)
	if e.Transient {
		fmt.Fprintf(&b, " (gave up after %d attempts)", e.Attempts)
	}
	if e.Hint != "" {
		b.WriteString(": ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *JobError) Unwrap() error { return e.Err }

// quotaHint explains BigQuery's per-table daily load-job quota.
const quotaHint = "BigQuery allows 1,500 load jobs per table per day (failed jobs count too): " +
	"wait for the quota to recover, and make batches larger (fewer commits per day)"

// maxJobIDLen is BigQuery's limit on job IDs.
const maxJobIDLen = 1024

// jobIDBase is the job ID prefix of a batch: "ccsync-<run>-<batch>" (the run omitted when the
// batch ID starts with it), sanitised to BigQuery's alphabet [A-Za-z0-9_-]. When sanitising
// changed anything, a hash of the original keeps distinct batches apart.
func jobIDBase(runID, batchID string) string {
	raw := batchID
	if runID != "" && !strings.HasPrefix(batchID, runID) {
		raw = runID + "-" + batchID
	}
	return "ccsync-" + sanitizeJobPart(raw)
}

// sanitizeJobPart maps s into [A-Za-z0-9_-], adding a hash of s when it had other characters.
func sanitizeJobPart(s string) string {
	var b strings.Builder
	changed := false
	for _, r := range s {
		if r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
			changed = true
		}
	}
	if changed {
		h := fnv.New32a()
		io.WriteString(h, s)
		fmt.Fprintf(&b, "-%08x", h.Sum32())
	}
	return b.String()
}

// jobID is the ID of a batch's job for one table (or "checkpoints"), attempt n (from 1). An ID
// that would be too long keeps its end (table and attempt) and a hash of what was cut.
func jobID(base, what string, attempt int) string {
	id := fmt.Sprintf("%s-%s-%d", base, sanitizeJobPart(what), attempt)
	if len(id) <= maxJobIDLen {
		return id
	}
	h := fnv.New64a()
	io.WriteString(h, id)
	tail := fmt.Sprintf("-%016x-%s-%d", h.Sum64(), sanitizeJobPart(what), attempt)
	if len(tail) >= maxJobIDLen {
		tail = tail[len(tail)-maxJobIDLen+8:]
	}
	return id[:maxJobIDLen-len(tail)] + tail
}

// loadSpec is one load: its destination, its data and the prefix of its job IDs.
type loadSpec struct {
	table  string
	base   string // job ID prefix; the job IDs are base-what-attempt
	what   string // the job ID's table part
	schema bigquery.Schema
	// uri is the data's gs:// URI when it was staged in Cloud Storage; "" when the data is
	// uploaded with the job.
	uri string
	// open returns the data to upload with the job (unless uri is set), afresh for every insert
	// attempt.
	open  func() (io.ReadCloser, error)
	rows  int64 // expected rows; < 0 when unknown
	bytes int64
}

// loadResult is a successful load.
type loadResult struct {
	jobID    string
	rows     int64
	attempts int
}

// load runs a load job to completion: Parquet, WRITE_APPEND, CREATE_NEVER, the explicit schema,
// a deterministic job ID per attempt. A job that fails transiently is replaced by a new job with
// the next attempt number (a failed job's ID cannot be reused), up to maxAttempts; a permanent
// failure is returned as a *JobError. It checks that the job appended the expected rows.
func (q *BigQuery) load(ctx context.Context, spec loadSpec) (loadResult, error) {
	start := q.now()
	var last *JobError
	for attempt := 1; attempt <= q.maxAttempts; attempt++ {
		id := jobID(spec.base, spec.what, attempt)
		if attempt > 1 {
			if err := q.sleep(ctx, backoff(attempt-1)); err != nil {
				return loadResult{}, fmt.Errorf("loading %s: waiting to start job %s: %w", spec.table, id, err)
			}
		}
		job, err := q.insertLoad(ctx, spec, id)
		if err != nil {
			return loadResult{}, err
		}
		st, err := q.wait(ctx, spec.table, job)
		if err != nil {
			return loadResult{}, err
		}
		if st.Err() == nil {
			rows := int64(-1)
			if st.Statistics != nil {
				if ls, ok := st.Statistics.Details.(*bigquery.LoadStatistics); ok {
					rows = ls.OutputRows
				}
			}
			switch {
			case rows < 0:
				q.log.WithFields(logrus.Fields{"table": spec.table, "job_id": id}).Warn("load job reported no row count; not checked")
			case spec.rows >= 0 && rows != spec.rows:
				return loadResult{}, fmt.Errorf("loading %s: job %s appended %d rows, the batch has %d", spec.table, id, rows, spec.rows)
			}
			q.log.WithFields(logrus.Fields{
				"table": spec.table, "job_id": id, "rows": rows, "bytes": spec.bytes, "attempts": attempt,
				"duration": q.now().Sub(start).Round(time.Millisecond),
			}).Debug("load job done")
			return loadResult{jobID: id, rows: rows, attempts: attempt}, nil
		}
		last = jobFailure(spec.table, id, attempt, st.Err())
		if !last.Transient {
			return loadResult{}, last
		}
		q.log.WithFields(logrus.Fields{"table": spec.table, "job_id": id, "reason": last.Reason}).Warn("load job failed transiently; starting a new job")
	}
	return loadResult{}, last
}

// jobFailure classifies a job's final error.
func jobFailure(table, id string, attempt int, err error) *JobError {
	je := &JobError{Table: table, JobID: id, Attempts: attempt, Err: err, Message: err.Error()}
	var be *bigquery.Error
	if errors.As(err, &be) {
		je.Reason, je.Message = be.Reason, be.Message
	}
	je.Transient = transientJobReason(je.Reason, je.Message)
	je.Message = scrubValues(je.Message)
	if je.Reason == "quotaExceeded" && !je.Transient {
		je.Hint = quotaHint
	}
	return je
}

// transientJobReason tells whether a job that failed with reason and message may succeed when
// run again as a new job.
func transientJobReason(reason, message string) bool {
	switch reason {
	case "backendError", "internalError", "rateLimitExceeded", "jobRateLimitExceeded", "jobInternalError":
		return true
	}
	return strings.Contains(message, "too many table update operations")
}

// insertLoad inserts the load job id, retrying transient failures with the same ID (after a
// backoff); an insert answered 409 means an earlier attempt created the job: it is fetched
// instead. A permanent refusal is a *JobError.
func (q *BigQuery) insertLoad(ctx context.Context, spec loadSpec, id string) (*bigquery.Job, error) {
	for try := 1; ; try++ {
		job, err := q.insertOnce(ctx, spec, id)
		if err == nil {
			return job, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("loading %s: inserting job %s: %w", spec.table, id, ctx.Err())
		}
		if apiCode(err) == http.StatusConflict {
			job, gerr := q.client.JobFromIDLocation(ctx, id, q.location)
			if gerr != nil {
				return nil, fmt.Errorf("loading %s: job %s exists (an earlier attempt created it) but could not be read: %w", spec.table, id, gerr)
			}
			if err := sameLoad(job, q.dataset, spec.table); err != nil {
				return nil, fmt.Errorf("loading %s: job %s exists but %w: job IDs must be unique to a batch", spec.table, id, err)
			}
			q.log.WithFields(logrus.Fields{"table": spec.table, "job_id": id}).Debug("job already inserted; using it")
			return job, nil
		}
		var openErr *openError
		switch {
		case errors.As(err, &openErr):
			return nil, fmt.Errorf("loading %s: %w", spec.table, err)
		case !transientInsertError(err):
			je := &JobError{Table: spec.table, JobID: id, Reason: reasonOf(err), Message: scrubValues(messageOf(err)), Err: err}
			switch {
			case je.Reason == "quotaExceeded":
				je.Hint = quotaHint
			case je.Reason == "accessDenied":
				je.Hint = rolesHint
			}
			return nil, je
		case try >= q.maxAttempts:
			return nil, &JobError{Table: spec.table, JobID: id, Reason: reasonOf(err), Message: scrubValues(messageOf(err)), Transient: true, Attempts: try, Err: err}
		}
		q.log.WithFields(logrus.Fields{"table": spec.table, "job_id": id, "try": try}).WithError(err).Debug("job insert failed transiently; retrying with the same job ID")
		if err := q.sleep(ctx, backoff(try)); err != nil {
			return nil, fmt.Errorf("loading %s: waiting to retry job %s: %w", spec.table, id, err)
		}
	}
}

// sameLoad checks that an existing job (found by its ID) is a load into dataset.table.
func sameLoad(job *bigquery.Job, dataset, table string) error {
	cfg, err := job.Config()
	if err != nil {
		return fmt.Errorf("its configuration cannot be read: %w", err)
	}
	lc, ok := cfg.(*bigquery.LoadConfig)
	if !ok || lc.Dst == nil || lc.Dst.DatasetID != dataset || lc.Dst.TableID != table {
		return errors.New("it is not a load into this table")
	}
	return nil
}

// openError is a failure to open a load's data (not BigQuery's).
type openError struct{ err error }

func (e *openError) Error() string { return "opening the data: " + e.err.Error() }
func (e *openError) Unwrap() error { return e.err }

// insertOnce sends one jobs.insert: with the data, or referring to the staged file. (Without
// media, the client itself retries a transient failure of the insert, with the same job ID,
// before answering; with media it never does.)
func (q *BigQuery) insertOnce(ctx context.Context, spec loadSpec, id string) (*bigquery.Job, error) {
	fc := bigquery.FileConfig{
		SourceFormat:   bigquery.Parquet,
		ParquetOptions: &bigquery.ParquetOptions{EnableListInference: true},
		Schema:         spec.schema,
	}
	var src bigquery.LoadSource
	if spec.uri != "" {
		gcs := bigquery.NewGCSReference(spec.uri)
		gcs.FileConfig = fc
		src = gcs
	} else {
		data, err := spec.open()
		if err != nil {
			return nil, &openError{err}
		}
		defer data.Close()
		rs := bigquery.NewReaderSource(data)
		rs.FileConfig = fc
		src = rs
	}
	l := q.client.Dataset(q.dataset).Table(spec.table).LoaderFrom(src)
	if spec.uri == "" {
		l.MediaOptions = []googleapi.MediaOption{googleapi.ChunkSize(uploadChunkSize(spec.bytes))}
	}
	l.WriteDisposition = bigquery.WriteAppend
	l.CreateDisposition = bigquery.CreateNever
	l.JobID = id
	l.Location = q.location
	return l.Run(ctx)
}

// wait polls the job's status (through the sleeper, every pollInterval) until it is DONE.
// Failures to read the status are retried like inserts.
func (q *BigQuery) wait(ctx context.Context, table string, job *bigquery.Job) (*bigquery.JobStatus, error) {
	if st := job.LastStatus(); st != nil && st.Done() {
		return st, nil
	}
	failures := 0
	for {
		st, err := job.Status(ctx)
		switch {
		case err == nil && st.Done():
			return st, nil
		case err == nil:
			failures = 0
		case ctx.Err() != nil:
			return nil, fmt.Errorf("loading %s: waiting for job %s: %w", table, job.ID(), ctx.Err())
		case !transientInsertError(err) || failures+1 >= q.maxAttempts:
			return nil, fmt.Errorf("loading %s: reading the status of job %s: %w", table, job.ID(), err)
		default:
			failures++
		}
		d := q.pollInterval
		if failures > 0 {
			d = backoff(failures)
		}
		if err := q.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("loading %s: waiting for job %s: %w", table, job.ID(), err)
		}
	}
}

// transientInsertError tells whether a failed request may succeed when sent again: 5xx, the
// rate limits (including "too many table update operations"), and a connection that failed
// without an answer (the job may or may not exist: the same job ID makes the retry safe).
func transientInsertError(err error) bool {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	if ge.Code >= 500 || ge.Code == http.StatusTooManyRequests {
		return true
	}
	switch reasonOf(err) {
	case "backendError", "internalError", "rateLimitExceeded", "jobRateLimitExceeded":
		return true
	}
	return strings.Contains(ge.Message, "too many table update operations")
}

// apiCode is the HTTP status of a BigQuery API error (0 for other errors).
func apiCode(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// reasonOf is the first reason of a BigQuery API error ("" for other errors).
func reasonOf(err error) string {
	var ge *googleapi.Error
	if errors.As(err, &ge) && len(ge.Errors) > 0 {
		return ge.Errors[0].Reason
	}
	return ""
}

// messageOf is the message of a BigQuery API error (err's text for other errors).
func messageOf(err error) string {
	var ge *googleapi.Error
	if errors.As(err, &ge) && ge.Message != "" {
		return ge.Message
	}
	return err.Error()
}

// backoff is the pause before retry n (from 1): capped exponential, with jitter in [d/2, d).
func backoff(n int) time.Duration {
	d := backoffInitial
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	return d/2 + rand.N(d/2)
}

// uploadChunkSize is the chunk of a load job's upload: the client buffers one chunk in memory
// (16 MiB by default, googleapi.DefaultUploadChunkSize), so a file smaller than that is sent in
// one chunk of its own size, rounded up to the 256 KiB the API counts in; a batch of small tables
// then does not allocate 16 MiB per table. An unknown size keeps the default.
func uploadChunkSize(size int64) int {
	if size <= 0 || size >= googleapi.DefaultUploadChunkSize {
		return googleapi.DefaultUploadChunkSize
	}
	return int((size + googleapi.MinUploadChunkSize - 1) / googleapi.MinUploadChunkSize * googleapi.MinUploadChunkSize)
}
