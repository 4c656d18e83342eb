package bqtest

import (
	"net/http"
)

// FaultKind names a fault the server can inject. Each kind applies at one point of the API (its
// Op, see Call): a fault queued with InjectFault waits for the next call at that point that it
// matches.
type FaultKind string

// The faults.
const (
	// InsertUnavailable answers a jobs.insert 503 backendError before anything is created (for a
	// resumable upload: the session-initiation request). Op: OpJobsInsert.
	InsertUnavailable FaultKind = "insert-unavailable"
	// InsertRateLimited answers a jobs.insert 403 rateLimitExceeded ("too many api requests per
	// user per method") before anything is created. Op: OpJobsInsert.
	InsertRateLimited FaultKind = "insert-rate-limited"
	// TableUpdateRateLimited answers 403 rateLimitExceeded "Exceeded rate limits: too many table
	// update operations for this table" to a load job's jobs.insert (before anything is created),
	// a tables.insert or a tables.patch. Ops: OpJobsInsert (load jobs only), OpTablesInsert,
	// OpTablesPatch.
	TableUpdateRateLimited FaultKind = "table-update-rate-limited"
	// InsertResponseLost creates the job normally (it will run), then answers 503 backendError as
	// if the response had been lost: the client sees a failed insert although the job exists, and
	// a retry with the same job ID gets 409 duplicate. For a resumable upload this is the request
	// carrying the last chunk (the client's uploader retries that chunk by itself and then gets
	// the job). Op: OpJobCreate.
	InsertResponseLost FaultKind = "insert-response-lost"
	// InsertConnectionLost is InsertResponseLost with the connection closed instead of an answer.
	// Op: OpJobCreate.
	InsertConnectionLost FaultKind = "insert-connection-lost"
	// JobBackendError makes the job being created end DONE with errorResult reason backendError
	// (transient: a new job with the same data may succeed), without effect. Op: OpJobCreate.
	JobBackendError FaultKind = "job-backend-error"
	// JobInvalid makes the job being created end DONE with errorResult reason invalid
	// (permanent), without effect. Op: OpJobCreate.
	JobInvalid FaultKind = "job-invalid"
	// GetUnavailable answers a jobs.get 503 backendError (the job does not advance). Op: OpJobsGet.
	GetUnavailable FaultKind = "get-unavailable"
	// ObjectInsertUnavailable answers a Cloud Storage objects.insert 503 backendError before
	// anything is stored (for a resumable upload: the session-initiation request). Op:
	// OpObjectsInsert.
	ObjectInsertUnavailable FaultKind = "object-insert-unavailable"
	// ObjectDeleteUnavailable answers a Cloud Storage objects.delete 503 backendError; the object
	// stays. Op: OpObjectsDelete.
	ObjectDeleteUnavailable FaultKind = "object-delete-unavailable"
)

// Ops: the points of the API where faults apply.
const (
	// OpJobsInsert is a jobs.insert request arriving (multipart upload, resumable session
	// initiation, or JSON), before it is processed.
	OpJobsInsert = "jobs.insert"
	// OpJobCreate is a jobs.insert creating its job (after the duplicate and quota checks).
	OpJobCreate = "jobs.create"
	// OpJobsGet is a jobs.get request.
	OpJobsGet = "jobs.get"
	// OpTablesInsert is a tables.insert request.
	OpTablesInsert = "tables.insert"
	// OpTablesPatch is a tables.patch request.
	OpTablesPatch = "tables.patch"
	// OpObjectsInsert is a Cloud Storage objects.insert request arriving (media or multipart
	// upload, or resumable session initiation), once its metadata is read.
	OpObjectsInsert = "storage.objects.insert"
	// OpObjectsDelete is a Cloud Storage objects.delete request.
	OpObjectsDelete = "storage.objects.delete"
)

// Job types, as in Call.JobType and JobInfo.Type.
const (
	JobTypeLoad  = "LOAD"
	JobTypeQuery = "QUERY"
)

// Call describes an API call at a point where a fault may apply.
type Call struct {
	Op      string // one of the Op constants
	JobID   string // jobs.insert (when the client chose it), jobs.create, jobs.get
	JobType string // JobTypeLoad or JobTypeQuery for jobs.insert and jobs.create
	Dataset string // load destination for jobs.insert/jobs.create; tables.insert/patch
	Table   string
	Bucket  string // Cloud Storage calls: the bucket and the object's name
	Object  string
}

