package bqtest

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/api/option"
	storagev1 "google.golang.org/api/storage/v1"
)

// Cloud Storage permissions the server checks when they are denied (DenyPermissions), as it
// does BigQuery's.
const (
	// PermStorageBucketsGet guards buckets.get.
	PermStorageBucketsGet = "storage.buckets.get"
	// PermStorageObjectsCreate guards objects.insert.
	PermStorageObjectsCreate = "storage.objects.create"
	// PermStorageObjectsDelete guards objects.delete, and objects.insert replacing an object.
	PermStorageObjectsDelete = "storage.objects.delete"
	// PermStorageObjectsGet guards objects.get, and a load job's reading of its source URIs
	// (the job fails accessDenied when it is denied).
	PermStorageObjectsGet = "storage.objects.get"
)

// ReasonForbidden is Cloud Storage's reason for a request without the permission it needs.
const ReasonForbidden = "forbidden"

// gcsBucket is a Cloud Storage bucket; guarded by Server.storageMu.
type gcsBucket struct {
	name     string
	location string
	created  time.Time
	objects  map[string]*gcsObject
}

// gcsObject is the live generation of an object: its data is a file under the server's temp
// directory, never modified (a new generation is a new file).
type gcsObject struct {
	name        string
	path        string
	size        int64
	generation  int64
	contentType string
	crc32c      uint32
	md5         []byte
	created     time.Time
}

// ObjectInfo describes a Cloud Storage object, for test assertions.
type ObjectInfo struct {
	Bucket, Name string
	Size         int64
	Generation   int64
	ContentType  string
}

// CreateBucket creates an empty Cloud Storage bucket in Options.Location (nothing happens when
// it exists).
func (s *Server) CreateBucket(name string) {
	s.storageMu.Lock()
	defer s.storageMu.Unlock()
	if _, ok := s.buckets[name]; !ok {
		s.buckets[name] = &gcsBucket{name: name, location: strings.ToUpper(s.opts.Location), created: s.now(), objects: map[string]*gcsObject{}}
	}
}

// StorageEndpoint is what option.WithEndpoint needs for the Cloud Storage JSON API client
// (google.golang.org/api/storage/v1): URL()+"/storage/v1/". Uploads go to
// URL()+"/upload/storage/v1/", where the client sends them by itself.
func (s *Server) StorageEndpoint() string {
	if s.http == nil {
		return ""
	}
	return s.http.URL + "/storage/v1/"
}

// StorageClientOptions are the options storage.NewService needs to talk to this (listening)
// server: option.WithEndpoint(s.StorageEndpoint()), option.WithoutAuthentication() and the
// server's HTTP client.
func (s *Server) StorageClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.StorageEndpoint()),
		option.WithoutAuthentication(),
		option.WithHTTPClient(s.HTTPClient()),
	}
}

// Objects describes the live objects of a bucket, by name (nil for a bucket that does not exist).
func (s *Server) Objects(bucket string) []ObjectInfo {
	s.storageMu.Lock()
	defer s.storageMu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return nil
	}
	out := make([]ObjectInfo, 0, len(b.objects))
	for _, o := range b.objects {
		out = append(out, ObjectInfo{Bucket: bucket, Name: o.name, Size: o.size, Generation: o.generation, ContentType: o.contentType})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ObjectData returns the data of a live object.
func (s *Server) ObjectData(bucket, name string) ([]byte, bool) {
	s.storageMu.Lock()
	defer s.storageMu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return nil, false
	}
	o, ok := b.objects[name]
	if !ok {
		return nil, false
	}
	data, err := os.ReadFile(o.path)
	if err != nil {
		return nil, false
	}
	return data, true
}

// ObjectUploads counts the objects.insert requests that stored an object (a new one or a new
// generation), whatever the upload type.
func (s *Server) ObjectUploads() int {
	s.storageMu.Lock()
	defer s.storageMu.Unlock()
	return s.objectUploads
}

// ObjectDeletes counts the objects.delete requests that deleted an object.
func (s *Server) ObjectDeletes() int {
	s.storageMu.Lock()
	defer s.storageMu.Unlock()
	return s.objectDeletes
}

// StorageRequests counts every request to the Cloud Storage JSON API, refused ones and upload
// chunks included.
func (s *Server) StorageRequests() int {
	s.storageMu.Lock()
	defer s.storageMu.Unlock()
	return s.storageRequests
}

