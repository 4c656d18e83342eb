package bqtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// Job states.
const (
	StatePending = "PENDING"
	StateRunning = "RUNNING"
	StateDone    = "DONE"
)

// job is one job. Its fields after creation are guarded by mu.
type job struct {
	mu sync.Mutex

	id       string
	location string
	kind     string // JobTypeLoad or JobTypeQuery
	config   *bq.JobConfiguration

	state     string
	polls     int
	attempts  int // jobs.insert requests that named this job (the creating one included)
	created   time.Time
	started   time.Time
	ended     time.Time
	errResult *apiError

	// load jobs
	dest       tableKey
	dataPath   string // the uploaded data ("" for a load from Cloud Storage)
	dataBytes  int64
	inputFiles int
	injected   FaultKind // JobBackendError or JobInvalid
	outputRows int64

	// query jobs
	query    string // DuckDB SQL, parameters bound by args
	args     []any
	defaultD string
	result   *queryResult
}

// JobInfo describes a job, for test assertions.
type JobInfo struct {
	ID    string
	Type  string // JobTypeLoad or JobTypeQuery
	State string // StatePending, StateRunning or StateDone
	// ErrorReason and ErrorMessage are the job's errorResult ("" when it has none).
	ErrorReason  string
	ErrorMessage string
	// Dataset and Table are a load job's destination.
	Dataset string
	Table   string
	// SourceURIs are a load job's configuration.load.sourceUris: the gs:// URIs it loads (nil
	// when its data was uploaded with it).
	SourceURIs []string
	// InsertAttempts counts the jobs.insert requests naming this job: 1 for the one that created
	// it, plus one per retry answered 409.
	InsertAttempts int
	// Polls counts jobs.get and jobs.getQueryResults calls on the job.
	Polls int
	// OutputRows is the number of rows a successful load job appended.
	OutputRows int64
	Created    time.Time
}

func (j *job) info() JobInfo {
	j.mu.Lock()
	defer j.mu.Unlock()
	in := JobInfo{
		ID:             j.id,
		Type:           j.kind,
		State:          j.state,
		Dataset:        j.dest.dataset,
		Table:          j.dest.table,
		InsertAttempts: j.attempts,
		Polls:          j.polls,
		OutputRows:     j.outputRows,
		Created:        j.created,
	}
	if j.errResult != nil {
		in.ErrorReason, in.ErrorMessage = j.errResult.reason, j.errResult.message
	}
	if j.config != nil && j.config.Load != nil && len(j.config.Load.SourceUris) > 0 {
		in.SourceURIs = append([]string(nil), j.config.Load.SourceUris...)
	}
	return in
}

// Jobs describes every job, in creation order.
func (s *Server) Jobs() []JobInfo {
	s.mu.Lock()
	js := make([]*job, 0, len(s.jobOrder))
	for _, id := range s.jobOrder {
		js = append(js, s.jobs[id])
	}
	s.mu.Unlock()
	out := make([]JobInfo, len(js))
	for i, j := range js {
		out[i] = j.info()
	}
	return out
}

// Job describes the job with the given ID.
func (s *Server) Job(id string) (JobInfo, bool) {
	s.mu.Lock()
	j, ok := s.jobs[id]
	s.mu.Unlock()
	if !ok {
		return JobInfo{}, false
	}
	return j.info(), true
}

// JobIDs lists every job ID jobs.insert has seen, in order of first sight: the IDs named by the
// requests (whether or not they created a job) and those the server chose for requests without
// one. Jobs of jobs.query are not included (see Jobs).
func (s *Server) JobIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.idsSeen...)
}

// JobInserts counts jobs.insert requests: every attempt, including those refused (409, faults,
// quota, invalid). A resumable upload counts once, at its initiation.
func (s *Server) JobInserts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobInserts
}

// LoadJobs counts the load jobs created into dataset.table, failed ones included.
func (s *Server) LoadJobs(dataset, table string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.loadsByDay[tableKey{dataset, table}] {
		n += c
	}
	return n
}

// LoadJobsByDay counts the load jobs created into dataset.table per UTC day ("2006-01-02") of
// Options.Now: the counts the daily quota is checked against.
func (s *Server) LoadJobsByDay(dataset, table string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for d, c := range s.loadsByDay[tableKey{dataset, table}] {
		out[d] = c
	}
	return out
}

