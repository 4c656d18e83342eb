package crowdchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// testKey is long and distinctive, so that finding it anywhere is a leak.
const testKey = "ck_live_7f3a9c1e5b2d4f60"

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

// reset forgets the requests so far and answers with answer from now on.
func (f *fakeAPI) reset(answer func(n int, r *http.Request) reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs, f.answer = nil, answer
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

// tx is a transaction with an id and a few values that must never show in logs or errors.
func tx(id int64) json.RawMessage {
	b, err := json.Marshal(crowdchange.Transaction{
		ID:     id,
		Type:   extract.String("charge"),
		Status: extract.String("completed"),
		Amount: &crowdchange.Amount{TotalPaid: "105.15", Currency: extract.String("CAD")},
		Billing: &crowdchange.Billing{
			Name:  extract.String("Ada Privatename"),
			Email: extract.String("ada@private.example"),
		},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func txs(ids ...int64) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(ids))
	for _, id := range ids {
		out = append(out, tx(id))
	}
	return out
}

func pageBody(count int64, items []json.RawMessage) []byte {
	if items == nil {
		items = []json.RawMessage{}
	}
	b, err := json.Marshal(crowdchange.Page{DTStart: "2024-01-01T00:00:00", DTEnd: "2024-01-01T23:59:59", Count: count, Data: items})
	if err != nil {
		panic(err)
	}
	return b
}

// paged serves items by the request's page and limit, claiming count (negative: the truth).
func paged(items []json.RawMessage, count int64) func(int, *http.Request) reply {
	return func(_ int, r *http.Request) reply {
		page, _ := strconv.Atoi(r.URL.Query().Get(crowdchange.ParamPage))
		limit, _ := strconv.Atoi(r.URL.Query().Get(crowdchange.ParamLimit))
		if page < 1 || limit < 1 {
			return reply{status: 422, body: []byte(`{"message":"The given data was invalid.","errors":{"page":["bad"]}}`)}
		}
		lo, hi := min((page-1)*limit, len(items)), min(page*limit, len(items))
		c := count
		if c < 0 {
			c = int64(len(items))
		}
		return reply{body: pageBody(c, items[lo:hi])}
	}
}

// pages serves the given pages in order by page number (beyond them: empty pages), with their
// total length as the count.
func pages(ps ...[]json.RawMessage) func(int, *http.Request) reply {
	var count int64
	for _, p := range ps {
		count += int64(len(p))
	}
	return func(_ int, r *http.Request) reply {
		page, _ := strconv.Atoi(r.URL.Query().Get(crowdchange.ParamPage))
		if page >= 1 && page <= len(ps) {
			return reply{body: pageBody(count, ps[page-1])}
		}
		return reply{body: pageBody(count, nil)}
	}
}

// okPage is a short page of two transactions: it ends a window.
func okPage() func(int, *http.Request) reply { return always(reply{body: pageBody(2, txs(1, 2))}) }

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

// syncBuffer is a log output safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testConfig is the configuration of the tests' clients: pages of 3, 4 attempts, backoff from
// 100ms to 1s.
func testConfig(apiURL string) config.API {
	return config.API{
		URL: apiURL, Key: config.Secret(testKey), PageSize: 3, MaxAttempts: 4,
		BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second, Timeout: 10 * time.Second,
		Rate: 1, Burst: 1,
	}
}

type harness struct {
	api    *fakeAPI
	client *crowdchange.Client
	sleeps *sleepRecorder
	logs   *syncBuffer
}

// newHarness starts a fake API and a client for it that never sleeps (jitter fixed at 0.5, an
// unlimited rate) and logs at debug level into a buffer. mod adjusts the configuration.
func newHarness(t *testing.T, answer func(int, *http.Request) reply, mod func(*config.API), opts ...extract.Option) *harness {
	t.Helper()
	h := &harness{api: newFakeAPI(t, answer), sleeps: &sleepRecorder{}, logs: &syncBuffer{}}
	cfg := testConfig(h.api.URL)
	if mod != nil {
		mod(&cfg)
	}
	logger := logrus.New()
	logger.SetOutput(h.logs)
	logger.SetLevel(logrus.DebugLevel)
	base := []extract.Option{
		extract.WithSleeper(h.sleeps.sleep),
		extract.WithRand(func() float64 { return 0.5 }),
		extract.WithLimiter(rate.NewLimiter(rate.Inf, 1)),
		extract.WithVersion("1.2.3"),
	}
	c, err := crowdchange.NewClient(cfg, logrus.NewEntry(logger), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.client = c
	return h
}

// day1 is the window most tests fetch.
var day1 = extract.Window{
	Stream: extract.StreamDate,
	Start:  time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	End:    time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
}

func ids(fs []crowdchange.Fetched) []int64 {
	out := make([]int64, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func fmtIDs(v []int64) string { return fmt.Sprint(v) }

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
func fmtDurations(v []time.Duration) string  { return sprintf("%v", v) }

func utc(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}
