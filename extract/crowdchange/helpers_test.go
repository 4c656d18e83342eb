package crowdchange_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/extracttest"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// testKey is long and distinctive, so that finding it anywhere is a leak.
const testKey = "ck_live_7f3a9c1e5b2d4f60"

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
func paged(items []json.RawMessage, count int64) func(int, *http.Request) extracttest.Reply {
	return func(_ int, r *http.Request) extracttest.Reply {
		page, _ := strconv.Atoi(r.URL.Query().Get(crowdchange.ParamPage))
		limit, _ := strconv.Atoi(r.URL.Query().Get(crowdchange.ParamLimit))
		if page < 1 || limit < 1 {
			return extracttest.Reply{Status: 422, Body: []byte(`{"message":"The given data was invalid.","errors":{"page":["bad"]}}`)}
		}
		lo, hi := min((page-1)*limit, len(items)), min(page*limit, len(items))
		c := count
		if c < 0 {
			c = int64(len(items))
		}
		return extracttest.Reply{Body: pageBody(c, items[lo:hi])}
	}
}

// pages serves the given pages in order by page number (beyond them: empty pages), with their
// total length as the count.
func pages(ps ...[]json.RawMessage) func(int, *http.Request) extracttest.Reply {
	var count int64
	for _, p := range ps {
		count += int64(len(p))
	}
	return func(_ int, r *http.Request) extracttest.Reply {
		page, _ := strconv.Atoi(r.URL.Query().Get(crowdchange.ParamPage))
		if page >= 1 && page <= len(ps) {
			return extracttest.Reply{Body: pageBody(count, ps[page-1])}
		}
		return extracttest.Reply{Body: pageBody(count, nil)}
	}
}

// okPage is a short page of two transactions: it ends a window.
func okPage() func(int, *http.Request) extracttest.Reply {
	return extracttest.Always(extracttest.Reply{Body: pageBody(2, txs(1, 2))})
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
	api    *extracttest.FakeAPI
	client *crowdchange.Client
	sleeps *extracttest.SleepRecorder
	logs   *syncBuffer
}

// newHarness starts a fake API and a client for it that never sleeps (jitter fixed at 0.5, an
// unlimited rate) and logs at debug level into a buffer. mod adjusts the configuration.
func newHarness(t *testing.T, answer func(int, *http.Request) extracttest.Reply, mod func(*config.API), opts ...extract.Option) *harness {
	t.Helper()
	h := &harness{api: extracttest.NewFakeAPI(t, answer), sleeps: &extracttest.SleepRecorder{}, logs: &syncBuffer{}}
	cfg := testConfig(h.api.URL)
	if mod != nil {
		mod(&cfg)
	}
	logger := logrus.New()
	logger.SetOutput(h.logs)
	logger.SetLevel(logrus.DebugLevel)
	base := []extract.Option{
		extract.WithSleeper(h.sleeps.Sleep),
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

func utc(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}
