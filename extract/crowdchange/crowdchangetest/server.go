package crowdchangetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// Paths the sandbox serves.
const (
	transactionsPath = "/v2/private/transactions"
	createPath       = "/v2/client/transactions"
)

// DefaultAPIKey is the key the sandbox accepts when Options.APIKey is empty.
const DefaultAPIKey = "sandbox-key"

// DefaultTransactions is the number of generated transactions when Options.Transactions is 0.
const DefaultTransactions = 1000

// DefaultLimit is the page size when a request has no limit parameter.
const DefaultLimit = 100

// Options configure a sandbox. The zero value is a usable sandbox of DefaultTransactions
// transactions over the 12 months before now.
type Options struct {
	// Seed makes the data (and the faults): the same seed gives the same bytes.
	Seed int64
	// Transactions is the number of generated transactions, spread over [From, To)
	// (default DefaultTransactions).
	Transactions int
	// From and To bound the generated dates (default: the 12 months before Now()). A To not after
	// From is replaced by From plus one year.
	From, To time.Time
	// APIKey is the accepted key (default DefaultAPIKey); anything else is answered 403.
	APIKey string
	// IncludeExample also serves the documented example transaction of ExamplePage() (id 10001,
	// dated 2021-09-26 16:00:03), byte for byte as in the fixture.
	IncludeExample bool
	// Faults injects failures into GET answers.
	Faults Faults
	// Hostile makes GET answers misbehave the way real APIs have been seen to: pages capped below
	// the limit asked, the page parameter ignored, transactions with invalid UTF-8, mistyped,
	// ISO-dated, stringified or missing fields (the zero value: none of it).
	Hostile Hostile
	// RPS > 0 enforces a token-bucket limit of RPS requests per second (burst ⌈RPS⌉); requests over
	// it are answered 429 with Retry-After "1".
	RPS float64
	// Now is the clock (default time.Now). Transactions dated after Now() do not exist yet; payouts
	// are seen from the day after their date, tax receipts once issued; created transactions are
	// dated Now().
	Now func() time.Time
	// Log, when set, receives one debug line per request (method, path, query, status, fault).
	Log *logrus.Entry
}

// FaultKind is a kind of injected failure.
type FaultKind string

// The kinds of injected failures.
const (
	Fault429       FaultKind = "429"       // 429 with Retry-After Faults.RetryAfter
	Fault500       FaultKind = "500"       // 500 with the error envelope
	Fault502       FaultKind = "502"       // 502 with an HTML body, as a gateway answers
	Fault503       FaultKind = "503"       // 503 with the error envelope
	FaultTruncated FaultKind = "truncated" // 200 whose JSON body is cut in half
	FaultSlow      FaultKind = "slow"      // the normal answer after Faults.SlowDelay
)

// AllFaultKinds returns every fault kind: the default Faults.Kinds.
func AllFaultKinds() []FaultKind {
	return []FaultKind{Fault429, Fault500, Fault502, Fault503, FaultTruncated, FaultSlow}
}

// Faults configure injected failures of GET /v2/private/transactions. Only authorized, valid GET
// requests are faulted (never POST, 403, 404 or 422 answers). Whether an answer is faulted is a
// hash of (Seed, method, path, canonical query, the number of times this request was already
// faulted): it does not depend on timing or on the order of concurrent requests. The sandbox
// remembers, for each request it faulted, how many times it did.
type Faults struct {
	// Rate is the fraction of answers that are faulted (0 for none).
	Rate float64
	// Kinds are the kinds to draw from (default AllFaultKinds()).
	Kinds []FaultKind
	// RetryAfter is the Retry-After header of Fault429 (default "0").
	RetryAfter string
	// SlowDelay is the delay of FaultSlow (default 20ms).
	SlowDelay time.Duration
	// MaxPerRequest is how many times one request (method, path and query) is faulted at most
	// (default 2): a client that tries MaxPerRequest+1 times always gets through.
	MaxPerRequest int
}

// ServerStats count what a sandbox answered.
type ServerStats struct {
	Requests     int64               // every request
	Pages        int64               // complete 200 answers of GET /v2/private/transactions
	Created      int64               // transactions created by POST /v2/client/transactions
	Forbidden    int64               // 403: missing or wrong key
	Invalid      int64               // 422: invalid parameters or body
	RateLimited  int64               // 429 from the RPS limit (not faults)
	CappedPages  int64               // complete 200 pages of Hostile.PageCap items at most, a larger limit asked
	IgnoredPages int64               // complete 200 pages answered as page 1, another page asked (Hostile.IgnorePage)
	Faults       map[FaultKind]int64 // injected faults by kind
}

// TotalFaults is the number of injected faults of all kinds.
func (s ServerStats) TotalFaults() int64 {
	var n int64
	for _, v := range s.Faults {
		n += v
	}
	return n
}