func (s *Server) storageRoutes() {
	api := func(pattern, method string, h apiHandler) {
		s.mux.Handle(pattern, s.wrap(method, func(w http.ResponseWriter, r *http.Request) *apiError {
			s.storageMu.Lock()
			s.storageRequests++
			s.storageMu.Unlock()
			return h(w, r)
		}))
	}
	api("GET /storage/v1/b/{bucket}", "storage.buckets.get", s.getBucket)
	api("GET /storage/v1/b/{bucket}/iam/testPermissions", "storage.buckets.testIamPermissions", s.testBucketPermissions)
	api("POST /upload/storage/v1/b/{bucket}/o", "storage.objects.insert", s.insertObject)
	api("PUT /upload/storage/v1/b/{bucket}/o", "storage.objects.insert", s.insertObject)
	api("GET /storage/v1/b/{bucket}/o/{object...}", "storage.objects.get", s.getObject)
	api("DELETE /storage/v1/b/{bucket}/o/{object...}", "storage.objects.delete", s.deleteObject)
}

// errNoBucket is Cloud Storage's answer about a bucket that does not exist.
func errNoBucket() *apiError {
	return errNotFound("The specified bucket does not exist.")
}

// errStorageDenied is Cloud Storage's answer to a request without the permission it needs.
func (s *Server) errStorageDenied(perm, kind string) *apiError {
	return &apiError{code: http.StatusForbidden, reason: ReasonForbidden,
		message: fmt.Sprintf("bqtest@%s.iam.gserviceaccount.com does not have %s access to the Google Cloud Storage %s. Permission '%s' denied on resource (or it may not exist).", s.opts.Project, perm, kind, perm)}
}

// errPrecondition is Cloud Storage's answer to a failed ifGenerationMatch.
func errPrecondition() *apiError {
	return &apiError{code: http.StatusPreconditionFailed, reason: ReasonConditionNotMet,
		message: "At least one of the pre-conditions you specified did not hold."}
}

// bucketExists reports whether the bucket exists.
func (s *Server) bucketExists(name string) bool {
	s.storageMu.Lock()
	defer s.storageMu.Unlock()
	_, ok := s.buckets[name]
	return ok
}

