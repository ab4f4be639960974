package imports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/intel"
)

// taxiiStub is a TAXII 2.1 server written from the specification: discovery
// at /taxii2/, API root /api1/, two collections, and the objects resource
// with added_after, limit and paging by "next" (or, with noNext, by
// added_after and X-TAXII-Date-Added-Last only).
type taxiiStub struct {
	mu        sync.Mutex
	objs      []stubObject
	token     string
	noNext    bool
	loopNext  bool   // always answer more with the same next
	discovery string // zero: default /api1/ on this server
	queries   []string
	srv       *httptest.Server
}

type stubObject struct {
	added time.Time
	raw   json.RawMessage
}

func newTAXIIStub(t *testing.T) *taxiiStub {
	s := &taxiiStub{token: "s3cret"}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

// add appends objects, each added one second after the previous.
func (s *taxiiStub) add(objs ...json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := time.Date(2020, 3, 12, 0, 0, 0, 0, time.UTC)
	if n := len(s.objs); n > 0 {
		at = s.objs[n-1].added
	}
	for _, o := range objs {
		at = at.Add(time.Second)
		s.objs = append(s.objs, stubObject{added: at, raw: o})
	}
}

func (s *taxiiStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"title": "unauthorized"}`)
		return
	}
	if r.Header.Get("Accept") != TAXIIMediaType {
		w.WriteHeader(http.StatusNotAcceptable)
		return
	}
	w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
	switch r.URL.Path {
	case "/taxii2/":
		d := s.discovery
		if d == "" {
			d = `{"title": "stub", "default": "` + s.srv.URL + `/api1/", "api_roots": ["` + s.srv.URL + `/api1/", "/api2/"]}`
		}
		fmt.Fprint(w, d)
	case "/api1/":
		fmt.Fprint(w, `{"title": "api1", "versions": ["application/taxii+json;version=2.1"], "max_content_length": 1000000}`)
	case "/api1/collections/":
		fmt.Fprint(w, `{"collections": [
			{"id": "c-health", "title": "Health Sector IOCs", "can_read": true, "can_write": false},
			{"id": "c-secret", "title": "Secret", "can_read": false, "can_write": false}]}`)
	case "/api1/collections/c-health/objects/":
		s.objects(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *taxiiStub) objects(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.queries = append(s.queries, q.Encode())
	var after time.Time
	if v := q.Get("added_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			http.Error(w, "bad added_after", http.StatusBadRequest)
			return
		}
		after = t
	}
	var sel []stubObject
	for _, o := range s.objs {
		if o.added.After(after) {
			sel = append(sel, o)
		}
	}
	start, _ := strconv.Atoi(q.Get("next"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	start = min(start, len(sel))
	end := min(start+limit, len(sel))
	page := sel[start:end]
	env := map[string]any{}
	if len(page) > 0 {
		objs := make([]json.RawMessage, len(page))
		for i, o := range page {
			objs[i] = o.raw
		}
		env["objects"] = objs
		w.Header().Set("X-TAXII-Date-Added-First", page[0].added.Format("2006-01-02T15:04:05.000000Z"))
		w.Header().Set("X-TAXII-Date-Added-Last", page[len(page)-1].added.Format("2006-01-02T15:04:05.000000Z"))
	}
	if end < len(sel) || s.loopNext {
		env["more"] = true
		if !s.noNext {
			env["next"] = strconv.Itoa(end)
			if s.loopNext {
				env["next"] = "again"
			}
		}
	}
	json.NewEncoder(w).Encode(env)
}

// stixObjects writes indicators as a STIX bundle (intel.WriteSTIX) and
// returns its objects: marking definitions and identities first, then each
// indicator with its observable and relationships.
func stixObjects(t testing.TB, inds ...intel.Indicator) []json.RawMessage {
	t.Helper()
	var b bytes.Buffer
	if err := intel.WriteSTIX(&b, inds, intel.STIXOptions{Now: day(1)}); err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(b.Bytes(), &bundle); err != nil {
		t.Fatal(err)
	}
	return bundle.Objects
}

// revokedVersion returns a new version of an indicator object, revoked.
func revokedVersion(t *testing.T, objs []json.RawMessage, value string) json.RawMessage {
	t.Helper()
	for _, raw := range objs {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m["type"] == "indicator" && strings.Contains(fmt.Sprint(m["pattern"]), value) {
			m["revoked"] = true
			m["modified"] = "2020-04-01T00:00:00.000Z"
			out, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	t.Fatalf("no indicator for %s", value)
	return nil
}

func taxiiSource(s *taxiiStub) Source {
	return Source{Name: "csirt", URL: s.srv.URL, Format: FormatTAXII, Collection: "health sector iocs", Token: s.token, PageSize: 3}
}

// TestTAXII follows a collection: the first fetch pages through everything
// with "next",
// the second asks for objects added after the last one and finds none, the
// third gets a new indicator and a revoked version of an old one.
func TestTAXII(t *testing.T) {
	s := newTAXIIStub(t)
	first := stixObjects(t,
		ind(intel.TypeDomain, "rivm-corona.example", "RIVM", 12),
		ind(intel.TypeURL, "https://who-mail.example/owa/", "WHO", 13),
		ind(intel.TypeIP, "192.0.2.7", "", 14))
	s.add(first...)
	f := fetcher(t)
	src := taxiiSource(s)
	ctx := context.Background()

	up, st, err := f.Fetch(ctx, src, State{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"domain rivm-corona.example", "ip 192.0.2.7", "url https://who-mail.example/owa/"}
	if up.Snapshot || up.Unchanged || !slices.Equal(values(up.Indicators), want) {
		t.Fatalf("first fetch: snapshot %v unchanged %v %q; want an increment of %q", up.Snapshot, up.Unchanged, values(up.Indicators), want)
	}
	for _, in := range up.Indicators {
		if in.TLP != intel.TLPGreen || in.Source != "import csirt" {
			t.Errorf("%s: tlp %q source %q, want green and import csirt", in.Value, in.TLP, in.Source)
		}
	}
	pages := (len(first) + 2) / 3
	if len(s.queries) != pages {
		t.Errorf("%d object pages requested, want %d: %q", len(s.queries), pages, s.queries)
	}
	if len(s.queries) > 1 && (s.queries[1] != "limit=3&next=3") {
		t.Errorf("second page query = %q, want limit=3&next=3", s.queries[1])
	}
	wantAfter := time.Date(2020, 3, 12, 0, 0, len(first), 0, time.UTC)
	if !st.AddedAfter.Equal(wantAfter) {
		t.Errorf("state added_after = %v, want %v (the last page's X-TAXII-Date-Added-Last)", st.AddedAfter, wantAfter)
	}

	// Round trip the State through JSON, as the caller persists it.
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var st2 State
	if err := json.Unmarshal(js, &st2); err != nil {
		t.Fatal(err)
	}
	s.queries = nil
	up, st2, err = f.Fetch(ctx, src, st2)
	if err != nil || !up.Unchanged || len(up.Indicators) != 0 {
		t.Fatalf("second fetch: unchanged %v, %d indicators, err %v", up.Unchanged, len(up.Indicators), err)
	}
	if len(s.queries) != 1 || !strings.Contains(s.queries[0], "added_after=2020-03-12T00%3A00%3A"+fmt.Sprintf("%02d", len(first))+"Z") {
		t.Errorf("second fetch queries = %q, want one with added_after", s.queries)
	}

	s.add(revokedVersion(t, first, "who-mail.example"))
	s.add(stixObjects(t, ind(intel.TypeDomain, "ggd-vaccin.example", "GGD", 15))...)
	up, _, err = f.Fetch(ctx, src, st2)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"domain ggd-vaccin.example", "revoked url https://who-mail.example/owa/"}
	if up.Snapshot || !slices.Equal(values(up.Indicators), want) {
		t.Fatalf("third fetch: %q, want %q", values(up.Indicators), want)
	}
}

// TestTAXIIContext: a publisher's own TLP marking definition and brand
// identity, sent on page 1, still apply to an indicator on page 2.
func TestTAXIIContext(t *testing.T) {
	s := newTAXIIStub(t)
	s.add(
		json.RawMessage(`{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--0b3e3f5c-8a1c-4d7e-9f10-1a2b3c4d5e6f", "created": "2022-10-01T00:00:00.000Z",
			"extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {"extension_type": "property-extension", "tlp_2_0": "red"}}}`),
		json.RawMessage(`{"type": "identity", "spec_version": "2.1", "id": "identity--5f0d6b8e-1c2a-4b3c-9d4e-5f6a7b8c9d0e", "created": "2020-03-01T00:00:00.000Z", "modified": "2020-03-01T00:00:00.000Z", "name": "RIVM", "identity_class": "organization"}`),
		json.RawMessage(`{"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2020-03-12T00:00:00.000Z", "modified": "2020-03-12T00:00:00.000Z",
			"pattern": "[domain-name:value = 'rivm-corona.example']", "pattern_type": "stix", "valid_from": "2020-03-12T00:00:00Z",
			"object_marking_refs": ["marking-definition--0b3e3f5c-8a1c-4d7e-9f10-1a2b3c4d5e6f"]}`),
		json.RawMessage(`{"type": "relationship", "spec_version": "2.1", "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad", "created": "2020-03-12T00:00:00.000Z", "modified": "2020-03-12T00:00:00.000Z",
			"relationship_type": "related-to", "source_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "target_ref": "identity--5f0d6b8e-1c2a-4b3c-9d4e-5f6a7b8c9d0e"}`))
	src := taxiiSource(s)
	src.PageSize = 2
	up, _, err := fetcher(t).Fetch(context.Background(), src, State{})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Indicators) != 1 || up.Indicators[0].TLP != intel.TLPRed || up.Indicators[0].Brand != "RIVM" {
		t.Fatalf("got %+v, want rivm-corona.example marked red with brand RIVM", up.Indicators)
	}
}

