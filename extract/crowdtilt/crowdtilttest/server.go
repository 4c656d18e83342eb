package crowdtilttest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// DefaultKey and DefaultSecret are the API credentials the sandbox accepts when Options.Key and
// Options.Secret are empty, sent as HTTP Basic user name and password.
const (
	DefaultKey    = "sandbox-key"
	DefaultSecret = "sandbox-secret"
)

// DefaultCampaigns and DefaultPayments are the sizes of the generated data when Options.Campaigns
// and Options.Payments are 0.
const (
	DefaultCampaigns = 40
	DefaultPayments  = 3000
)

// DefaultPerPage is the page size of a list request without per_page (the seed: "a default of 50
// entries per page"); MaxPerPage is the largest page the sandbox serves (the seed names none: a
// larger per_page is served as MaxPerPage, and pagination.per_page says so).
const (
	DefaultPerPage = 50
	MaxPerPage     = 100
)

// Options configure a sandbox. The zero value is a usable sandbox of DefaultCampaigns campaigns
// and DefaultPayments payments created over the 12 months before now.
type Options struct {
	// Seed makes the data (and the faults): the same options give the same bytes.
	Seed int64
	// Campaigns and Payments are the numbers of generated campaigns and payments (defaults
	// DefaultCampaigns, DefaultPayments). Users are generated as campaigns and payments need them.
	Campaigns, Payments int
	// From and To bound the generated payments' creation_date (default: the 12 months before
	// Now()); campaigns start up to 30 days before From. A range shorter than a day is replaced
	// by the year from From.
	From, To time.Time
	// Key and Secret are the accepted credentials (defaults DefaultKey, DefaultSecret).
	Key, Secret string
	// Faults injects failures into GET list answers.
	Faults Faults
	// RPS > 0 enforces a token-bucket limit of RPS requests per second (burst ⌈RPS⌉) on the clock
	// Now; requests over it are answered 429 with Retry-After, the whole seconds until a token is
	// free (at least 1).
	RPS float64
	// Now is the clock (default time.Now). Records created after Now() do not exist yet, generated
	// histories unfold as Now() passes their moments, is_expired follows it, and Mutate dates what
	// it changes at Now().
	Now func() time.Time
	// Log, when set, receives one debug record per request (method, path, query, status, fault);
	// never a header, so never the credentials.
	Log *logrus.Entry
}

// FaultKind is a kind of injected failure.
type FaultKind string

// The kinds of injected failures.
const (
	Fault429       FaultKind = "429"       // 429 with Retry-After Faults.RetryAfter, in the error format
	Fault500       FaultKind = "500"       // 500 in the error format
	Fault502       FaultKind = "502"       // 502 with an HTML body, as a gateway answers
	Fault503       FaultKind = "503"       // 503 in the error format
	FaultTruncated FaultKind = "truncated" // 200 whose JSON body is cut in half
)

// AllFaultKinds returns every fault kind: the default Faults.Kinds.
func AllFaultKinds() []FaultKind {
	return []FaultKind{Fault429, Fault500, Fault502, Fault503, FaultTruncated}
}

// Faults configure injected failures of the GET list endpoints. Only authorized, valid list
// requests are faulted (never single objects, the refund or error answers). Whether an answer is
// faulted is a hash of (Seed, method, path, canonical query, the number of times this request was
// already faulted): it depends neither on timing nor on the order of concurrent requests.
type Faults struct {
	// Rate is the fraction of list answers that are faulted (0 for none).
	Rate float64
	// Kinds are the kinds to draw from (default AllFaultKinds()).
	Kinds []FaultKind
	// RetryAfter is the Retry-After header of Fault429 (default "0").
	RetryAfter string
	// MaxPerRequest is how many times one request (method, path and query) is faulted at most
	// (default 2): a client that tries MaxPerRequest+1 times always gets through.
	MaxPerRequest int
}

