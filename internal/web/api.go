// Package web serves ward's HTTP API: findings with filters and pages,
// one finding with its evidence history, analyst actions, on-demand
// probes, health and Prometheus metrics. Every /api/ request carries an
// organisation's bearer token and sees only that organisation's data.
package web

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ward-health/ward/internal/feeds"
	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/store"
)

// Store is what the API needs of the store.
type Store interface {
	Findings(ctx context.Context, f store.Filter) ([]store.Finding, string, error)
	Finding(ctx context.Context, org string, id int64) (store.FindingDetail, error)
	SetState(ctx context.Context, org string, id int64, s store.State, author, note string, sinks []string) (store.Finding, error)
	AddNote(ctx context.Context, org string, id int64, author, text string) (store.Note, error)
	RequestCheck(ctx context.Context, org string, id int64, now time.Time) error
	Stats(ctx context.Context, org string) (map[store.State]int, error)
	Ping(ctx context.Context) error
	Indicators(ctx context.Context, f store.IndicatorFilter) ([]store.Indicator, error)
	UpsertIndicator(ctx context.Context, in store.Indicator) (store.Indicator, error)
	RemoveIndicator(ctx context.Context, org string, id int64) error
	ExpireIndicator(ctx context.Context, org string, id int64, until time.Time) (store.Indicator, error)
}

var _ Store = (*store.Store)(nil)

// Prober runs an on-demand check of a name for an organisation: the
// match against its brands and, when it matches, the probe's evidence
// and score. It stores nothing.
type Prober func(ctx context.Context, org, name string) (any, error)

// Org is one organisation as the API knows it.
type Org struct {
	Name   string
	Tokens []string // bearer tokens
	Sinks  []string // alert sinks of its state changes
}

// Config is the API's configuration.
type Config struct {
	Store  Store
	Orgs   []Org
	Probe  Prober              // nil: POST /api/v1/probe answers 501
	Gather prometheus.Gatherer // nil: no /metrics
	Logger *slog.Logger        // nil discards
	Now    func() time.Time    // nil: time.Now
	// OnStateChange, when set, is told of every state an analyst sets
	// (confirm, dismiss), after the store has it: the daemon makes a
	// confirmed finding an indicator and takes a dismissed one's away.
	OnStateChange func(ctx context.Context, f store.Finding) error
	// Feeds serves the organisation's feeds under /feeds/; nil: 404.
	Feeds *feeds.Exporter
	// Indicators are the defaults and the warninglist of indicators added
	// through the API.
	Indicators IndicatorPolicy
	// Mail judges a reported message for an organisation (POST
	// /api/v1/mail); nil: 501.
	Mail MailAnalyzer
	// Learn teaches an organisation's content classifier a message (POST
	// /api/v1/mail/learn); nil: 501.
	Learn MailLearner
	// TAXII, when set, is mounted at /taxii2/ and authenticates with
	// Authenticate itself.
	TAXII http.Handler
	// BusyWait is how long a heavy request (a feed, a message to judge)
	// waits while four others run before it gets 503; zero: 30 s.
	BusyWait time.Duration
}

// IndicatorPolicy is how indicators added through the API are made.
type IndicatorPolicy struct {
	Scope, TLP string        // defaults; zero: shared, green
	ValidFor   time.Duration // default expiry; zero: never
	// Warninglist refuses names ward must never block; nil: the
	// built-in list.
	Warninglist *intel.Warninglist
}

// MailAnalyzer judges a raw message for an organisation; name labels it.
type MailAnalyzer func(ctx context.Context, org, name string, raw []byte) (any, error)

// MailLearner teaches an organisation's content classifier a raw message
// as "spam", "ham", or to "forget" it. It returns ErrLearningOff (wrapped)
// when the organisation has no learning.
type MailLearner func(ctx context.Context, org, as string, raw []byte) (any, error)

// ErrLearningBusy is what a MailLearner returns (wrapped) when the
// organisation's learning file stays locked by another writer.
var ErrLearningBusy = errors.New("the learning file is being written by another process (ward mail learn?); try again")

// ErrLearningOff is what a MailLearner returns for an organisation that
// does not learn.
var ErrLearningOff = errors.New("mail learning is off for this organisation: set organisations[].mail_learning in the configuration")

// maxBody bounds request bodies.
const maxBody = 1 << 20

type server struct {
	cfg    Config
	tokens map[[32]byte]*Org // by SHA-256 of the token
	slots  chan struct{}     // heavy requests running
	// busyWait is how long a heavy request waits for a slot.
	busyWait time.Duration
	log      *slog.Logger
	now      func() time.Time
}

