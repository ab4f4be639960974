package imports

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/taxii"
)

// TestTAXIIWardServer reads a collection from ward's own TAXII 2.1 server
// (internal/taxii), in small pages, then finds nothing new.
func TestTAXIIWardServer(t *testing.T) {
	objs := stixObjects(t,
		ind(intel.TypeDomain, "rivm-corona.example", "RIVM", 12),
		ind(intel.TypeURL, "https://who-mail.example/owa/", "WHO", 13),
		ind(intel.TypeIP, "192.0.2.7", "", 14))
	var col taxii.MemoryCollection
	col.ID, col.Title, col.Readers = "ward-indicators", "ward indicators", []string{"cert"}
	added := time.Date(2020, 3, 15, 0, 0, 0, 0, time.UTC)
	for _, raw := range objs {
		var h struct {
			ID       string    `json:"id"`
			Created  time.Time `json:"created"`
			Modified time.Time `json:"modified"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatal(err)
		}
		v := h.Modified
		if v.IsZero() {
			v = h.Created
		}
		added = added.Add(time.Millisecond)
		col.Objects = append(col.Objects, taxii.Object{ID: h.ID, Version: v, Added: added, JSON: raw})
	}
	b, err := taxii.NewMemoryBackend([]taxii.MemoryCollection{col})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := taxii.New(b, taxii.Config{Authenticate: func(r *http.Request) (string, bool) {
		return "cert", r.Header.Get("Authorization") == "Bearer tok"
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	f := fetcher(t)
	src := Source{Name: "ward-peer", URL: hs.URL, Format: FormatTAXII, Collection: "ward indicators", Token: "tok", PageSize: 2}
	up, st, err := f.Fetch(context.Background(), src, State{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"domain rivm-corona.example", "ip 192.0.2.7", "url https://who-mail.example/owa/"}
	if !slices.Equal(values(up.Indicators), want) {
		t.Fatalf("got %q, want %q", values(up.Indicators), want)
	}
	for _, in := range up.Indicators {
		if in.TLP != intel.TLPGreen {
			t.Errorf("%s: tlp %q, want green", in.Value, in.TLP)
		}
	}
	if !st.AddedAfter.Equal(added) {
		t.Errorf("added_after = %v, want %v", st.AddedAfter, added)
	}
	up, _, err = f.Fetch(context.Background(), src, st)
	if err != nil || !up.Unchanged {
		t.Fatalf("second fetch: unchanged %v, err %v", up.Unchanged, err)
	}
}
