package donatelytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// The API versions, as the Donately-Version header names them.
const (
	// Version2019 is the default version, answered when no Donately-Version header is sent:
	// {"success":true,"data":...} and {"success":false,"error":"..."}.
	Version2019 = "2019-03-15"
	// Version2022 answers lists as {"object":"list","data","summary","params","request_id"}
	// and errors as {"type","message","code","request_id"}.
	Version2022 = "2022-12-15"
)

// VersionHeader and AccountHeader are the request headers the sandbox reads besides
// Authorization.
const (
	VersionHeader = "Donately-Version"
	AccountHeader = "Donately-Account"
)

// DefaultToken is the API token the sandbox accepts when Options.Token is empty.
const DefaultToken = "sandbox-token"

// DefaultAccount is the account id the sandbox serves when Options.Account is empty.
const DefaultAccount = "act_5a4d0b0c1e2f"

// DefaultDonations is the number of generated donations when Options.Donations is 0.
const DefaultDonations = 1000

// DefaultLimit is the page size of a list request without limit; MaxLimit is the largest page
// (a larger limit is served as MaxLimit).
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Options configure a sandbox. The zero value is a usable sandbox of DefaultDonations donations
// over the 12 months before now.
type Options struct {
	// Seed makes the data (and the faults): the same options give the same bytes.
	Seed int64
	// Donations is the number of generated donations, created in [From, To) (default
	// DefaultDonations).
	Donations int
	// From and To bound the generated created_at (default: the 12 months before Now()). A To not
	// after From is replaced by From plus one year.
	From, To time.Time
	// Token is the accepted API token (default DefaultToken), sent as HTTP Basic user name with an
	// empty password.
	Token string
	// Account is the served account id, act_ and twelve hex digits (default DefaultAccount).
	Account string
	// Faults injects failures into GET list answers.
	Faults Faults
	// RPS > 0 enforces a token-bucket limit of RPS requests per second (burst ⌈RPS⌉) on the clock
	// Now; requests over it are answered 429 with Retry-After, the whole seconds until a token is
	// free (at least 1).
	RPS float64
	// Now is the clock (default time.Now). Records created after Now() do not exist yet, a
	// donation's generated history unfolds as Now() passes its moments, and POST and Mutate date
	// what they make at Now().
	Now func() time.Time
	// Log, when set, receives one debug line per request (method, path, query, status, fault);
	// never a header, so never the token.
	Log *logrus.Entry
}

// FaultKind is a kind of injected failure.
type FaultKind string

// The kinds of injected failures.
const (
	Fault429       FaultKind = "429"       // 429 with Retry-After Faults.RetryAfter, in the version's error format
	Fault500       FaultKind = "500"       // 500 in the version's error format
	Fault502       FaultKind = "502"       // 502 with an HTML body, as a gateway answers
	Fault503       FaultKind = "503"       // 503 in the version's error format
	FaultTruncated FaultKind = "truncated" // 200 whose JSON body is cut in half
	FaultSlow      FaultKind = "slow"      // the normal answer after Faults.SlowDelay, or nothing if the request is cancelled first
)

// AllFaultKinds returns every fault kind: the default Faults.Kinds.
func AllFaultKinds() []FaultKind {
	return []FaultKind{Fault429, Fault500, Fault502, Fault503, FaultTruncated, FaultSlow}
}

