package taxii_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/taxii"
)

// TestPullWithNext pulls 2,500 objects page by page with limit and next;
// runs of 12 objects share a date_added, so they straddle pages of 7.
func TestPullWithNext(t *testing.T) {
	objs := feed(t, 2500)
	c := newServer(t, objs, taxii.Config{})
	want := keysInOrder(objs)
	for _, limit := range []int{7, 1000} {
		got, pages := c.pullNext(objectsPath(colRIVM), nil, limit)
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: received %d objects in %d pages; want all %d, each once, in date_added order", limit, len(got), pages, len(want))
			reportDiff(t, got, want)
		}
		if min := (len(want) + limit - 1) / limit; pages < min {
			t.Errorf("limit %d: %d pages, at least %d expected", limit, pages, min)
		}
	}
}

// TestPullWithAddedAfter pulls the same collection with added_after from
// X-TAXII-Date-Added-Last: the server must not end a page inside a run of
// equal date_added, or the client would skip the rest of the run.
func TestPullWithAddedAfter(t *testing.T) {
	objs := feed(t, 2500)
	c := newServer(t, objs, taxii.Config{})
	want := keysInOrder(objs)
	for _, limit := range []int{50, 101} {
		got, pages := c.pullAddedAfter(objectsPath(colRIVM), limit)
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: received %d objects in %d pages; want all %d, each once, in order", limit, len(got), pages, len(want))
			reportDiff(t, got, want)
		}
	}
}

func reportDiff(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, k := range got {
		seen[k]++
	}
	n := 0
	for _, k := range want {
		if seen[k] != 1 && n < 5 {
			t.Errorf("  %s received %d times", k, seen[k])
			n++
		}
	}
}

// TestPageSizeCap: a limit above MaxPageSize gets MaxPageSize objects; no
// limit gets DefaultPageSize; the manifest pages the same way.
func TestPageSizeCap(t *testing.T) {
	objs := feed(t, 300)
	c := newServer(t, objs, taxii.Config{MaxPageSize: 100, DefaultPageSize: 40})
	for _, tt := range []struct {
		limit string
		want  int
	}{{"", 40}, {"10", 10}, {"100", 100}, {"1000000", 100}, {"99999999999999999999999", 100}} {
		q := url.Values{}
		if tt.limit != "" {
			q.Set("limit", tt.limit)
		}
		for _, path := range []string{objectsPath(colRIVM), "/taxii2/ward/collections/" + colRIVM + "/manifest/"} {
			env := decode[envelope](t, c.get(path, q))
			// A page may end early to keep runs of equal date_added whole.
			if len(env.Objects) > tt.want || len(env.Objects) < tt.want-11 || !env.More {
				t.Errorf("%s limit %q: %d objects (more %v), want %d", path, tt.limit, len(env.Objects), env.More, tt.want)
			}
		}
	}
	// The response size bound ends pages early, never empty.
	c2 := newServer(t, objs, taxii.Config{MaxResponseBytes: 4096})
	got, pages := c2.pullNext(objectsPath(colRIVM), nil, 1000)
	if !slices.Equal(got, keysInOrder(objs)) || pages < 20 {
		t.Errorf("with 4 KiB responses: %d objects in %d pages", len(got), pages)
	}
}

