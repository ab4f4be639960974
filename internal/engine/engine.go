// Package engine is ward serve's pipeline: names from the sources (CT logs,
// newly-registered-domain lists, sweeps of generated look-alikes) go
// through every organisation's matcher into the store as findings; due
// findings are probed, scored and re-checked on a schedule; every state
// change leaves the store as an alert through the outbox, to each sink
// exactly once.
//
// Every stage is bounded: sources hand the store batches, one transaction
// each, with their positions; probes run on a fixed number of workers
// under a global rate limit; deliveries are claimed, sent and marked one
// by one. A crash at any point loses nothing: positions, findings and
// alerts are committed together, and an alert is sent again until a sink
// has accepted it.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/ward-health/ward/internal/alert"
	"github.com/ward-health/ward/internal/brand"
	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/ct"
	"github.com/ward-health/ward/internal/feeds"
	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/probe"
	"github.com/ward-health/ward/internal/store"
)

// Prober is what the engine needs of internal/probe.
type Prober interface {
	Probe(ctx context.Context, name string, ref *probe.Reference) probe.Evidence
	Reference(ctx context.Context, officialDomain string) (*probe.Reference, error)
	DNS(ctx context.Context, name string) probe.DNSResult
}

var _ Prober = (*probe.Prober)(nil)

// Store is what the engine needs of the store.
type Store interface {
	RecordMatches(ctx context.Context, source string, cursor []byte, ms []store.Match, sinks map[string][]string) ([]store.Finding, error)
	Cursor(ctx context.Context, source string) ([]byte, error)
	DueForCheck(ctx context.Context, now time.Time, limit int) ([]store.Finding, error)
	RecordCheck(ctx context.Context, c store.Check, sinks []string) (bool, error)
	ReleaseClaims(ctx context.Context, worker string) (int64, error)
	ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error)
	MarkSent(ctx context.Context, id int64, at time.Time) error
	MarkFailed(ctx context.Context, id int64, errText string, next time.Time, permanent bool) error
	UpsertIndicator(ctx context.Context, in store.Indicator) (store.Indicator, error)
	RemoveFindingIndicators(ctx context.Context, org string, findingID int64) (int64, error)
	Indicators(ctx context.Context, f store.IndicatorFilter) ([]store.Indicator, error)
	UpsertIndicators(ctx context.Context, ins []store.Indicator) (recorded, skipped int, err error)
	RevokeStale(ctx context.Context, org, source string, before time.Time) (int64, error)
	RemoveIndicator(ctx context.Context, org string, id int64) error
	SaveCursor(ctx context.Context, source string, pos []byte) error
}

var _ Store = (*store.Store)(nil)

// Deps are the engine's collaborators.
type Deps struct {
	Store  Store
	Prober Prober
	// Sinks by name, as the configuration's alerts.sinks names them.
	Sinks map[string]alert.Sink
	// Client fetches log lists and NRD lists; nil: a client with timeouts.
	Client *http.Client
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// org is one organisation at run time.
type org struct {
	name    string
	display string
	brands  *brand.Set
	matcher *lookalike.Matcher
	sinks   []string

	mu      sync.Mutex
	refs    map[string]*probe.Reference // by brand name
	refWait map[string]time.Time        // brand name → no new attempt before

	mail mailState
}

// Engine runs the pipeline.
type Engine struct {
	cfg    *config.Config
	st     Store
	prober Prober
	sinks  map[string]alert.Sink
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	orgs   []*org
	byName map[string]*org
	warn   *intel.Warninglist
	probes *rate.Limiter
	stats  *Stats
	ct     atomic.Pointer[ct.Tailer]
	// wake tells the check loop that new findings wait.
	wake chan struct{}
	// backoff is the wait after a failed delivery attempt.
	backoff func(attempts int) time.Duration
}

// New checks the configuration against the collaborators and builds the
// organisations' matchers.
func New(cfg *config.Config, d Deps) (*Engine, error) {
	if d.Store == nil || d.Prober == nil {
		return nil, errors.New("engine: a store and a prober are needed")
	}
	e := &Engine{cfg: cfg, st: d.Store, prober: d.Prober, sinks: d.Sinks, client: d.Client, log: d.Logger, now: d.Now,
		byName: map[string]*org{}, stats: newStats(), backoff: backoff,
		wake: make(chan struct{}, 1)}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.client == nil {
		e.client = &http.Client{Timeout: 2 * time.Minute}
	}
	var all []string
	for _, s := range cfg.Alerts.Sinks {
		if _, ok := d.Sinks[s.Name]; !ok {
			return nil, fmt.Errorf("engine: alert sink %q is configured but was not built", s.Name)
		}
		all = append(all, s.Name)
	}
	for _, oc := range cfg.Organisations {
		m, err := lookalike.NewMatcher(oc.BrandSet)
		if err != nil {
			return nil, fmt.Errorf("organisation %s: %w", oc.Name, err)
		}
		o := &org{name: oc.Name, display: oc.DisplayName, brands: oc.BrandSet, matcher: m, sinks: oc.Alerts, refs: map[string]*probe.Reference{}, refWait: map[string]time.Time{}}
		if o.display == "" {
			o.display = o.name
		}
		if err := o.openLearning(oc.MailLearning); err != nil {
			return nil, err
		}
		if len(o.sinks) == 0 {
			o.sinks = all
		}
		e.orgs = append(e.orgs, o)
		e.byName[o.name] = o
	}
	var err error
	if e.warn, err = feeds.Warninglist(cfg); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	e.probes = rate.NewLimiter(rate.Limit(cfg.Enrichment.RateLimit), max(1, int(cfg.Enrichment.RateLimit)))
	return e, nil
}

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return e.stats }