// ServerStats count what a sandbox answered.
type ServerStats struct {
	Requests         int64               // every request
	Pages            int64               // complete 200 answers of the list endpoints
	Objects          int64               // complete 200 answers of single objects (and GET /v1)
	Refunds          int64               // payments refunded by POST …/refund
	Unauthorized     int64               // 401: missing or wrong credentials
	BadRequests      int64               // 400: invalid page or per_page, a refund of a payment that cannot be
	NotFound         int64               // 404: unknown path or id
	MethodNotAllowed int64               // 405
	RateLimited      int64               // 429 from the RPS limit (not faults)
	Faults           map[FaultKind]int64 // injected faults by kind
}

// TotalFaults is the number of injected faults of all kinds.
func (s ServerStats) TotalFaults() int64 {
	var n int64
	for _, v := range s.Faults {
		n += v
	}
	return n
}

// Server is the sandbox: an http.Handler serving the Crowdtilt API v1 over generated data. It is
// safe for concurrent use.
type Server struct {
	opts    Options
	limiter *tokenBucket // nil without RPS

	mu      sync.RWMutex
	data    *dataset
	mutated uint64 // Mutate calls so far

	faultMu sync.Mutex
	faulted map[string]int // faults so far by request key

	requestSeq atomic.Uint64

	statsMu sync.Mutex
	stats   ServerStats
}

// New makes a sandbox. It panics if opts.Faults.Kinds holds an unknown kind.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Campaigns <= 0 {
		opts.Campaigns = DefaultCampaigns
	}
	if opts.Payments <= 0 {
		opts.Payments = DefaultPayments
	}
	if opts.To.IsZero() {
		opts.To = opts.Now().UTC().Truncate(time.Second)
	}
	if opts.From.IsZero() {
		opts.From = opts.To.AddDate(-1, 0, 0)
	}
	if opts.To.Sub(opts.From) < day {
		opts.To = opts.From.AddDate(1, 0, 0)
	}
	opts.From, opts.To = opts.From.UTC(), opts.To.UTC()
	if opts.Key == "" {
		opts.Key = DefaultKey
	}
	if opts.Secret == "" {
		opts.Secret = DefaultSecret
	}
	f := &opts.Faults
	if len(f.Kinds) == 0 {
		f.Kinds = AllFaultKinds()
	}
	for _, k := range f.Kinds {
		if !slices.Contains(AllFaultKinds(), k) {
			panic(fmt.Sprintf("crowdtilttest: Faults.Kinds holds %q, not a FaultKind", k))
		}
	}
	f.Kinds = slices.Clone(f.Kinds)
	if f.RetryAfter == "" {
		f.RetryAfter = "0"
	}
	if f.MaxPerRequest <= 0 {
		f.MaxPerRequest = 2
	}
	s := &Server{
		opts:    opts,
		data:    generate(opts.Seed, opts.Campaigns, opts.Payments, opts.From, opts.To),
		faulted: map[string]int{},
		stats:   ServerStats{Faults: map[FaultKind]int64{}},
	}
	if opts.RPS > 0 {
		s.limiter = newTokenBucket(opts.RPS)
	}
	return s
}

// Start serves a new sandbox on a loopback port (httptest.NewServer); close the returned
// httptest.Server when done. Its URL is the base URL a client takes (requests go to URL/v1/…).
func Start(opts Options) (*Server, *httptest.Server) {
	s := New(opts)
	return s, httptest.NewServer(s)
}

// Key is the accepted API key (the HTTP Basic user name).
func (s *Server) Key() string { return s.opts.Key }

// Secret is the accepted API secret (the HTTP Basic password).
func (s *Server) Secret() string { return s.opts.Secret }

// Range is the range [From, To) of the generated payments' creation_date, after defaults.
func (s *Server) Range() (from, to time.Time) { return s.opts.From, s.opts.To }

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

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

// tokenBucket is a rate limit on the sandbox's own clock, so that a test can drive it without
// sleeping.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rps float64) *tokenBucket {
	b := math.Max(1, math.Ceil(rps))
	return &tokenBucket{rate: rps, burst: b, tokens: b}
}

// take takes a token at now, or tells how long until one is free.
func (b *tokenBucket) take(now time.Time) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// retryAfter is a Retry-After header for a wait: whole seconds, at least 1.
func retryAfter(wait time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(wait.Seconds()))), 10)
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

