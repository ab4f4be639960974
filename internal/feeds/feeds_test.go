package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/store"
)

var t0 = time.Date(2020, 3, 20, 9, 0, 0, 0, time.UTC)

func openStore(t *testing.T, now *time.Time) *store.Store {
	t.Helper()
	st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "ward.db"), store.Options{Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func add(t *testing.T, st *store.Store, org, scope, typ, value, tlp, source string) store.Indicator {
	t.Helper()
	in, err := st.UpsertIndicator(t.Context(), store.Indicator{Org: org, Scope: scope, Type: typ, Value: value,
		Source: source, Confidence: 80, TLP: tlp, Brand: "RIVM"})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func export(t *testing.T, ex *Exporter, org, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := ex.Write(context.Background(), &b, org, format); err != nil {
		t.Fatalf("%s export of %s: %v", format, org, err)
	}
	return b.String()
}

// TestWhatAFeedCarries checks every rule that decides what an
// organisation's feeds carry.
func TestWhatAFeedCarries(t *testing.T) {
	now := t0
	st := openStore(t, &now)
	warn, _ := intel.NewWarninglist("rivm.nl")
	add(t, st, "rivm", "private", "domain", "rivm-private.example", "green", "finding")
	add(t, st, "who", "private", "domain", "who-private.example", "green", "finding")
	add(t, st, "who", "shared", "domain", "who-shared.example", "green", "manual")
	add(t, st, "rivm", "private", "domain", "tlp-red.example", "red", "manual")
	add(t, st, "rivm", "private", "domain", "strict.example", "amber+strict", "manual")
	add(t, st, "rivm", "private", "domain", "www.rivm.nl", "green", "manual") // official: on the warninglist
	add(t, st, "import/cert", "shared", "domain", "imported.example", "green", "import cert")
	add(t, st, "import/other", "shared", "domain", "reshared.example", "green", "import other")
	exp, _ := st.UpsertIndicator(t.Context(), store.Indicator{Org: "rivm", Scope: "private", Type: "domain",
		Value: "expired.example", Source: "manual", TLP: "green", ValidUntil: t0.Add(time.Hour)})
	_ = exp
	gone := add(t, st, "rivm", "private", "domain", "revoked.example", "green", "manual")
	if err := st.RemoveIndicator(t.Context(), "rivm", gone.ID); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(2 * time.Hour)
	ex := New(st, Options{Warninglist: warn, RPZ: intel.RPZOptions{Origin: "rpz.example"},
		Reshare: func(s string) bool { return s == "import other" }, Now: func() time.Time { return now }})

	got, err := ex.Standing(context.Background(), "rivm")
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, in := range got {
		vals = append(vals, in.Value)
	}
	want := "reshared.example rivm-private.example who-shared.example"
	if strings.Join(vals, " ") != want {
		t.Errorf("rivm's feed carries %v, want %s", vals, want)
	}
	// who sees its own private one and nothing private of rivm.
	hosts := export(t, ex, "who", "hosts")
	if !strings.Contains(hosts, "0.0.0.0 who-private.example\n") || strings.Contains(hosts, "rivm-private") {
		t.Errorf("who's hosts file:\n%s", hosts)
	}
	zone := export(t, ex, "rivm", "rpz")
	for _, w := range []string{"rivm-private.example.rivm.rpz.example. IN CNAME .", "*.who-shared.example.rivm.rpz.example. IN CNAME ."} {
		if !strings.Contains(zone, w) {
			t.Errorf("rivm's zone lacks %q:\n%s", w, zone)
		}
	}
	for _, no := range []string{"who-private", "tlp-red.example", "strict.example", "rivm.nl.rivm", "imported.example", "expired", "revoked"} {
		if strings.Contains(zone, no) || strings.Contains(export(t, ex, "rivm", "csv"), no) {
			t.Errorf("rivm's zone or CSV carries %s", no)
		}
	}
	// With export_tlp amber+strict the strict one is carried; red never.
	ex2 := New(st, Options{Warninglist: warn, ExportTLP: "red", RPZ: intel.RPZOptions{Origin: "rpz.example"}, Now: ex.o.Now})
	if csv := export(t, ex2, "rivm", "csv"); strings.Contains(csv, "tlp-red.example") {
		t.Errorf("a red indicator was exported:\n%s", csv)
	}
	ex3 := New(st, Options{ExportTLP: "amber+strict", RPZ: intel.RPZOptions{Origin: "rpz.example"}, Now: ex.o.Now})
	if csv := export(t, ex3, "rivm", "csv"); !strings.Contains(csv, "strict.example") {
		t.Errorf("export_tlp amber+strict left out the amber+strict indicator:\n%s", csv)
	}

	// The STIX bundle also carries the revoked indicator, marked revoked,
	// so that consumers stop blocking it.
	var bundle struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal([]byte(export(t, ex, "rivm", "stix")), &bundle); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, o := range bundle.Objects {
		if o["type"] != "indicator" {
			continue
		}
		p, _ := o["pattern"].(string)
		rev, _ := o["revoked"].(bool)
		found[p] = rev
	}
	if rev, ok := found["[domain-name:value = 'revoked.example']"]; !ok || !rev {
		t.Errorf("the revoked indicator in the bundle: present %v, revoked %v", ok, rev)
	}
	if rev, ok := found["[domain-name:value = 'rivm-private.example']"]; !ok || rev {
		t.Errorf("a standing indicator in the bundle: present %v, revoked %v", ok, rev)
	}

	// MISP: one directory, the manifest lists the events.
	dir := t.TempDir()
	if err := ex.WriteMISPDir(context.Background(), dir, "rivm"); err != nil {
		t.Fatal(err)
	}
	res, err := intel.ReadMISPFeed(os.DirFS(dir))
	if err != nil || len(res.Indicators) != 3 {
		t.Errorf("the MISP feed read back: %d indicators, %v", len(res.Indicators), err)
	}
	if err := ex.Write(context.Background(), &bytes.Buffer{}, "rivm", "pdf"); err == nil || !strings.Contains(err.Error(), "use one of rpz, stix, misp, csv, hosts") {
		t.Errorf("unknown format: %v", err)
	}
}

func soaSerial(t *testing.T, zone string) string {
	t.Helper()
	for line := range strings.SplitSeq(zone, "\n") {
		if f := strings.Fields(line); len(f) > 6 && f[2] == "SOA" {
			return f[5]
		}
	}
	t.Fatalf("no SOA in\n%s", zone)
	return ""
}

// TestZoneSerial checks that the serial stays while the content stays,
// increases when it changes, and survives a new Exporter (a restart, or
// ward feed export next to ward serve).
func TestZoneSerial(t *testing.T) {
	now := t0
	st := openStore(t, &now)
	clock := func() time.Time { return now }
	ex := New(st, Options{RPZ: intel.RPZOptions{Origin: "rpz.example"}, Now: clock})
	add(t, st, "rivm", "private", "domain", "a.example", "green", "manual")
	s1 := soaSerial(t, export(t, ex, "rivm", "rpz"))
	now = now.Add(time.Hour)
	if s := soaSerial(t, export(t, ex, "rivm", "rpz")); s != s1 {
		t.Errorf("unchanged zone: serial %s then %s", s1, s)
	}
	add(t, st, "rivm", "private", "domain", "b.example", "green", "manual")
	s2 := soaSerial(t, export(t, New(st, Options{RPZ: intel.RPZOptions{Origin: "rpz.example"}, Now: clock}), "rivm", "rpz"))
	if s2 <= s1 || len(s2) != len(s1) {
		t.Errorf("changed zone: serial %s then %s, want an increase", s1, s2)
	}
	// Another organisation's zone has its own serial and name.
	z, err := ex.Zone(context.Background(), "who")
	if err != nil || z.Origin != "who.rpz.example" || z.Count != 0 {
		t.Errorf("who's zone: %+v, %v", z, err)
	}
}

func TestWarninglistFromConfig(t *testing.T) {
	dir := t.TempDir()
	top := filepath.Join(dir, "top.csv")
	os.WriteFile(top, []byte("1,google.com\n2,azurewebsites.net\n3,beyond-top-n.example\n"), 0o644)
	cfg := config.Default()
	cfg.Feeds.Warninglist.TopLists = []string{top}
	cfg.Feeds.Warninglist.TopN = 2
	cfg.Feeds.Warninglist.Domains = []string{"zorgdomein.nl"}
	cfg.Organisations[0].OwnDomains = []string{"umc-example.nl"}
	w, err := Warninglist(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]bool{
		"rivm.nl": true, "www.rivm.nl": true, "who.int": true, // official brand domains, with subdomains
		"zorgdomein.nl": true, "portal.zorgdomein.nl": true, // configured
		"mail.umc-example.nl": true,                            // own
		"google.com":          true, "azurewebsites.net": true, // popular, exactly
		"evil.azurewebsites.net": false, // a customer subdomain stays blockable
		"beyond-top-n.example":   false, // only top_n lines are read
		"rivm-afspraak.nl":       false,
	} {
		if got := w.ContainsDomain(d); got != want {
			t.Errorf("warninglist has %s: %v, want %v", d, got, want)
		}
	}
	cfg.Feeds.Warninglist.TopLists = []string{filepath.Join(dir, "missing.csv")}
	if _, err := Warninglist(cfg); err == nil || !strings.Contains(err.Error(), "feeds.warninglist.top_lists") {
		t.Errorf("a missing top list: %v", err)
	}
}

// fakeZones records the zones PublishZones hands over.
type fakeZones struct {
	mu     sync.Mutex
	sets   int
	serial map[string]uint32
	text   map[string]string
}

func (f *fakeZones) SetZone(origin string, text []byte) error {
	origin = strings.TrimSuffix(origin, ".")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	for line := range strings.SplitSeq(string(text), "\n") {
		if fs := strings.Fields(line); len(fs) > 6 && fs[2] == "SOA" {
			n, _ := strconv.ParseUint(fs[5], 10, 32)
			f.serial[origin] = uint32(n)
		}
	}
	f.text[origin] = string(text)
	return nil
}

func (f *fakeZones) Serial(origin string) (uint32, bool) {
	origin = strings.TrimSuffix(origin, ".")
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.serial[origin]
	return s, ok
}

func (f *fakeZones) state(origin string) (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sets, f.text[origin]
}

// PublishZones hands a zone over at start and whenever its indicators
// change, and leaves an unchanged one alone.
func TestPublishZones(t *testing.T) {
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "w.db"), store.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	add(t, st, "rivm", "private", "domain", "a.example", "green", "manual")
	ex := New(st, Options{RPZ: intel.RPZOptions{Origin: "rpz.example"}, Now: clock})
	zs := &fakeZones{serial: map[string]uint32{}, text: map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ex.PublishZones(ctx, zs, []string{"rivm"}, 10*time.Millisecond, nil); close(done) }()
	defer func() { cancel(); <-done }()
	wait := func(what string, cond func(int, string) bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			if cond(zs.state("rivm.rpz.example")) {
				return
			}
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	wait("the first zone", func(n int, z string) bool { return n == 1 && strings.Contains(z, "a.example.rivm") })
	time.Sleep(100 * time.Millisecond) // ten intervals
	if n, _ := zs.state("rivm.rpz.example"); n != 1 {
		t.Errorf("an unchanged zone was handed over %d times", n)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	add(t, st, "rivm", "private", "domain", "b.example", "green", "manual")
	wait("the changed zone", func(n int, z string) bool { return n == 2 && strings.Contains(z, "b.example.rivm") })
}

func TestMetrics(t *testing.T) {
	now := t0
	st := openStore(t, &now)
	add(t, st, "rivm", "private", "domain", "a.example", "green", "manual")
	add(t, st, "who", "shared", "domain", "b.example", "green", "manual")
	ex := New(st, Options{RPZ: intel.RPZOptions{Origin: "rpz.example"}, Now: func() time.Time { return now }})
	zs := &fakeZones{serial: map[string]uint32{"rivm.rpz.example": 2020032000}, text: map[string]string{}}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(ex.Metrics([]string{"rivm", "who"}, zs))
	want := `
# HELP ward_feed_indicators Indicators an organisation's feeds draw on: its own and the shared ones, revoked included.
# TYPE ward_feed_indicators gauge
ward_feed_indicators{org="rivm"} 2
ward_feed_indicators{org="who"} 1
# HELP ward_rpz_zone_serial The SOA serial of the zone served by zone transfer.
# TYPE ward_rpz_zone_serial gauge
ward_rpz_zone_serial{org="rivm",zone="rivm.rpz.example"} 2.02003200e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ward_feed_indicators", "ward_rpz_zone_serial"); err != nil {
		t.Error(err)
	}
}

// The MISP events a pull fetches one by one are built once, and a change
// of the indicators shows at once.
func TestMISPReused(t *testing.T) {
	now := t0
	st := openStore(t, &now)
	add(t, st, "rivm", "private", "domain", "a.example", "green", "manual")
	ex := New(st, Options{RPZ: intel.RPZOptions{Origin: "rpz.example"}, Now: func() time.Time { return now }})
	first, err := ex.MISP(t.Context(), "rivm")
	if err != nil || len(first) != 1 {
		t.Fatalf("%v %v", first, err)
	}
	again, _ := ex.MISP(t.Context(), "rivm")
	if &again[0] != &first[0] {
		t.Errorf("the events were built again for an unchanged organisation")
	}
	now = now.Add(24 * time.Hour)
	add(t, st, "rivm", "private", "domain", "b.example", "green", "manual")
	later, _ := ex.MISP(t.Context(), "rivm")
	if len(later) != 2 {
		t.Errorf("after a new indicator on another day: %d events, want 2", len(later))
	}
}
