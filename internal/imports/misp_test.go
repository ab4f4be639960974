package imports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/intel"
)

// feedServer serves a MISP feed directory from memory, with an ETag on
// every file, and counts the requests per path.
type feedServer struct {
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[r.URL.Path]++
	b, ok := s.files[strings.TrimPrefix(r.URL.Path, "/feed/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// set replaces the feed with events.
func (s *feedServer) set(t *testing.T, events []intel.MISPEvent) {
	t.Helper()
	dir := t.TempDir()
	if err := intel.WriteMISPFeed(dir, events); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	s.mu.Lock()
	s.files, s.hits = files, map[string]int{}
	s.mu.Unlock()
}

func (s *feedServer) hitsOf() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

func day(d int) time.Time { return time.Date(2020, 3, d, 9, 0, 0, 0, time.UTC) }

// mispEvents returns the events for indicators (one event per brand, TLP
// and day, see intel.MISPEvents).
func mispEvents(inds ...intel.Indicator) []intel.MISPEvent {
	return intel.MISPEvents(inds, intel.MISPOptions{})
}

func ind(typ intel.Type, v, brand string, d int) intel.Indicator {
	return intel.Indicator{Type: typ, Value: v, Brand: brand, FirstSeen: day(d), LastSeen: day(d), TLP: intel.TLPGreen}
}

// TestMISPFeedHTTP follows a MISP feed through its life: read whole, not
// modified, a new event (only it is fetched: an increment), an edited
// event and a removed one (read whole again: a snapshot).
func TestMISPFeedHTTP(t *testing.T) {
	fs := &feedServer{}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	a := ind(intel.TypeDomain, "rivm-corona.example", "RIVM", 12)
	b := ind(intel.TypeURL, "https://who-mail.example/owa/", "WHO", 13)
	c := ind(intel.TypeSHA256, strings.Repeat("ab", 32), "", 14)
	fs.set(t, mispEvents(a, b))
	f := fetcher(t)
	src := Source{Name: "sector-cert", URL: srv.URL + "/feed/", Format: FormatMISP}
	ctx := context.Background()

	up, st, err := f.Fetch(ctx, src, State{})
	if err != nil {
		t.Fatal(err)
	}
	if !up.Snapshot || !slices.Equal(values(up.Indicators), []string{"domain rivm-corona.example", "url https://who-mail.example/owa/"}) {
		t.Fatalf("first fetch: snapshot %v, %q", up.Snapshot, values(up.Indicators))
	}
	if up.Indicators[0].Source != "import sector-cert" || up.Indicators[0].TLP != intel.TLPGreen {
		t.Errorf("indicator = %+v", up.Indicators[0])
	}
	if len(st.Events) != 2 || st.ETag == "" {
		t.Fatalf("state = %+v", st)
	}

	// Not modified: one conditional request, nothing read.
	fs.set(t, mispEvents(a, b))
	up, st, err = f.Fetch(ctx, src, st)
	if err != nil || !up.Unchanged || up.Requests != 1 {
		t.Fatalf("unchanged feed: unchanged %v, %d requests, err %v", up.Unchanged, up.Requests, err)
	}

	// A new event: only it is fetched, as an increment.
	fs.set(t, mispEvents(a, b, c))
	up, st, err = f.Fetch(ctx, src, st)
	if err != nil {
		t.Fatal(err)
	}
	if up.Snapshot || up.Unchanged || !slices.Equal(values(up.Indicators), []string{"sha256 " + strings.Repeat("ab", 32)}) {
		t.Fatalf("new event: snapshot %v unchanged %v %q, want an increment with the hash", up.Snapshot, up.Unchanged, values(up.Indicators))
	}
	if h := fs.hitsOf(); len(h) != 2 || h["/feed/manifest.json"] != 1 {
		t.Errorf("new event: requests %v, want the manifest and one event", h)
	}

	// An edited event (a's event gets another attribute, a new timestamp):
	// read whole, so that the caller can withdraw what was removed.
	a2 := ind(intel.TypeDomain, "rivm-corona2.example", "RIVM", 12)
	a2.LastSeen = day(20)
	fs.set(t, mispEvents(a2, b, c))
	up, st, err = f.Fetch(ctx, src, st)
	if err != nil {
		t.Fatal(err)
	}
	if !up.Snapshot || len(up.Indicators) != 3 {
		t.Fatalf("edited event: snapshot %v, %q", up.Snapshot, values(up.Indicators))
	}

	// A removed event: read whole.
	fs.set(t, mispEvents(b, c))
	up, _, err = f.Fetch(ctx, src, st)
	if err != nil {
		t.Fatal(err)
	}
	if !up.Snapshot || !slices.Equal(values(up.Indicators), []string{"sha256 " + strings.Repeat("ab", 32), "url https://who-mail.example/owa/"}) {
		t.Fatalf("removed event: snapshot %v, %q", up.Snapshot, values(up.Indicators))
	}
}

// TestMISPFeedHostile: manifest keys that are not UUIDs are never
// requested; a missing event is skipped; an unreadable event is skipped;
// a server error fails the fetch and keeps the state.
func TestMISPFeedHostile(t *testing.T) {
	fs := &feedServer{}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	good := mispEvents(ind(intel.TypeDomain, "rivm-corona.example", "RIVM", 12))
	fs.set(t, good)
	fs.mu.Lock()
	fs.files["manifest.json"] = []byte(`{"../../etc/passwd": {"timestamp": "1"},
		"` + good[0].UUID + `": {"timestamp": "1584000000"},
		"11111111-2222-3333-4444-555555555555": {"timestamp": 7},
		"66666666-2222-3333-4444-555555555555": "not an object"}`)
	fs.files["66666666-2222-3333-4444-555555555555.json"] = []byte(`{"Event": {"Attribute": "x"}}`)
	fs.mu.Unlock()
	up, _, err := fetcher(t).Fetch(context.Background(), Source{Name: "h", URL: srv.URL + "/feed/manifest.json", Format: FormatMISP}, State{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(values(up.Indicators), []string{"domain rivm-corona.example"}) || up.Skipped != 3 {
		t.Errorf("got %q, %d skipped (%v); want the good event and 3 skipped", values(up.Indicators), up.Skipped, up.SkipExamples)
	}
	for p := range fs.hitsOf() {
		if strings.Contains(p, "passwd") || strings.Contains(p, "..") {
			t.Errorf("requested %s", p)
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/feed/manifest.json", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"` + good[0].UUID + `": {"timestamp": "1"}}`))
	})
	mux.HandleFunc("/feed/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	bad := httptest.NewServer(mux)
	defer bad.Close()
	old := State{ETag: "old"}
	_, st, err := fetcher(t).Fetch(context.Background(), Source{Name: "h", URL: bad.URL + "/feed", Format: FormatMISP}, old)
	if !errors.Is(err, ErrServer) || st.ETag != "old" {
		t.Errorf("server error on an event: err %v, state %+v; want ErrServer and the old state", err, st)
	}
	for _, body := range []string{`[]`, `{"a": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, `<html>`} {
		_, err := parseManifest([]byte(body))
		if err == nil {
			t.Errorf("parseManifest(%.30q) = nil error", body)
		}
	}
}

// TestMISPFeedDir reads a local feed directory whole and recognises an
// unchanged one.
func TestMISPFeedDir(t *testing.T) {
	dir := t.TempDir()
	if err := intel.WriteMISPFeed(dir, mispEvents(ind(intel.TypeDomain, "rivm-corona.example", "RIVM", 12), ind(intel.TypeIP, "192.0.2.7", "", 13))); err != nil {
		t.Fatal(err)
	}
	f := fetcher(t)
	src := Source{Name: "dir", URL: dir, Format: FormatMISP}
	up, st, err := f.Fetch(context.Background(), src, State{})
	if err != nil {
		t.Fatal(err)
	}
	if !up.Snapshot || !slices.Equal(values(up.Indicators), []string{"domain rivm-corona.example", "ip 192.0.2.7"}) {
		t.Fatalf("got snapshot %v %q", up.Snapshot, values(up.Indicators))
	}
	for _, in := range up.Indicators {
		if want := map[string]string{"rivm-corona.example": "RIVM"}[in.Value]; in.Brand != want {
			t.Errorf("%s: brand = %q, want %q", in.Value, in.Brand, want)
		}
	}
	up, _, err = f.Fetch(context.Background(), src, st)
	if err != nil || !up.Unchanged {
		t.Fatalf("second read: unchanged %v, err %v", up.Unchanged, err)
	}
}

// TestMISPFeedCIRCL reads the CIRCL OSINT event from the shared data, when
// present, served over HTTP.
func TestMISPFeedCIRCL(t *testing.T) {
	event, err := os.ReadFile("../../../shared/data/stix/misp/57c4445b-c548-4654-af0b-4be3950d210f.json")
	if err != nil {
		t.Skip("shared/data not present:", err)
	}
	const id = "5e7a7b4c-0000-4000-8000-000000000001"
	fs := &feedServer{files: map[string][]byte{
		"manifest.json": []byte(`{"` + id + `": {"timestamp": "1"}}`),
		id + ".json":    event,
	}, hits: map[string]int{}}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	up, _, err := fetcher(t).Fetch(context.Background(), Source{Name: "circl", URL: srv.URL + "/feed/", Format: FormatMISP}, State{})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Indicators) == 0 {
		t.Errorf("no indicators from the CIRCL event (%d skipped: %v)", up.Skipped, up.SkipExamples)
	}
}
