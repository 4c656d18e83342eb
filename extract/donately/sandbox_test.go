package donately_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/donately"
	"github.com/ccsync/ccsync/extract/donately/donatelytest"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"golang.org/x/time/rate"
)

// TestAgainstTheSandbox reads a year of the Donately sandbox (faults on: 429, 5xx, truncated and
// slow answers) in monthly windows, and compares what it read with the sandbox's ground truth:
// every donation once, the sums per currency and status, the campaigns and people, and no
// payment intent secret anywhere.
func TestAgainstTheSandbox(t *testing.T) {
	var clock atomic.Int64 // the sandbox's now, in Unix seconds
	clock.Store(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC).Unix())
	sb, srv := donatelytest.Start(donatelytest.Options{
		Seed: 7, Donations: 700, Token: testToken, Account: testAccount,
		Faults: donatelytest.Faults{Rate: 0.2},
		Now:    func() time.Time { return time.Unix(clock.Load(), 0).UTC() },
	})
	t.Cleanup(srv.Close)
	logger := logrus.New()
	logger.SetLevel(logrus.DebugLevel)
	logger.SetOutput(discardWriter{})
	hook := test.NewLocal(logger)
	client, err := donately.NewClient(testConfig(srv.URL), testAPI(), logrus.NewEntry(logger),
		extract.WithSleeper(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		extract.WithLimiter(rate.NewLimiter(rate.Inf, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := client.Check(ctx); err != nil {
		t.Fatal(err)
	}
	from, to := sb.Range()
	from = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	type key struct{ currency, status string }
	cents := map[key]int64{}
	var got []string
	var everything strings.Builder
	for start := from; start.Before(to); start = start.AddDate(0, 1, 0) {
		res, err := client.Donations(ctx, donately.Filter{Field: donately.FieldCreated, After: start, Before: start.AddDate(0, 1, 0)})
		if err != nil {
			t.Fatalf("window from %s: %v", start.Format(time.DateOnly), err)
		}
		for _, r := range res.Records {
			got = append(got, r.ID)
			if r.Err != nil {
				t.Errorf("%s: %v", r.ID, r.Err)
			}
			d := r.Donation
			cents[key{strings.ToUpper(*d.Currency), *d.Status}] += *d.AmountInCents
			everything.Write(r.Raw)
		}
	}
	truth := sb.Truth(from, to)
	if truth.Count < 600 {
		t.Fatalf("the sandbox's truth holds %d donations of the 700 generated", truth.Count)
	}
	slices.Sort(got)
	if !slices.Equal(got, truth.IDs) {
		t.Errorf("read %d donations, the sandbox holds %d (or not the same ones)", len(got), len(truth.IDs))
	}
	for k, want := range truth.Cents {
		if c := cents[key{k.Currency, k.Status}]; c != want {
			t.Errorf("%s %s: %d cents, want %d", k.Currency, k.Status, c, want)
		}
	}
	all := sb.TruthAll()
	for _, l := range []struct {
		name string
		list func(context.Context, donately.Filter) (*donately.Result, error)
		want int
	}{{"campaigns", client.Campaigns, all.Campaigns}, {"people", client.People, all.People}} {
		res, err := l.list(ctx, donately.Filter{})
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		if len(res.Records) != l.want {
			t.Errorf("%s: %d, want %d", l.name, len(res.Records), l.want)
		}
	}
	// An hour later some donations change and a few are made: the updated window of that second
	// holds exactly them.
	now := time.Unix(clock.Add(3600), 0).UTC()
	changed := sb.Mutate(0.05, 3)
	res, err := client.Donations(ctx, donately.Filter{Field: donately.FieldUpdated, After: now, Before: now.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(ids(res.Records))); len(changed) == 0 || !slices.Equal(got, changed) {
		t.Errorf("updated in [%s, +1s): %v, want the %d changed %v", now.Format(time.RFC3339), got, len(changed), changed)
	}
	for _, r := range res.Records {
		everything.Write(r.Raw)
	}
	st := client.Stats()
	if st.Retries == 0 || st.Requests <= st.Pages {
		t.Errorf("Stats %+v: the sandbox's faults were not retried", st)
	}
	for _, e := range hook.AllEntries() {
		everything.WriteString(e.Message)
		for k, v := range e.Data {
			everything.WriteString(k)
			everything.WriteString(strings.TrimSpace(fmtValue(v)))
		}
	}
	text := everything.String()
	for _, s := range sb.Secrets() {
		if strings.Contains(text, s) {
			t.Fatalf("a payment intent secret of the sandbox leaked")
		}
	}
	if strings.Contains(text, testToken) {
		t.Fatal("the token leaked")
	}
}

func TestSandboxRefusesAWrongTokenOrAccount(t *testing.T) {
	sb, srv := donatelytest.Start(donatelytest.Options{Seed: 1, Donations: 10, Token: testToken, Account: testAccount})
	t.Cleanup(srv.Close)
	for _, cfg := range []config.Donately{
		{URL: srv.URL, Token: "another_token_1234", Account: testAccount},
		{URL: srv.URL, Token: testToken, Account: "act_000000000000"},
	} {
		client, err := donately.NewClient(cfg, testAPI(), nil, extract.WithLimiter(rate.NewLimiter(rate.Inf, 1)))
		if err != nil {
			t.Fatal(err)
		}
		before := sb.Stats().Requests
		err = client.Check(context.Background())
		if !errors.Is(err, extract.ErrForbidden) {
			t.Errorf("Check() = %v, want ErrForbidden", err)
		}
		if n := sb.Stats().Requests - before; n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

func fmtValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return ""
}
