package bqtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"

	"github.com/ccsync/ccsync/load/bqtest"
)

// rawJSON sends one request to the server and decodes the JSON answer.
func rawJSON(t *testing.T, srv *bqtest.Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.Endpoint()+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if b, _ := io.ReadAll(resp.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, b)
		}
	}
	return resp.StatusCode, out
}

// checkEnvelope checks BigQuery's error envelope.
func checkEnvelope(t *testing.T, body map[string]any, code int, status, reason, msg string) {
	t.Helper()
	e, _ := body["error"].(map[string]any)
	errs, _ := e["errors"].([]any)
	if e == nil || len(errs) != 1 {
		t.Fatalf("not an error envelope: %v", body)
	}
	first := errs[0].(map[string]any)
	if e["code"] != float64(code) || e["status"] != status || first["reason"] != reason || !strings.Contains(e["message"].(string), msg) || first["message"] != e["message"] {
		t.Errorf("envelope = %v, want code %d status %s reason %s message ~%q", body, code, status, reason, msg)
	}
}

// sinkLoad loads data the way a careful sink does: it retries a failed insert with the same job ID
// (no sleeping: bqtest faults are deterministic), treats 409 as "the job exists: fetch it", waits
// for the job, and starts a new job (new ID) when the job failed with a transient reason. It
// returns the first insert error, the job errors seen, and the final job status.
func sinkLoad(t *testing.T, c *bigquery.Client, tb *bigquery.Table, data []byte, jobID string) (firstErr error, jobErrs []string, final *bigquery.JobStatus) {
	t.Helper()
	ctx := context.Background()
	for gen := 0; gen < 3; gen++ {
		id := jobID
		if gen > 0 {
			id = fmt.Sprintf("%s-r%d", jobID, gen)
		}
		var job *bigquery.Job
		for attempt := 0; attempt < 4 && job == nil; attempt++ {
			j, err := loader(tb, data, id).Run(ctx)
			if err == nil {
				job = j
				break
			}
			if firstErr == nil {
				firstErr = err
			}
			code, reason := apiCode(err)
			switch {
			case code == http.StatusConflict:
				if job, err = c.JobFromID(ctx, id); err != nil {
					t.Fatalf("fetching %s after 409: %v", id, err)
				}
			case code >= 500, reason == "rateLimitExceeded", code == 0:
				continue
			default:
				t.Fatalf("insert %s: permanent error %v", id, err)
			}
		}
		if job == nil {
			t.Fatalf("insert %s kept failing", id)
		}
		st := waitJob(t, job)
		if st.Err() == nil {
			return firstErr, jobErrs, st
		}
		var be *bigquery.Error
		if !errors.As(st.Err(), &be) {
			t.Fatalf("job error %v is not a *bigquery.Error", st.Err())
		}
		jobErrs = append(jobErrs, be.Reason)
		if be.Reason != "backendError" {
			return firstErr, jobErrs, st
		}
	}
	t.Fatalf("load %s never succeeded", jobID)
	return nil, nil, nil
}

