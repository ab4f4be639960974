package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/alert"
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
		e, err := New(cfg, Deps{Store: st, Prober: prober, Sinks: map[string]alert.Sink{"rec": sink}})
		if err != nil {
			t.Fatal(err)
		}
		e.backoff = func(int) time.Duration { return 50 * time.Millisecond }
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { e.Run(rctx); close(done) }()
		return func() { cancel(); <-done }
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