// exchange is one request being answered.
type exchange struct {
	w         http.ResponseWriter
	r         *http.Request
	requestID string
}

// requestID is the id of the n-th request: "REQ" and 32 upper-case hex digits, as the seed's,
// drawn from the seed so that it looks random but is reproducible.
func (s *Server) requestID(n uint64) string {
	a := mix64(uint64(s.opts.Seed) ^ n*0x9E3779B97F4A7C15)
	return fmt.Sprintf("REQ%016X%016X", a, mix64(a^0x5EED))
}

// ServeHTTP answers the API (see the package documentation for the endpoints).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.count(func(st *ServerStats) { st.Requests++ })
	sw := &statusWriter{ResponseWriter: w}
	x := &exchange{w: sw, r: r, requestID: s.requestID(s.requestSeq.Add(1))}
	fault := s.serve(x)
	if s.opts.Log != nil {
		s.opts.Log.WithFields(logrus.Fields{
			"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "status": sw.status,
			"fault": string(fault), "duration": time.Since(start).Round(time.Microsecond).String(),
		}).Debug("crowdtilt sandbox request")
	}
}

// route is what a path names.
type route int

const (
	routeNone route = iota
	routeRoot
	routeCampaigns
	routeCampaign
	routeCampaignPayments
	routeRejectedPayments
	routePayment
	routeRefund
	routeUsers
	routeUser
	routeUserPayments
	routeUserCampaigns
)

// routeOf parses a path: the route and the ids it names (campaign or user, then payment).
func routeOf(path string) (route, []string) {
	rest, ok := strings.CutPrefix(path, "/v1")
	if !ok || (rest != "" && rest[0] != '/') {
		return routeNone, nil
	}
	rest = strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/")
	if rest == "" {
		return routeRoot, nil
	}
	parts := strings.Split(rest, "/")
	for _, p := range parts {
		if p == "" {
			return routeNone, nil
		}
	}
	switch parts[0] {
	case "campaigns":
		switch {
		case len(parts) == 1:
			return routeCampaigns, nil
		case len(parts) == 2:
			return routeCampaign, parts[1:]
		case len(parts) == 3 && parts[2] == "payments":
			return routeCampaignPayments, parts[1:2]
		case len(parts) == 3 && parts[2] == "rejected_payments":
			return routeRejectedPayments, parts[1:2]
		case len(parts) == 4 && parts[2] == "payments":
			return routePayment, []string{parts[1], parts[3]}
		case len(parts) == 5 && parts[2] == "payments" && parts[4] == "refund":
			return routeRefund, []string{parts[1], parts[3]}
		}
	case "users":
		switch {
		case len(parts) == 1:
			return routeUsers, nil
		case len(parts) == 2:
			return routeUser, parts[1:]
		case len(parts) == 3 && parts[2] == "payments":
			return routeUserPayments, parts[1:2]
		case len(parts) == 3 && parts[2] == "campaigns":
			return routeUserCampaigns, parts[1:2]
		}
	}
	return routeNone, nil
}

func (s *Server) serve(x *exchange) FaultKind {
	r := x.r
	rt, ids := routeOf(r.URL.Path)
	if rt == routeNone {
		s.count(func(st *ServerStats) { st.NotFound++ })
		s.fail(x, http.StatusNotFound, "Not Found")
		return ""
	}
	want := http.MethodGet
	if rt == routeRefund {
		want = http.MethodPost
	}
	if r.Method != want {
		s.count(func(st *ServerStats) { st.MethodNotAllowed++ })
		x.w.Header().Set("Allow", want)
		s.fail(x, http.StatusMethodNotAllowed, "The "+r.Method+" method is not supported by this sandbox for this path")
		return ""
	}
	if s.limiter != nil {
		if ok, wait := s.limiter.take(s.now()); !ok {
			s.count(func(st *ServerStats) { st.RateLimited++ })
			x.w.Header().Set("Retry-After", retryAfter(wait))
			s.fail(x, http.StatusTooManyRequests, "Too Many Requests")
			return ""
		}
	}
	if !s.authorized(r) {
		s.count(func(st *ServerStats) { st.Unauthorized++ })
		x.w.Header().Set("WWW-Authenticate", `Basic realm="Crowdtilt API"`)
		s.fail(x, http.StatusUnauthorized, "Unauthorized")
		return ""
	}
	switch rt {
	case routeRoot:
		s.count(func(st *ServerStats) { st.Objects++ })
		writeBody(x.w, http.StatusOK, []byte(`{}`))
	case routeCampaigns, routeCampaignPayments, routeRejectedPayments, routeUsers, routeUserPayments, routeUserCampaigns:
		return s.list(x, rt, ids)
	case routeRefund:
		s.refund(x, ids[0], ids[1])
	default:
		s.object(x, rt, ids)
	}
	return ""
}