// Faults configure injected failures of the GET list endpoints (donations, campaigns, people).
// Only authorized, valid list requests are faulted (never single objects, POST or error answers).
// Whether an answer is faulted is a hash of (Seed, method, path, canonical query, the number of
// times this request was already faulted): it does not depend on timing or on the order of
// concurrent requests.
type Faults struct {
	// Rate is the fraction of list answers that are faulted (0 for none).
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
	Requests         int64               // every request
	Pages            int64               // complete 200 answers of the list endpoints
	Objects          int64               // complete 200 answers of single objects (donation, campaign, person, account)
	Created          int64               // donations created by POST /v2/donations
	Unauthorized     int64               // 401: missing or wrong token
	MissingAccount   int64               // 400: no Donately-Account header nor account_id
	ForbiddenAccount int64               // 403: an account other than Options.Account
	BadRequests      int64               // 400: invalid parameters, body or Donately-Version
	Invalid          int64               // 422: a POST body that does not validate
	NotFound         int64               // 404: unknown path or id
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

// Server is the sandbox: an http.Handler serving the Donately API over generated data. It is safe
// for concurrent use.
type Server struct {
	opts    Options
	limiter *tokenBucket // nil without RPS

	mu      sync.RWMutex
	data    *dataset
	posted  uint64 // donations created by POST so far (their ids and secrets are drawn from it)
	mutated uint64 // Mutate calls so far

	faultMu sync.Mutex
	faulted map[string]int // faults so far by request key

	requestSeq atomic.Uint64

	statsMu sync.Mutex
	stats   ServerStats
}

// New makes a sandbox. It panics if opts.Account is not an act_ id.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Donations <= 0 {
		opts.Donations = DefaultDonations
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
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if !strings.HasPrefix(opts.Account, "act_") || len(opts.Account) <= len("act_") {
		panic(fmt.Sprintf("donatelytest: Options.Account %q is not an act_ id", opts.Account))
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
	s := &Server{
		opts:    opts,
		data:    generate(opts.Seed, opts.Donations, opts.Account, opts.From, opts.To),
		faulted: map[string]int{},
		stats:   ServerStats{Faults: map[FaultKind]int64{}},
	}
	if opts.RPS > 0 {
		s.limiter = newTokenBucket(opts.RPS)
	}
	return s
}

// Start serves a new sandbox on a loopback port (httptest.NewServer); close the returned
// httptest.Server when done.
func Start(opts Options) (*Server, *httptest.Server) {
	s := New(opts)
	return s, httptest.NewServer(s)
}

// Account is the id of the served account.
func (s *Server) Account() string { return s.opts.Account }

// Token is the accepted API token.
func (s *Server) Token() string { return s.opts.Token }

// Range is the range [From, To) of the generated created_at, after defaults.
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

// exchange is one request being answered, in the version it asked for.
type exchange struct {
	w         http.ResponseWriter
	r         *http.Request
	version   string
	requestID string
	anonymous bool // no Authorization header: a public endpoint answers what the public sees
}

// requestID is the id of the n-th request: "req_" and 13 digits, as the API's, drawn from the
// seed so that it looks random but is reproducible.
func (s *Server) requestID(n uint64) string {
	return fmt.Sprintf("req_%013d", mix64(uint64(s.opts.Seed)^n*0x9E3779B97F4A7C15)%10_000_000_000_000)
}

// ServeHTTP answers the API (see the package documentation for the endpoints).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.count(func(st *ServerStats) { st.Requests++ })
	sw := &statusWriter{ResponseWriter: w}
	x := &exchange{w: sw, r: r, version: Version2019, requestID: s.requestID(s.requestSeq.Add(1))}
	fault := s.serve(x)
	if s.opts.Log != nil {
		s.opts.Log.WithFields(logrus.Fields{
			"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "status": sw.status, "version": x.version,
			"fault": string(fault), "duration": time.Since(start).Round(time.Microsecond).String(),
		}).Debug("donately sandbox request")
	}
}

// route is what a path names.
type route int

const (
	routeNone route = iota
	routeAccountMine
	routeAccount
	routeDonations
	routeDonation
	routeCampaigns
	routeCampaign
	routePeople
	routePerson
)

// routeOf parses a path: the route and, for a single object, its id.
func routeOf(path string) (route, string) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return routeNone, ""
	}
	rest = strings.TrimSuffix(rest, "/")
	coll, id, hasID := strings.Cut(rest, "/")
	if hasID && (id == "" || strings.Contains(id, "/")) {
		return routeNone, ""
	}
	switch coll {
	case "accounts":
		switch {
		case id == "mine":
			return routeAccountMine, ""
		case hasID:
			return routeAccount, id
		}
	case "donations":
		if hasID {
			return routeDonation, id
		}
		return routeDonations, ""
	case "campaigns":
		if hasID {
			return routeCampaign, id
		}
		return routeCampaigns, ""
	case "people":
		if hasID {
			return routePerson, id
		}
		return routePeople, ""
	}
	return routeNone, ""
}