// TestTAXIIPaging: a server that pages by added_after only, the page bound
// (the rest comes next time), and a server whose "next" loops.
func TestTAXIIPaging(t *testing.T) {
	s := newTAXIIStub(t)
	s.noNext = true
	objs := stixObjects(t,
		ind(intel.TypeDomain, "a-rivm.example", "", 12),
		ind(intel.TypeDomain, "b-rivm.example", "", 12),
		ind(intel.TypeDomain, "c-rivm.example", "", 12))
	s.add(objs...)
	f := fetcher(t)
	src := taxiiSource(s)
	src.PageSize = 2
	up, _, err := f.Fetch(context.Background(), src, State{})
	if err != nil || len(up.Indicators) != 3 || up.More {
		t.Fatalf("added_after paging: %q, more %v, err %v", values(up.Indicators), up.More, err)
	}

	src.MaxPages = 2
	var st State
	var got []string
	for i := 0; i < 10; i++ {
		up, st, err = f.Fetch(context.Background(), src, st)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, values(up.Indicators)...)
		if !up.More {
			break
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"domain a-rivm.example", "domain b-rivm.example", "domain c-rivm.example"}) {
		t.Errorf("fetches bounded to 2 pages collected %q", got)
	}

	// max_indicators: each fetch stops before the page that would pass it.
	src.MaxPages, src.PageSize, src.MaxIndicators = 0, 3, 1
	st, got = State{}, nil
	for i := 0; i < 10; i++ {
		up, st, err = f.Fetch(context.Background(), src, st)
		if err != nil {
			t.Fatal(err)
		}
		if len(up.Indicators) > 1 {
			t.Fatalf("fetch %d returned %d indicators, max_indicators is 1", i, len(up.Indicators))
		}
		got = append(got, values(up.Indicators)...)
		if !up.More {
			break
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"domain a-rivm.example", "domain b-rivm.example", "domain c-rivm.example"}) {
		t.Errorf("fetches bounded to 1 indicator collected %q", got)
	}

	s.mu.Lock()
	s.noNext, s.loopNext = false, true
	s.mu.Unlock()
	src.MaxIndicators = 0
	_, _, err = f.Fetch(context.Background(), src, State{})
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "same \"next\" twice") {
		t.Errorf("looping next: err = %v", err)
	}
}

