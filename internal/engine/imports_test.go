package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/imports"
	"github.com/ward-health/ward/internal/store"
)

func values(t *testing.T, st *store.Store, org string) []string {
	t.Helper()
	inds, err := st.Indicators(context.Background(), store.IndicatorFilter{Org: org})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range inds {
		out = append(out, in.Org+" "+in.Type+" "+in.Value)
	}
	slices.Sort(out)
	return out
}

// A list import is a snapshot: what it lists is recorded, shared with
// every organisation (or kept to one), and what it stops listing is
// withdrawn; reading it again unchanged changes nothing.
func TestImportList(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "phish.txt")
	os.WriteFile(list, []byte("# a CERT's list\nrivm-coronatest.nl\nhxxps://who-covid19-relief[.]com/login\n198.51.100.7\n"), 0o644)
	now := time.Date(2020, 3, 20, 9, 0, 0, 0, time.UTC)
	e, st := newTestEngine(t, func(c *config.Config) {
		c.Feeds.Imports = []config.Import{
			{Name: "cert", URL: list, Format: "list", Every: time.Hour, TLP: "amber", MaxBytes: 1 << 20, MaxIndicators: 1000, Timeout: 5 * time.Second},
			{Name: "own", URL: list, Format: "list", Every: time.Hour, TLP: "red", Org: "demo", MaxBytes: 1 << 20, MaxIndicators: 1000, Timeout: 5 * time.Second},
		}
	}, &fakeProber{calls: map[string]int{}})
	e.now = func() time.Time { return now }
	ctx := context.Background()
	f := &imports.Fetcher{Now: e.now}
	for _, im := range e.cfg.Feeds.Imports {
		if _, err := e.readImport(ctx, f, im); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"demo domain rivm-coronatest.nl", "demo ip 198.51.100.7", "demo url https://who-covid19-relief.com/login",
		"import/cert domain rivm-coronatest.nl", "import/cert ip 198.51.100.7", "import/cert url https://who-covid19-relief.com/login",
	}
	if got := values(t, st, "demo"); !slices.Equal(got, want) {
		t.Errorf("demo sees %v, want %v", got, want)
	}
	if got := values(t, st, "other-org"); len(got) != 3 || !strings.HasPrefix(got[0], "import/cert") {
		t.Errorf("another organisation sees %v, want only the shared import", got)
	}
	inds, _ := st.Indicators(ctx, store.IndicatorFilter{Org: "demo", Types: []string{"domain"}})
	for _, in := range inds {
		if in.Source != "import cert" && in.Source != "import own" || (in.Org == "demo") != (in.TLP == "red") {
			t.Errorf("indicator %+v", in)
		}
	}

	// The list drops a name: it is withdrawn from both imports.
	now = now.Add(time.Hour)
	os.WriteFile(list, []byte("rivm-coronatest.nl\n198.51.100.7\n"), 0o644)
	for _, im := range e.cfg.Feeds.Imports {
		if _, err := e.readImport(ctx, f, im); err != nil {
			t.Fatal(err)
		}
	}
	if got := values(t, st, "other-org"); len(got) != 2 || slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "who-covid19") }) {
		t.Errorf("after the list dropped a URL: %v", got)
	}
	// Unchanged: nothing is read again.
	now = now.Add(time.Hour)
	if _, err := e.readImport(ctx, f, e.cfg.Feeds.Imports[0]); err != nil {
		t.Fatal(err)
	}
	if got := values(t, st, "other-org"); len(got) != 2 {
		t.Errorf("after an unchanged read: %v", got)
	}
}

// The import stage reads on its schedule, keeps going after a failing
// server, and honours Retry-After.
func TestImportStage(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch hits.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			fmt.Fprintln(w, "ggd-afspraak.nl")
		}
	}))
	defer srv.Close()
	e, st := newTestEngine(t, func(c *config.Config) {
		c.Feeds.Imports = []config.Import{{Name: "cert", URL: srv.URL + "/list.txt", Format: "list", Every: time.Hour,
			TLP: "amber", MaxBytes: 1 << 20, MaxIndicators: 1000, Timeout: 5 * time.Second}}
	}, &fakeProber{calls: map[string]int{}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.runImport(ctx, e.cfg.Feeds.Imports[0]) }()
	waitFor(t, "the import after Retry-After", func() bool { return len(values(t, st, "demo")) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (a 429, then the list once an hour)", n)
	}
}