// Server is the sandbox: an http.Handler serving the CrowdChange API over generated data. It is
// safe for concurrent use.
type Server struct {
	opts    Options
	gen     *generator
	example *entry
	limiter *rate.Limiter

	mu      sync.RWMutex
	overlay []*entry            // created transactions, ids from firstCreatedID in order
	muts    map[int64]*mutation // changes of generated transactions, by index

	faultMu sync.Mutex
	faulted map[string]int // faults so far by request key

	statsMu sync.Mutex
	stats   ServerStats
}

// entry is a stored transaction: the example, or one created by POST or Mutate.
type entry struct {
	id      int64
	date    time.Time
	raw     []byte // the example's verbatim bytes (nil otherwise)
	tx      crowdchange.Transaction
	payout  payoutPlan
	contrib *contribution
	mut     mutation
}

// mutation is what Mutate changed on a transaction.
type mutation struct {
	completed bool
	payout    payoutPlan
	receiptAt time.Time
	refunds   []int64
}

// New makes a sandbox. It panics if opts.Hostile is invalid (see Hostile.Validate).
func New(opts Options) *Server {
	if err := opts.Hostile.Validate(); err != nil {
		panic(err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Transactions <= 0 {
		opts.Transactions = DefaultTransactions
	}
	if opts.To.IsZero() {
		opts.To = opts.Now().UTC().Truncate(time.Second)
	}
	if opts.From.IsZero() {
		opts.From = opts.To.AddDate(-1, 0, 0)
	}
	if !opts.To.After(opts.From) {
		opts.To = opts.From.AddDate(1, 0, 0)
	}
	opts.From, opts.To = opts.From.UTC(), opts.To.UTC()
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	f := &opts.Faults
	if len(f.Kinds) == 0 {
		f.Kinds = AllFaultKinds()
	}
	f.Kinds = append([]FaultKind(nil), f.Kinds...)
	if f.RetryAfter == "" {
		f.RetryAfter = "0"
	}
	if f.SlowDelay <= 0 {
		f.SlowDelay = 20 * time.Millisecond
	}
	if f.MaxPerRequest <= 0 {
		f.MaxPerRequest = 2
	}
	h := &opts.Hostile
	if len(h.Tricks) == 0 {
		h.Tricks = AllTricks()
	}
	h.Tricks = append([]Trick(nil), h.Tricks...)
	s := &Server{
		opts:    opts,
		gen:     newGenerator(opts.Seed, opts.Transactions, opts.From, opts.To),
		muts:    map[int64]*mutation{},
		faulted: map[string]int{},
		stats:   ServerStats{Faults: map[FaultKind]int64{}},
	}
	if opts.RPS > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(opts.RPS), int(math.Max(1, math.Ceil(opts.RPS))))
	}
	if opts.IncludeExample {
		s.example = exampleEntry()
	}
	return s
}

// exampleEntry decodes the embedded fixture once; it is a constant of the package, so a failure is
// a broken build.
func exampleEntry() *entry {
	var page crowdchange.Page
	if err := json.Unmarshal(examplePage, &page); err != nil || len(page.Data) != 1 {
		panic(fmt.Sprintf("crowdchangetest: embedded example page: %v", err))
	}
	raw := []byte(page.Data[0])
	var tx crowdchange.Transaction
	if err := json.Unmarshal(raw, &tx); err != nil {
		panic(fmt.Sprintf("crowdchangetest: embedded example transaction: %v", err))
	}
	c, err := contributionOf(&tx)
	if err != nil {
		panic(fmt.Sprintf("crowdchangetest: embedded example transaction: %v", err))
	}
	e := &entry{id: tx.ID, date: tx.Date.Time, raw: raw, tx: tx, contrib: c}
	if p := tx.Payout; p != nil && p.Account != nil && !p.Date.IsZero() {
		e.payout = payoutPlan{ok: true, account: *p.Account, date: p.Date.UTC()}
	}
	return e
}

// Start serves a new sandbox on a loopback port (httptest.NewServer); close the returned
// httptest.Server when done.
func Start(opts Options) (*Server, *httptest.Server) {
	s := New(opts)
	return s, httptest.NewServer(s)
}

// firstCreatedID is the id of the first transaction created by POST or Mutate.
func (s *Server) firstCreatedID() int64 { return idBase + s.gen.n }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() ServerStats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	st := s.stats
	st.Faults = make(map[FaultKind]int64, len(s.stats.Faults))
	for k, v := range s.stats.Faults {
		st.Faults[k] = v
	}
	return st
}

func (s *Server) count(f func(*ServerStats)) {
	s.statsMu.Lock()
	f(&s.stats)
	s.statsMu.Unlock()
}

