package donately_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/donately"
	"github.com/ccsync/ccsync/extract/extracttest"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"golang.org/x/time/rate"
)

const (
	// testToken is long and distinctive, so that finding it anywhere is a leak.
	testToken = "dntly_test_token_8e1f"
	// testAuthorization is "Basic " + base64("dntly_test_token_8e1f:"), computed by hand.
	testAuthorization = "Basic ZG50bHlfdGVzdF90b2tlbl84ZTFmOg=="
	testAccount       = "act_ba7d12ab27bb"
	// testSecret is a payment intent secret: it must never come out of the client.
	testSecret = "pi_3Nx9Yq2eZvKYlo2C_secret_Qw8XkZr41"
)

// harness is a client of a fake API that never sleeps, with its logs captured twice: as entries
// (a logrus test hook) and as the text a person would read.
type harness struct {
	api    *extracttest.FakeAPI
	client *donately.Client
	sleeps *extracttest.SleepRecorder
	hook   *test.Hook
	text   *bytes.Buffer
	textMu *sync.Mutex
}

// lockedBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (b lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// testNow is the clock of Retry-After dates.
var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, answer func(int, *http.Request) extracttest.Reply, opts ...extract.Option) *harness {
	t.Helper()
	h := &harness{api: extracttest.NewFakeAPI(t, answer), sleeps: &extracttest.SleepRecorder{}, text: &bytes.Buffer{}, textMu: &sync.Mutex{}}
	logger := logrus.New()
	logger.SetOutput(lockedBuffer{mu: h.textMu, buf: h.text})
	logger.SetLevel(logrus.DebugLevel)
	h.hook = test.NewLocal(logger)
	base := []extract.Option{
		extract.WithSleeper(h.sleeps.Sleep),
		extract.WithRand(func() float64 { return 0.5 }),
		extract.WithLimiter(rate.NewLimiter(rate.Inf, 1)),
		extract.WithClock(func() time.Time { return testNow }),
		extract.WithVersion("1.2.3"),
	}
	c, err := donately.NewClient(testConfig(h.api.URL), testAPI(), logrus.NewEntry(logger), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.client = c
	return h
}

func testConfig(u string) config.Donately {
	return config.Donately{URL: u, Token: testToken, Account: testAccount}
}

// testAPI is the shared HTTP settings: 4 attempts, no real waits (the sleeper returns at once).
func testAPI() config.API {
	return config.API{Rate: 1000, Burst: 10, Timeout: 5 * time.Second, MaxAttempts: 4, BackoffBase: time.Second, BackoffMax: 8 * time.Second}
}

// logText is everything logged so far, the entries' messages and fields included.
func (h *harness) logText() string {
	var b strings.Builder
	for _, e := range h.hook.AllEntries() {
		fmt.Fprintf(&b, "%s %s %v\n", e.Level, e.Message, e.Data)
	}
	h.textMu.Lock()
	b.WriteString(h.text.String())
	h.textMu.Unlock()
	return b.String()
}

// at is a UTC time on 2026-03-01.
func at(hour, min, sec int) time.Time { return time.Date(2026, 3, 1, hour, min, sec, 0, time.UTC) }

// donationJSON is a donation as the API answers it (2022-12-15), payment intent secret included.
func donationJSON(id string, created time.Time) json.RawMessage {
	ts := created.UTC().Format(time.RFC3339)
	return json.RawMessage(fmt.Sprintf(`{"object":"donation","id":%q,"amount_in_cents":5000,"currency":"usd","status":"completed",`+
		`"campaign_id":"cmp_1a2b3c4d5e6f","person_id":"per_a1b2c3d4e5f6","recurring":false,"anonymous":false,"comment":"Keep up the great work!",`+
		`"on_behalf_of":null,"donation_type":"card","ecard":{"template":"t1"},"origin":"form","notes":"Internal note",`+
		`"payment_intent_secret":%q,"paypal_order_id":null,`+
		`"subscription":{"id":"sub_xxx","recurring_start_day":1,"recurring_stop_day":null,"recurring_frequency":"monthly"},`+
		`"fundraiser":{"id":"fun_xxx","type":"individual"},"form":{"id":"frm_xxx","title":"Main Form"},`+
		`"meta_data":{"source":"gala"},"created_at":%q,"updated_at":%q}`, id, testSecret, ts, ts))
}

// listBody is a 2022-12-15 list answer. total < 0 leaves summary out.
func listBody(items []json.RawMessage, offset, total int) []byte {
	env := map[string]any{"object": "list", "data": items, "params": map[string]any{"offset": offset, "limit": 100}, "request_id": "req_1"}
	if items == nil {
		env["data"] = []json.RawMessage{}
	}
	if total >= 0 {
		env["summary"] = map[string]any{"total_count": total, "count": len(items), "has_more": offset+len(items) < total}
	}
	b, err := json.Marshal(env)
	if err != nil {
		panic(err)
	}
	return b
}

// dataset is a list of records the fake API pages through, honouring limit and offset and the
// created filter, in the order given (ties stay in that order).
type dataset struct {
	items   []json.RawMessage
	created []time.Time
}

func (d *dataset) add(id string, created time.Time) {
	d.items = append(d.items, donationJSON(id, created))
	d.created = append(d.created, created)
}

// serve answers one list request over the records the filter selects; order, when set, reorders
// them for this request.
func (d *dataset) serve(r *http.Request, order func(items []json.RawMessage) []json.RawMessage) extracttest.Reply {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	gt, lt := parseBound(q.Get("created[gt]")), parseBound(q.Get("created[lt]"))
	var sel []json.RawMessage
	for i, it := range d.items {
		c := d.created[i]
		if (gt.IsZero() || c.After(gt)) && (lt.IsZero() || c.Before(lt)) {
			sel = append(sel, it)
		}
	}
	if order != nil {
		sel = order(slices.Clone(sel))
	}
	lo := min(offset, len(sel))
	hi := min(lo+limit, len(sel))
	return extracttest.Reply{Body: listBody(sel[lo:hi], offset, len(sel))}
}

func parseBound(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(fmt.Sprintf("bad bound %q", s))
	}
	return t
}

func ids(recs []donately.Record) []string {
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
