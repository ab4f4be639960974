package feeds

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/store"
	"github.com/ward-health/ward/internal/taxii"
)

// taxiiGet fetches a TAXII resource as a client that knows only the
// specification would.
func taxiiGet(t *testing.T, srv *httptest.Server, path, user string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	if user != "" {
		req.SetBasicAuth(user, "token-of-"+user)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body, resp.Header
}

// TestTAXIIBackend pulls an organisation's collection over a real TAXII
// server page by page, by next and then by added_after, and checks that
// every object comes exactly once, that a revocation arrives as a new
// version, and that another organisation's collection does not exist for
// it.
func TestTAXIIBackend(t *testing.T) {
	now := t0
	st := openStore(t, &now)
	var batch []store.Indicator
	for i := range 40 {
		batch = append(batch, store.Indicator{Org: "rivm", Scope: "private", Type: "domain", Value: fmt.Sprintf("rivm-fake-%02d.example", i),
			Source: "finding", Confidence: 90, TLP: "green", Brand: "RIVM"})
	}
	batch = append(batch, store.Indicator{Org: "who", Scope: "private", Type: "domain", Value: "who-private.example", Source: "manual", TLP: "green"})
	if _, _, err := st.UpsertIndicators(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	clock := func() time.Time { return now }
	ex := New(st, Options{RPZ: intel.RPZOptions{Origin: "rpz.example"}, Now: clock})
	srvT, err := taxii.New(NewTAXIIBackend(ex, []string{"rivm", "who"}), taxii.Config{
		Authenticate: func(r *http.Request) (string, bool) {
			u, p, ok := r.BasicAuth()
			return u, ok && p == "token-of-"+u
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(srvT)
	defer srv.Close()

	pull := func(path string) (ids map[string]int, last string) {
		ids = map[string]int{}
		for pages := 0; path != ""; pages++ {
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			code, env, h := taxiiGet(t, srv, path, "rivm")
			if code != 200 {
				t.Fatalf("GET %s: %d %v", path, code, env)
			}
			objs, _ := env["objects"].([]any)
			for _, o := range objs {
				m := o.(map[string]any)
				ids[m["id"].(string)+" "+fmt.Sprint(m["modified"])]++
			}
			if h.Get("X-TAXII-Date-Added-Last") != "" {
				last = h.Get("X-TAXII-Date-Added-Last")
			}
			path = ""
			if more, _ := env["more"].(bool); more {
				path = "/taxii2/ward/collections/rivm/objects/?limit=7&next=" + url.QueryEscape(env["next"].(string))
			}
		}
		return ids, last
	}
	ids, last := pull("/taxii2/ward/collections/rivm/objects/?limit=7")
	indicators := 0
	for k, n := range ids {
		if n != 1 {
			t.Errorf("%s served %d times", k, n)
		}
		if len(k) > 11 && k[:11] == "indicator--" {
			indicators++
		}
	}
	if indicators != 40 {
		t.Errorf("%d indicators served, want 40 (of %d objects)", indicators, len(ids))
	}

	// Nothing new: added_after the last page's date gives nothing. A
	// revocation is a new version, and only it comes.
	if code, env, _ := taxiiGet(t, srv, "/taxii2/ward/collections/rivm/objects/?added_after="+url.QueryEscape(last), "rivm"); code != 200 || env["objects"] != nil {
		t.Errorf("after the last page: %d %v", code, env)
	}
	got, _ := st.Indicators(t.Context(), store.IndicatorFilter{Org: "rivm", Values: []string{"rivm-fake-07.example"}})
	now = now.Add(time.Minute)
	if err := st.RemoveIndicator(t.Context(), "rivm", got[0].ID); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	code, env, _ := taxiiGet(t, srv, "/taxii2/ward/collections/rivm/objects/?match[type]=indicator&added_after="+url.QueryEscape(last), "rivm")
	objs, _ := env["objects"].([]any)
	if code != 200 || len(objs) != 1 || objs[0].(map[string]any)["revoked"] != true {
		t.Errorf("after a revocation: %d %v", code, env)
	}

	// Tenancy: who cannot see rivm's collection, nor list it.
	if code, _, _ := taxiiGet(t, srv, "/taxii2/ward/collections/rivm/objects/", "who"); code != http.StatusNotFound {
		t.Errorf("who reading rivm's collection: %d, want 404", code)
	}
	if code, env, _ := taxiiGet(t, srv, "/taxii2/ward/collections/", "who"); code != 200 || len(env["collections"].([]any)) != 1 {
		t.Errorf("who's collections: %d %v", code, env)
	}
	if code, _, _ := taxiiGet(t, srv, "/taxii2/ward/collections/rivm/objects/", ""); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", code)
	}
}

// BenchmarkTAXIIStorePage measures one TAXII page of up to 1,000 objects
// read from a SQLite store of 10,000 indicators, from the start and from
// the middle (a client paging with next).
func BenchmarkTAXIIStorePage(b *testing.B) {
	now := t0
	st, err := store.OpenSQLite(b.Context(), b.TempDir()+"/w.db", store.Options{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var batch []store.Indicator
	for i := range 10000 {
		batch = append(batch, store.Indicator{Org: "rivm", Scope: "private", Type: "domain", Value: fmt.Sprintf("rivm-fake-%05d.example", i),
			Source: "finding", Confidence: 90, TLP: "green", Brand: "RIVM"})
	}
	if _, _, err := st.UpsertIndicators(b.Context(), batch); err != nil {
		b.Fatal(err)
	}
	now = now.Add(time.Hour)
	be := NewTAXIIBackend(New(st, Options{RPZ: intel.RPZOptions{Origin: "rpz.example"}, Now: func() time.Time { return now }}), []string{"rivm"})
	first, _, err := be.Objects(b.Context(), "rivm", "rivm", taxii.Query{Limit: 1000})
	if err != nil || len(first) != 1000 {
		b.Fatalf("%d objects, %v", len(first), err)
	}
	mid := first[len(first)-1].Position()
	for _, bc := range []struct {
		name string
		q    taxii.Query
	}{{"start", taxii.Query{Limit: 1000}}, {"next", taxii.Query{Limit: 1000, After: mid}}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				objs, _, err := be.Objects(b.Context(), "rivm", "rivm", bc.q)
				if err != nil || len(objs) != 1000 {
					b.Fatalf("%d objects, %v", len(objs), err)
				}
			}
		})
	}
}