// Handler returns the API's handler.
func Handler(cfg Config) (http.Handler, error) {
	s := &server{cfg: cfg, slots: make(chan struct{}, maxHeavy), busyWait: cfg.BusyWait, log: cfg.Logger, now: cfg.Now}
	if s.busyWait <= 0 {
		s.busyWait = 30 * time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.tokens, err = tokenIndex(cfg.Orgs); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	if cfg.Gather != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gather, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("GET /api/v1/findings", s.auth(s.listFindings))
	mux.HandleFunc("GET /api/v1/findings/{id}", s.auth(s.getFinding))
	mux.HandleFunc("POST /api/v1/findings/{id}/confirm", s.auth(s.setState(store.StateMalicious)))
	mux.HandleFunc("POST /api/v1/findings/{id}/dismiss", s.auth(s.setState(store.StateDismissed)))
	mux.HandleFunc("POST /api/v1/findings/{id}/notes", s.auth(s.addNote))
	mux.HandleFunc("POST /api/v1/findings/{id}/recheck", s.auth(s.recheck))
	mux.HandleFunc("POST /api/v1/probe", s.auth(s.probe))
	mux.HandleFunc("GET /api/v1/stats", s.auth(s.stats))
	mux.HandleFunc("GET /api/v1/indicators", s.auth(s.listIndicators))
	mux.HandleFunc("POST /api/v1/indicators", s.auth(s.addIndicator))
	mux.HandleFunc("DELETE /api/v1/indicators/{id}", s.auth(s.removeIndicator))
	mux.HandleFunc("POST /api/v1/indicators/{id}/expire", s.auth(s.expireIndicator))
	mux.HandleFunc("POST /api/v1/mail", s.authBody(maxMail, s.analyzeMail))
	mux.HandleFunc("POST /api/v1/mail/learn", s.authBody(maxMail, s.learnMail))
	mux.HandleFunc("GET /feeds/misp/{file}", s.auth(s.mispFeed))
	mux.HandleFunc("GET /feeds/{format}", s.auth(s.feed))
	mux.HandleFunc("/feeds/", s.auth(func(w http.ResponseWriter, r *http.Request, _ *Org) {
		writeError(w, http.StatusNotFound, "no such feed: use /feeds/rpz, /feeds/stix, /feeds/csv, /feeds/hosts or /feeds/misp/manifest.json")
	}))
	if cfg.TAXII != nil {
		mux.Handle("/taxii2/", cfg.TAXII)
	}
	mux.HandleFunc("/api/", s.auth(func(w http.ResponseWriter, r *http.Request, _ *Org) {
		writeError(w, http.StatusNotFound, "no such endpoint: see docs/api.md")
	}))
	return securityHeaders(mux), nil
}

// NewServer wraps h in an http.Server with timeouts.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		h.ServeHTTP(w, r)
	})
}

// auth resolves the request's token to an organisation; without a valid
// one the answer is 401 and nothing is read.
func (s *server) auth(fn func(http.ResponseWriter, *http.Request, *Org)) http.HandlerFunc {
	return s.authBody(maxBody, fn)
}

// authBody is auth with a bound on the request body.
func (s *server) authBody(limit int64, fn func(http.ResponseWriter, *http.Request, *Org)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o := s.org(r)
		if o == nil {
			w.Header().Add("WWW-Authenticate", `Bearer realm="ward"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="ward", charset="UTF-8"`)
			writeError(w, http.StatusUnauthorized, "a valid organisation token is needed: Authorization: Bearer TOKEN (or basic authentication with the token as password)")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		fn(w, r, o)
	}
}

// org returns the organisation whose token the request carries, as a
// bearer token or as the password of basic authentication (for clients
// such as MISP feeds and TAXII clients that only do that), or nil.
func (s *server) org(r *http.Request) *Org {
	var tok string
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		tok = strings.TrimSpace(t)
	} else if _, pw, ok := r.BasicAuth(); ok {
		tok = pw
	}
	if tok == "" {
		return nil
	}
	return s.tokens[sha256.Sum256([]byte(tok))]
}

// Authenticate returns the organisation a request's token belongs to, for
// handlers mounted beside the API (TAXII).
// Tokens two organisations share are refused by Handler.
func Authenticate(orgs []Org) func(*http.Request) (string, bool) {
	tokens, _ := tokenIndex(orgs)
	s := &server{tokens: tokens}
	return func(r *http.Request) (string, bool) {
		if o := s.org(r); o != nil {
			return o.Name, true
		}
		return "", false
	}
}

// tokenIndex maps the SHA-256 of every token to its organisation; a token
// two organisations share is an error.
func tokenIndex(orgs []Org) (map[[32]byte]*Org, error) {
	tokens := map[[32]byte]*Org{}
	for i := range orgs {
		o := &orgs[i]
		for _, t := range o.Tokens {
			h := sha256.Sum256([]byte(t))
			if prev, dup := tokens[h]; dup {
				return tokens, fmt.Errorf("organisations %s and %s share an API token: give each its own", prev.Name, o.Name)
			}
			tokens[h] = o
		}
	}
	return tokens, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// storeError answers for a store error: 404 for a finding that does not
// exist or belongs to another organisation, 500 otherwise (logged).
func (s *server) storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such finding")
		return
	}
	s.log.Error("api: store", "err", err)
	writeError(w, http.StatusInternalServerError, "internal error; see the server log")
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "store": "ok"})
}

