// Package extracttest is a fake HTTP API for the tests of package extract and of the platform
// clients built on it (extract/crowdchange, extract/donately): a local server that answers each
// request as the test scripts it and records what it was asked, and a Sleeper that records the
// waits instead of sleeping.
//
// Only tests import it.
package extracttest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Reply is one scripted answer of the fake API.
type Reply struct {
	// Status is the answer's status; 0 means 200 OK.
	Status int
	// Header is set on the answer, after the default Content-Type: application/json (which it
	// may replace).
	Header map[string]string
	// Body is the answer's body.
	Body []byte
	// Cut declares a Content-Length 100 bytes longer than Body: the connection drops mid-body,
	// and the client reading the body sees io.ErrUnexpectedEOF.
	Cut bool
	// Drop closes the connection without answering (no status line, no header): the client sees
	// the connection closed, as with a server that went away.
	Drop bool
	// Hang answers nothing until the request's context is done (the client gives up, or the
	// server closes). With Body set, the status, the header and Body are sent and flushed first:
	// the client gets a response whose body stalls.
	Hang bool
}

// Request is what the fake API recorded of one request.
type Request struct {
	Path   string
	Query  url.Values
	Header http.Header
}

// FakeAPI is a local stand-in for a platform's API, listening on 127.0.0.1: its answer function
// decides the nth answer (n counts from 1).
type FakeAPI struct {
	// URL is the server's base URL, http://127.0.0.1:port with no trailing slash.
	URL string

	mu     sync.Mutex
	answer func(n int, r *http.Request) Reply
	reqs   []Request
}

// NewFakeAPI starts a fake API answering with answer; it is closed when the test ends.
func NewFakeAPI(t testing.TB, answer func(n int, r *http.Request) Reply) *FakeAPI {
	t.Helper()
	f := &FakeAPI{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(f.serve)) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Reset forgets the requests so far and answers with answer from now on, counting from 1 again.
func (f *FakeAPI) Reset(answer func(n int, r *http.Request) Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs, f.answer = nil, answer
}

// Requests is the requests received so far (since the last Reset), in order of arrival.
func (f *FakeAPI) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

func (f *FakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, Request{Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()})
	n := len(f.reqs)
	answer := f.answer
	f.mu.Unlock()
	rep := answer(n, r)
	if rep.Drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	switch {
	case rep.Hang && rep.Body == nil:
		<-r.Context().Done()
		return
	case rep.Hang:
		w.WriteHeader(rep.Status)
		_, _ = w.Write(rep.Body)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	case rep.Cut:
		w.Header().Set("Content-Length", strconv.Itoa(len(rep.Body)+100))
	}
	w.WriteHeader(rep.Status)
	_, _ = w.Write(rep.Body)
}

// Scripted answers with the replies in order, then with then (its n counting from 1 again after
// the replies).
func Scripted(then func(n int, r *http.Request) Reply, replies ...Reply) func(int, *http.Request) Reply {
	return func(n int, r *http.Request) Reply {
		if n <= len(replies) {
			return replies[n-1]
		}
		return then(n-len(replies), r)
	}
}

// Always answers rep every time.
func Always(rep Reply) func(int, *http.Request) Reply {
	return func(int, *http.Request) Reply { return rep }
}

// SleepRecorder records the waits asked of it and never sleeps. Its Sleep method is an
// extract.Sleeper; the zero value is ready to use, and it is safe for concurrent use.
type SleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

// Sleep records d and returns at once: ctx.Err(), as a sleeper whose context is done would.
func (s *SleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

// Waits is the waits recorded so far, in order.
func (s *SleepRecorder) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}
