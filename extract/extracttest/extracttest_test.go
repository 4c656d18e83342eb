package extracttest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/extracttest"
)

// A SleepRecorder's Sleep is an extract.Sleeper.
var _ extract.Sleeper = new(extracttest.SleepRecorder).Sleep

// get sends a GET on a fresh connection (net/http resends a GET once on a reused connection that
// turns out closed, which would hide a Drop) and reads the whole body.
func get(t *testing.T, ctx context.Context, url string) (*http.Response, []byte, error) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// Scripted answers its replies in order, then hands over to then with n counted from 1 again;
// the requests are recorded in order; the Content-Type is JSON unless a reply's header says
// otherwise.
func TestScriptedOrderAndRecording(t *testing.T) {
	var thenN []int
	api := extracttest.NewFakeAPI(t, extracttest.Scripted(
		func(n int, _ *http.Request) extracttest.Reply {
			thenN = append(thenN, n) // requests are sequential
			return extracttest.Reply{Body: []byte("then")}
		},
		extracttest.Reply{Status: 503, Body: []byte("first")},
		extracttest.Reply{Status: 201, Header: map[string]string{"Content-Type": "text/plain", "X-Two": "2"}, Body: []byte("second")},
	))
	want := []struct {
		status int
		ctype  string
		body   string
	}{
		{503, "application/json", "first"},
		{201, "text/plain", "second"},
		{200, "application/json", "then"},
		{200, "application/json", "then"},
	}
	for i, w := range want {
		resp, body, err := get(t, context.Background(), api.URL+"/p"+string(rune('0'+i))+"?i=x")
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if resp.StatusCode != w.status || resp.Header.Get("Content-Type") != w.ctype || string(body) != w.body {
			t.Errorf("request %d: %d %q %q, want %d %q %q", i+1, resp.StatusCode, resp.Header.Get("Content-Type"), body, w.status, w.ctype, w.body)
		}
		if i == 1 && resp.Header.Get("X-Two") != "2" {
			t.Errorf("request 2: X-Two %q", resp.Header.Get("X-Two"))
		}
	}
	if !slices.Equal(thenN, []int{1, 2}) {
		t.Errorf("then saw n = %v, want [1 2]", thenN)
	}
	reqs := api.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests recorded, want 4", len(reqs))
	}
	for i, r := range reqs {
		if r.Path != "/p"+string(rune('0'+i)) || r.Query.Get("i") != "x" || r.Header.Get("User-Agent") == "" {
			t.Errorf("request %d recorded as %+v", i+1, r)
		}
	}
}

// Reset forgets the requests and counts from 1 again with the new answer.
func TestReset(t *testing.T) {
	api := extracttest.NewFakeAPI(t, extracttest.Always(extracttest.Reply{Body: []byte("old")}))
	for range 2 {
		if _, _, err := get(t, context.Background(), api.URL); err != nil {
			t.Fatal(err)
		}
	}
	var ns []int
	api.Reset(func(n int, _ *http.Request) extracttest.Reply {
		ns = append(ns, n)
		return extracttest.Reply{Body: []byte("new")}
	})
	if n := len(api.Requests()); n != 0 {
		t.Errorf("%d requests after Reset, want 0", n)
	}
	_, body, err := get(t, context.Background(), api.URL+"/after")
	if err != nil || string(body) != "new" {
		t.Fatalf("after Reset: %q, %v", body, err)
	}
	if reqs := api.Requests(); !slices.Equal(ns, []int{1}) || len(reqs) != 1 || reqs[0].Path != "/after" {
		t.Errorf("after Reset: n %v, requests %+v", ns, reqs)
	}
}

// Cut announces more body than it sends: the client sees the body end early.
func TestCut(t *testing.T) {
	api := extracttest.NewFakeAPI(t, extracttest.Always(extracttest.Reply{Body: []byte(`{"partial":`), Cut: true}))
	resp, body, err := get(t, context.Background(), api.URL)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(`{"partial":`)+100) || string(body) != `{"partial":` {
		t.Errorf("got %d, Content-Length %d, body %q", resp.StatusCode, resp.ContentLength, body)
	}
}

// Drop closes the connection without a response.
func TestDrop(t *testing.T) {
	api := extracttest.NewFakeAPI(t, extracttest.Scripted(
		extracttest.Always(extracttest.Reply{Body: []byte("ok")}),
		extracttest.Reply{Status: 500, Body: []byte("never sent"), Drop: true},
	))
	resp, _, err := get(t, context.Background(), api.URL)
	if err == nil {
		t.Fatalf("got a response %d, want the connection closed", resp.StatusCode)
	}
	if !errors.Is(err, io.EOF) {
		t.Errorf("err = %v, want io.EOF (connection closed before the response)", err)
	}
	if _, body, err := get(t, context.Background(), api.URL); err != nil || string(body) != "ok" {
		t.Errorf("next request: %q, %v", body, err)
	}
	if n := len(api.Requests()); n != 2 {
		t.Errorf("%d requests recorded, want 2", n)
	}
}

// Hang answers nothing until the client gives up; with a body, the response arrives and its body
// stalls after Body.
func TestHang(t *testing.T) {
	api := extracttest.NewFakeAPI(t, extracttest.Scripted(
		extracttest.Always(extracttest.Reply{}),
		extracttest.Reply{Hang: true},
		extracttest.Reply{Status: 202, Body: []byte("start"), Hang: true},
	))

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := get(t, ctx, api.URL); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang without a body: err = %v, want context.DeadlineExceeded", err)
	}

	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	req, err := http.NewRequestWithContext(ctx2, http.MethodGet, api.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("hang with a body: %v, want the response's head", err)
	}
	defer func() { _ = resp.Body.Close() }()
	start := make([]byte, len("start"))
	if _, err := io.ReadFull(resp.Body, start); err != nil || resp.StatusCode != 202 || string(start) != "start" {
		t.Fatalf("hang with a body: %d %q, %v", resp.StatusCode, start, err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := resp.Body.Read(make([]byte, 1))
		readErr <- err
	}()
	select {
	case err := <-readErr:
		t.Fatalf("the body went on (err %v); want it stalled", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel2() // the client gives up: the handler returns and the read ends
	if err := <-readErr; err == nil {
		t.Error("read after cancel: no error")
	}
}

// The SleepRecorder records each wait, returns at once, and reports a done context.
func TestSleepRecorder(t *testing.T) {
	var s extracttest.SleepRecorder
	if got := s.Waits(); len(got) != 0 {
		t.Errorf("zero value waits %v", got)
	}
	start := time.Now()
	if err := s.Sleep(context.Background(), time.Hour); err != nil {
		t.Errorf("Sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a canceled context: %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Sleep slept %v", elapsed)
	}
	got := s.Waits()
	if !slices.Equal(got, []time.Duration{time.Hour, time.Second}) {
		t.Errorf("waits %v, want [1h0m0s 1s]", got)
	}
	got[0] = 0 // a copy
	if s.Waits()[0] != time.Hour {
		t.Error("Waits hands out its own slice")
	}
}
