package bqtest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"

	bq "google.golang.org/api/bigquery/v2"
)

// uploadedFile is media received with a jobs.insert, stored under the server's temp directory.
type uploadedFile struct {
	path string
	size int64
}

// remove deletes the file; a nil file is a no-op.
func (f *uploadedFile) remove() {
	if f != nil {
		os.Remove(f.path)
	}
}

// uploadSession is a resumable upload: initiated by a jobs.insert carrying the job resource (or
// an objects.insert carrying the object's metadata), fed by chunk requests, completed (and its job
// or object created) by the last chunk.
type uploadSession struct {
	mu       sync.Mutex
	id       string
	file     *os.File
	path     string
	received int64
	done     bool
	// complete creates what the upload is for out of the received file (which it takes over),
	// and answers the request that completed the upload; it returns how to answer a later
	// request on the completed session.
	complete func(w http.ResponseWriter, r *http.Request, path string, size int64) (again func(http.ResponseWriter), aerr *apiError)
	again    func(http.ResponseWriter) // once complete succeeded
	failed   *apiError                 // or the error it was answered
}

// newUploadSession registers a resumable upload session whose last chunk calls complete.
func (s *Server) newUploadSession(complete func(w http.ResponseWriter, r *http.Request, path string, size int64) (func(http.ResponseWriter), *apiError)) (*uploadSession, *apiError) {
	f, err := os.CreateTemp(s.tmpDir, "upload-*.bin")
	if err != nil {
		return nil, backendErr("starting a resumable upload", err)
	}
	sess := &uploadSession{id: s.nextID("upload_"), file: f, path: f.Name(), complete: complete}
	s.mu.Lock()
	s.uploads[sess.id] = sess
	s.mu.Unlock()
	return sess, nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	switch q.Get("uploadType") {
	case "multipart":
		if r.Method != http.MethodPost {
			return errInvalid("Multipart uploads must be POSTed")
		}
		return s.uploadMultipart(w, r)
	case "resumable":
		if id := q.Get("upload_id"); id != "" {
			return s.uploadChunk(w, r, id)
		}
		if r.Method != http.MethodPost {
			return errInvalid("Resumable uploads are initiated with POST")
		}
		return s.uploadInitiate(w, r)
	default:
		return errNotImplemented("uploadType %q (the client uses multipart and resumable)", q.Get("uploadType"))
	}
}

// storeMedia copies an upload body into a new file under the temp directory.
func (s *Server) storeMedia(r io.Reader) (*uploadedFile, *apiError) {
	f, err := os.CreateTemp(s.tmpDir, "upload-*.bin")
	if err != nil {
		return nil, backendErr("storing the upload", err)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, errInvalid("Reading the uploaded media: %v", err)
	}
	return &uploadedFile{path: f.Name(), size: n}, nil
}

// uploadMultipart is jobs.insert with uploadType=multipart: a multipart/related body whose first
// part is the job resource (JSON) and second the data.
func (s *Server) uploadMultipart(w http.ResponseWriter, r *http.Request) *apiError {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" || params["boundary"] == "" {
		s.noteInsert("")
		return errInvalid("Multipart uploads need a multipart/related body, got Content-Type %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	meta, err := mr.NextPart()
	if err != nil {
		s.noteInsert("")
		return errInvalid("Reading the metadata part of the upload: %v", err)
	}
	var in bq.Job
	if err := json.NewDecoder(meta).Decode(&in); err != nil {
		s.noteInsert("")
		return errInvalid("Invalid JSON payload received in the metadata part. %v", err)
	}
	data, err := mr.NextPart()
	if err != nil {
		s.noteInsert(clientJobID(&in))
		return errInvalid("Reading the media part of the upload: %v", err)
	}
	media, aerr := s.storeMedia(data)
	if aerr != nil {
		s.noteInsert(clientJobID(&in))
		return aerr
	}
	return s.insertJob(w, r, &in, media)
}

// uploadInitiate starts a resumable upload: it validates the job like jobs.insert, and answers the
// session URI in the Location header.
func (s *Server) uploadInitiate(w http.ResponseWriter, r *http.Request) *apiError {
	var in bq.Job
	if _, aerr := decodeBody(r, &in); aerr != nil {
		s.noteInsert("")
		return aerr
	}
	s.noteInsert(clientJobID(&in))
	j, aerr := s.newJob(&in, true)
	if aerr != nil {
		return aerr
	}
	if k := s.takeFault(Call{Op: OpJobsInsert, JobID: clientJobID(&in), JobType: j.kind, Dataset: j.dest.dataset, Table: j.dest.table}); k != "" {
		return faultError(k)
	}
	if aerr := s.denyJob(j); aerr != nil {
		return aerr
	}
	s.mu.Lock()
	existing, dup := s.jobs[j.id]
	s.mu.Unlock()
	if dup {
		existing.mu.Lock()
		existing.attempts++
		loc := existing.location
		existing.mu.Unlock()
		return errDuplicate("Already Exists: Job %s:%s.%s", s.opts.Project, loc, j.id)
	}
	sess, aerr := s.newUploadSession(func(w http.ResponseWriter, r *http.Request, path string, size int64) (func(http.ResponseWriter), *apiError) {
		j.dataPath, j.dataBytes = path, size
		fault, aerr := s.createJob(r.Context(), j)
		if aerr != nil {
			os.Remove(path)
			return nil, aerr
		}
		s.answerCreated(w, j, fault)
		return func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, s.jobResource(j)) }, nil
	})
	if aerr != nil {
		return aerr
	}
	w.Header().Set("Location", fmt.Sprintf("%s://%s/upload/bigquery/v2/projects/%s/jobs?uploadType=resumable&upload_id=%s", scheme(r), r.Host, s.opts.Project, sess.id))
	w.Header().Set("X-GUploader-UploadID", sess.id)
	w.WriteHeader(http.StatusOK)
	return nil
}