func TestNextTampered(t *testing.T) {
	objs := feed(t, 100)
	c := newServer(t, objs, taxii.Config{})
	path := objectsPath(colRIVM)
	env := decode[envelope](t, c.get(path, url.Values{"limit": {"10"}}))
	if !env.More || env.Next == "" {
		t.Fatalf("no next after 10 of 100 objects: %+v", env)
	}
	raw, err := base64.RawURLEncoding.DecodeString(env.Next)
	if err != nil {
		t.Fatalf("next is not base64url: %v", err)
	}
	flip := func(i int) string {
		b := slices.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for name, q := range map[string]url.Values{
		"flipped first byte":  {"next": {flip(0)}},
		"flipped time":        {"next": {flip(5)}},
		"flipped last byte":   {"next": {flip(len(raw) - 1)}},
		"truncated":           {"next": {env.Next[:len(env.Next)-3]}},
		"not base64":          {"next": {"!!!"}},
		"empty":               {"next": {""}},
		"huge":                {"next": {strings.Repeat("A", 5000)}},
		"twice":               {"next": {env.Next, env.Next}},
		"other filters":       {"next": {env.Next}, "match[type]": {"indicator"}},
		"other added_after":   {"next": {env.Next}, "added_after": {"2020-01-01T00:00:00Z"}},
		"another principal":   nil, // below
		"another collection":  nil, // below
		"another endpoint":    nil, // below
		"another object path": nil, // below
	} {
		if q == nil {
			continue
		}
		t.Run(name, func(t *testing.T) { taxiiError(t, c.get(path, q), http.StatusBadRequest) })
	}
	taxiiError(t, c.get("/taxii2/ward/collections/"+colRIVM+"/manifest/", url.Values{"next": {env.Next}}), http.StatusBadRequest)
	other := *c
	other.auth = "Bearer token-ggd"
	taxiiError(t, other.get(objectsPath(colGGD), url.Values{"next": {env.Next}}), http.StatusBadRequest)
	// The genuine token still works, with another limit too.
	if r := c.get(path, url.Values{"next": {env.Next}, "limit": {"5"}}); r.status != http.StatusOK {
		t.Errorf("the genuine next token was refused: %d %s", r.status, r.body)
	}
}

// versioned is a collection with an object in three versions and others.
func versioned(t *testing.T) (*client, []taxii.Object) {
	t.Helper()
	mk := func(id, typ string, version, added time.Time, spec string) taxii.Object {
		js := fmt.Sprintf(`{"type":%q,"spec_version":%q,"id":%q,"modified":%q}`, typ, spec, id, version.Format("2006-01-02T15:04:05.000Z"))
		return taxii.Object{ID: id, Type: typ, Version: version, Added: added, SpecVersion: spec, JSON: json.RawMessage(js)}
	}
	const (
		ind   = "indicator--11111111-1111-4111-8111-111111111111"
		ind2  = "indicator--22222222-2222-4222-8222-222222222222"
		rel   = "relationship--33333333-3333-4333-8333-333333333333"
		old20 = "malware--44444444-4444-4444-8444-444444444444"
	)
	v := func(h int) time.Time { return day0.Add(time.Duration(h) * time.Hour) }
	objs := []taxii.Object{
		mk(ind, "indicator", v(0), v(0), "2.1"),
		mk(ind, "indicator", v(1), v(1), "2.1"),
		mk(ind, "indicator", v(2), v(3), "2.1"),
		mk(ind2, "indicator", v(0), v(1), "2.1"),
		mk(rel, "relationship", v(0), v(2), "2.1"),
		mk(old20, "malware", v(0), v(2), "2.0"),
	}
	return newServer(t, objs, taxii.Config{}), objs
}

func TestFilters(t *testing.T) {
	c, _ := versioned(t)
	const ind, ind2, rel, mal = "indicator--11111111-1111-4111-8111-111111111111", "indicator--22222222-2222-4222-8222-222222222222",
		"relationship--33333333-3333-4333-8333-333333333333", "malware--44444444-4444-4444-8444-444444444444"
	v := func(h int) string { return day0.Add(time.Duration(h) * time.Hour).Format("2006-01-02T15:04:05.000Z") }
	tests := []struct {
		name string
		q    url.Values
		want []string // id@version in order
	}{
		{"default: last versions", nil, []string{ind2 + "@" + v(0), mal + "@" + v(0), rel + "@" + v(0), ind + "@" + v(2)}},
		{"type", url.Values{"match[type]": {"indicator"}}, []string{ind2 + "@" + v(0), ind + "@" + v(2)}},
		{"two types", url.Values{"match[type]": {"relationship,malware"}}, []string{mal + "@" + v(0), rel + "@" + v(0)}},
		{"id", url.Values{"match[id]": {ind}}, []string{ind + "@" + v(2)}},
		{"id and type disagree", url.Values{"match[id]": {ind}, "match[type]": {"relationship"}}, nil},
		{"first", url.Values{"match[id]": {ind}, "match[version]": {"first"}}, []string{ind + "@" + v(0)}},
		{"first,last", url.Values{"match[id]": {ind}, "match[version]": {"first,last"}}, []string{ind + "@" + v(0), ind + "@" + v(2)}},
		{"all", url.Values{"match[id]": {ind}, "match[version]": {"all"}}, []string{ind + "@" + v(0), ind + "@" + v(1), ind + "@" + v(2)}},
		{"timestamp", url.Values{"match[version]": {v(1)}}, []string{ind + "@" + v(1)}},
		{"spec_version 2.0", url.Values{"match[spec_version]": {"2.0"}}, []string{mal + "@" + v(0)}},
		{"spec_version 2.1", url.Values{"match[spec_version]": {"2.1"}, "match[type]": {"malware"}}, nil},
		{"added_after is strict", url.Values{"added_after": {v(2)}}, []string{ind + "@" + v(2)}},
		{"added_after with offset", url.Values{"added_after": {day0.Add(90 * time.Minute).In(time.FixedZone("", 3600)).Format(time.RFC3339)}},
			[]string{mal + "@" + v(0), rel + "@" + v(0), ind + "@" + v(2)}},
		{"added_after hides an older last version", url.Values{"added_after": {v(1)}, "match[id]": {ind2}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := c.pullNext(objectsPath(colRIVM), tt.q, 1000)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestObjectAndVersions(t *testing.T) {
	c, _ := versioned(t)
	const ind = "indicator--11111111-1111-4111-8111-111111111111"
	base := "/taxii2/ward/collections/" + colRIVM + "/objects/" + ind + "/"
	v := func(h int) string { return day0.Add(time.Duration(h) * time.Hour).Format("2006-01-02T15:04:05.000Z") }
	got, _ := c.pullNext(base, nil, 10)
	if !slices.Equal(got, []string{ind + "@" + v(2)}) {
		t.Errorf("object: %v, want its last version", got)
	}
	got, _ = c.pullNext(base, url.Values{"match[version]": {"all"}}, 2)
	if len(got) != 3 {
		t.Errorf("object, all versions, pages of 2: %v", got)
	}
	r := c.get(base+"versions/", nil)
	vs := decode[envelope](t, r)
	if !slices.Equal(vs.Versions, []string{v(0), v(1), v(2)}) || vs.More {
		t.Errorf("versions: %s", r.body)
	}
	if r.header.Get("X-TAXII-Date-Added-First") != day0.Format("2006-01-02T15:04:05.000000Z") {
		t.Errorf("versions: X-TAXII-Date-Added-First %q", r.header.Get("X-TAXII-Date-Added-First"))
	}
	// Paging the versions with next.
	r = c.get(base+"versions/", url.Values{"limit": {"2"}})
	p1 := decode[envelope](t, r)
	r = c.get(base+"versions/", url.Values{"limit": {"2"}, "next": {p1.Next}})
	p2 := decode[envelope](t, r)
	if !slices.Equal(append(p1.Versions, p2.Versions...), []string{v(0), v(1), v(2)}) || !p1.More || p2.More {
		t.Errorf("versions by pages of 2: %v then %v", p1, p2)
	}
	// A missing object is 404; filters that leave none are an empty page.
	taxiiError(t, c.get("/taxii2/ward/collections/"+colRIVM+"/objects/indicator--99999999-1111-4111-8111-111111111111/", nil), http.StatusNotFound)
	taxiiError(t, c.get("/taxii2/ward/collections/"+colRIVM+"/objects/indicator--99999999-1111-4111-8111-111111111111/versions/", nil), http.StatusNotFound)
	r = c.get(base, url.Values{"match[spec_version]": {"2.0"}})
	if e := decode[envelope](t, r); r.status != 200 || len(e.Objects) != 0 || e.More {
		t.Errorf("filtered-out object: %d %s", r.status, r.body)
	}
}

func TestManifest(t *testing.T) {
	c, objs := versioned(t)
	r := c.get("/taxii2/ward/collections/"+colRIVM+"/manifest/", url.Values{"match[version]": {"all"}})
	var m struct {
		More    bool
		Objects []map[string]string
	}
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Objects) != len(objs) || m.More {
		t.Fatalf("manifest of %d records (more %v), want %d: %s", len(m.Objects), m.More, len(objs), r.body)
	}
	first := m.Objects[0]
	if first["id"] != "indicator--11111111-1111-4111-8111-111111111111" || first["date_added"] != "2026-03-01T08:00:00.000000Z" ||
		first["version"] != "2026-03-01T08:00:00.000Z" || first["media_type"] != "application/stix+json;version=2.1" {
		t.Errorf("first manifest record: %v", first)
	}
	for _, rec := range m.Objects {
		if rec["id"] == "malware--44444444-4444-4444-8444-444444444444" && rec["media_type"] != "application/stix+json;version=2.0" {
			t.Errorf("a STIX 2.0 object's media type: %v", rec)
		}
	}
	if r.header.Get("X-TAXII-Date-Added-Last") != "2026-03-01T11:00:00.000000Z" {
		t.Errorf("X-TAXII-Date-Added-Last %q", r.header.Get("X-TAXII-Date-Added-Last"))
	}
}

func TestMediaTypes(t *testing.T) {
	c := newServer(t, feed(t, 10), taxii.Config{})
	for _, tt := range []struct {
		accept string
		want   int
	}{
		{"application/taxii+json;version=2.1", 200},
		{"application/taxii+json; version=2.1", 200},
		{"Application/TAXII+JSON;Version=2.1", 200},
		{"application/taxii+json", 200},
		{"-", 200}, // no Accept header: anything goes
		{"*/*", 200},
		{"application/*", 200},
		{"text/html,application/xhtml+xml,*/*;q=0.8", 200},
		{"application/taxii+json;version=2.0, application/taxii+json;version=2.1;q=0.5", 200},
		{"application/taxii+json;version=2.0", 406},
		{"application/taxii+json;version=2.1;q=0", 406},
		{"application/taxii+json;version=2.1;q=0, */*", 406}, // the specific refusal wins
		{"application/taxii+json;q=0, */*;q=1", 406},
		{"application/json", 406},
		{"application/stix+json;version=2.1", 406},
		{"text/html", 406},
		{"application/taxii+json;version=2.1;q=abc", 406},
		{"garbage;;;", 406},
		{strings.Repeat("text/plain, ", 70) + "*/*", 406}, // too many ranges
	} {
		cc := *c
		cc.accept = tt.accept
		r := cc.get("/taxii2/ward/collections/", nil)
		if tt.want == 200 && r.status != 200 {
			t.Errorf("Accept %q: %d %s, want 200", tt.accept, r.status, r.body)
		}
		if tt.want == 406 {
			taxiiError(t, r, 406)
		}
	}
}

func TestAuthAndTenants(t *testing.T) {
	c := newServer(t, feed(t, 20), taxii.Config{Realm: "ward test"})
	paths := []string{"/taxii2/", "/taxii2/ward/", "/taxii2/ward/collections/", objectsPath(colRIVM)}
	for _, auth := range []string{"", "Bearer wrong", "Basic cml2bTpyaXZt", "token-rivm"} {
		cc := *c
		cc.auth = auth
		for _, p := range paths {
			r := cc.get(p, nil)
			taxiiError(t, r, http.StatusUnauthorized)
			ch := strings.Join(r.header.Values("WWW-Authenticate"), ", ")
			if !strings.Contains(ch, `Bearer realm="ward test"`) || !strings.Contains(ch, `Basic realm="ward test"`) {
				t.Errorf("%s with %q: WWW-Authenticate %q", p, auth, ch)
			}
		}
	}
	// rivm sees its collection only; ggd's is 404 everywhere, writes too.
	r := c.get("/taxii2/ward/collections/", nil)
	var cols struct {
		Collections []map[string]any `json:"collections"`
	}
	json.Unmarshal(r.body, &cols)
	if len(cols.Collections) != 1 || cols.Collections[0]["id"] != colRIVM || cols.Collections[0]["can_read"] != true || cols.Collections[0]["can_write"] != false {
		t.Errorf("rivm's collections: %s", r.body)
	}
	ggd := "/taxii2/ward/collections/" + colGGD + "/"
	for _, p := range []string{ggd, ggd + "objects/", ggd + "manifest/", ggd + "objects/indicator--11111111-1111-4111-8111-111111111111/",
		ggd + "objects/indicator--11111111-1111-4111-8111-111111111111/versions/"} {
		taxiiError(t, c.get(p, nil), http.StatusNotFound)
	}
	taxiiError(t, c.do(http.MethodPost, ggd+"objects/", nil), http.StatusNotFound)
	// Writes to its own collection are refused: read-only.
	taxiiError(t, c.do(http.MethodPost, objectsPath(colRIVM), nil), http.StatusForbidden)
	taxiiError(t, c.do(http.MethodDelete, objectsPath(colRIVM)+"indicator--11111111-1111-4111-8111-111111111111/", nil), http.StatusForbidden)
	taxiiError(t, c.do(http.MethodPut, objectsPath(colRIVM), nil), http.StatusMethodNotAllowed)
	taxiiError(t, c.do(http.MethodPost, "/taxii2/ward/collections/", nil), http.StatusMethodNotAllowed)
	taxiiError(t, c.get("/taxii2/ward/status/2d086da7-4bdc-4f91-900e-d77486753710/", nil), http.StatusNotFound)
	taxiiError(t, c.get("/taxii2/other/", nil), http.StatusNotFound)
	taxiiError(t, c.get("/taxii2/ward/collections/"+colRIVM+"/objects/not-an-id/", nil), http.StatusNotFound)
	// ggd reads its own.
	g := *c
	g.auth = "Bearer token-ggd"
	if got, _ := g.pullNext(ggd+"objects/", nil, 3); len(got) != 8 {
		t.Errorf("ggd pulled %d of its 8 objects", len(got))
	}
}

func TestDiscoveryAndAPIRoot(t *testing.T) {
	c := newServer(t, nil, taxii.Config{Title: "ward at the GGD", Contact: "cert@ggd.example", BaseURL: "https://ward.ggd.example"})
	d := decode[map[string]any](t, c.get("/taxii2/", nil))
	if d["title"] != "ward at the GGD" || d["default"] != "https://ward.ggd.example/taxii2/ward/" || d["contact"] != "cert@ggd.example" {
		t.Errorf("discovery: %v", d)
	}
	if roots, _ := d["api_roots"].([]any); len(roots) != 1 || roots[0] != d["default"] {
		t.Errorf("api_roots: %v", d["api_roots"])
	}
	root := decode[map[string]any](t, c.get("/taxii2/ward/", nil))
	if vs, _ := root["versions"].([]any); len(vs) != 1 || vs[0] != taxiiType || root["max_content_length"] == nil {
		t.Errorf("api root: %v", root)
	}
	col := decode[map[string]any](t, c.get("/taxii2/ward/collections/"+colRIVM+"/", nil))
	if col["title"] != "RIVM look-alikes" || fmt.Sprint(col["media_types"]) != "[application/stix+json;version=2.1]" {
		t.Errorf("collection: %v", col)
	}
	// An empty collection: an envelope without objects.
	r := c.get(objectsPath(colRIVM), nil)
	if e := decode[envelope](t, r); len(e.Objects) != 0 || e.More || r.header.Get("X-TAXII-Date-Added-First") != "" {
		t.Errorf("empty collection: %s", r.body)
	}
}

// TestHostileQueries: every malformed or oversized query is a 400 TAXII
// error, never a 500 or a crash.
func TestHostileQueries(t *testing.T) {
	c := newServer(t, feed(t, 20), taxii.Config{})
	many := strings.TrimSuffix(strings.Repeat("indicator,", 101), ",")
	for _, raw := range []string{
		"limit=0", "limit=-1", "limit=abc", "limit=1&limit=2", "limit=", "limit=1e3",
		"added_after=yesterday", "added_after=2020-01-01", "added_after=2020-01-01T00:00:00+01:00", // '+' unescaped is a space
		"added_after=" + strings.Repeat("9", 100),
		"match[id]=indicator", "match[id]=indicator--x", "match[id]=a--11111111-1111-4111-8111-111111111111",
		"match[type]=Indicator", "match[type]=" + many, "match[type]=in", "match[type]=a,,b",
		"match[version]=latest", "match[version]=2020-13-01T00:00:00Z",
		"match[spec_version]=two", "match[spec_version]=",
		"match[type]=%zz", "a=b;c=d",
		"match[type]=" + strings.Repeat("a", 5000),
		"next=" + strings.Repeat("%00", 10),
	} {
		r := c.get(objectsPath(colRIVM)+"?"+raw, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("?%s: status %d %s, want 400", clipS(raw), r.status, clipS(string(r.body)))
			continue
		}
		taxiiError(t, r, http.StatusBadRequest)
	}
	// Unknown parameters are ignored.
	if r := c.get(objectsPath(colRIVM)+"?foo=bar&match[color]=red", nil); r.status != 200 {
		t.Errorf("unknown parameters: %d %s", r.status, r.body)
	}
}

func clipS(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

func TestMemoryBackendChecks(t *testing.T) {
	good := taxii.Object{ID: "indicator--11111111-1111-4111-8111-111111111111", Version: day0, Added: day0, JSON: json.RawMessage(`{}`)}
	col := func(objs ...taxii.Object) taxii.MemoryCollection {
		return taxii.MemoryCollection{Collection: taxii.Collection{ID: "c1", Title: "t"}, Objects: objs}
	}
	bad := func(f func(*taxii.Object)) taxii.Object { o := good; f(&o); return o }
	for name, cols := range map[string][]taxii.MemoryCollection{
		"bad collection id": {{Collection: taxii.Collection{ID: "a/b", Title: "t"}}},
		"no title":          {{Collection: taxii.Collection{ID: "c1"}}},
		"twice":             {col(), col()},
		"bad object id":     {col(bad(func(o *taxii.Object) { o.ID = "indicator--x" }))},
		"type mismatch":     {col(bad(func(o *taxii.Object) { o.Type = "malware" }))},
		"invalid json":      {col(bad(func(o *taxii.Object) { o.JSON = json.RawMessage(`{`) }))},
		"no date_added":     {col(bad(func(o *taxii.Object) { o.Added = time.Time{} }))},
		"version twice":     {col(good, bad(func(o *taxii.Object) { o.Added = day0.Add(time.Hour) }))},
	} {
		if _, err := taxii.NewMemoryBackend(cols); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := taxii.NewMemoryBackend([]taxii.MemoryCollection{col(good)}); err != nil {
		t.Errorf("a good collection: %v", err)
	}
}

func TestConfigChecks(t *testing.T) {
	b, _ := taxii.NewMemoryBackend(nil)
	for name, cfg := range map[string]taxii.Config{
		"prefix":       {Prefix: "taxii2"},
		"api root":     {APIRoot: "a/b"},
		"base url":     {BaseURL: "ftp://x"},
		"base path":    {BaseURL: "https://x.example/path"},
		"page size":    {MaxPageSize: -1},
		"default size": {MaxPageSize: 10, DefaultPageSize: 11},
		"response":     {MaxResponseBytes: 100},
		"realm":        {Realm: `a"b`},
	} {
		if _, err := taxii.New(b, cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := taxii.New(nil, taxii.Config{}); err == nil {
		t.Errorf("no backend: accepted")
	}
}

// BenchmarkPage1000 serves pages of 1,000 objects from a 10,000-object
// memory collection, with next, as a client pulling the feed sees them.
func BenchmarkPage1000(b *testing.B) {
	objs := feed(b, 10_000)
	back, err := taxii.NewMemoryBackend([]taxii.MemoryCollection{{Collection: taxii.Collection{ID: colRIVM, Title: "t"}, Readers: []string{"*"}, Objects: objs}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := taxii.New(back, taxii.Config{})
	if err != nil {
		b.Fatal(err)
	}
	w := &discard{h: http.Header{}}
	next := ""
	var bytes int64
	b.ReportAllocs()
	for b.Loop() {
		u := objectsPath(colRIVM) + "?limit=1000"
		if next != "" {
			u += "&next=" + next
		}
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept", taxiiType)
		w.reset()
		srv.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
		var env struct {
			More bool   `json:"more"`
			Next string `json:"next"`
		}
		// Only the head of the envelope: more and next come first.
		if i := strings.Index(w.head, `,"objects"`); i > 0 {
			json.Unmarshal([]byte(w.head[:i]+"}"), &env)
		}
		next = env.Next
		bytes = w.n
	}
	b.SetBytes(bytes)
}

type discard struct {
	h      http.Header
	status int
	n      int64
	head   string
}

func (d *discard) reset() {
	clear(d.h)
	d.status, d.n, d.head = 0, 0, ""
}
func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(s int)   { d.status = s }
func (d *discard) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = 200
	}
	if d.head == "" {
		d.head = string(p[:min(len(p), 400)])
	}
	d.n += int64(len(p))
	return len(p), nil
}