func (s *Server) noteInsert(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobInserts++
	s.noteIDLocked(id)
}

func (s *Server) noteIDLocked(id string) {
	if id != "" && !s.seenIDs[id] {
		s.seenIDs[id] = true
		s.idsSeen = append(s.idsSeen, id)
	}
}

var jobIDRE = func(id string) bool {
	if id == "" || len(id) > 1024 {
		return false
	}
	for _, c := range id {
		if !(c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// newJob validates a job resource sent to jobs.insert and returns the job it describes (not yet
// registered). media tells whether data was uploaded with it.
func (s *Server) newJob(in *bq.Job, media bool) (*job, *apiError) {
	if in.Configuration == nil {
		return nil, errInvalid("Required parameter is missing: configuration")
	}
	j := &job{location: s.opts.Location, config: in.Configuration}
	if in.JobReference != nil {
		if p := in.JobReference.ProjectId; p != "" && p != s.opts.Project {
			return nil, errInvalid("Job project %s does not match the request's project %s", p, s.opts.Project)
		}
		j.id = in.JobReference.JobId
		if l := in.JobReference.Location; l != "" {
			j.location = l
		}
	}
	if j.id == "" {
		j.id = s.nextID("job_")
	} else if !jobIDRE(j.id) {
		return nil, errInvalid("Invalid job ID %q. Job IDs must be alphanumeric (plus underscores and dashes) and must be at most 1024 characters long.", j.id)
	}
	c := in.Configuration
	switch {
	case c.DryRun:
		return nil, errNotImplemented("dry-run jobs")
	case c.Copy != nil, c.Extract != nil:
		return nil, errNotImplemented("copy and extract jobs")
	case c.Load != nil:
		j.kind = JobTypeLoad
		if aerr := s.validateLoad(c.Load, media); aerr != nil {
			return nil, aerr
		}
		j.dest = tableKey{c.Load.DestinationTable.DatasetId, c.Load.DestinationTable.TableId}
		j.inputFiles = max(1, len(c.Load.SourceUris))
		if ds := s.datasetLocation(j.dest.dataset); ds != "" && (in.JobReference == nil || in.JobReference.Location == "") {
			j.location = ds
		}
	case c.Query != nil:
		if media {
			return nil, errInvalid("Media can only be uploaded with load jobs")
		}
		j.kind = JobTypeQuery
		q := c.Query
		switch {
		case q.UseLegacySql != nil && *q.UseLegacySql:
			return nil, errNotImplemented("legacy SQL")
		case q.DestinationTable != nil, q.TableDefinitions != nil, q.Clustering != nil, q.TimePartitioning != nil:
			return nil, errNotImplemented("query destination tables and external table definitions")
		}
		sqlText, args, aerr := s.prepareQuery(q.Query, q.ParameterMode, q.QueryParameters)
		if aerr != nil {
			return nil, aerr
		}
		j.query, j.args = sqlText, args
		if q.DefaultDataset != nil {
			j.defaultD = q.DefaultDataset.DatasetId
		}
	default:
		return nil, errInvalid("Required parameter is missing: configuration.load or configuration.query")
	}
	c.JobType = j.kind
	return j, nil
}

func (s *Server) datasetLocation(d string) string {
	s.catalogMu.RLock()
	defer s.catalogMu.RUnlock()
	if ds, ok := s.datasets[d]; ok {
		return ds.location
	}
	return ""
}

// validateLoad checks a load configuration as jobs.insert does (synchronously, before the job
// exists).
func (s *Server) validateLoad(lc *bq.JobConfigurationLoad, media bool) *apiError {
	switch {
	case len(lc.SourceUris) > 0 && media:
		return errInvalid("A load job reads either its source URIs or the data uploaded with it, not both")
	case len(lc.SourceUris) > 0:
		for _, uri := range lc.SourceUris {
			if _, _, aerr := parseGCSURI(uri); aerr != nil {
				return aerr
			}
		}
	case !media:
		return errInvalid("Load configuration must specify at least one source URI")
	}
	dt := lc.DestinationTable
	if dt == nil || dt.DatasetId == "" || dt.TableId == "" {
		return errInvalid("Required parameter is missing: configuration.load.destinationTable")
	}
	if dt.ProjectId != "" && dt.ProjectId != s.opts.Project {
		return errNotFound("Not found: Project %s", dt.ProjectId)
	}
	if !tableIDRE.MatchString(dt.TableId) {
		return errInvalid("Invalid table ID %q (partition decorators are not emulated).", dt.TableId)
	}
	if f := strings.ToUpper(lc.SourceFormat); f != "PARQUET" {
		if f == "" {
			f = "CSV"
		}
		return errNotImplemented("sourceFormat %s; bqtest loads PARQUET", f)
	}
	switch lc.WriteDisposition {
	case "", "WRITE_APPEND", "WRITE_TRUNCATE", "WRITE_EMPTY":
	default:
		return errInvalid("Invalid value for writeDisposition: %s", lc.WriteDisposition)
	}
	switch lc.CreateDisposition {
	case "", "CREATE_IF_NEEDED", "CREATE_NEVER":
	default:
		return errInvalid("Invalid value for createDisposition: %s", lc.CreateDisposition)
	}
	for _, o := range lc.SchemaUpdateOptions {
		switch o {
		case "ALLOW_FIELD_ADDITION", "ALLOW_FIELD_RELAXATION":
		default:
			return errInvalid("Invalid schema update option: %s", o)
		}
	}
	if len(lc.SchemaUpdateOptions) > 0 && lc.WriteDisposition != "" && lc.WriteDisposition != "WRITE_APPEND" {
		return errInvalid("Schema update options should only be specified with WRITE_APPEND disposition, or with WRITE_TRUNCATE disposition on a table partition.")
	}
	if lc.Schema != nil {
		if _, aerr := normalizeSchema(lc.Schema.Fields); aerr != nil {
			return aerr
		}
	}
	if lc.RangePartitioning != nil || lc.HivePartitioningOptions != nil {
		return errNotImplemented("range and hive partitioning in load jobs")
	}
	return nil
}

// createJob registers a new job: a job with the same ID is answered 409 duplicate (and its insert
// attempts counted), a load job beyond the table's daily quota 403 quotaExceeded. It returns the
// fault to inject into the creating request's answer, if any.
func (s *Server) createJob(ctx context.Context, j *job) (FaultKind, *apiError) {
	if aerr := s.admit(j, false); aerr != nil {
		return "", aerr
	}
	// Decide the job's fault before it is visible to jobs.get.
	fault := s.takeFault(Call{Op: OpJobCreate, JobID: j.id, JobType: j.kind, Dataset: j.dest.dataset, Table: j.dest.table})
	var answer FaultKind
	switch fault {
	case JobBackendError, JobInvalid:
		j.injected = fault
	case InsertResponseLost, InsertConnectionLost:
		answer = fault
	}
	j.state = StatePending
	j.created = s.now()
	j.attempts = 1
	// Admitted again, atomically with the registration: a concurrent insert of the same ID may
	// have won meanwhile.
	if aerr := s.admit(j, true); aerr != nil {
		return "", aerr
	}
	if s.opts.PollsToDone == DoneOnInsert {
		j.mu.Lock()
		s.finish(ctx, j)
		j.mu.Unlock()
	}
	return answer, nil
}

// admit applies the duplicate and quota checks to a new job; with register it also counts the
// load job against its table's quota and registers the job.
func (s *Server) admit(j *job, register bool) *apiError {
	s.mu.Lock()
	if existing, ok := s.jobs[j.id]; ok {
		s.mu.Unlock()
		existing.mu.Lock()
		existing.attempts++
		loc := existing.location
		existing.mu.Unlock()
		return errDuplicate("Already Exists: Job %s:%s.%s", s.opts.Project, loc, j.id)
	}
	defer s.mu.Unlock()
	if j.kind == JobTypeLoad {
		day := s.now().UTC().Format(time.DateOnly)
		counts := s.loadsByDay[j.dest]
		if limit := s.opts.LoadJobsPerTablePerDay; limit > 0 && counts[day] >= limit {
			return &apiError{code: http.StatusForbidden, reason: ReasonQuotaExceeded,
				message: "Quota exceeded: Your table exceeded quota for imports or query appends per table. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas"}
		}
		if register {
			if counts == nil {
				counts = map[string]int{}
				s.loadsByDay[j.dest] = counts
			}
			counts[day]++
		}
	}
	if register {
		s.jobs[j.id] = j
		s.jobOrder = append(s.jobOrder, j.id)
		s.noteIDLocked(j.id)
	}
	return nil
}

// answerCreated answers the request that created j: the job resource, or the injected fault.
func (s *Server) answerCreated(w http.ResponseWriter, j *job, fault FaultKind) {
	switch fault {
	case InsertResponseLost:
		writeError(w, faultError(fault))
	case InsertConnectionLost:
		dropConnection(w)
	default:
		writeJSON(w, http.StatusOK, s.jobResource(j))
	}
}

// poll advances a job by one state, as a jobs.get does.
func (s *Server) poll(ctx context.Context, j *job) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.polls++
	if j.state == StateDone {
		return
	}
	if j.polls >= s.opts.PollsToDone {
		s.finish(ctx, j)
		return
	}
	if j.state == StatePending {
		j.state = StateRunning
		j.started = s.now()
	}
}

// finish runs the job's effect and makes it DONE; the caller holds j.mu.
func (s *Server) finish(ctx context.Context, j *job) {
	ctx = context.WithoutCancel(ctx) // a client hanging up must not abort half an effect
	if j.started.IsZero() {
		j.started = s.now()
	}
	switch {
	case j.injected != "":
		j.errResult = jobFaultError(j.injected)
	case j.kind == JobTypeLoad:
		rows, aerr := s.runLoad(ctx, j)
		j.errResult, j.outputRows = aerr, rows
	case j.kind == JobTypeQuery:
		res, aerr := s.runQueryArgs(ctx, j.query, j.defaultD, j.args)
		j.errResult, j.result = aerr, res
	}
	if j.dataPath != "" {
		os.Remove(j.dataPath)
		j.dataPath = ""
	}
	j.state = StateDone
	j.ended = s.now()
}

// jobResource renders a job; it locks j.mu.
func (s *Server) jobResource(j *job) *bq.Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	return s.jobResourceLocked(j)
}

func (s *Server) jobResourceLocked(j *job) *bq.Job {
	out := &bq.Job{
		Kind:          "bigquery#job",
		Id:            s.opts.Project + ":" + j.location + "." + j.id,
		JobReference:  &bq.JobReference{ProjectId: s.opts.Project, JobId: j.id, Location: j.location},
		Configuration: j.config,
		Status:        &bq.JobStatus{State: j.state},
		Statistics:    &bq.JobStatistics{CreationTime: millis(j.created)},
		UserEmail:     "bqtest@" + s.opts.Project + ".iam.gserviceaccount.com",
		SelfLink:      "/bigquery/v2/projects/" + s.opts.Project + "/jobs/" + j.id + "?location=" + j.location,
	}
	if !j.started.IsZero() {
		out.Statistics.StartTime = millis(j.started)
	}
	if j.state == StateDone {
		out.Statistics.EndTime = millis(j.ended)
		if j.errResult != nil {
			out.Status.ErrorResult = j.errResult.proto()
			out.Status.Errors = []*bq.ErrorProto{j.errResult.proto()}
		}
		switch j.kind {
		case JobTypeLoad:
			out.Statistics.Load = &bq.JobStatistics3{InputFiles: int64(j.inputFiles), InputFileBytes: j.dataBytes, OutputRows: j.outputRows}
		case JobTypeQuery:
			qs := &bq.JobStatistics2{StatementType: "SELECT"}
			if j.result != nil {
				qs.Schema = &bq.TableSchema{Fields: j.result.schema}
			}
			out.Statistics.Query = qs
		}
	}
	return out
}

// lookupJob finds a job for jobs.get / getQueryResults / cancel, honouring the location
// parameter as BigQuery does (a job asked for in another location is not found).
func (s *Server) lookupJob(r *http.Request) (*job, *apiError) {
	id := r.PathValue("job")
	loc := r.URL.Query().Get("location")
	s.mu.Lock()
	j, ok := s.jobs[id]
	s.mu.Unlock()
	if ok && (loc == "" || strings.EqualFold(loc, j.location)) {
		return j, nil
	}
	if loc == "" {
		loc = s.opts.Location
	}
	return nil, errNotFound("Not found: Job %s:%s.%s", s.opts.Project, loc, id)
}

func (s *Server) insertJobJSON(w http.ResponseWriter, r *http.Request) *apiError {
	var in bq.Job
	if _, aerr := decodeBody(r, &in); aerr != nil {
		s.noteInsert("")
		return aerr
	}
	return s.insertJob(w, r, &in, nil)
}

// insertJob is jobs.insert for a JSON request or a multipart upload (media is the uploaded data,
// nil without media).
func (s *Server) insertJob(w http.ResponseWriter, r *http.Request, in *bq.Job, media *uploadedFile) *apiError {
	if in.JobReference != nil {
		s.noteInsert(in.JobReference.JobId)
	} else {
		s.noteInsert("")
	}
	j, aerr := s.newJob(in, media != nil)
	if aerr != nil {
		media.remove()
		return aerr
	}
	if k := s.takeFault(Call{Op: OpJobsInsert, JobID: clientJobID(in), JobType: j.kind, Dataset: j.dest.dataset, Table: j.dest.table}); k != "" {
		media.remove()
		return faultError(k)
	}
	if aerr := s.denyJob(j); aerr != nil {
		media.remove()
		return aerr
	}
	if media != nil {
		j.dataPath, j.dataBytes = media.path, media.size
	}
	fault, aerr := s.createJob(r.Context(), j)
	if aerr != nil {
		media.remove()
		return aerr
	}
	s.answerCreated(w, j, fault)
	return nil
}

func clientJobID(in *bq.Job) string {
	if in.JobReference == nil {
		return ""
	}
	return in.JobReference.JobId
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) *apiError {
	if k := s.takeFault(Call{Op: OpJobsGet, JobID: r.PathValue("job")}); k != "" {
		return faultError(k)
	}
	j, aerr := s.lookupJob(r)
	if aerr != nil {
		return aerr
	}
	s.poll(r.Context(), j)
	writeJSON(w, http.StatusOK, s.jobResource(j))
	return nil
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) *apiError {
	j, aerr := s.lookupJob(r)
	if aerr != nil {
		return aerr
	}
	j.mu.Lock()
	if j.state != StateDone {
		j.state = StateDone
		j.ended = s.now()
		j.errResult = &apiError{code: http.StatusBadRequest, reason: ReasonStopped, message: "Job execution was cancelled: User requested cancellation"}
		if j.dataPath != "" {
			os.Remove(j.dataPath)
			j.dataPath = ""
		}
	}
	res := s.jobResourceLocked(j)
	j.mu.Unlock()
	writeJSON(w, http.StatusOK, &bq.JobCancelResponse{Kind: "bigquery#jobCancelResponse", Job: res})
	return nil
}

func (s *Server) getQueryResults(w http.ResponseWriter, r *http.Request) *apiError {
	j, aerr := s.lookupJob(r)
	if aerr != nil {
		return aerr
	}
	j.mu.Lock()
	kind := j.kind
	j.mu.Unlock()
	if kind != JobTypeQuery {
		return errInvalid("Job %s:%s.%s is not a query job", s.opts.Project, j.location, j.id)
	}
	s.poll(r.Context(), j)
	j.mu.Lock()
	state, errResult, res := j.state, j.errResult, j.result
	ref := &bq.JobReference{ProjectId: s.opts.Project, JobId: j.id, Location: j.location}
	j.mu.Unlock()
	out := &bq.GetQueryResultsResponse{Kind: "bigquery#getQueryResultsResponse", JobReference: ref}
	if state != StateDone {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	if errResult != nil {
		return errResult
	}
	q := r.URL.Query()
	rows, token, aerr := res.page(q.Get("startIndex"), q.Get("pageToken"), q.Get("maxResults"), q.Get("formatOptions.useInt64Timestamp") == "true")
	if aerr != nil {
		return aerr
	}
	out.JobComplete = true
	out.Schema = &bq.TableSchema{Fields: res.schema}
	out.TotalRows = uint64(len(res.rows))
	out.ForceSendFields = []string{"TotalRows"}
	out.Rows, out.PageToken = rows, token
	out.Etag = etag(j.id)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// query is jobs.query: the query runs at once and its job is DONE in the answer.
func (s *Server) query(w http.ResponseWriter, r *http.Request) *apiError {
	var in bq.QueryRequest
	if _, aerr := decodeBody(r, &in); aerr != nil {
		return aerr
	}
	switch {
	case in.UseLegacySql != nil && *in.UseLegacySql:
		return errNotImplemented("legacy SQL")
	case in.DryRun:
		return errNotImplemented("dry-run queries")
	case in.Query == "":
		return errInvalid("Required parameter is missing: query")
	}
	sqlText, args, aerr := s.prepareQuery(in.Query, in.ParameterMode, in.QueryParameters)
	if aerr != nil {
		return aerr
	}
	defaultD := ""
	if in.DefaultDataset != nil {
		defaultD = in.DefaultDataset.DatasetId
	}
	res, aerr := s.runQueryArgs(r.Context(), sqlText, defaultD, args)
	if aerr != nil {
		return aerr
	}
	conf := &bq.JobConfiguration{JobType: JobTypeQuery, Query: &bq.JobConfigurationQuery{
		Query: in.Query, UseLegacySql: in.UseLegacySql, DefaultDataset: in.DefaultDataset, QueryParameters: in.QueryParameters,
	}}
	loc := s.opts.Location
	if in.Location != "" {
		loc = in.Location
	}
	now := s.now()
	j := &job{id: s.nextID("job_"), location: loc, kind: JobTypeQuery, config: conf, state: StateDone,
		created: now, started: now, ended: now, attempts: 1, result: res}
	s.mu.Lock()
	s.jobs[j.id] = j
	s.jobOrder = append(s.jobOrder, j.id)
	s.mu.Unlock()
	maxResults := ""
	if in.MaxResults > 0 {
		maxResults = fmt.Sprint(in.MaxResults)
	}
	int64TS := in.FormatOptions != nil && in.FormatOptions.UseInt64Timestamp
	rows, token, aerr := res.page("", "", maxResults, int64TS)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, &bq.QueryResponse{
		Kind:            "bigquery#queryResponse",
		JobReference:    &bq.JobReference{ProjectId: s.opts.Project, JobId: j.id, Location: loc},
		QueryId:         j.id,
		JobComplete:     true,
		Schema:          &bq.TableSchema{Fields: res.schema},
		TotalRows:       uint64(len(res.rows)),
		Rows:            rows,
		PageToken:       token,
		Location:        loc,
		CreationTime:    millis(now),
		StartTime:       millis(now),
		EndTime:         millis(now),
		ForceSendFields: []string{"TotalRows"},
	})
	return nil
}

// prepareQuery rewrites BigQuery SQL for DuckDB and binds its scalar parameters.
func (s *Server) prepareQuery(query, mode string, params []*bq.QueryParameter) (string, []any, *apiError) {
	if mode != "" && mode != "NAMED" && mode != "POSITIONAL" {
		return "", nil, errInvalid("Invalid parameterMode %s", mode)
	}
	types := map[string]string{}
	var positional []string
	var args []any
	for i, p := range params {
		if p.ParameterType == nil || p.ParameterValue == nil {
			return "", nil, errInvalid("Query parameter %d has no type or value", i)
		}
		if p.ParameterType.ArrayType != nil || p.ParameterType.StructTypes != nil || p.ParameterType.RangeElementType != nil {
			return "", nil, errNotImplemented("array, struct and range query parameters")
		}
		typ := duckType(&bq.TableFieldSchema{Type: canonicalType(p.ParameterType.Type)})
		// Values travel as text and are cast in SQL; an empty non-STRING value is NULL.
		val := any(p.ParameterValue.Value)
		if p.ParameterValue.Value == "" && canonicalType(p.ParameterType.Type) != typeString {
			val = nil
		}
		if p.Name != "" {
			types[strings.ToLower(p.Name)] = typ
			args = append(args, sql.Named(strings.ToLower(p.Name), val))
		} else {
			positional = append(positional, typ)
			args = append(args, val)
		}
	}
	nextPos := 0
	duck, err := rewriteSQLParams(query, s.opts.Project, func(name string) (string, error) {
		if name == "" {
			if nextPos >= len(positional) {
				return "", fmt.Errorf("Query has more positional parameters than the %d given", len(positional))
			}
			t := positional[nextPos]
			nextPos++
			return "CAST(? AS " + t + ")", nil
		}
		t, ok := types[strings.ToLower(name)]
		if !ok {
			return "", fmt.Errorf("Query parameter '%s' not found", name)
		}
		return "CAST($" + strings.ToLower(name) + " AS " + t + ")", nil
	})
	if err != nil {
		return "", nil, errInvalidQuery("%v", err)
	}
	return duck, args, nil
}
