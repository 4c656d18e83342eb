package crowdtilt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdtilt"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"golang.org/x/time/rate"
)

const (
	// testKey and testSecret are long and distinctive, so that finding them anywhere is a leak.
	testKey    = "ct_key_5f0e2a91"
	testSecret = "ct_secret_b7c4d8e3"
	// testAuthorization is "Basic " + base64("ct_key_5f0e2a91:ct_secret_b7c4d8e3"), computed by hand.
	testAuthorization = "Basic Y3Rfa2V5XzVmMGUyYTkxOmN0X3NlY3JldF9iN2M0ZDhlMw=="
	// testCardToken and testCardNumber are card data: they must never come out of the client.
	testCardToken  = "CCP6D6E7E7C0C5C11E2BD7001E2CFE628C0"
	testCardNumber = "4111111111111111"
)

// reply is one scripted answer of the fake API.
type reply struct {
	status int
	header map[string]string
	body   []byte
}

type recorded struct {
	path   string
	query  url.Values
	header http.Header
}

// fakeAPI is a local stand-in for the Crowdtilt API: answer(n, r) decides the nth answer (from 1).
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
	f.mu.Unlock()
	rep := f.answer(n, r)
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func (f *fakeAPI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// sleepRecorder is a Sleeper that records the waits and returns at once.
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
	return slices.Clone(s.waits)
}

// lockedBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logs is a logger at debug level whose output is kept twice: as entries (a logrus test hook) and
// as the text a person would read.
type logs struct {
	entry *logrus.Entry
	hook  *test.Hook
	text  *lockedBuffer
}

func newLogs() *logs {
	l := &logs{text: &lockedBuffer{}}
	logger := logrus.New()
	logger.SetOutput(l.text)
	logger.SetLevel(logrus.DebugLevel)
	l.hook = test.NewLocal(logger)
	l.entry = logrus.NewEntry(logger)
	return l
}

// all is everything logged so far, the entries' messages and fields included.
func (l *logs) all() string {
	var b strings.Builder
	for _, e := range l.hook.AllEntries() {
		fmt.Fprintf(&b, "%s %s %v\n", e.Level, e.Message, e.Data)
	}
	b.WriteString(l.text.String())
	return b.String()
}

// harness is a client of a fake API that never sleeps, with its logs captured.
type harness struct {
	api    *fakeAPI
	client *crowdtilt.Client
	sleeps *sleepRecorder
	logs   *logs
}

// testNow is the clock of Retry-After dates.
var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// quiet are the options of every test client: no real waits, no limit, a fixed version.
func quiet(sleeps *sleepRecorder) []extract.Option {
	return []extract.Option{
		extract.WithSleeper(sleeps.sleep),
		extract.WithRand(func() float64 { return 0.5 }),
		extract.WithLimiter(rate.NewLimiter(rate.Inf, 1)),
		extract.WithClock(func() time.Time { return testNow }),
		extract.WithVersion("1.2.3"),
	}
}