// Fault is a fault to inject into the next Times calls it applies to.
type Fault struct {
	Kind FaultKind
	// Times is the number of calls affected (1 when 0).
	Times int
	// Match, when set, restricts the fault to the calls it accepts (for example one table or one
	// job ID).
	Match func(Call) bool
}

type queuedFault struct {
	Fault
	left int
}

// faultOp is the point where a kind applies.
func faultOps(k FaultKind) []string {
	switch k {
	case InsertUnavailable, InsertRateLimited:
		return []string{OpJobsInsert}
	case TableUpdateRateLimited:
		return []string{OpJobsInsert, OpTablesInsert, OpTablesPatch}
	case InsertResponseLost, InsertConnectionLost, JobBackendError, JobInvalid:
		return []string{OpJobCreate}
	case GetUnavailable:
		return []string{OpJobsGet}
	case ObjectInsertUnavailable:
		return []string{OpObjectsInsert}
	case ObjectDeleteUnavailable:
		return []string{OpObjectsDelete}
	}
	return nil
}

func faultApplies(k FaultKind, c Call) bool {
	if k == TableUpdateRateLimited && c.Op == OpJobsInsert && c.JobType != JobTypeLoad {
		return false
	}
	for _, op := range faultOps(k) {
		if op == c.Op {
			return true
		}
	}
	return false
}

// InjectFault queues a fault. Queued faults are tried in the order they were injected; a call
// gets at most one fault.
func (s *Server) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &queuedFault{Fault: f, left: f.Times})
}

// PendingFaults is the number of injected fault occurrences not yet used.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.left
	}
	return n
}

// FaultsFired is how many times faults of kind k were injected into calls.
func (s *Server) FaultsFired(k FaultKind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultsFired[k]
}

// takeFault returns the fault to inject into call c ("" for none) and counts it.
func (s *Server) takeFault(c Call) FaultKind {
	s.mu.Lock()
	for i, f := range s.faults {
		if !faultApplies(f.Kind, c) || (f.Match != nil && !f.Match(c)) {
			continue
		}
		f.left--
		if f.left == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		s.faultsFired[f.Kind]++
		s.mu.Unlock()
		return f.Kind
	}
	hook := s.opts.FaultHook
	s.mu.Unlock()
	if hook == nil {
		return ""
	}
	k := hook(c)
	if k == "" || !faultApplies(k, c) {
		return ""
	}
	s.mu.Lock()
	s.faultsFired[k]++
	s.mu.Unlock()
	return k
}

// faultError is the error answered for a fault that refuses a request.
func faultError(k FaultKind) *apiError {
	switch k {
	case InsertUnavailable, InsertResponseLost, GetUnavailable, ObjectInsertUnavailable, ObjectDeleteUnavailable:
		return errBackend()
	case InsertRateLimited:
		return &apiError{code: http.StatusForbidden, reason: ReasonRateLimitExceeded,
			message: "Exceeded rate limits: too many api requests per user per method for this user_method. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas"}
	case TableUpdateRateLimited:
		return &apiError{code: http.StatusForbidden, reason: ReasonRateLimitExceeded,
			message: "Exceeded rate limits: too many table update operations for this table. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas"}
	}
	return nil
}

// jobFaultError is the errorResult of a job failed by a fault.
func jobFaultError(k FaultKind) *apiError {
	switch k {
	case JobBackendError:
		return &apiError{code: http.StatusInternalServerError, reason: ReasonBackendError,
			message: "Error encountered during execution. Retrying may solve the problem."}
	case JobInvalid:
		return &apiError{code: http.StatusBadRequest, reason: ReasonInvalid,
			message: "Error while reading data, error message: bqtest injected a permanent failure (JobInvalid)"}
	}
	return nil
}

// tableUpdateFault answers an injected TableUpdateRateLimited for tables.insert / tables.patch.
func (s *Server) tableUpdateFault(op, dataset, table string) *apiError {
	if k := s.takeFault(Call{Op: op, Dataset: dataset, Table: table}); k != "" {
		return faultError(k)
	}
	return nil
}

// dropConnection closes the client's connection without an answer. When the connection cannot be
// taken over (HTTP/2), it answers 503 backendError instead.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeError(w, errBackend())
		return
	}
	conn.Close()
}