func (s *Server) getBucket(w http.ResponseWriter, r *http.Request) *apiError {
	if s.isDenied(PermStorageBucketsGet) {
		return s.errStorageDenied(PermStorageBucketsGet, "bucket")
	}
	s.storageMu.Lock()
	b, ok := s.buckets[r.PathValue("bucket")]
	var out *storagev1.Bucket
	if ok {
		out = &storagev1.Bucket{Kind: "storage#bucket", Id: b.name, Name: b.name, Location: b.location,
			LocationType: "multi-region", StorageClass: "STANDARD", Metageneration: 1,
			TimeCreated: b.created.UTC().Format(time.RFC3339Nano), Updated: b.created.UTC().Format(time.RFC3339Nano)}
	}
	s.storageMu.Unlock()
	if !ok {
		return errNoBucket()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// testBucketPermissions is buckets.testIamPermissions: the permissions asked for that are not
// denied (404 for a bucket that does not exist).
func (s *Server) testBucketPermissions(w http.ResponseWriter, r *http.Request) *apiError {
	if !s.bucketExists(r.PathValue("bucket")) {
		return errNoBucket()
	}
	out := &storagev1.TestIamPermissionsResponse{Kind: "storage#testIamPermissionsResponse"}
	for _, p := range r.URL.Query()["permissions"] {
		if !s.isDenied(p) {
			out.Permissions = append(out.Permissions, p)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// objectWrite is an objects.insert being served: where and under which preconditions.
type objectWrite struct {
	bucket, name, contentType string
	ifGeneration              *int64 // ifGenerationMatch
	crc32c, md5               string // expected checksums (base64), "" when not given
}

// insertObject is objects.insert: uploadType=media (the body is the data, the name a
// parameter), multipart (JSON metadata, then the data) or resumable (a session, then chunks to
// the session URI).
func (s *Server) insertObject(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	if id := q.Get("upload_id"); id != "" {
		return s.uploadChunk(w, r, id)
	}
	if r.Method != http.MethodPost {
		return errInvalid("Uploads are started with POST")
	}
	wr := &objectWrite{bucket: r.PathValue("bucket"), name: q.Get("name")}
	if v := q.Get("ifGenerationMatch"); v != "" {
		g, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errInvalid("Invalid value for ifGenerationMatch: %s", v)
		}
		wr.ifGeneration = &g
	}
	var media io.Reader
	switch ut := q.Get("uploadType"); ut {
	case "media":
		wr.contentType = r.Header.Get("Content-Type")
		media = r.Body
	case "multipart":
		part, aerr := wr.readMultipart(r)
		if aerr != nil {
			return aerr
		}
		media = part
	case "resumable":
		if err := wr.readMetadata(r.Body); err != nil {
			return errInvalid("Invalid JSON payload received in the resumable upload's metadata. %v", err)
		}
		if ct := r.Header.Get("X-Upload-Content-Type"); ct != "" && wr.contentType == "" {
			wr.contentType = ct
		}
	default:
		return errInvalid("Invalid uploadType %q (media, multipart or resumable)", ut)
	}
	if wr.name == "" {
		return errInvalid("Required parameter is missing: name")
	}
	if aerr := s.admitObjectWrite(wr); aerr != nil {
		return aerr
	}
	if media == nil { // resumable: the data comes in the session's chunks
		return s.startObjectSession(w, r, wr)
	}
	f, aerr := s.storeMedia(media)
	if aerr != nil {
		return aerr
	}
	o, aerr := s.storeObject(wr, f.path, f.size)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, s.objectResource(wr.bucket, o))
	return nil
}

// readMetadata decodes an object resource (possibly an empty body) into wr.
func (wr *objectWrite) readMetadata(body io.Reader) error {
	var meta storagev1.Object
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(data)) != "" {
		if err := json.Unmarshal(data, &meta); err != nil {
			return err
		}
	}
	if meta.Name != "" {
		wr.name = meta.Name
	}
	if meta.Bucket != "" && meta.Bucket != wr.bucket {
		return fmt.Errorf("the metadata names bucket %s, the request %s", meta.Bucket, wr.bucket)
	}
	wr.contentType, wr.crc32c, wr.md5 = meta.ContentType, meta.Crc32c, meta.Md5Hash
	return nil
}

// readMultipart reads the metadata part of a multipart upload into wr and returns the data part.
func (wr *objectWrite) readMultipart(r *http.Request) (io.Reader, *apiError) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" || params["boundary"] == "" {
		return nil, errInvalid("Multipart uploads need a multipart/related body, got Content-Type %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	meta, err := mr.NextPart()
	if err != nil {
		return nil, errInvalid("Reading the metadata part of the upload: %v", err)
	}
	if err := wr.readMetadata(meta); err != nil {
		return nil, errInvalid("Invalid JSON payload received in the metadata part. %v", err)
	}
	data, err := mr.NextPart()
	if err != nil {
		return nil, errInvalid("Reading the media part of the upload: %v", err)
	}
	if wr.contentType == "" {
		wr.contentType = data.Header.Get("Content-Type")
	}
	return data, nil
}

// admitObjectWrite applies the checks made before any data is accepted: injected faults, the
// bucket's existence, the permission.
func (s *Server) admitObjectWrite(wr *objectWrite) *apiError {
	if k := s.takeFault(Call{Op: OpObjectsInsert, Bucket: wr.bucket, Object: wr.name}); k != "" {
		return faultError(k)
	}
	if !s.bucketExists(wr.bucket) {
		return errNoBucket()
	}
	if s.isDenied(PermStorageObjectsCreate) {
		return s.errStorageDenied(PermStorageObjectsCreate, "object")
	}
	return nil
}

// startObjectSession starts a resumable upload of an object and answers its session URI.
func (s *Server) startObjectSession(w http.ResponseWriter, r *http.Request, wr *objectWrite) *apiError {
	sess, aerr := s.newUploadSession(func(w http.ResponseWriter, r *http.Request, path string, size int64) (func(http.ResponseWriter), *apiError) {
		if h := r.Header.Get("X-Goog-Hash"); h != "" {
			for _, kv := range strings.Split(h, ",") {
				k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
				switch k {
				case "crc32c":
					wr.crc32c = v
				case "md5":
					wr.md5 = v
				}
			}
		}
		o, aerr := s.storeObject(wr, path, size)
		if aerr != nil {
			return nil, aerr
		}
		res := s.objectResource(wr.bucket, o)
		writeJSON(w, http.StatusOK, res)
		return func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, res) }, nil
	})
	if aerr != nil {
		return aerr
	}
	w.Header().Set("Location", fmt.Sprintf("%s://%s/upload/storage/v1/b/%s/o?uploadType=resumable&upload_id=%s",
		scheme(r), r.Host, url.PathEscape(wr.bucket), sess.id))
	w.Header().Set("X-GUploader-UploadID", sess.id)
	w.WriteHeader(http.StatusOK)
	return nil
}

