package extract_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// reply is one scripted answer of the fake API.
type reply struct {
	status int
	header map[string]string
	body   []byte
	// cut declares a Content-Length longer than the body: the connection drops mid-body.
	cut bool
	// drop closes the connection without answering.
	drop bool
	// hang answers nothing (or, with body set, only the start of the body) until the client
	// gives up.
	hang bool
}

type recorded struct {
	path   string
	query  url.Values
	header http.Header
}

// fakeAPI is a local stand-in for GET /v2/private/transactions: answer(n, r) decides the nth
// answer (from 1).
type fakeAPI struct {
	URL    string
	answer func(n int, r *http.Request) reply

	mu   sync.Mutex
	reqs []recorded
}

func newFakeAPI(t *testing.T, answer func(n int, r *http.Request) reply) *fakeAPI {
	t.Helper()
	f := &fakeAPI{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(f.serve)) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{path: r.URL.Path, query: r.URL.Query(), header: r.Header.Clone()})
	n := len(f.reqs)
	answer := f.answer
	f.mu.Unlock()
	rep := answer(n, r)
	if rep.drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	switch {
	case rep.hang && rep.body == nil:
		<-r.Context().Done()
		return
	case rep.hang:
		w.WriteHeader(rep.status)
		_, _ = w.Write(rep.body)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	case rep.cut:
		w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)+100))
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func (f *fakeAPI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// scripted answers with the replies in order, then with then.
func scripted(then func(n int, r *http.Request) reply, replies ...reply) func(int, *http.Request) reply {
	return func(n int, r *http.Request) reply {
		if n <= len(replies) {
			return replies[n-1]
		}
		return then(n-len(replies), r)
	}
}

// always answers rep every time.
func always(rep reply) func(int, *http.Request) reply {
	return func(int, *http.Request) reply { return rep }
}

// sleepRecorder is a Sleeper that records the waits and never sleeps.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func fmtDurations(v []time.Duration) string { return sprintf("%v", v) }
