package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/alert"
	"github.com/ward-health/ward/internal/brand"
	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/ct/cttest"
	"github.com/ward-health/ward/internal/probe"
	"github.com/ward-health/ward/internal/store"
)

// fakeProber answers from a table: the web of the test.
type fakeProber struct {
	mu    sync.Mutex
	sites map[string]probe.Evidence
	calls map[string]int
}

func (p *fakeProber) Probe(_ context.Context, name string, _ *probe.Reference) probe.Evidence {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[name]++
	ev, ok := p.sites[name]
	if !ok {
		ev = probe.Evidence{DNS: probe.DNSResult{Status: probe.OutcomeNXDomain}}
	}
	ev.Name, ev.CheckedAt = name, time.Now()
	return ev
}

func (p *fakeProber) Reference(context.Context, string) (*probe.Reference, error) {
	return nil, errors.New("no internet in tests")
}

func (p *fakeProber) DNS(_ context.Context, name string) probe.DNSResult {
	return p.Probe(context.Background(), name, nil).DNS
}

// recSink records what it is sent; it fails the first failFirst sends.
type recSink struct {
	mu        sync.Mutex
	got       []alert.Alert
	failFirst int
}

func (s *recSink) Name() string { return "rec" }

func (s *recSink) Send(_ context.Context, a alert.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failFirst > 0 {
		s.failFirst--
		return errors.New("the chat server is down")
	}
	s.got = append(s.got, a)
	return nil
}

func (s *recSink) alerts() []alert.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]alert.Alert(nil), s.got...)
}