// match runs one name through every organisation's matcher.
func (e *Engine) match(name, source, ref string, seen time.Time) []store.Match {
	var out []store.Match
	for _, o := range e.orgs {
		m, ok, err := o.matcher.Match(name)
		if err != nil || !ok || m.Score < lookalike.AlertThreshold {
			continue
		}
		out = append(out, store.Match{Org: o.name, Domain: m.Domain, Brand: m.Brand, Score: m.Score, Techniques: m.Techniques,
			Reasons: m.Reasons, Name: name, Source: source, Ref: ref, SeenAt: seen})
	}
	return out
}

// record stores a batch of matches with the source's cursor.
func (e *Engine) record(ctx context.Context, source string, cursor []byte, ms []store.Match) error {
	// No alert at creation: the first check decides what the finding is,
	// and that state change is the first alert. A batch larger than the
	// store takes at once (a certificate can carry hundreds of matching
	// names) goes in parts, the cursor with the last: a crash in between
	// replays the parts, which the store records once.
	var created []store.Finding
	for len(ms) > store.MaxBatch {
		c, err := e.st.RecordMatches(ctx, source, nil, ms[:store.MaxBatch], nil)
		if err != nil {
			return err
		}
		created, ms = append(created, c...), ms[store.MaxBatch:]
	}
	c, err := e.st.RecordMatches(ctx, source, cursor, ms, nil)
	if err != nil {
		return err
	}
	created = append(created, c...)
	if len(created) > 0 {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	e.stats.add(&e.stats.Matches, int64(len(ms)))
	e.stats.add(&e.stats.Created, int64(len(created)))
	for _, f := range created {
		e.log.Info("new finding", "org", f.Org, "domain", f.Domain, "brand", f.Brand, "score", f.Score, "source", source)
	}
	return nil
}

// Run runs every stage until ctx ends. Sources that fail back off and
// try again; the service stays up. It returns when every stage has
// stopped.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	stage := func(name string, fn func(context.Context) error) {
		wg.Go(func() { e.keepRunning(ctx, name, fn) })
	}
	if e.cfg.Sources.CT.On() {
		stage("ct", e.runCT)
	}
	for i := range e.cfg.Sources.NRD {
		n := e.cfg.Sources.NRD[i]
		stage("nrd "+n.Name, func(ctx context.Context) error { return e.runNRD(ctx, n) })
	}
	for i := range e.cfg.Sources.Sweep {
		s := e.cfg.Sources.Sweep[i]
		stage(fmt.Sprintf("sweep %d", i), func(ctx context.Context) error { return e.runSweep(ctx, i, s) })
	}
	for i := range e.cfg.Feeds.Imports {
		im := e.cfg.Feeds.Imports[i]
		stage("import "+im.Name, func(ctx context.Context) error { return e.runImport(ctx, im) })
	}
	stage("checks", e.runChecks)
	stage("alerts", e.runDeliveries)
	wg.Wait()
	return nil
}