func TestInsertFaults(t *testing.T) {
	cases := []struct {
		kind bqtest.FaultKind
		// What the first insert gets: HTTP code and reason, or -1 for a dropped connection,
		// 0 for success.
		firstCode   int
		firstReason string
		firstMsg    string
		jobErrs     []string // errorResult reasons of the jobs before the final one
		finalOK     bool
		attempts    int // InsertAttempts of the first job
		inserts     int // JobInserts
		loadJobs    int // load jobs created
		jobCreated  bool
	}{
		{kind: bqtest.InsertUnavailable, firstCode: 503, firstReason: "backendError", finalOK: true, attempts: 1, inserts: 2, loadJobs: 1},
		{kind: bqtest.InsertRateLimited, firstCode: 403, firstReason: "rateLimitExceeded", firstMsg: "too many api requests", finalOK: true, attempts: 1, inserts: 2, loadJobs: 1},
		{kind: bqtest.TableUpdateRateLimited, firstCode: 403, firstReason: "rateLimitExceeded", firstMsg: "Exceeded rate limits: too many table update operations for this table", finalOK: true, attempts: 1, inserts: 2, loadJobs: 1},
		{kind: bqtest.InsertResponseLost, firstCode: 503, firstReason: "backendError", finalOK: true, attempts: 2, inserts: 2, loadJobs: 1},
		{kind: bqtest.InsertConnectionLost, firstCode: -1, finalOK: true, attempts: 2, inserts: 2, loadJobs: 1},
		{kind: bqtest.JobBackendError, jobErrs: []string{"backendError"}, finalOK: true, attempts: 1, inserts: 2, loadJobs: 2},
		{kind: bqtest.JobInvalid, jobErrs: []string{"invalid"}, finalOK: false, attempts: 1, inserts: 1, loadJobs: 1},
	}
	for i, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			srv, c := start(t, bqtest.Options{})
			createDataset(t, c)
			tb := createTxTable(t, c, "tx")
			srv.InjectFault(bqtest.Fault{Kind: tc.kind})
			jobID := fmt.Sprintf("fault-%d", i)
			firstErr, jobErrs, final := sinkLoad(t, c, tb, txParquet(t, sampleRows), jobID)

			code, reason := apiCode(firstErr)
			switch {
			case tc.firstCode == 0 && firstErr != nil:
				t.Errorf("first insert failed: %v", firstErr)
			case tc.firstCode == -1 && (firstErr == nil || code != 0):
				t.Errorf("first insert: %v, want a transport error", firstErr)
			case tc.firstCode > 0 && (code != tc.firstCode || reason != tc.firstReason || !strings.Contains(fmt.Sprint(firstErr), tc.firstMsg)):
				t.Errorf("first insert: %v (code %d reason %q), want %d %s %q", firstErr, code, reason, tc.firstCode, tc.firstReason, tc.firstMsg)
			}
			if strings.Join(jobErrs, ",") != strings.Join(tc.jobErrs, ",") {
				t.Errorf("job errors = %v, want %v", jobErrs, tc.jobErrs)
			}
			if (final.Err() == nil) != tc.finalOK {
				t.Errorf("final job error = %v, want success %v", final.Err(), tc.finalOK)
			}
			wantRows := int64(0)
			if tc.finalOK {
				wantRows = 3
			}
			if got := readAll(t, c, "SELECT count(*) FROM `ds.tx`"); got[0][0] != wantRows {
				t.Errorf("rows = %v, want %d (appended exactly once)", got[0][0], wantRows)
			}
			info, ok := srv.Job(jobID)
			if !ok {
				t.Fatalf("job %s does not exist", jobID)
			}
			if info.InsertAttempts != tc.attempts || srv.JobInserts() != tc.inserts || srv.LoadJobs("ds", "tx") != tc.loadJobs {
				t.Errorf("attempts %d inserts %d load jobs %d, want %d %d %d", info.InsertAttempts, srv.JobInserts(), srv.LoadJobs("ds", "tx"), tc.attempts, tc.inserts, tc.loadJobs)
			}
			if srv.FaultsFired(tc.kind) != 1 || srv.PendingFaults() != 0 {
				t.Errorf("fired %d pending %d, want 1 0", srv.FaultsFired(tc.kind), srv.PendingFaults())
			}
		})
	}
}

func TestFaultTimesMatchAndHook(t *testing.T) {
	var mu sync.Mutex // the hook runs on the server's goroutines
	hooked := map[string]bool{}
	srv, c := start(t, bqtest.Options{
		PollsToDone: bqtest.DoneOnInsert,
		Faults:      []bqtest.Fault{{Kind: bqtest.InsertUnavailable, Times: 2, Match: func(call bqtest.Call) bool { return call.Table == "b" }}},
		FaultHook: func(call bqtest.Call) bqtest.FaultKind {
			if call.Op == bqtest.OpJobCreate && call.JobID == "hooked" {
				mu.Lock()
				hooked[call.JobID] = true
				mu.Unlock()
				return bqtest.JobInvalid
			}
			return ""
		},
	})
	ctx := context.Background()
	createDataset(t, c)
	a := createTxTable(t, c, "a")
	b := createTxTable(t, c, "b")
	data := txParquet(t, sampleRows)

	if _, err := loader(a, data, "on-a").Run(ctx); err != nil {
		t.Fatalf("table a is not matched: %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := loader(b, data, "on-b").Run(ctx); err == nil {
			t.Fatalf("insert %d into b succeeded", i)
		}
	}
	if _, err := loader(b, data, "on-b").Run(ctx); err != nil {
		t.Fatalf("third insert into b: %v", err)
	}
	j, err := loader(a, data, "hooked").Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var be *bigquery.Error
	mu.Lock()
	wasHooked := hooked["hooked"]
	mu.Unlock()
	if !errors.As(j.LastStatus().Err(), &be) || be.Reason != "invalid" || !wasHooked {
		t.Errorf("hooked job: %v", j.LastStatus().Err())
	}
	if srv.FaultsFired(bqtest.InsertUnavailable) != 2 || srv.FaultsFired(bqtest.JobInvalid) != 1 {
		t.Errorf("fired: unavailable %d invalid %d", srv.FaultsFired(bqtest.InsertUnavailable), srv.FaultsFired(bqtest.JobInvalid))
	}
}