// TestTAXIIErrors: wrong token, unknown and unreadable collections,
// discovery that points elsewhere or is ambiguous.
func TestTAXIIErrors(t *testing.T) {
	s := newTAXIIStub(t)
	s.add(stixObjects(t, ind(intel.TypeDomain, "rivm-corona.example", "", 12))...)
	f := fetcher(t)
	tests := []struct {
		name      string
		mod       func(*Source)
		discovery string
		is        error
		want      string
	}{
		{"token", func(s *Source) { s.Token = "wrong" }, "", ErrUnauthorized, "401 Unauthorized"},
		{"unknown collection", func(s *Source) { s.Collection = "nope" }, "", ErrNotFound, `use one of "Health Sector IOCs" (c-health), "Secret" (c-secret)`},
		{"unreadable", func(s *Source) { s.Collection = "c-secret" }, "", ErrUnauthorized, "not readable with these credentials"},
		{"other host", nil, `{"title": "x", "default": "https://evil.example/api1/"}`, ErrProtocol, "on another host: set api_root"},
		{"ambiguous", nil, `{"title": "x", "api_roots": ["/api1/", "/api2/"]}`, ErrProtocol, `lists 2 API roots and no default: set api_root to one of "/api1/", "/api2/"`},
		{"no roots", nil, `{"something": "else"}`, ErrProtocol, "lists no API roots"},
		{"not json", nil, `<html>`, ErrProtocol, "not a TAXII resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.mu.Lock()
			s.discovery = tt.discovery
			s.mu.Unlock()
			src := taxiiSource(s)
			if tt.mod != nil {
				tt.mod(&src)
			}
			_, _, err := f.Fetch(context.Background(), src, State{})
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.is, tt.want)
			}
		})
	}
	s.discovery = ""

	// The URL may be the API root itself, or api_root may be given.
	for _, src := range []Source{
		{Name: "root", URL: s.srv.URL + "/api1/", Format: FormatTAXII, Collection: "c-health", Token: s.token},
		{Name: "explicit", URL: s.srv.URL + "/elsewhere", Format: FormatTAXII, APIRoot: s.srv.URL + "/api1", Collection: "c-health", Token: s.token},
		{Name: "discovery", URL: s.srv.URL + "/taxii2", Format: FormatTAXII, Collection: "c-health", Token: s.token},
	} {
		up, _, err := f.Fetch(context.Background(), src, State{})
		if err != nil || len(up.Indicators) != 1 {
			t.Errorf("%s: %d indicators, err %v", src.Name, len(up.Indicators), err)
		}
	}
}

