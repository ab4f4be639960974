package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/store"
)

func TestBlockPage(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "w.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, in := range []store.Indicator{
		{Org: "umc-a", Scope: "private", Type: "domain", Value: "rivm-afspraak.nl", Source: "finding", TLP: "green", Brand: "RIVM",
			Description: "internal note <script>alert(1)</script>"},
		{Org: "umc-b", Scope: "private", Type: "domain", Value: "secret-case.example", Source: "manual", TLP: "red", Brand: "WHO"},
	} {
		if _, err := st.UpsertIndicator(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	h := BlockPage(BlockPageConfig{Store: st, Org: "umc-a", Title: "UMC A <IT>", Contact: "the service desk, 1234"})
	get := func(host string) (int, string) {
		r := httptest.NewRequest("GET", "/login?next=/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	code, page := get("login.rivm-afspraak.nl:80")
	if code != http.StatusForbidden || !strings.Contains(page, "<code>login.rivm-afspraak.nl</code>") || !strings.Contains(page, "imitates <strong>RIVM</strong>") ||
		!strings.Contains(page, "a look-alike found by ward") || !strings.Contains(page, "UMC A &lt;IT&gt;") || !strings.Contains(page, "1234") {
		t.Errorf("the page of a look-alike: %d\n%s", code, page)
	}
	if strings.Contains(page, "internal note") {
		t.Errorf("the page shows an indicator's description:\n%s", page)
	}
	// Another organisation's private indicator is not described.
	if _, page := get("secret-case.example"); strings.Contains(page, "WHO") || strings.Contains(page, "listed as dangerous") {
		t.Errorf("the page describes another organisation's private indicator:\n%s", page)
	}
	// A hostile Host is shown escaped.
	if _, page := get(`x"><script>alert(1)</script>`); strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("a hostile host:\n%s", page)
	}
}