// start runs an engine in the background until stop; edit, when not nil,
// adjusts it first.
func start(t *testing.T, cfg *config.Config, d Deps, edit func(*Engine)) (stop func()) {
	t.Helper()
	e, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// From a CT log to alerts: names imitating a brand become findings, are
// probed and scored, and each state change reaches the sink once, across
// a restart and a sink that is down at first.
func TestPipeline(t *testing.T) {
	log, err := cttest.New(cttest.Static)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	for _, n := range []string{"www.example.com", "rivm-coronatest.nl", "shop.example.org", "who-covid19-relief.com"} {
		if err := log.Add([]string{n}, false); err != nil {
			t.Fatal(err)
		}
	}
	log.Publish()

	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "ward.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	cfg := config.Default()
	cfg.Sources.CT.LogList = "none"
	cfg.Sources.CT.Logs = []config.CTLog{{URL: log.URL(), Key: log.Key(), Type: "static"}}
	cfg.Sources.CT.Start = "start"
	cfg.Sources.CT.Poll = 100 * time.Millisecond
	cfg.Enrichment.RateLimit = 100
	cfg.Alerts.Sinks = []alert.Config{{Name: "rec", Type: "webhook", URL: "https://chat.example/hook"}}
	prober := &fakeProber{calls: map[string]int{}, sites: map[string]probe.Evidence{
		"rivm-coronatest.nl": {DNS: probe.DNSResult{Status: probe.OutcomeOK, CanSendMail: true},
			Content: &probe.Content{LoginForm: true, PostsElsewhere: true}},
	}}
	sink := &recSink{failFirst: 2}
	run := func() (stop func()) {
		return start(t, cfg, Deps{Store: st, Prober: prober, Sinks: map[string]alert.Sink{"rec": sink}},
			func(e *Engine) { e.backoff = func(int) time.Duration { return 50 * time.Millisecond } })
	}
	stop := run()
	// rivm-coronatest.nl: malicious at its first check;
	// who-covid19-relief.com: watching (it does not resolve). No alert
	// at creation: the first check decides.
	byState := func() map[string]int {
		m := map[string]int{}
		for _, a := range sink.alerts() {
			m[a.Subject+" "+a.State]++
		}
		return m
	}
	waitFor(t, "two alerts", func() bool { return len(sink.alerts()) >= 2 })
	time.Sleep(300 * time.Millisecond)
	stop()
	if got := byState(); len(got) != 2 || got["rivm-coronatest.nl malicious"] != 1 || got["who-covid19-relief.com watching"] != 1 {
		t.Fatalf("alerts by state = %v, want rivm-coronatest.nl malicious and who-covid19-relief.com watching", got)
	}

	// A restart resumes the log where it stopped: nothing is recorded or
	// sent twice; a new entry is picked up.
	stop = run()
	if err := log.Add([]string{"ggd-afspraak-coronatest.nl"}, true); err != nil {
		t.Fatal(err)
	}
	log.Publish()
	waitFor(t, "the new entry's alert", func() bool { return byState()["ggd-afspraak-coronatest.nl watching"] == 1 })
	time.Sleep(300 * time.Millisecond)
	stop()
	ids := map[string]bool{}
	for _, a := range sink.alerts() {
		if ids[a.ID] {
			t.Errorf("alert %s sent twice", a.ID)
		}
		ids[a.ID] = true
		if a.Org == "" || a.Title == "" || !strings.Contains(a.Title, a.Subject) {
			t.Errorf("incomplete alert %+v", a)
		}
	}
	for k, n := range byState() {
		if n != 1 {
			t.Errorf("%s alerted %d times", k, n)
		}
	}
	page, _, err := st.Findings(ctx, store.Filter{Org: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 {
		t.Errorf("%d findings, want 3: %+v", len(page), page)
	}
}

// A batch larger than the store takes at once is recorded in parts, the
// cursor with the last.
func TestRecordLargeBatch(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := New(config.Default(), Deps{Store: st, Prober: &fakeProber{calls: map[string]int{}}})
	if err != nil {
		t.Fatal(err)
	}
	var ms []store.Match
	for i := range store.MaxBatch + 50 {
		d := fmt.Sprintf("rivm-login-%d.nl", i)
		ms = append(ms, store.Match{Org: "demo", Domain: d, Brand: "RIVM", Score: 80, Name: d, Source: "ct", Ref: "log 1"})
	}
	if err := e.record(ctx, "ct test", []byte("pos"), ms); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Cursor(ctx, "ct test"); string(c) != "pos" {
		t.Errorf("cursor %q", c)
	}
	if n := e.stats.Created.Load(); n != int64(store.MaxBatch+50) {
		t.Errorf("%d findings created, want %d", n, store.MaxBatch+50)
	}
}

// newTestEngine returns an engine over a fresh SQLite store, with one
// organisation protecting rivm.nl and no sources but those the test sets.
func newTestEngine(t *testing.T, edit func(*config.Config), p Prober) (*Engine, *store.Store) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "w.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config.Default()
	cfg.Sources.CT.Enabled = new(bool)
	cfg.Enrichment.RateLimit = 1000
	edit(cfg)
	e, err := New(cfg, Deps{Store: st, Prober: p})
	if err != nil {
		t.Fatal(err)
	}
	return e, st
}

func domains(t *testing.T, st *store.Store) []string {
	t.Helper()
	page, _, err := st.Findings(context.Background(), store.Filter{Org: "demo", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range page {
		out = append(out, f.Domain)
	}
	slices.Sort(out)
	return out
}

// A newly-registered-domain list (gzip or not) is read once per content,
// resumes at the line its cursor holds, and is read again when it changes.
func TestNRD(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nrd.txt.gz")
	write := func(lines ...string) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
		zw.Close()
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("# newly registered today", "example-shop.com", "rivm-coronatest.nl", "garden-tools.nl", "who-covid19-relief.com extra columns")
	nrd := config.NRD{Name: "daily", File: path, Every: time.Hour}
	e, st := newTestEngine(t, func(c *config.Config) { c.Sources.NRD = []config.NRD{nrd} }, &fakeProber{calls: map[string]int{}})
	ctx := context.Background()
	if err := e.readNRD(ctx, nrd, "nrd daily"); err != nil {
		t.Fatal(err)
	}
	if got := domains(t, st); !slices.Equal(got, []string{"rivm-coronatest.nl", "who-covid19-relief.com"}) {
		t.Fatalf("findings %v", got)
	}
	// The same content again: nothing read.
	before := e.stats.Names.Load()
	if err := e.readNRD(ctx, nrd, "nrd daily"); err != nil {
		t.Fatal(err)
	}
	if e.stats.Names.Load() != before {
		t.Errorf("an unchanged list was read again")
	}
	// A new list, of which a crashed run had done 2 lines: only the rest.
	write("rivm-login.nl", "ggd-afspraak.nl", "rivm-portaal.nl")
	data, _ := os.ReadFile(path)
	sum := sha256.Sum256(data)
	cur, _ := json.Marshal(nrdCursor{SHA256: hex.EncodeToString(sum[:]), Line: 2})
	if _, err := st.RecordMatches(ctx, "nrd daily", cur, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.readNRD(ctx, nrd, "nrd daily"); err != nil {
		t.Fatal(err)
	}
	if got := domains(t, st); !slices.Equal(got, []string{"rivm-coronatest.nl", "rivm-portaal.nl", "who-covid19-relief.com"}) {
		t.Fatalf("after resuming at line 2: %v", got)
	}
	if c, _ := st.Cursor(ctx, "nrd daily"); !strings.Contains(string(c), `"done":true`) {
		t.Errorf("cursor after the list: %s", c)
	}
}

// A sweep generates look-alikes of the brands, records those that resolve,
// and waits its interval before the next.
func TestSweep(t *testing.T) {
	p := &fakeProber{calls: map[string]int{}, sites: map[string]probe.Evidence{
		"rivm.com": {DNS: probe.DNSResult{Status: probe.OutcomeOK}},
		"rivm.org": {DNS: probe.DNSResult{Status: probe.OutcomeOK}},
	}}
	sw := config.Sweep{Every: time.Hour, Fuzzers: []string{"tld-swap"}, TLDs: []string{"com", "org", "net"}}
	e, st := newTestEngine(t, func(c *config.Config) {
		set, _ := brand.FromDomains([]string{"rivm.nl"})
		c.Organisations[0].BrandSet = set
		c.Sources.Sweep = []config.Sweep{sw}
	}, p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.runSweep(ctx, 0, sw) }()
	waitFor(t, "the sweep", func() bool { c, _ := st.Cursor(context.Background(), "sweep 0"); return c != nil })
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := domains(t, st); !slices.Equal(got, []string{"rivm.com", "rivm.org"}) {
		t.Errorf("findings %v, want rivm.com and rivm.org (rivm.net does not resolve)", got)
	}
	p.mu.Lock()
	n := p.calls["rivm.net"]
	p.mu.Unlock()
	if n != 1 {
		t.Errorf("rivm.net resolved %d times in one sweep, want once (the next sweep is an hour away)", n)
	}
}

// slowProber takes a while per probe, as a real one does.
type slowProber struct{ fakeProber }

func (p *slowProber) Probe(ctx context.Context, name string, ref *probe.Reference) probe.Evidence {
	time.Sleep(300 * time.Millisecond)
	return p.fakeProber.Probe(ctx, name, ref)
}

// A finding being checked is not handed to a second worker meanwhile.
func TestOneCheckAtATime(t *testing.T) {
	p := &slowProber{fakeProber{calls: map[string]int{}}}
	e, st := newTestEngine(t, func(c *config.Config) { c.Enrichment.Concurrency = 8 }, p)
	ctx := context.Background()
	if _, err := st.RecordMatches(ctx, "test", nil, []store.Match{{Org: "demo", Domain: "rivm-coronatest.nl", Brand: "RIVM", Score: 90,
		Name: "rivm-coronatest.nl", Source: "test", Ref: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.runChecks(rctx) }()
	waitFor(t, "the check", func() bool { return e.stats.Checks.Load() >= 1 })
	time.Sleep(500 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.calls["rivm-coronatest.nl"]; n != 1 {
		t.Errorf("the finding was probed %d times, want once", n)
	}
}

// An analyst's confirmation makes an indicator; a dismissal takes it away,
// so that no feed blocks a site the analyst judged harmless.
func TestAnalystChanged(t *testing.T) {
	e, st := newTestEngine(t, func(*config.Config) {}, &fakeProber{calls: map[string]int{}})
	ctx := context.Background()
	created, err := st.RecordMatches(ctx, "test", nil, []store.Match{{Org: "demo", Domain: "ggd-afspraak.nl", Brand: "GGD", Score: 85,
		Name: "ggd-afspraak.nl", Source: "test", Ref: "1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := st.SetState(ctx, "demo", created[0].ID, store.StateMalicious, "soc", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AnalystChanged(ctx, f); err != nil {
		t.Fatal(err)
	}
	inds, _ := st.Indicators(ctx, store.IndicatorFilter{Org: "demo"})
	if len(inds) != 1 || inds[0].Value != "ggd-afspraak.nl" || inds[0].ValidUntil.IsZero() {
		t.Fatalf("after confirming: %+v", inds)
	}
	f, _ = st.SetState(ctx, "demo", f.ID, store.StateDismissed, "soc", "the GGD's own new site", nil)
	if err := e.AnalystChanged(ctx, f); err != nil {
		t.Fatal(err)
	}
	if inds, _ := st.Indicators(ctx, store.IndicatorFilter{Org: "demo"}); len(inds) != 0 {
		t.Errorf("after dismissing: %+v", inds)
	}
}

// A name an indicator feed lists scores higher: an import's or another
// organisation's indicator counts; the organisation's own finding
// indicator does not (a finding must not raise itself).
func TestListedRaisesScore(t *testing.T) {
	live := probe.Evidence{DNS: probe.DNSResult{Status: probe.OutcomeOK, CanSendMail: true}}
	p := &fakeProber{calls: map[string]int{}, sites: map[string]probe.Evidence{
		"rivm-coronatest.nl": live, "rivm-afspraak.nl": live, "rivm-zelftest.nl": live, "rivm-uitslag.nl": live,
	}}
	e, st := newTestEngine(t, func(*config.Config) {}, p)
	ctx := context.Background()
	var ms []store.Match
	for i, d := range []string{"rivm-coronatest.nl", "rivm-afspraak.nl", "rivm-zelftest.nl", "rivm-uitslag.nl"} {
		ms = append(ms, store.Match{Org: "demo", Domain: d, Brand: "RIVM", Score: 90, Name: "www." + d, Source: "test", Ref: fmt.Sprint(i)})
	}
	fs, err := st.RecordMatches(ctx, "test", nil, ms, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []store.Indicator{
		{Org: "import/cert", Scope: "shared", Type: "domain", Value: "rivm-coronatest.nl", Source: "import cert", TLP: "amber"},
		{Org: "demo", Scope: "private", Type: "domain", Value: "rivm-zelftest.nl", Source: "finding", TLP: "green", FindingID: fs[2].ID},
		{Org: "other", Scope: "private", Type: "domain", Value: "rivm-uitslag.nl", Source: "manual", TLP: "green"}, // not visible to demo
	} {
		if _, err := st.UpsertIndicator(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range fs {
		if err := e.check(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]store.Finding{}
	for _, f := range fs {
		d, err := st.Finding(ctx, "demo", f.ID)
		if err != nil {
			t.Fatal(err)
		}
		got[f.Domain] = d.Finding
	}
	listed := got["rivm-coronatest.nl"]
	if listed.State != store.StateMalicious || !slices.Contains(listed.Reasons, "an indicator feed lists it") {
		t.Errorf("the listed name: %s, %d, %v", listed.State, listed.Score, listed.Reasons)
	}
	for _, d := range []string{"rivm-afspraak.nl", "rivm-zelftest.nl", "rivm-uitslag.nl"} {
		if f := got[d]; f.State != store.StateSuspicious || f.Score != listed.Score-25 {
			t.Errorf("%s: %s, %d, want suspicious at %d", d, f.State, f.Score, listed.Score-25)
		}
	}
}