func TestTableUpdateRateLimitedOnTables(t *testing.T) {
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	createTxTable(t, c, "tx")
	srv.InjectFault(bqtest.Fault{Kind: bqtest.TableUpdateRateLimited, Times: 2})
	if srv.PendingFaults() != 2 {
		t.Fatalf("pending = %d", srv.PendingFaults())
	}
	const msg = "Exceeded rate limits: too many table update operations for this table"
	code, body := rawJSON(t, srv, http.MethodPatch, "projects/proj/datasets/ds/tables/tx", map[string]any{"description": "x"})
	if code != http.StatusForbidden {
		t.Fatalf("patch: %d %v", code, body)
	}
	checkEnvelope(t, body, 403, "PERMISSION_DENIED", "rateLimitExceeded", msg)
	code, body = rawJSON(t, srv, http.MethodPost, "projects/proj/datasets/ds/tables", map[string]any{"tableReference": map[string]any{"tableId": "t2"}})
	if code != http.StatusForbidden {
		t.Fatalf("insert: %d %v", code, body)
	}
	checkEnvelope(t, body, 403, "PERMISSION_DENIED", "rateLimitExceeded", msg)
	md, err := c.Dataset(testDataset).Table("tx").Metadata(ctx)
	if err != nil || md.Description != "" {
		t.Errorf("a refused patch changed the table: %q %v", md.Description, err)
	}
	if _, err := c.Dataset(testDataset).Table("t2").Metadata(ctx); err == nil {
		t.Error("a refused insert created the table")
	}
	if srv.FaultsFired(bqtest.TableUpdateRateLimited) != 2 {
		t.Errorf("fired %d", srv.FaultsFired(bqtest.TableUpdateRateLimited))
	}
}

func TestGetUnavailable(t *testing.T) {
	t.Parallel() // the client-side retry below sleeps up to 1 s
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	j, err := loader(tb, txParquet(t, sampleRows), "get-503").Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(bqtest.Fault{Kind: bqtest.GetUnavailable})
	code, body := rawJSON(t, srv, http.MethodGet, "projects/proj/jobs/get-503?location=US", nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("jobs.get: %d %v", code, body)
	}
	checkEnvelope(t, body, 503, "UNAVAILABLE", "backendError", "Retrying may solve the problem")
	if info, _ := srv.Job("get-503"); info.Polls != 0 || info.State != bqtest.StatePending {
		t.Errorf("a refused jobs.get advanced the job: %+v", info)
	}

	// The Go client retries a 503 on jobs.get by itself, after a pause in (0, 1s].
	srv.InjectFault(bqtest.Fault{Kind: bqtest.GetUnavailable})
	began := time.Now()
	st, err := j.Status(ctx)
	if err != nil {
		t.Fatalf("status through a 503: %v", err)
	}
	t.Logf("Job.Status through one 503: %v (client backoff)", time.Since(began).Round(time.Millisecond))
	if st.State != bigquery.Running || srv.FaultsFired(bqtest.GetUnavailable) != 2 {
		t.Errorf("state %v fired %d", st.State, srv.FaultsFired(bqtest.GetUnavailable))
	}
	code, body = rawJSON(t, srv, http.MethodGet, "projects/proj/jobs/nope", nil)
	if code != http.StatusNotFound {
		t.Fatalf("unknown job: %d", code)
	}
	checkEnvelope(t, body, 404, "NOT_FOUND", "notFound", "Not found: Job proj:US.nope")
	code, _ = rawJSON(t, srv, http.MethodGet, "projects/proj/jobs/get-503?location=EU", nil)
	if code != http.StatusNotFound {
		t.Errorf("job asked for in another location: %d, want 404", code)
	}
}

func TestResumableFinalChunkLost(t *testing.T) {
	t.Parallel() // the client's uploader retries the chunk after a pause in (0, 1s]
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	srv.InjectFault(bqtest.Fault{Kind: bqtest.InsertResponseLost})
	l := loader(tb, txParquet(t, bigRows(3000)), "resumable-lost")
	l.MediaOptions = append(l.MediaOptions, googleapi.ChunkSize(256*1024))
	began := time.Now()
	j, err := l.Run(ctx)
	if err != nil {
		t.Fatalf("the uploader should retry the last chunk and get the job: %v", err)
	}
	t.Logf("resumable upload through a lost last-chunk answer: %v", time.Since(began).Round(time.Millisecond))
	if st := waitJob(t, j); st.Err() != nil {
		t.Fatal(st.Err())
	}
	if info, _ := srv.Job("resumable-lost"); info.OutputRows != 3000 || info.InsertAttempts != 1 || srv.FaultsFired(bqtest.InsertResponseLost) != 1 {
		t.Errorf("job %+v fired %d", info, srv.FaultsFired(bqtest.InsertResponseLost))
	}
}
