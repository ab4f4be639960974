package taxii_test

// A TAXII 2.1 client written from the specification, sharing nothing with
// the server but the wire: it builds URLs with net/url, reads responses
// as plain JSON and follows "more"/"next" and X-TAXII-Date-Added-Last.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/taxii"
)

const taxiiType = "application/taxii+json;version=2.1"

type client struct {
	t      testing.TB
	base   string // http://127.0.0.1:port
	auth   string // Authorization header; "": none
	accept string // Accept header; "": the TAXII 2.1 type
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (c *client) do(method, path string, q url.Values) response {
	c.t.Helper()
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	accept := c.accept
	if accept == "" {
		accept = taxiiType
	}
	if accept != "-" {
		req.Header.Set("Accept", accept)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != taxiiType {
		c.t.Errorf("%s %s: Content-Type %q, want %q", method, path, ct, taxiiType)
	}
	if !json.Valid(body) {
		c.t.Errorf("%s %s: body is not JSON: %q", method, path, body)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

func (c *client) get(path string, q url.Values) response { return c.do(http.MethodGet, path, q) }

// envelope is the TAXII envelope, manifest and versions resource in one.
type envelope struct {
	More     bool              `json:"more"`
	Next     string            `json:"next"`
	Objects  []json.RawMessage `json:"objects"`
	Versions []string          `json:"versions"`
}

func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return v
}

// taxiiError checks that r is a TAXII error message with status want.
func taxiiError(t testing.TB, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Errorf("status %d, want %d (%s)", r.status, want, r.body)
		return
	}
	e := decode[map[string]any](t, r)
	if e["title"] == nil || e["title"] == "" || e["http_status"] != fmt.Sprint(want) {
		t.Errorf("not a TAXII error message for %d: %s", want, r.body)
	}
}

// pullNext reads every page of path with limit and next, returning the
// objects' ids (and versions) in the order served.
func (c *client) pullNext(path string, q url.Values, limit int) (keys []string, pages int) {
	c.t.Helper()
	q = cloneValues(q)
	q.Set("limit", fmt.Sprint(limit))
	for pages = 1; ; pages++ {
		r := c.get(path, q)
		if r.status != http.StatusOK {
			c.t.Fatalf("page %d: status %d: %s", pages, r.status, r.body)
		}
		env := decode[envelope](c.t, r)
		if len(env.Objects) > limit {
			c.t.Fatalf("page %d has %d objects, limit %d", pages, len(env.Objects), limit)
		}
		for _, o := range env.Objects {
			keys = append(keys, keyOf(c.t, o))
		}
		if !env.More {
			return keys, pages
		}
		if env.Next == "" {
			c.t.Fatalf("page %d: more without next", pages)
		}
		if pages > 100_000 {
			c.t.Fatal("the server never stops paging")
		}
		q.Set("next", env.Next)
	}
}

// pullAddedAfter reads every page of path with limit and added_after set
// to the X-TAXII-Date-Added-Last of the page before.
func (c *client) pullAddedAfter(path string, limit int) (keys []string, pages int) {
	c.t.Helper()
	q := url.Values{"limit": {fmt.Sprint(limit)}}
	for pages = 1; ; pages++ {
		r := c.get(path, q)
		if r.status != http.StatusOK {
			c.t.Fatalf("page %d: status %d: %s", pages, r.status, r.body)
		}
		env := decode[envelope](c.t, r)
		for _, o := range env.Objects {
			keys = append(keys, keyOf(c.t, o))
		}
		if len(env.Objects) == 0 {
			return keys, pages
		}
		last := r.header.Get("X-TAXII-Date-Added-Last")
		first := r.header.Get("X-TAXII-Date-Added-First")
		if last == "" || first == "" || first > last {
			c.t.Fatalf("page %d: X-TAXII-Date-Added-First %q, -Last %q", pages, first, last)
		}
		if pages > 100_000 {
			c.t.Fatal("the server never stops paging")
		}
		q.Set("added_after", last)
	}
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

var (
	day0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
)

// feed returns n objects made by intel from look-alike domains of RIVM,
// as ward serves them: the shared objects first, then the 4 objects of
// each indicator; every 3 indicators (12 objects) share a date_added, as
// if stored in one transaction.
func feed(t testing.TB, n int) []taxii.Object {
	t.Helper()
	opts := intel.STIXOptions{Now: day0}
	var inds []intel.Indicator
	for i := 0; i*4 < n; i++ {
		in, err := intel.Parse(intel.TypeDomain, fmt.Sprintf("rivm-covid-%05d.example", i))
		if err != nil {
			t.Fatal(err)
		}
		in.FirstSeen, in.LastSeen, in.Brand, in.TLP, in.Confidence, in.Org = day0, day0.Add(time.Hour), "RIVM", intel.TLPGreen, 80, "rivm"
		inds = append(inds, in)
	}
	shared, err := intel.STIXSharedObjects(inds, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []taxii.Object
	add := func(so intel.STIXObject, added time.Time) {
		out = append(out, taxii.Object{ID: so.ID, Type: so.Type, Version: so.Modified, Added: added, SpecVersion: "2.1", JSON: so.JSON})
	}
	for _, so := range shared {
		add(so, day0.Add(-time.Minute))
	}
	for i, in := range inds {
		objs, err := intel.STIXObjectsOf(in, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, so := range objs {
			add(so, day0.Add(time.Duration(i/3)*time.Second))
		}
	}
	return out[:n]
}

// keysInOrder is what a client must receive: every object once, by
// date_added, then id, then version.
func keysInOrder(objs []taxii.Object) []string {
	s := slices.Clone(objs)
	slices.SortFunc(s, func(a, b taxii.Object) int {
		if c := a.Added.Compare(b.Added); c != 0 {
			return c
		}
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return a.Version.Compare(b.Version)
	})
	var keys []string
	for _, o := range s {
		keys = append(keys, keyOf(nil, o.JSON))
	}
	return keys
}

// keyOf names one version of an object: its id and its modified (or
// created, for objects without modified; observables have neither).
func keyOf(t testing.TB, raw json.RawMessage) string {
	var h struct{ ID, Modified, Created string }
	if err := json.Unmarshal(raw, &h); err != nil && t != nil {
		t.Fatalf("object %s: %v", raw, err)
	}
	return h.ID + "@" + cmp.Or(h.Modified, h.Created)
}

// tenants: a bearer token per principal.
var tokens = map[string]string{"token-rivm": "rivm", "token-ggd": "ggd"}

func authenticate(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	p, ok := tokens[tok]
	return p, ok
}

const (
	colRIVM = "3f1e5b4c-0c53-4c3b-9a8e-7d0c1f2a6b10"
	colGGD  = "9d2c1b0a-4e5f-4a6b-8c7d-1e2f3a4b5c6d"
)

// newServer serves the feed to rivm and a small collection to ggd.
func newServer(t testing.TB, objs []taxii.Object, cfg taxii.Config) *client {
	t.Helper()
	ggd := feed(t, 8)
	b, err := taxii.NewMemoryBackend([]taxii.MemoryCollection{
		{Collection: taxii.Collection{ID: colRIVM, Title: "RIVM look-alikes"}, Readers: []string{"rivm"}, Objects: objs},
		{Collection: taxii.Collection{ID: colGGD, Title: "GGD look-alikes", Description: "private to the GGD"}, Readers: []string{"ggd"}, Objects: ggd},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Authenticate == nil {
		cfg.Authenticate = authenticate
	}
	srv, err := taxii.New(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &client{t: t, base: hs.URL, auth: "Bearer token-rivm"}
}

func objectsPath(col string) string { return "/taxii2/ward/collections/" + col + "/objects/" }