func (s *Server) serve(x *exchange) FaultKind {
	r := x.r
	switch v := strings.TrimSpace(r.Header.Get(VersionHeader)); v {
	case "", Version2019:
	case Version2022:
		x.version = Version2022
	default:
		s.count(func(st *ServerStats) { st.BadRequests++ })
		s.fail(x, http.StatusBadRequest, "Unsupported Donately-Version; supported versions are "+Version2019+" and "+Version2022+".")
		return ""
	}
	rt, id := routeOf(r.URL.Path)
	if rt == routeNone {
		s.count(func(st *ServerStats) { st.NotFound++ })
		s.fail(x, http.StatusNotFound, "Not found.")
		return ""
	}
	allowed := http.MethodGet
	if rt == routeDonations {
		allowed = http.MethodGet + ", " + http.MethodPost
	}
	if r.Method != http.MethodGet && !(rt == routeDonations && r.Method == http.MethodPost) {
		x.w.Header().Set("Allow", allowed)
		s.fail(x, http.StatusMethodNotAllowed, "The "+r.Method+" method is not supported by this sandbox for this path.")
		return ""
	}
	if s.limiter != nil {
		if ok, wait := s.limiter.take(s.now()); !ok {
			s.count(func(st *ServerStats) { st.RateLimited++ })
			x.w.Header().Set("Retry-After", retryAfter(wait))
			s.fail(x, http.StatusTooManyRequests, "Rate limit exceeded. Retry later.")
			return ""
		}
	}
	// Public endpoints may come without a token (the embeddable form creates donations and shows
	// campaigns), but a token they send must be right. Without a token only published campaigns
	// are seen.
	x.anonymous = r.Header.Get("Authorization") == ""
	public := rt == routeCampaigns || rt == routeCampaign || rt == routeAccount || rt == routeDonations && r.Method == http.MethodPost
	if !(public && x.anonymous) && !s.authorized(r) {
		s.count(func(st *ServerStats) { st.Unauthorized++ })
		x.w.Header().Set("WWW-Authenticate", `Basic realm="Donately API"`)
		s.fail(x, http.StatusUnauthorized, "Invalid or missing API token.")
		return ""
	}
	switch rt {
	case routeAccountMine:
		s.answerAccount(x, s.opts.Account)
		return ""
	case routeAccount:
		s.answerAccount(x, id)
		return ""
	case routeDonations:
		if r.Method == http.MethodPost {
			s.create(x)
			return ""
		}
	}
	if !s.accountOK(x, "") {
		return ""
	}
	switch rt {
	case routeDonations, routeCampaigns, routePeople:
		return s.list(x, rt)
	default:
		s.answerObject(x, rt, id)
		return ""
	}
}

// authorized checks "Authorization: Basic base64(token:)". The password is ignored, as the
// reference sends none; a Bearer token is refused.
func (s *Server) authorized(r *http.Request) bool {
	user, _, ok := r.BasicAuth()
	return ok && user != "" && user == s.opts.Token
}

// accountOK checks the account of a request: the Donately-Account header, else the account_id
// query parameter, else fromBody (a POST body's account_id). It answers 400 (none) or 403 (another
// account) and reports false when it is not the served account.
func (s *Server) accountOK(x *exchange, fromBody string) bool {
	acct := strings.TrimSpace(x.r.Header.Get(AccountHeader))
	if acct == "" {
		acct = strings.TrimSpace(x.r.URL.Query().Get("account_id"))
	}
	if acct == "" {
		acct = fromBody
	}
	switch {
	case acct == "":
		s.count(func(st *ServerStats) { st.MissingAccount++ })
		s.fail(x, http.StatusBadRequest, "account_id is required: send the Donately-Account header or the account_id parameter.")
		return false
	case acct != s.opts.Account:
		s.count(func(st *ServerStats) { st.ForbiddenAccount++ })
		s.fail(x, http.StatusForbidden, "This API token has no access to the requested account.")
		return false
	}
	return true
}

// answerAccount answers GET /v2/accounts/mine and /v2/accounts/:id.
func (s *Server) answerAccount(x *exchange, id string) {
	if id != s.opts.Account {
		if strings.HasPrefix(id, "act_") && !x.anonymous {
			s.count(func(st *ServerStats) { st.ForbiddenAccount++ })
			s.fail(x, http.StatusForbidden, "This API token has no access to the requested account.")
			return
		}
		s.count(func(st *ServerStats) { st.NotFound++ })
		s.fail(x, http.StatusNotFound, "Account not found.")
		return
	}
	s.mu.RLock()
	obj := renderAccount(&s.data.account, x.version)
	s.mu.RUnlock()
	s.answerOne(x, obj)
}