var contentRangeRE = regexp.MustCompile(`^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$`)

// uploadChunk receives a chunk of a resumable upload. Content-Range "bytes a-b/*" is a chunk with
// more to come, "bytes a-b/total" the last chunk, "bytes */total" the end of an upload whose
// bytes all arrived, "bytes */*" a status query. A chunk that starts before the bytes already
// received (a retry) has its known prefix skipped.
func (s *Server) uploadChunk(w http.ResponseWriter, r *http.Request, id string) *apiError {
	s.mu.Lock()
	sess, ok := s.uploads[id]
	s.mu.Unlock()
	if !ok {
		return errNotFound("Not found: upload session %s", id)
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.done {
		// The upload completed already: answer as the completing request was answered.
		if sess.failed != nil {
			return sess.failed
		}
		sess.again(w)
		return nil
	}
	start, total := int64(0), int64(-1)
	hasRange := false
	if cr := r.Header.Get("Content-Range"); cr != "" {
		m := contentRangeRE.FindStringSubmatch(cr)
		if m == nil {
			return errInvalid("Invalid Content-Range %q", cr)
		}
		if m[1] != "" {
			start, _ = strconv.ParseInt(m[1], 10, 64)
			end, _ := strconv.ParseInt(m[2], 10, 64)
			if end < start {
				return errInvalid("Invalid Content-Range %q", cr)
			}
			hasRange = true
		} else {
			start = sess.received
		}
		if m[3] != "*" {
			total, _ = strconv.ParseInt(m[3], 10, 64)
		}
	}
	if start > sess.received {
		return errInvalid("Content-Range starts at byte %d but %d bytes were received", start, sess.received)
	}
	if skip := sess.received - start; skip > 0 && hasRange {
		if _, err := io.CopyN(io.Discard, r.Body, skip); err != nil {
			return errInvalid("Reading the chunk: %v", err)
		}
	}
	n, err := io.Copy(sess.file, r.Body)
	if err != nil {
		return errInvalid("Reading the chunk: %v", err)
	}
	sess.received += n
	if r.Header.Get("Content-Range") == "" {
		total = sess.received // a PUT of the whole data
	}
	if total < 0 || sess.received < total {
		// More to come: "308 Resume Incomplete", or 200 with the override header when the client
		// asked for no 308s (the Go client does).
		if sess.received > 0 {
			w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", sess.received-1))
		}
		if r.Header.Get("X-GUploader-No-308") == "yes" {
			w.Header().Set("X-Http-Status-Code-Override", "308")
			w.WriteHeader(http.StatusOK)
		} else {
			w.WriteHeader(http.StatusPermanentRedirect)
		}
		return nil
	}
	if sess.received != total {
		return errInvalid("Upload has %d bytes, Content-Range says %d", sess.received, total)
	}
	// Complete: create the job (as jobs.insert would) or the object.
	sess.done = true
	if err := sess.file.Close(); err != nil {
		os.Remove(sess.path)
		sess.failed = backendErr("storing the upload", err)
		return sess.failed
	}
	again, aerr := sess.complete(w, r, sess.path, sess.received)
	if aerr != nil {
		sess.failed = aerr
		return aerr
	}
	sess.again = again
	return nil
}