func newHarness(t *testing.T, answer func(int, *http.Request) reply, opts ...extract.Option) *harness {
	t.Helper()
	h := &harness{api: newFakeAPI(t, answer), sleeps: &sleepRecorder{}, logs: newLogs()}
	c, err := crowdtilt.NewClient(testConfig(h.api.URL), testAPI(), h.logs.entry, append(quiet(h.sleeps), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.client = c
	return h
}

// testConfig is a client's configuration: the API at u, with the test credentials.
func testConfig(u string) config.Crowdtilt {
	return config.Crowdtilt{URL: u, Key: testKey, Secret: testSecret}
}

// testAPI is a client's HTTP settings: 4 attempts, no real waits (the sleeper returns at once).
func testAPI() config.API {
	return config.API{Rate: 1000, Burst: 10, Timeout: 5 * time.Second, MaxAttempts: 4, BackoffBase: time.Second, BackoffMax: 8 * time.Second}
}

// paymentJSON is a payment as the API answers it (the seed's shape), with its card token.
func paymentJSON(id, campaignID string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"id":%q,"status":"charged","amount":2000,"user_fee_amount":40,"admin_fee_amount":40,`+
		`"uri":"/v1/campaigns/%s/payments/%s","campaign":{"id":%q,"uri":"/v1/campaigns/%s"},`+
		`"card":{"id":%q,"last_four":"1111","expiration_year":2023,"expiration_month":"01","user":{"id":"USR521","uri":"/v1/users/USR521"},`+
		`"uri":"/v1/users/USR521/cards/%s","card_type":"VISA card","creation_date":"2012-08-23T07:42:46.134467000Z",`+
		`"modification_date":"2012-09-23T07:42:46.134467000Z","metadata":{}},`+
		`"user":{"id":"USR521","email":"payer@example.org","firstname":"Zoë","lastname":null,"is_verified":0,`+
		`"creation_date":"2011-07-02T14:20:48Z","modification_date":"2013-03-19T03:29:34.605286000Z","uri":"/v1/users/USR521","metadata":{}},`+
		`"creation_date":"2012-10-20T15:45:13.736326000Z","modification_date":"2012-10-20T15:45:47Z","metadata":{}}`,
		id, campaignID, id, campaignID, campaignID, testCardToken, testCardToken))
}

// campaignJSON is a campaign as the API answers it.
func campaignJSON(id string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"id":%q,"title":"Campaign %s","tilt_amount":100,"min_payment_amount":0,"fixed_payment_amount":0,`+
		`"expiration_date":"2000-01-02T01:02:03Z","is_tilted":0,"is_paid":0,"is_expired":0,"needs_bank":0,"uri":"/v1/campaigns/%s",`+
		`"admin":{"id":"USREC5","uri":"/v1/users/USREC5"},"first_contributor":null,"tilter":null,`+
		`"stats":{"tilt_percent":0,"raised_amount":0,"unique_contributors":0,"number_of_contributions":0},`+
		`"creation_date":"2011-07-02T14:20:48Z","modification_date":"2011-09-02T14:20:48Z","metadata":{}}`, id, id, id))
}

// listBody is a list answer; pg nil leaves the pagination object out.
func listBody(member string, items []json.RawMessage, pg map[string]any) []byte {
	env := map[string]any{member: items}
	if items == nil {
		env[member] = []json.RawMessage{}
	}
	if pg != nil {
		env["pagination"] = pg
	}
	b, err := json.Marshal(env)
	if err != nil {
		panic(err)
	}
	return b
}

// pages serves items as the seed's API does: page and per_page (default 50, at most maxPer), the
// pagination object filled in; edit, when set, changes the pagination object or the items of
// each answer.
type pages struct {
	member string
	items  []json.RawMessage
	maxPer int
	edit   func(page int, pg map[string]any, items []json.RawMessage) []json.RawMessage
}

func (p pages) serve(r *http.Request) reply {
	q := r.URL.Query()
	page, per := 1, 50
	if v, err := strconv.Atoi(q.Get("page")); err == nil {
		page = v
	}
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil {
		per = v
	}
	if p.maxPer > 0 {
		per = min(per, p.maxPer)
	}
	total := len(p.items)
	lo := min((page-1)*per, total)
	items := p.items[lo:min(lo+per, total)]
	pg := map[string]any{"page": page, "entries_on_this_page": len(items), "total_pages": max(1, (total+per-1)/per),
		"total_entries": total, "per_page": per}
	if p.edit != nil {
		items = p.edit(page, pg, items)
	}
	return reply{body: listBody(p.member, items, pg)}
}

func seqPayments(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = paymentJSON(fmt.Sprintf("CON%04d", i+1), "CMPBDA")
	}
	return out
}

func ids(recs []crowdtilt.Record) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func seqIDs(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%04d", prefix, i))
	}
	return out
}