// TestTAXIIMedallion serves the OASIS medallion server's default data (the
// shapes of a reference TAXII 2.1 server), when present.
func TestTAXIIMedallion(t *testing.T) {
	b, err := os.ReadFile("../../../shared/data/stix/taxii21/medallion_default_data.json")
	if err != nil {
		t.Skip("shared/data not present:", err)
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	type collection struct {
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		switch {
		case r.URL.Path == "/taxii2/":
			w.Write(bytes.ReplaceAll(data["/discovery"], []byte("http://localhost:5000"), []byte(srv.URL)))
		case len(parts) == 1:
			var root struct {
				Information json.RawMessage `json:"information"`
			}
			json.Unmarshal(data[parts[0]], &root)
			w.Write(root.Information)
		case len(parts) == 2 && parts[1] == "collections":
			w.Write(data[parts[0]])
		case len(parts) == 4 && parts[3] == "objects":
			var root struct {
				Collections []collection `json:"collections"`
			}
			json.Unmarshal(data[parts[0]], &root)
			for _, c := range root.Collections {
				if c.ID == parts[2] {
					json.NewEncoder(w).Encode(map[string]any{"more": false, "objects": c.Objects})
					return
				}
			}
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	up, _, err := fetcher(t).Fetch(context.Background(), Source{Name: "medallion", URL: srv.URL, Format: FormatTAXII, Collection: "High Value Indicator Collection"}, State{})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Indicators)+up.Skipped == 0 {
		t.Errorf("no indicators and nothing skipped from medallion's collection")
	}
	t.Logf("medallion: %q, %d skipped %v", values(up.Indicators), up.Skipped, up.SkipExamples)
}

// TestSTIXBundle: a bundle is a snapshot; a revoked indicator comes back
// revoked; a document that is not a bundle fails with the fix.
func TestSTIXBundle(t *testing.T) {
	objs := stixObjects(t, ind(intel.TypeDomain, "rivm-corona.example", "RIVM", 12), ind(intel.TypeEmail, "ceo@who-mail.example", "", 13))
	objs = append(objs, revokedVersion(t, objs, "ceo@who-mail.example"))
	bundle, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--1", "objects": objs})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/bundle.json", func(w http.ResponseWriter, r *http.Request) { w.Write(bundle) })
	mux.HandleFunc("/envelope.json", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"more": false, "objects": []}`) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	up, _, err := fetcher(t).Fetch(context.Background(), Source{Name: "b", URL: srv.URL + "/bundle.json", Format: FormatSTIX}, State{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"domain rivm-corona.example", "revoked email ceo@who-mail.example"} // the later, revoked version wins
	if !up.Snapshot || !slices.Equal(values(up.Indicators), want) {
		t.Errorf("got snapshot %v %q, want %q", up.Snapshot, values(up.Indicators), want)
	}
	for _, in := range up.Indicators {
		if in.Value == "rivm-corona.example" && in.Brand != "RIVM" {
			t.Errorf("brand = %q, want RIVM", in.Brand)
		}
	}
	_, _, err = fetcher(t).Fetch(context.Background(), Source{Name: "b", URL: srv.URL + "/envelope.json", Format: FormatSTIX}, State{})
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "a TAXII collection is format taxii") {
		t.Errorf("envelope as a bundle: err = %v", err)
	}
}