// storeObject makes the file at path (which it takes over) the live generation of the object,
// after checking the checksums and preconditions; the generation it replaces is deleted.
func (s *Server) storeObject(wr *objectWrite, path string, size int64) (*gcsObject, *apiError) {
	crc, sum, err := checksums(path)
	if err != nil {
		os.Remove(path)
		return nil, backendErr("checksumming the upload", err)
	}
	if wr.crc32c != "" && wr.crc32c != encodeCRC32C(crc) {
		os.Remove(path)
		return nil, errInvalid("Provided CRC32C %q doesn't match calculated CRC32C %q.", wr.crc32c, encodeCRC32C(crc))
	}
	if wr.md5 != "" && wr.md5 != base64.StdEncoding.EncodeToString(sum) {
		os.Remove(path)
		return nil, errInvalid("Provided MD5 hash %q doesn't match calculated MD5 hash %q.", wr.md5, base64.StdEncoding.EncodeToString(sum))
	}
	deleteDenied := s.isDenied(PermStorageObjectsDelete)
	s.storageMu.Lock()
	defer s.storageMu.Unlock()
	b, ok := s.buckets[wr.bucket]
	if !ok {
		os.Remove(path)
		return nil, errNoBucket()
	}
	old := b.objects[wr.name]
	var current int64
	if old != nil {
		current = old.generation
	}
	if wr.ifGeneration != nil && *wr.ifGeneration != current {
		os.Remove(path)
		return nil, errPrecondition()
	}
	if old != nil && deleteDenied {
		os.Remove(path)
		return nil, s.errStorageDenied(PermStorageObjectsDelete, "object")
	}
	s.generation++
	o := &gcsObject{name: wr.name, path: path, size: size, generation: s.generation, contentType: wr.contentType,
		crc32c: crc, md5: sum, created: s.now()}
	if o.contentType == "" {
		o.contentType = "application/octet-stream"
	}
	b.objects[wr.name] = o
	if old != nil {
		os.Remove(old.path)
	}
	s.objectUploads++
	return o, nil
}

// checksums are the CRC32C (Castagnoli) and MD5 of the file.
func checksums(path string) (uint32, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	c := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	m := md5.New()
	if _, err := io.Copy(io.MultiWriter(c, m), f); err != nil {
		return 0, nil, err
	}
	return c.Sum32(), m.Sum(nil), nil
}

// encodeCRC32C is Cloud Storage's encoding of a CRC32C: base64 of its big-endian bytes.
func encodeCRC32C(c uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], c)
	return base64.StdEncoding.EncodeToString(b[:])
}

// objectResource renders an object.
func (s *Server) objectResource(bucket string, o *gcsObject) *storagev1.Object {
	ts := o.created.UTC().Format(time.RFC3339Nano)
	return &storagev1.Object{
		Kind: "storage#object", Id: fmt.Sprintf("%s/%s/%d", bucket, o.name, o.generation),
		Name: o.name, Bucket: bucket, Generation: o.generation, Metageneration: 1,
		Size: uint64(o.size), ContentType: o.contentType, StorageClass: "STANDARD",
		Crc32c: encodeCRC32C(o.crc32c), Md5Hash: base64.StdEncoding.EncodeToString(o.md5),
		TimeCreated: ts, Updated: ts,
		SelfLink: s.StorageEndpoint() + "b/" + url.PathEscape(bucket) + "/o/" + url.PathEscape(o.name),
	}
}

// lookupObject finds a live object for objects.get and objects.delete; the caller holds
// storageMu.
func (s *Server) lookupObjectLocked(bucket, name string) (*gcsBucket, *gcsObject, *apiError) {
	b, ok := s.buckets[bucket]
	if !ok {
		return nil, nil, errNoBucket()
	}
	o, ok := b.objects[name]
	if !ok {
		return nil, nil, errNotFound("No such object: %s/%s", bucket, name)
	}
	return b, o, nil
}