// authorized checks HTTP Basic key:secret, in constant time.
func (s *Server) authorized(r *http.Request) bool {
	key, secret, ok := r.BasicAuth()
	k := subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.Key))
	p := subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.Secret))
	return ok && k&p == 1
}

// object answers GET of one campaign, user or payment: {"campaign": {...}}, {"user": {...}},
// {"payment": {...}}.
func (s *Server) object(x *exchange, rt route, ids []string) {
	now := s.now()
	s.mu.RLock()
	rd := newRenderer(now)
	var name string
	var obj json.RawMessage
	ds := s.data
	switch rt {
	case routeCampaign:
		name = "campaign"
		if c := ds.campaignByID[ids[0]]; c != nil && c.existsAt(now) {
			obj = rd.campaign(c)
		}
	case routeUser:
		name = "user"
		if u := ds.userByID[ids[0]]; u != nil && u.existsAt(now) {
			obj = rd.user(u)
		}
	case routePayment:
		name = "payment"
		if p := ds.paymentByID[ids[1]]; p != nil && p.existsAt(now) && p.campaign.id == ids[0] {
			obj = rd.payment(p)
		}
	}
	s.mu.RUnlock()
	if obj == nil {
		s.count(func(st *ServerStats) { st.NotFound++ })
		s.fail(x, http.StatusNotFound, "Not Found")
		return
	}
	s.count(func(st *ServerStats) { st.Objects++ })
	writeBody(x.w, http.StatusOK, envelope(name, obj))
}

// envelope is a single-object answer: {"name": obj}.
func envelope(name string, obj json.RawMessage) []byte {
	b := make([]byte, 0, len(obj)+len(name)+6)
	b = append(b, `{"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	b = append(b, obj...)
	return append(b, '}')
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// errorJSON is the seed's error shape: {"error": "...", "request_id": "REQ…", "status": 401}.
type errorJSON struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id"`
	Status    int    `json:"status"`
}

// fail answers an error in the seed's shape. Messages never carry a credential or a row value.
func (s *Server) fail(x *exchange, status int, msg string) {
	writeBody(x.w, status, mustJSON(errorJSON{Error: msg, RequestID: x.requestID, Status: status}))
}

// decideFault draws the fault of a list request, if any, and counts it.
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

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// faultHash is FNV-1a of the request key, mixed with the seed and the attempt.
func faultHash(seed int64, key string, n int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return mix64(h ^ mix64(uint64(seed)^0xC7F417) ^ uint64(n+1)<<56)
}

// applyFault answers the request with a failure of kind (not FaultTruncated, which the caller
// writes).
func (s *Server) applyFault(x *exchange, kind FaultKind) {
	switch kind {
	case Fault429:
		x.w.Header().Set("Retry-After", s.opts.Faults.RetryAfter)
		s.fail(x, http.StatusTooManyRequests, "Too Many Requests")
	case Fault500:
		s.fail(x, http.StatusInternalServerError, "Internal Server Error")
	case Fault502:
		w := x.w
		b := []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write(b)
	case Fault503:
		s.fail(x, http.StatusServiceUnavailable, "Service Unavailable")
	}
}

// truncate cuts a body in half, the way a connection dropped mid-answer leaves it.
func truncate(b []byte) []byte { return bytes.Clone(b[:len(b)/2]) }