func (s *server) listFindings(w http.ResponseWriter, r *http.Request, o *Org) {
	q := r.URL.Query()
	f := store.Filter{Org: o.Name, Brand: q.Get("brand"), Query: q.Get("q"), After: q.Get("after")}
	for _, st := range q["state"] {
		for _, x := range strings.Split(st, ",") {
			switch state := store.State(x); state {
			case store.StateNew, store.StateWatching, store.StateSuspicious, store.StateMalicious, store.StateDismissed:
				f.States = append(f.States, state)
			default:
				writeError(w, http.StatusBadRequest, fmt.Sprintf("state %q: use new, watching, suspicious, malicious or dismissed", x))
				return
			}
		}
	}
	if !pageLimit(w, r, &f.Limit) {
		return
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("since %q: use an RFC 3339 time, e.g. 2026-11-27T00:00:00Z", v))
			return
		}
		f.Since = t
	}
	page, next, err := s.cfg.Store.Findings(r.Context(), f)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.storeError(w, err)
		return
	}
	if page == nil {
		page = []store.Finding{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": page, "next": next})
}

func findingID(w http.ResponseWriter, r *http.Request) (int64, bool) { return pathID(w, r, "finding") }

// pathID reads the {id} of the path; one that is not a positive number
// is answered 404 "no such <what>".
func pathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, "no such "+what)
		return 0, false
	}
	return id, true
}

// pageLimit reads the limit query parameter into *limit, leaving it when
// absent; a bad one is answered 400.
func pageLimit(w http.ResponseWriter, r *http.Request, limit *int) bool {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > store.MaxPageLimit {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: use 1 to %d", v, store.MaxPageLimit))
		return false
	}
	*limit = n
	return true
}

func (s *server) getFinding(w http.ResponseWriter, r *http.Request, o *Org) {
	id, ok := findingID(w, r)
	if !ok {
		return
	}
	d, err := s.cfg.Store.Finding(r.Context(), o.Name, id)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// actionBody is the optional body of an analyst action.
type actionBody struct {
	Author string `json:"author"`
	Note   string `json:"note"`
	Text   string `json:"text"`
}

func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 {
		return true
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "the body must be a JSON object: "+err.Error())
		return false
	}
	return true
}

func (s *server) setState(st store.State) func(http.ResponseWriter, *http.Request, *Org) {
	return func(w http.ResponseWriter, r *http.Request, o *Org) {
		id, ok := findingID(w, r)
		if !ok {
			return
		}
		var b actionBody
		if !readBody(w, r, &b) {
			return
		}
		f, err := s.cfg.Store.SetState(r.Context(), o.Name, id, st, author(b), b.Note, o.Sinks)
		if err != nil {
			s.storeError(w, err)
			return
		}
		if s.cfg.OnStateChange != nil {
			if err := s.cfg.OnStateChange(r.Context(), f); err != nil {
				s.log.Error("api: after the state change", "org", o.Name, "finding", f.ID, "err", err)
				writeError(w, http.StatusInternalServerError, "the state changed, but its indicators could not be updated; see the server log and try again")
				return
			}
		}
		writeJSON(w, http.StatusOK, f)
	}
}

func author(b actionBody) string {
	if b.Author == "" {
		return "api"
	}
	return b.Author
}

func (s *server) addNote(w http.ResponseWriter, r *http.Request, o *Org) {
	id, ok := findingID(w, r)
	if !ok {
		return
	}
	var b actionBody
	if !readBody(w, r, &b) {
		return
	}
	if strings.TrimSpace(b.Text) == "" {
		writeError(w, http.StatusBadRequest, `text is empty: send {"text": "..."}`)
		return
	}
	n, err := s.cfg.Store.AddNote(r.Context(), o.Name, id, author(b), b.Text)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

func (s *server) recheck(w http.ResponseWriter, r *http.Request, o *Org) {
	id, ok := findingID(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Store.RequestCheck(r.Context(), o.Name, id, s.now()); err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "the finding will be checked within seconds"})
}

func (s *server) probe(w http.ResponseWriter, r *http.Request, o *Org) {
	if s.cfg.Probe == nil {
		writeError(w, http.StatusNotImplemented, "on-demand probes are off")
		return
	}
	var b struct {
		Name string `json:"name"`
	}
	if !readBody(w, r, &b) {
		return
	}
	if b.Name == "" || len(b.Name) > 253 {
		writeError(w, http.StatusBadRequest, `send {"name": "a domain, URL or address"}`)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 90*time.Second)
	defer cancel()
	res, err := s.cfg.Probe(ctx, o.Name, b.Name)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *server) stats(w http.ResponseWriter, r *http.Request, o *Org) {
	m, err := s.cfg.Store.Stats(r.Context(), o.Name)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"org": o.Name, "findings_by_state": m})
}