// statusWriter remembers the status of an answer, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP answers GET /v2/private/transactions and POST /v2/client/transactions.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.count(func(st *ServerStats) { st.Requests++ })
	sw := &statusWriter{ResponseWriter: w}
	fault := s.serve(sw, r)
	if s.opts.Log != nil {
		s.opts.Log.WithFields(logrus.Fields{
			"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "status": sw.status,
			"fault": string(fault), "duration": time.Since(start).Round(time.Microsecond).String(),
		}).Debug("sandbox request")
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) FaultKind {
	var allowed string
	switch r.URL.Path {
	case transactionsPath:
		allowed = http.MethodGet
	case createPath:
		allowed = http.MethodPost
	default:
		writeError(w, http.StatusNotFound, "The requested resource does not exist.")
		return ""
	}
	if r.Method != allowed {
		w.Header().Set("Allow", allowed)
		writeError(w, http.StatusMethodNotAllowed,
			fmt.Sprintf("The %s method is not supported for this route. Supported methods: %s.", r.Method, allowed))
		return ""
	}
	if s.limiter != nil && !s.limiter.Allow() {
		s.count(func(st *ServerStats) { st.RateLimited++ })
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "Too Many Attempts.")
		return ""
	}
	if !s.authorized(r) {
		s.count(func(st *ServerStats) { st.Forbidden++ })
		writeError(w, http.StatusForbidden, "Invalid API key.")
		return ""
	}
	if r.Method == http.MethodPost {
		s.create(w, r)
		return ""
	}
	return s.list(w, r)
}

// authorized checks "Authorization: Bearer <key>"; the Bearer prefix is optional.
func (s *Server) authorized(r *http.Request) bool {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	return h != "" && h == s.opts.APIKey
}

// writeJSON answers v as JSON with an exact Content-Length.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"status":"error","message":{"error":["Server Error"]}}`)
	}
	writeBody(w, status, "application/json", b)
}

func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// errorEnvelope is the API's envelope of errors other than validation.
type errorEnvelope struct {
	Status  string `json:"status"`
	Message struct {
		Error []string `json:"error"`
	} `json:"message"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	var e errorEnvelope
	e.Status = "error"
	e.Message.Error = []string{msg}
	writeJSON(w, status, e)
}

// validationEnvelope is the API's 422 answer.
type validationEnvelope struct {
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors"`
}

func writeInvalid(w http.ResponseWriter, s *Server, errs map[string][]string) {
	s.count(func(st *ServerStats) { st.Invalid++ })
	writeJSON(w, http.StatusUnprocessableEntity, validationEnvelope{Message: "The given data was invalid.", Errors: errs})
}

// decideFault draws the fault of a GET request, if any, and counts it.
func (s *Server) decideFault(r *http.Request) FaultKind {
	f := &s.opts.Faults
	if f.Rate <= 0 {
		return ""
	}
	key := r.Method + " " + r.URL.Path + "?" + r.URL.Query().Encode()
	s.faultMu.Lock()
	n := s.faulted[key]
	var kind FaultKind
	if n < f.MaxPerRequest {
		h := faultHash(s.opts.Seed, key, n)
		if float64(h>>11)/(1<<53) < f.Rate {
			kind = f.Kinds[mix64(h)%uint64(len(f.Kinds))]
			s.faulted[key] = n + 1
		}
	}
	s.faultMu.Unlock()
	if kind != "" {
		s.count(func(st *ServerStats) { st.Faults[kind]++ })
	}
	return kind
}

// faultHash is FNV-1a of the request key, mixed with the seed and the attempt.
func faultHash(seed int64, key string, n int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return mix64(h ^ mix64(uint64(seed)^0xFA17) ^ uint64(n+1)<<56)
}

// applyFault answers the request with a failure of kind, or waits (FaultSlow). It reports
// whether the request is answered; a truncated answer is written by the caller.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, kind FaultKind) (answered bool) {
	switch kind {
	case Fault429:
		w.Header().Set("Retry-After", s.opts.Faults.RetryAfter)
		writeError(w, http.StatusTooManyRequests, "Too Many Attempts.")
	case Fault500:
		writeError(w, http.StatusInternalServerError, "Server Error")
	case Fault502:
		writeBody(w, http.StatusBadGateway, "text/html", []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n"))
	case Fault503:
		writeError(w, http.StatusServiceUnavailable, "Service Unavailable")
	case FaultSlow:
		t := time.NewTimer(s.opts.Faults.SlowDelay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
			return true
		}
	default:
		return false
	}
	return true
}

// truncate cuts a body in half, the way a connection dropped mid-answer leaves it.
func truncate(b []byte) []byte { return bytes.Clone(b[:len(b)/2]) }