// getObject is objects.get: the metadata, or the data with alt=media.
func (s *Server) getObject(w http.ResponseWriter, r *http.Request) *apiError {
	if s.isDenied(PermStorageObjectsGet) {
		return s.errStorageDenied(PermStorageObjectsGet, "object")
	}
	bucket, name := r.PathValue("bucket"), r.PathValue("object")
	s.storageMu.Lock()
	_, o, aerr := s.lookupObjectLocked(bucket, name)
	var data []byte
	var res *storagev1.Object
	if aerr == nil {
		res = s.objectResource(bucket, o)
		if r.URL.Query().Get("alt") == "media" {
			var err error
			if data, err = os.ReadFile(o.path); err != nil {
				aerr = backendErr("reading object "+name, err)
			}
		}
	}
	s.storageMu.Unlock()
	if aerr != nil {
		return aerr
	}
	if r.URL.Query().Get("alt") == "media" {
		w.Header().Set("Content-Type", res.ContentType)
		w.Header().Set("X-Goog-Generation", strconv.FormatInt(res.Generation, 10))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data)
		return nil
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// deleteObject is objects.delete (204 No Content).
func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request) *apiError {
	bucket, name := r.PathValue("bucket"), r.PathValue("object")
	if k := s.takeFault(Call{Op: OpObjectsDelete, Bucket: bucket, Object: name}); k != "" {
		return faultError(k)
	}
	if s.isDenied(PermStorageObjectsDelete) {
		return s.errStorageDenied(PermStorageObjectsDelete, "object")
	}
	s.storageMu.Lock()
	b, o, aerr := s.lookupObjectLocked(bucket, name)
	if aerr == nil {
		delete(b.objects, name)
		os.Remove(o.path)
		s.objectDeletes++
	}
	s.storageMu.Unlock()
	if aerr != nil {
		return aerr
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// parseGCSURI splits gs://bucket/object.
func parseGCSURI(uri string) (bucket, object string, aerr *apiError) {
	rest, ok := strings.CutPrefix(uri, "gs://")
	if !ok {
		return "", "", errInvalid("Source URI must be a Google Cloud Storage location: %s", uri)
	}
	bucket, object, _ = strings.Cut(rest, "/")
	if bucket == "" || object == "" {
		return "", "", errInvalid("Source URI must be a Google Cloud Storage location: %s", uri)
	}
	if strings.Contains(object, "*") {
		return "", "", errNotImplemented("wildcards in source URIs (%s)", uri)
	}
	return bucket, object, nil
}

// loadSource is a file a load job reads: the uploaded data, or a snapshot of a Cloud Storage
// object.
type loadSource struct {
	label string // for error messages: "the uploaded file" or the gs:// URI
	path  string
	size  int64
}

// snapshotSources resolves a load job's source URIs to snapshots of the objects' live
// generations (hard links, or copies, under the temp directory: deleting or replacing an object
// afterwards does not affect the job), as the job starts reading them. A missing bucket or
// object fails the job notFound, a denied storage.objects.get accessDenied. cleanup removes the
// snapshots.
func (s *Server) snapshotSources(uris []string) (srcs []loadSource, cleanup func(), aerr *apiError) {
	cleanup = func() {
		for _, src := range srcs {
			os.Remove(src.path)
		}
	}
	denied := s.isDenied(PermStorageObjectsGet)
	names := make([]string, len(uris))
	for i := range uris {
		names[i] = filepath.Join(s.tmpDir, s.nextID("source_")+".parquet")
	}
	s.storageMu.Lock()
	defer s.storageMu.Unlock()
	for i, uri := range uris {
		bucket, object, aerr := parseGCSURI(uri)
		if aerr != nil {
			cleanup()
			return nil, func() {}, aerr
		}
		if denied {
			cleanup()
			return nil, func() {}, &apiError{code: http.StatusForbidden, reason: ReasonAccessDenied, message: "Access Denied: File " + uri + ": Access Denied"}
		}
		_, o, lerr := s.lookupObjectLocked(bucket, object)
		if lerr != nil {
			cleanup()
			return nil, func() {}, errNotFound("Not found: URI %s", uri)
		}
		if err := linkOrCopy(o.path, names[i]); err != nil {
			cleanup()
			return nil, func() {}, backendErr("reading "+uri, err)
		}
		srcs = append(srcs, loadSource{label: uri, path: names[i], size: o.size})
	}
	return srcs, cleanup, nil
}

// linkOrCopy makes dst a hard link to src, or a copy when linking fails.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

// scheme is the request's URL scheme.
func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