// answerObject answers GET of one donation, campaign or person.
func (s *Server) answerObject(x *exchange, rt route, id string) {
	now := s.now()
	s.mu.RLock()
	var obj any
	ds := s.data
	switch rt {
	case routeDonation:
		if d := ds.donationByID[id]; d != nil && d.existsAt(now) {
			obj = renderDonation(d, x.version, now)
		}
	case routeCampaign:
		if c := ds.campaignByID[id]; c != nil && c.existsAt(now) && (!x.anonymous || c.status == "published") {
			obj = renderCampaign(c, x.version, now, ds.raisedAt(now)[c])
		}
	case routePerson:
		if p := ds.personByID[id]; p != nil && p.existsAt(now) {
			obj = renderPerson(p, x.version, now)
		}
	}
	s.mu.RUnlock()
	if obj == nil {
		s.count(func(st *ServerStats) { st.NotFound++ })
		s.fail(x, http.StatusNotFound, "Not found.")
		return
	}
	s.answerOne(x, obj)
}

// answerOne writes a single object in the version's envelope.
func (s *Server) answerOne(x *exchange, obj any) {
	body, err := s.oneBody(x, obj)
	if err != nil {
		s.fail(x, http.StatusInternalServerError, "Internal server error.")
		return
	}
	s.count(func(st *ServerStats) { st.Objects++ })
	writeBody(x.w, http.StatusOK, "application/json; charset=utf-8", body)
}

func (s *Server) oneBody(x *exchange, obj any) ([]byte, error) {
	if x.version == Version2022 {
		return withRequestID(obj, x.requestID)
	}
	return json.Marshal(struct {
		Success bool `json:"success"`
		Data    any  `json:"data"`
	}{true, obj})
}

func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// errorTypes are the type members of Version2022 errors. The reference shows bad_request; the
// others follow its pattern.
var errorTypes = map[int]string{
	http.StatusBadRequest:          "bad_request",
	http.StatusUnauthorized:        "unauthorized",
	http.StatusForbidden:           "forbidden",
	http.StatusNotFound:            "not_found",
	http.StatusMethodNotAllowed:    "method_not_allowed",
	http.StatusUnprocessableEntity: "unprocessable_entity",
	http.StatusTooManyRequests:     "rate_limited",
	http.StatusInternalServerError: "internal_server_error",
	http.StatusServiceUnavailable:  "service_unavailable",
}

// errorBody is an error answer in the version's format.
func errorBody(version, requestID string, status int, msg string) []byte {
	var v any
	if version == Version2022 {
		v = struct {
			Type      string `json:"type"`
			Message   string `json:"message"`
			Code      string `json:"code"`
			RequestID string `json:"request_id"`
		}{errorTypes[status], msg, strconv.Itoa(status), requestID}
	} else {
		v = struct {
			Success bool   `json:"success"`
			Error   string `json:"error"`
		}{false, msg}
	}
	b, _ := json.Marshal(v) // strings only: cannot fail
	return b
}

// fail answers an error in the version's format. Messages never carry a token, a secret or a
// row value.
func (s *Server) fail(x *exchange, status int, msg string) {
	writeBody(x.w, status, "application/json; charset=utf-8", errorBody(x.version, x.requestID, status, msg))
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
	return mix64(h ^ mix64(uint64(seed)^0xD0FA17) ^ uint64(n+1)<<56)
}

// applyFault answers the request with a failure of kind, or waits (FaultSlow). It reports whether
// the request is answered; a truncated answer is written by the caller.
func (s *Server) applyFault(x *exchange, kind FaultKind) (answered bool) {
	switch kind {
	case Fault429:
		x.w.Header().Set("Retry-After", s.opts.Faults.RetryAfter)
		s.fail(x, http.StatusTooManyRequests, "Rate limit exceeded. Retry later.")
	case Fault500:
		s.fail(x, http.StatusInternalServerError, "Internal server error.")
	case Fault502:
		writeBody(x.w, http.StatusBadGateway, "text/html", []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n"))
	case Fault503:
		s.fail(x, http.StatusServiceUnavailable, "Service unavailable. Retry later.")
	case FaultSlow:
		t := time.NewTimer(s.opts.Faults.SlowDelay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-x.r.Context().Done():
			return true
		}
	default:
		return false
	}
	return true
}

// truncate cuts a body in half, the way a connection dropped mid-answer leaves it.
func truncate(b []byte) []byte { return bytes.Clone(b[:len(b)/2]) }
