package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/feeds"
	"github.com/ward-health/ward/internal/intel"
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
	for _, in := range []store.Indicator{
		{Org: "umc-a", Scope: "private", Type: "domain", Value: "a-private.example", Source: "manual", TLP: "green"},
		{Org: "umc-a", Scope: "shared", Type: "domain", Value: "a-shared.example", Source: "finding", TLP: "green"},
		{Org: "umc-b", Scope: "private", Type: "domain", Value: "b-private.example", Source: "manual", TLP: "green"},
	} {
		got, err := st.UpsertIndicator(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ids[in.Value] = got.ID
	}
	warn, _ := intel.NewWarninglist("rivm.nl")
	h, err := Handler(Config{Store: st, Orgs: []Org{{Name: "umc-a", Tokens: []string{tokA}}, {Name: "umc-b", Tokens: []string{tokB}}},
		OnStateChange: onState,
		Feeds:         feeds.New(st, feeds.Options{Warninglist: warn, RPZ: intel.RPZOptions{Origin: "rpz.example"}}),
		Indicators:    IndicatorPolicy{Warninglist: warn, ValidFor: time.Hour},
		Mail: func(_ context.Context, org, name string, raw []byte) (any, error) {
			return map[string]any{"org": org, "name": name, "size": len(raw)}, nil
		},
		Learn: func(_ context.Context, org, as string, raw []byte) (any, error) {
			if org == "umc-a" {
				return nil, fmt.Errorf("organisation %s: %w", org, ErrLearningOff)
			}
			if strings.Contains(string(raw), "busy") {
				return nil, fmt.Errorf("%w: locked", ErrLearningBusy)
			}
			return map[string]any{"org": org, "as": as, "size": len(raw)}, nil
		},
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
		{"GET", "/api/v1/indicators", ""},
		{"POST", "/api/v1/indicators", `{"value":"rivm-login.nl"}`},
		{"DELETE", "/api/v1/indicators/%d", ""},
		{"POST", "/api/v1/indicators/%d/expire", `{"in":"1h"}`},
		{"POST", "/api/v1/mail", "From: a@b.example\r\n\r\nhi\r\n"},
		{"POST", "/api/v1/mail/learn?as=spam", "From: a@b.example\r\n\r\nhi\r\n"},
		{"GET", "/feeds/rpz", ""},
		{"GET", "/feeds/stix", ""},
		{"GET", "/feeds/csv", ""},
		{"GET", "/feeds/hosts", ""},
		{"GET", "/feeds/misp/manifest.json", ""},
		{"GET", "/feeds/misp/hashes.csv", ""},
		{"GET", "/feeds/misp/00000000-0000-0000-0000-000000000000.json", ""},
		{"GET", "/feeds/nope", ""},
	}
	for _, ep := range endpoints {
		id := theirs
		if strings.Contains(ep.path, "indicators") {
			id = ids["b-private.example"]
		}
		path := strings.Replace(ep.path, "%d", jsonInt(id), 1)
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

// Each organisation's feeds carry its own indicators and the shared ones,
// never another's private ones, in every format; indicators are added,
// listed and revoked per organisation; the token may come as the password
// of basic authentication.
func TestFeedTenancy(t *testing.T) {
	srv, ids := newAPI(t)
	for _, path := range []string{"/feeds/rpz", "/feeds/stix", "/feeds/csv", "/feeds/hosts", "/feeds/misp/hashes.csv", "/api/v1/indicators"} {
		code, a := call(t, srv, "GET", path, tokA, "")
		_, b := call(t, srv, "GET", path, tokB, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, a)
		}
		if path == "/feeds/misp/hashes.csv" { // MD5s of the values
			if strings.Count(a, "\n") != 2 || strings.Count(b, "\n") != 2 {
				t.Errorf("%s: umc-a %q, umc-b %q; want two lines each", path, a, b)
			}
			continue
		}
		if !strings.Contains(a, "a-private.example") || !strings.Contains(a, "a-shared.example") || strings.Contains(a, "b-private.example") {
			t.Errorf("umc-a's %s:\n%s", path, a)
		}
		if strings.Contains(b, "a-private.example") || !strings.Contains(b, "a-shared.example") || !strings.Contains(b, "b-private.example") {
			t.Errorf("umc-b's %s:\n%s", path, b)
		}
	}
	// MISP: the manifest names the events a MISP instance then fetches.
	_, manifest := call(t, srv, "GET", "/feeds/misp/manifest.json", tokA, "")
	var m map[string]any
	if err := json.Unmarshal([]byte(manifest), &m); err != nil || len(m) != 1 {
		t.Fatalf("manifest %s (%v)", manifest, err)
	}
	for id := range m {
		if code, ev := call(t, srv, "GET", "/feeds/misp/"+id+".json", tokA, ""); code != 200 || !strings.Contains(ev, "a-private.example") {
			t.Errorf("event %s: %d %s", id, code, ev)
		}
		if code, _ := call(t, srv, "GET", "/feeds/misp/"+id+".json", tokB, ""); code != http.StatusNotFound {
			t.Errorf("umc-b fetched umc-a's event: %d", code)
		}
	}
	// A conditional GET of an unchanged feed is 304.
	req, _ := http.NewRequest("GET", srv.URL+"/feeds/rpz", nil)
	req.SetBasicAuth("umc-a", tokA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("ETag") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/dns") {
		t.Fatalf("basic auth: %v %v", resp, err)
	}
	resp.Body.Close()
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Add: typed or guessed, defanged; the warninglist refuses.
	code, body := call(t, srv, "POST", "/api/v1/indicators", tokA, `{"value":"hxxps://rivm-login[.]nl/x","brand":"RIVM","scope":"private"}`)
	var in store.Indicator
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &in) != nil || in.Type != "url" || in.Value != "https://rivm-login.nl/x" ||
		in.Org != "umc-a" || in.Scope != "private" || in.ValidUntil.IsZero() {
		t.Errorf("add: %d %s", code, body)
	}
	if code, body := call(t, srv, "POST", "/api/v1/indicators", tokA, `{"value":"www.rivm.nl"}`); code != http.StatusUnprocessableEntity || !strings.Contains(body, "warninglist") {
		t.Errorf("a warninglisted name: %d %s", code, body)
	}
	for _, bad := range []string{`{"value":"x","type":"asn"}`, `{"value":""}`, `{"value":"a.example","tlp":"white"}`, `{"value":"a.example","valid_for":"soon"}`, `{"value":"a.example","extra":1}`} {
		if code, body := call(t, srv, "POST", "/api/v1/indicators", tokA, bad); code != http.StatusBadRequest {
			t.Errorf("POST %s: %d %s, want 400", bad, code, body)
		}
	}
	// Expiry: brought forward to now, the indicator leaves the feeds.
	code, body = call(t, srv, "POST", "/api/v1/indicators/"+jsonInt(in.ID)+"/expire", tokA, "")
	if code != 200 || !strings.Contains(body, `"valid_until"`) {
		t.Errorf("expire: %d %s", code, body)
	}
	if _, csv := call(t, srv, "GET", "/feeds/csv", tokA, ""); strings.Contains(csv, "rivm-login.nl") {
		t.Errorf("an expired indicator is still exported:\n%s", csv)
	}
	if code, _ := call(t, srv, "POST", "/api/v1/indicators/"+jsonInt(in.ID)+"/expire", tokA, `{"in":"soon"}`); code != http.StatusBadRequest {
		t.Errorf("a bad duration: %d", code)
	}
	// umc-b cannot revoke umc-a's; umc-a can, once.
	path := "/api/v1/indicators/" + jsonInt(ids["a-private.example"])
	if code, _ := call(t, srv, "DELETE", path, tokB, ""); code != http.StatusNotFound {
		t.Errorf("umc-b revoked umc-a's indicator: %d", code)
	}
	if code, _ := call(t, srv, "DELETE", path, tokA, ""); code != http.StatusNoContent {
		t.Errorf("revoking: %d", code)
	}
	if code, _ := call(t, srv, "DELETE", path, tokA, ""); code != http.StatusNotFound {
		t.Errorf("revoking twice: %d", code)
	}
	if _, zone := call(t, srv, "GET", "/feeds/rpz", tokA, ""); strings.Contains(zone, "a-private.example") || !strings.Contains(zone, "a-shared.example") {
		t.Errorf("the zone after the changes:\n%s", zone)
	}
	if _, list := call(t, srv, "GET", "/api/v1/indicators?revoked=true", tokA, ""); !strings.Contains(list, `"revoked_at"`) {
		t.Errorf("the revoked indicator is not listed with revoked=true: %s", list)
	}
	// Mail reaches the analyzer as the caller's organisation.
	if code, body := call(t, srv, "POST", "/api/v1/mail?name=r.eml", tokB, "From: x@y.example\r\n\r\nhello\r\n"); code != 200 || !strings.Contains(body, `"org":"umc-b"`) {
		t.Errorf("mail: %d %s", code, body)
	}
	if code, _ := call(t, srv, "POST", "/api/v1/mail", tokB, ""); code != http.StatusBadRequest {
		t.Errorf("empty mail: %d", code)
	}
	// Learning: as the caller's organisation, with the class checked,
	// and 409 where the organisation does not learn.
	msg := "From: x@y.example\r\n\r\nhello\r\n"
	if code, body := call(t, srv, "POST", "/api/v1/mail/learn?as=ham", tokB, msg); code != 200 || !strings.Contains(body, `"org":"umc-b"`) || !strings.Contains(body, `"as":"ham"`) {
		t.Errorf("learn: %d %s", code, body)
	}
	for _, q := range []string{"", "?as=junk", "?as=SPAM"} {
		if code, body := call(t, srv, "POST", "/api/v1/mail/learn"+q, tokB, msg); code != http.StatusBadRequest || !strings.Contains(body, "as=spam") {
			t.Errorf("learn%s: %d %s, want 400 naming as=spam", q, code, body)
		}
	}
	if code, _ := call(t, srv, "POST", "/api/v1/mail/learn?as=spam", tokB, " \r\n"); code != http.StatusBadRequest {
		t.Errorf("learning an empty message: %d", code)
	}
	if code, body := call(t, srv, "POST", "/api/v1/mail/learn?as=spam", tokA, msg); code != http.StatusConflict || !strings.Contains(body, "mail_learning") {
		t.Errorf("learning where it is off: %d %s, want 409 naming mail_learning", code, body)
	}
	if code, body := call(t, srv, "POST", "/api/v1/mail/learn?as=spam", tokB, "From: x@y.example\r\n\r\nbusy\r\n"); code != http.StatusServiceUnavailable || !strings.Contains(body, "try again") {
		t.Errorf("learning while the file is locked: %d %s, want 503", code, body)
	}
}

// Heavy requests run four at a time; a fifth waits, then gets 503 with
// Retry-After instead of piling up.
func TestHeavyRequestsBounded(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "w.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(maxHeavy)
	h, err := Handler(Config{Store: st, Orgs: []Org{{Name: "umc-a", Tokens: []string{tokA}}}, BusyWait: 200 * time.Millisecond,
		Mail: func(ctx context.Context, _, _ string, _ []byte) (any, error) {
			started.Done()
			<-release
			return "judged", nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	codes := make(chan int, maxHeavy)
	for range maxHeavy {
		go func() { // no t.Fatal off the test's goroutine: report the code, -1 on failure
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/mail", strings.NewReader("From: a@b.example\r\n\r\nx\r\n"))
			req.Header.Set("Authorization", "Bearer "+tokA)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- -1
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	started.Wait()
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/mail", strings.NewReader("From: a@b.example\r\n\r\nx\r\n"))
	req.Header.Set("Authorization", "Bearer "+tokA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a fifth heavy request: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(release)
	for range maxHeavy {
		if code := <-codes; code != 200 {
			t.Errorf("a waiting request ended %d", code)
		}
	}
}