// keepRunning runs fn until ctx ends, restarting it with backoff when it
// fails: a source whose server is down must not take the service down.
func (e *Engine) keepRunning(ctx context.Context, name string, fn func(context.Context) error) {
	wait := time.Second
	for ctx.Err() == nil {
		start := time.Now()
		err := fn(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 5*time.Minute {
			wait = time.Second
		}
		e.stats.stageError(name)
		e.log.Error("stage failed; retrying", "stage", name, "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Minute)
	}
}

// refRetry is how long after a failed fetch of a brand's own site the next
// attempt waits.
const refRetry = 30 * time.Minute

// refMaxAge is how long a brand's own site's fingerprints are used before
// they are fetched again: the real site changes too.
const refMaxAge = 24 * time.Hour

// reference returns the brand's real-site fingerprints for o, fetched
// once a day; after a failure, checks go without them for refRetry.
func (e *Engine) reference(ctx context.Context, o *org, brandName string) *probe.Reference {
	o.mu.Lock()
	ref, ok := o.refs[brandName]
	wait := o.refWait[brandName]
	o.mu.Unlock()
	fresh := ok && ref != nil && e.now().Sub(ref.FetchedAt) < refMaxAge
	if fresh || e.now().Before(wait) {
		return ref
	}
	for _, b := range o.brands.Brands {
		if b.Name != brandName || len(b.Domains) == 0 {
			continue
		}
		r, err := e.prober.Reference(ctx, b.Domains[0])
		if err != nil {
			// Checks go on without the comparison; try again in a while.
			o.mu.Lock()
			o.refWait[brandName] = e.now().Add(refRetry)
			o.mu.Unlock()
			e.log.Warn("could not fetch the brand's own site for comparison; checks go on without it", "brand", b.Name,
				"domain", b.Domains[0], "retry_in", refRetry.String(), "err", err)
			return nil
		}
		o.mu.Lock()
		o.refs[brandName] = r
		o.mu.Unlock()
		return r
	}
	return nil
}

// runChecks probes due findings with a pool of workers under the global
// probe rate limit.
func (e *Engine) runChecks(ctx context.Context) error {
	// hold keeps findings out of the next batches: those in flight (until
	// their check ends) and those whose check failed (for a minute, so that
	// a failing finding does not spin).
	var mu sync.Mutex
	hold := map[int64]time.Time{}
	finished := make(chan struct{}, 1)
	work := make(chan store.Finding)
	var wg sync.WaitGroup
	for range e.cfg.Enrichment.Concurrency {
		wg.Go(func() {
			for f := range work {
				err := e.check(ctx, f)
				mu.Lock()
				delete(hold, f.ID)
				if err != nil && ctx.Err() == nil {
					hold[f.ID] = e.now().Add(time.Minute)
				}
				mu.Unlock()
				if err != nil && ctx.Err() == nil {
					e.stats.add(&e.stats.CheckErrors, 1)
					e.log.Error("checking a finding; trying again in a minute", "org", f.Org, "domain", f.Domain, "err", err)
				}
				select {
				case finished <- struct{}{}:
				default:
				}
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	inFlight := time.Unix(1<<62, 0)
	for {
		mu.Lock()
		for id, until := range hold {
			if !e.now().Before(until) {
				delete(hold, id)
			}
		}
		held := len(hold)
		mu.Unlock()
		due, err := e.st.DueForCheck(ctx, e.now(), 4*e.cfg.Enrichment.Concurrency+held)
		if err != nil {
			return err
		}
		e.stats.set(&e.stats.Due, int64(len(due)))
		sent := 0
		for _, f := range due {
			mu.Lock()
			until, ok := hold[f.ID]
			if ok && e.now().Before(until) {
				mu.Unlock()
				continue
			}
			hold[f.ID] = inFlight
			mu.Unlock()
			if err := e.probes.Wait(ctx); err != nil {
				return nil
			}
			select {
			case work <- f:
				sent++
			case <-ctx.Done():
				return nil
			}
		}
		if sent > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-e.wake:
		case <-finished:
		}
	}
}

// check probes one finding, scores it and records the check.
func (e *Engine) check(ctx context.Context, f store.Finding) error {
	o := e.byName[f.Org]
	if o == nil {
		// An organisation removed from the configuration: leave its
		// findings as they are, checked no more.
		return e.record1(ctx, f, store.Check{FindingID: f.ID, CheckedAt: e.now(), State: f.State, Score: f.Score, Reasons: f.Reasons})
	}
	ref := e.reference(ctx, o, f.Brand)
	ev := e.prober.Probe(ctx, f.Domain, ref)
	if ctx.Err() != nil {
		return nil
	}
	e.stats.add(&e.stats.Checks, 1)
	sigs := ev.Signals()
	listedBy, err := e.listedBy(ctx, f)
	if err != nil {
		return err
	}
	if listedBy != "" {
		sigs = append(sigs, SignalListed)
	}
	matchScore := f.MatchScore
	score, state, reasons := Score(matchScore, sigs, Thresholds{e.cfg.Scoring.Suspicious, e.cfg.Scoring.Malicious})
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding the evidence: %w", err)
	}
	now := e.now()
	c := store.Check{FindingID: f.ID, CheckedAt: now, State: state, Score: score, Reasons: reasons, Data: data,
		NextCheck: nextCheck(now, f, state != f.State, e.cfg.Scoring.Recheck, e.cfg.Scoring.RecheckMax)}
	details := map[string]any{"signals": sigs, "techniques": f.Techniques}
	if listedBy != "" {
		details["listed_by"] = listedBy
	}
	a := alert.Alert{Org: o.display, Kind: "finding", Title: fmt.Sprintf("%s imitates %s: %s", f.Domain, f.Brand, state),
		Severity: severity(state), State: string(state), Previous: string(f.State), Subject: f.Domain, Brand: f.Brand,
		Score: score, Reasons: reasons, Time: now, Details: details}
	if c.AlertPayload, err = json.Marshal(a); err != nil {
		return fmt.Errorf("encoding the alert: %w", err)
	}
	if err := e.record1(ctx, f, c); err != nil {
		return err
	}
	if state == store.StateMalicious {
		f.Score, f.Reasons = score, reasons
		return e.indicate(ctx, f)
	}
	return nil
}

// listedBy returns the source of a standing domain indicator the
// finding's organisation sees for its domain or a parent (an import, an
// analyst's, another organisation's finding), or "". The organisation's
// own finding indicators do not count: a finding must not raise itself.
func (e *Engine) listedBy(ctx context.Context, f store.Finding) (string, error) {
	names := intel.DomainAndParents(f.Domain)
	if len(names) == 0 {
		return "", nil
	}
	inds, err := e.st.Indicators(ctx, store.IndicatorFilter{Org: f.Org, Now: e.now(), Types: []string{"domain"}, Values: names, Limit: 50})
	if err != nil {
		return "", fmt.Errorf("looking up indicators of %s: %w", f.Domain, err)
	}
	for _, in := range inds {
		if in.Org == f.Org && in.Source == "finding" {
			continue
		}
		if in.Org != f.Org {
			return in.Source + " (" + in.Org + ")", nil
		}
		return in.Source, nil
	}
	return "", nil
}

// indicate makes a malicious finding an indicator for the feeds (or keeps
// its indicator alive), as the configuration's feeds section says.
func (e *Engine) indicate(ctx context.Context, f store.Finding) error {
	fc := e.cfg.Feeds
	if !fc.Auto() {
		return nil
	}
	desc := fmt.Sprintf("look-alike of %s", f.Brand)
	if len(f.Reasons) > 1 {
		desc += ": " + strings.Join(f.Reasons[1:min(len(f.Reasons), 4)], "; ")
	}
	_, err := e.st.UpsertIndicator(ctx, store.Indicator{Org: f.Org, Scope: fc.Scope, Type: "domain", Value: f.Domain,
		Source: "finding", Confidence: min(max(f.Score, 0), 100), TLP: fc.TLP, Brand: f.Brand, Description: desc,
		FindingID: f.ID, LastSeen: e.now(), ValidUntil: e.now().Add(fc.ValidFor)})
	if err != nil {
		return fmt.Errorf("recording the indicator of %s: %w", f.Domain, err)
	}
	return nil
}

// AnalystChanged follows an analyst's decision on a finding: a confirmed
// one becomes an indicator, a dismissed one's indicators are removed so
// that no feed blocks it.
func (e *Engine) AnalystChanged(ctx context.Context, f store.Finding) error {
	switch f.State {
	case store.StateMalicious:
		return e.indicate(ctx, f)
	case store.StateDismissed:
		n, err := e.st.RemoveFindingIndicators(ctx, f.Org, f.ID)
		if err == nil && n > 0 {
			e.log.Info("removed the indicators of a dismissed finding", "org", f.Org, "domain", f.Domain, "indicators", n)
		}
		return err
	}
	return nil
}

func (e *Engine) record1(ctx context.Context, f store.Finding, c store.Check) error {
	var sinks []string
	if o := e.byName[f.Org]; o != nil {
		sinks = o.sinks
	}
	changed, err := e.st.RecordCheck(ctx, c, sinks)
	if err != nil {
		return err
	}
	if changed {
		e.stats.add(&e.stats.StateChanges, 1)
		e.log.Info("finding changed state", "org", f.Org, "domain", f.Domain, "from", f.State, "to", c.State, "score", c.Score)
	}
	return nil
}

func severity(s store.State) string {
	switch s {
	case store.StateMalicious:
		return "critical"
	case store.StateSuspicious:
		return "high"
	case store.StateNew:
		return "medium"
	case store.StateWatching:
		return "low"
	}
	return "info"
}
