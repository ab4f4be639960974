package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/store"
)

const (
	tokA = "token-of-umc-a-0123456789"
	tokB = "token-of-umc-b-0123456789"
)

// newAPI serves the API over a real SQLite store with two organisations,
// each with one finding.
func newAPI(t *testing.T) (*httptest.Server, map[string]int64) {
	return newAPIWith(t, nil)
}

func newAPIWith(t *testing.T, onState func(context.Context, store.Finding) error) (*httptest.Server, map[string]int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ids := map[string]int64{}
	for _, m := range []store.Match{
		{Org: "umc-a", Domain: "rivm-coronatest.nl", Brand: "RIVM", Score: 90, Name: "rivm-coronatest.nl", Source: "ct", Ref: "log 1"},
		{Org: "umc-b", Domain: "who-covid19-relief.com", Brand: "WHO", Score: 85, Name: "who-covid19-relief.com", Source: "ct", Ref: "log 2"},
	} {
		created, err := st.RecordMatches(ctx, "test", nil, []store.Match{m}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[m.Org] = created[0].ID
	}
	h, err := Handler(Config{Store: st, Orgs: []Org{{Name: "umc-a", Tokens: []string{tokA}}, {Name: "umc-b", Tokens: []string{tokB}}},
		OnStateChange: onState,
		Probe: func(_ context.Context, org, name string) (any, error) {
			return map[string]string{"org": org, "name": name}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, ids
}

func call(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Every endpoint refuses a request without a token or with a bad one, and
// answers "no such finding" for another organisation's finding.
func TestTenantIsolation(t *testing.T) {
	srv, ids := newAPI(t)
	theirs := ids["umc-b"]
	endpoints := []struct{ method, path, body string }{
		{"GET", "/api/v1/findings", ""},
		{"GET", "/api/v1/findings/%d", ""},
		{"POST", "/api/v1/findings/%d/confirm", `{"note":"x"}`},
		{"POST", "/api/v1/findings/%d/dismiss", ""},
		{"POST", "/api/v1/findings/%d/notes", `{"text":"looked at it"}`},
		{"POST", "/api/v1/findings/%d/recheck", ""},
		{"POST", "/api/v1/probe", `{"name":"rivm-login.nl"}`},
		{"GET", "/api/v1/stats", ""},
	}
	for _, ep := range endpoints {
		path := strings.Replace(ep.path, "%d", jsonInt(theirs), 1)
		for _, tok := range []string{"", "wrong-token-0123456789"} {
			if code, body := call(t, srv, ep.method, path, tok, ep.body); code != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: %d %s, want 401", ep.method, path, tok, code, body)
			}
		}
		if !strings.Contains(ep.path, "%d") {
			continue
		}
		if code, body := call(t, srv, ep.method, path, tokA, ep.body); code != http.StatusNotFound {
			t.Errorf("%s %s with another organisation's token: %d %s, want 404", ep.method, path, code, body)
		}
	}
	// Lists and stats hold only the caller's own findings.
	_, body := call(t, srv, "GET", "/api/v1/findings", tokA, "")
	if !strings.Contains(body, "rivm-coronatest.nl") || strings.Contains(body, "who-covid19-relief.com") {
		t.Errorf("umc-a's list: %s", body)
	}
	// The other organisation's finding is untouched.
	_, body = call(t, srv, "GET", "/api/v1/findings/"+jsonInt(theirs), tokB, "")
	var d store.FindingDetail
	if err := json.Unmarshal([]byte(body), &d); err != nil || d.Finding.State != store.StateNew || len(d.Notes) != 0 {
		t.Errorf("umc-b's finding after umc-a's attempts: %s", body)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestAnalystActions(t *testing.T) {
	srv, ids := newAPI(t)
	id := jsonInt(ids["umc-a"])
	if code, body := call(t, srv, "POST", "/api/v1/findings/"+id+"/notes", tokA, `{"text":"takedown requested","author":"soc"}`); code != http.StatusCreated {
		t.Fatalf("note: %d %s", code, body)
	}
	if code, body := call(t, srv, "POST", "/api/v1/findings/"+id+"/confirm", tokA, `{"note":"phishing kit seen"}`); code != http.StatusOK || !strings.Contains(body, `"state":"malicious"`) {
		t.Fatalf("confirm: %d %s", code, body)
	}
	_, body := call(t, srv, "GET", "/api/v1/findings/"+id, tokA, "")
	if !strings.Contains(body, "takedown requested") || !strings.Contains(body, "phishing kit seen") {
		t.Errorf("detail lacks the notes: %s", body)
	}
	if code, body := call(t, srv, "GET", "/api/v1/findings?state=malicious", tokA, ""); code != 200 || !strings.Contains(body, "rivm-coronatest.nl") {
		t.Errorf("filter by state: %d %s", code, body)
	}
	if code, body := call(t, srv, "GET", "/api/v1/findings?state=evil", tokA, ""); code != 400 || !strings.Contains(body, "use new, watching") {
		t.Errorf("bad state: %d %s", code, body)
	}
	if code, _ := call(t, srv, "POST", "/api/v1/findings/"+id+"/notes", tokA, `{"text":"x","extra":1}`); code != 400 {
		t.Errorf("unknown field accepted: %d", code)
	}
	if code, body := call(t, srv, "POST", "/api/v1/probe", tokA, `{"name":"rivm-login.nl"}`); code != 200 || !strings.Contains(body, `"org":"umc-a"`) {
		t.Errorf("probe: %d %s", code, body)
	}
	if code, body := call(t, srv, "GET", "/healthz", "", ""); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("health: %d %s", code, body)
	}
}

// A page of findings is followed by the next until the end.
func TestPagination(t *testing.T) {
	srv, _ := newAPI(t)
	_, body := call(t, srv, "GET", "/api/v1/findings?limit=1", tokA, "")
	var page struct {
		Findings []store.Finding `json:"findings"`
		Next     string          `json:"next"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Findings) != 1 {
		t.Fatalf("first page: %s", body)
	}
	if page.Next != "" {
		_, body = call(t, srv, "GET", "/api/v1/findings?limit=1&after="+page.Next, tokA, "")
		if !strings.Contains(body, `"findings":[]`) {
			t.Errorf("second page of a one-finding list: %s", body)
		}
	}
	if code, _ := call(t, srv, "GET", "/api/v1/findings?after=garbage", tokA, ""); code != 400 {
		t.Errorf("garbage cursor: %d, want 400", code)
	}
}

// The daemon hears of each state an analyst sets, with the finding as
// stored.
func TestOnStateChange(t *testing.T) {
	var got []string
	srv, ids := newAPIWith(t, func(_ context.Context, f store.Finding) error {
		got = append(got, f.Domain+" "+string(f.State))
		return nil
	})
	id := jsonInt(ids["umc-a"])
	call(t, srv, "POST", "/api/v1/findings/"+id+"/confirm", tokA, "")
	call(t, srv, "POST", "/api/v1/findings/"+id+"/dismiss", tokA, "")
	call(t, srv, "POST", "/api/v1/findings/"+jsonInt(ids["umc-b"])+"/dismiss", tokA, "") // not umc-a's
	if strings.Join(got, ", ") != "rivm-coronatest.nl malicious, rivm-coronatest.nl dismissed" {
		t.Errorf("hook calls: %v", got)
	}
}
