package intel

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const stixSchemas = "../../../shared/data/stix/schemas"

func writeSTIX(t testing.TB, inds []Indicator) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSTIX(&b, inds, STIXOptions{Now: t1}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWriteSTIXGolden(t *testing.T) {
	out := writeSTIX(t, sample())
	golden(t, "stix.json", out)
	rev := sample()
	slices.Reverse(rev)
	if !bytes.Equal(out, writeSTIX(t, rev)) {
		t.Errorf("the bundle depends on the order of the indicators")
	}
	var b struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	patterns := map[string]bool{}
	for _, o := range b.Objects {
		count[o["type"].(string)]++
		if p, ok := o["pattern"].(string); ok {
			patterns[p] = true
		}
	}
	if count["indicator"] != 9 || count["identity"] != 2 || count["marking-definition"] != 3 {
		t.Errorf("object counts %v: want 9 indicators, 2 identities (ward, RIVM), 3 TLP markings", count)
	}
	for _, p := range []string{
		"[domain-name:value = 'rivm-covid19.example']",
		"[ipv6-addr:value = '2001:db8::7']",
		"[file:hashes.'SHA-256' = 'b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68']",
		"[email-addr:value = 'info@rivm-covid19.example']",
	} {
		if !patterns[p] {
			t.Errorf("no indicator with pattern %s", p)
		}
	}
}

func TestSTIXIDsStable(t *testing.T) {
	a := sample()[:1]
	b := sample()[:1]
	b[0].LastSeen = b[0].LastSeen.AddDate(0, 1, 0)
	b[0].Description = "changed"
	id := func(out []byte) string {
		var bun struct {
			Objects []struct{ Type, ID string } `json:"objects"`
		}
		json.Unmarshal(out, &bun)
		for _, o := range bun.Objects {
			if o.Type == "indicator" {
				return o.ID
			}
		}
		return ""
	}
	if ia, ib := id(writeSTIX(t, a)), id(writeSTIX(t, b)); ia == "" || ia != ib {
		t.Errorf("re-exporting an updated indicator changed its id: %s → %s", ia, ib)
	}
	c := sample()[:1]
	c[0].Org = "other"
	if id(writeSTIX(t, c)) == id(writeSTIX(t, a)) {
		t.Errorf("two organisations' indicators share an id")
	}
}

func TestSTIXRoundTrip(t *testing.T) {
	want := sample()
	res, err := ReadSTIXBundle(bytes.NewReader(writeSTIX(t, want)))
	if err != nil {
		t.Fatal(err)
	}
	if res.SkippedCount != 0 {
		t.Errorf("skipped %v", res.Skipped)
	}
	checkRoundTrip(t, want, res.Indicators, true)
}

// checkRoundTrip compares what a format carries: type, value, times,
// TLP, brand and description (and confidence and expiry when withMeta).
func checkRoundTrip(t *testing.T, want, got []Indicator, withMeta bool) {
	t.Helper()
	norm := func(s []Indicator) []Indicator {
		out := make([]Indicator, len(s))
		for i, in := range s {
			x := Indicator{Type: in.Type, Value: in.Value, FirstSeen: in.FirstSeen.UTC(), LastSeen: in.LastSeen.UTC(),
				TLP: in.TLP, Brand: in.Brand, Description: in.Description}
			if withMeta {
				x.Confidence, x.ValidUntil = in.Confidence, in.ValidUntil.UTC()
			}
			out[i] = x
		}
		sortIndicators(out)
		return out
	}
	w, g := norm(want), norm(got)
	if len(w) != len(g) {
		t.Fatalf("read back %d indicators, wrote %d:\n%+v", len(g), len(w), g)
	}
	for i := range w {
		if w[i] != g[i] {
			t.Errorf("round trip changed an indicator:\n got %+v\nwant %+v", g[i], w[i])
		}
	}
}

func TestParseSTIXPattern(t *testing.T) {
	tests := []struct {
		p       string
		typ     Type
		val     string
		wantErr bool
	}{
		{"[domain-name:value = 'evil.example']", TypeDomain, "evil.example", false},
		{"  [ url:value='http://e.example/it\\'s' ]", TypeURL, "http://e.example/it's", false},
		{"[file:name = 'a\\\\b.exe']", TypeFilename, `a\b.exe`, false},
		{"[file:name = 'a'", "", "", true},
		{"[domain-name:value == 'a']", "", "", true},
		{"[file:hashes.MD5 = 'abc']", TypeMD5, "abc", false},
		{"[file:hashes.'SHA-1' = 'abc']", TypeSHA1, "abc", false},
		{"[ipv4-addr:value = '198.51.100.1/32']", TypeIP, "198.51.100.1", false},
		{"[ipv4-addr:value = '198.51.100.0/24']", TypeIP, "198.51.100.0/24", false}, // Parse rejects it later
		{"[email-message:from_ref.value = 'a@evil.example']", TypeEmail, "a@evil.example", false},
		{"[domain-name:value = 'a' OR domain-name:value = 'b']", "", "", true},
		{"[domain-name:value != 'a']", "", "", true},
		{"[domain-name:value LIKE 'a%']", "", "", true},
		{"[process:name = 'x']", "", "", true},
		{"[domain-name:value = 'a'] AND [url:value = 'b']", "", "", true},
		{"[domain-name:value = 'unterminated]", "", "", true},
		{"[domain-name:value = 'bad\\escape']", "", "", true},
		{"[file:hashes.'SHA-512' = 'x']", "", "", true},
		{"", "", "", true},
	}
	for _, tt := range tests {
		typ, val, err := parseSTIXPattern(tt.p)
		if (err != nil) != tt.wantErr || typ != tt.typ || val != tt.val {
			t.Errorf("parseSTIXPattern(%q) = %q, %q, %v; want %q, %q, error %v", tt.p, typ, val, err, tt.typ, tt.val, tt.wantErr)
		}
	}
}

func TestSTIXHostileValues(t *testing.T) {
	name := `x'] OR [file:name = 'y`
	in, err := Parse(TypeFilename, name)
	if err != nil {
		t.Fatal(err)
	}
	out := writeSTIX(t, []Indicator{in})
	res, err := ReadSTIXBundle(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Indicators) != 1 || res.Indicators[0].Value != name {
		t.Errorf("a file name with quotes and backslashes did not survive: %+v %v", res.Indicators, res.Skipped)
	}
}

func TestReadSTIXBundleBounds(t *testing.T) {
	deep := `{"type":"bundle","objects":[` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `]}`
	for name, in := range map[string]string{
		"not json":   "{",
		"not bundle": `{"type":"indicator"}`,
		"too deep":   deep,
	} {
		if _, err := ReadSTIXBundle(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	big := strings.NewReader(`{"type":"bundle","objects":[],"x":"` + strings.Repeat("a", MaxDocumentSize) + `"}`)
	if _, err := ReadSTIXBundle(big); err == nil {
		t.Errorf("an oversized bundle was read")
	}
}

// TestSTIXExamples reads the OASIS example bundles: every simple indicator
// pattern they hold is imported, the rest skipped with a reason.
func TestSTIXExamples(t *testing.T) {
	dir := filepath.Join(stixSchemas, "..", "examples")
	f, err := os.Open(filepath.Join(dir, "indicator-for-c2-ip-address.json"))
	if err != nil {
		t.Skip("shared/data not present:", err)
	}
	defer f.Close()
	res, err := ReadSTIXBundle(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Indicators) != 1 || res.Indicators[0].Type != TypeIP {
		t.Errorf("C2 example: got %+v, skipped %+v", res.Indicators, res.Skipped)
	}
	for _, name := range []string{"threat-reports/apt1.json", "threat-reports/poisonivy.json", "indicators-for-C2-with-COA.json"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		res, err := ReadSTIXBundle(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%s: %d indicators, %d skipped", name, len(res.Indicators), res.SkippedCount)
	}
}

// TestSTIXSchema validates the bundle against the OASIS STIX 2.1 JSON
// schemas with the minimal validator of schema_test.go.
func TestSTIXSchema(t *testing.T) {
	if _, err := os.Stat(filepath.Join(stixSchemas, "common", "bundle.json")); err != nil {
		t.Skip("shared/data not present:", err)
	}
	s := &schemaSet{files: map[string]map[string]any{}}
	bundleSchema := filepath.Join(stixSchemas, "common", "bundle.json")
	schemaOf := map[string]string{
		"identity": "sdos/identity.json", "indicator": "sdos/indicator.json", "relationship": "sros/relationship.json",
		"marking-definition": "common/marking-definition.json", "domain-name": "observables/domain-name.json",
		"url": "observables/url.json", "ipv4-addr": "observables/ipv4-addr.json", "ipv6-addr": "observables/ipv6-addr.json",
		"email-addr": "observables/email-addr.json", "file": "observables/file.json",
	}
	var bundle map[string]any
	// The sample plus a revoked indicator with its own version time.
	inds := sample()
	rev := inds[1]
	rev.Value, rev.Revoked, rev.Updated = "rivm-covid19-withdrawn.example", true, t1.Add(time.Hour)
	if err := json.Unmarshal(writeSTIX(t, append(inds, rev)), &bundle); err != nil {
		t.Fatal(err)
	}
	// Each object against its own schema, for a precise message...
	for i, o := range bundle["objects"].([]any) {
		typ := o.(map[string]any)["type"].(string)
		rel, ok := schemaOf[typ]
		if !ok {
			t.Errorf("object %d has type %s, which this test has no schema for", i, typ)
			continue
		}
		path := filepath.Join(stixSchemas, rel)
		sch, err := s.load(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.validate(o, sch, path, typ); err != nil {
			t.Errorf("object %d: %v", i, err)
		}
	}
	// ...then the whole bundle.
	sch, err := s.load(bundleSchema)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.validate(bundle, sch, bundleSchema, "bundle"); err != nil {
		t.Errorf("bundle: %v", err)
	}
	// The validator can fail: a broken indicator is rejected.
	broken := map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--x", "created": "yesterday"}
	path := filepath.Join(stixSchemas, "sdos/indicator.json")
	ind, _ := s.load(path)
	if s.validate(broken, ind, path, "broken") == nil {
		t.Errorf("the schema check accepts a broken indicator")
	}
}

// bundleObjects returns the objects of a bundle, each compacted.
func bundleObjects(t *testing.T, out []byte) []json.RawMessage {
	t.Helper()
	var b struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatal(err)
	}
	for i, o := range b.Objects {
		var c bytes.Buffer
		if err := json.Compact(&c, o); err != nil {
			t.Fatal(err)
		}
		b.Objects[i] = c.Bytes()
	}
	return b.Objects
}

// TestSTIXObjectsMatchBundle: a TAXII collection built from STIXObjectsOf
// and STIXSharedObjects serves the very objects of the bundle, byte for
// byte once compacted, with the same observable shared by two
// organisations' indicators only once in the bundle.
func TestSTIXObjectsMatchBundle(t *testing.T) {
	inds := sample()
	other := inds[1]
	other.Org = "ggd" // the same domain, another organisation: its own indicator, the same observable
	inds = append(inds, other)
	opts := STIXOptions{Now: t1}
	shared, err := STIXSharedObjects(inds, opts)
	if err != nil {
		t.Fatal(err)
	}
	var want []STIXObject
	want = append(want, shared...)
	sorted := slices.Clone(inds)
	sortIndicators(sorted)
	seen := map[string]bool{}
	for _, in := range sorted {
		objs, err := STIXObjectsOf(in, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if !seen[o.ID] {
				seen[o.ID] = true
				want = append(want, o)
			}
		}
	}
	var b bytes.Buffer
	if err := WriteSTIX(&b, inds, opts); err != nil {
		t.Fatal(err)
	}
	got := bundleObjects(t, b.Bytes())
	if len(got) != len(want) {
		t.Fatalf("bundle has %d objects, the per-object API %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i].JSON) {
			t.Errorf("object %d differs:\nbundle %s\napi    %s", i, got[i], want[i].JSON)
		}
		var head struct{ ID, Type string }
		json.Unmarshal(want[i].JSON, &head)
		if head.ID != want[i].ID || head.Type != want[i].Type {
			t.Errorf("object %d: STIXObject says %s %s, its JSON %s %s", i, want[i].Type, want[i].ID, head.Type, head.ID)
		}
	}
	domains := 0
	for _, o := range want {
		if o.Type == "domain-name" && strings.Contains(string(o.JSON), `"rivm-covid19.example"`) {
			domains++
		}
	}
	if domains != 1 {
		t.Errorf("the observable rivm-covid19.example is in the bundle %d times, want once", domains)
	}
}

// indicatorOf returns the indicator object (and the relationships) of in.
func indicatorOf(t *testing.T, in Indicator) (ind map[string]any, rels []map[string]any) {
	t.Helper()
	objs, err := STIXObjectsOf(in, STIXOptions{Now: t1.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var m map[string]any
		if err := json.Unmarshal(o.JSON, &m); err != nil {
			t.Fatal(err)
		}
		if m["modified"] != nil {
			if v, _ := time.Parse(time.RFC3339Nano, m["modified"].(string)); !v.Equal(o.Modified) {
				t.Errorf("%s: STIXObject.Modified %v, JSON modified %v", o.ID, o.Modified, m["modified"])
			}
		}
		if rv, _ := m["revoked"].(bool); rv != o.Revoked {
			t.Errorf("%s: STIXObject.Revoked %v, JSON %v", o.ID, o.Revoked, m["revoked"])
		}
		switch o.Type {
		case "indicator":
			ind = m
		case "relationship":
			rels = append(rels, m)
		}
	}
	return ind, rels
}

func TestSTIXModifiedAndRevoked(t *testing.T) {
	now := "2020-03-15T18:00:00.000Z" // t1 + 24h, the Now of indicatorOf
	base := sample()[1]
	tests := []struct {
		name                   string
		first, last, updated   time.Time
		revoked                bool
		wantCreated, wantModif string
	}{
		{"updated wins", t0, t1, t1.Add(time.Hour), false, "2020-03-12T09:30:00.000Z", "2020-03-14T19:00:00.000Z"},
		{"no updated: last seen", t0, t1, time.Time{}, false, "2020-03-12T09:30:00.000Z", "2020-03-14T18:00:00.000Z"},
		{"no updated, no last seen: first seen", t0, time.Time{}, time.Time{}, false, "2020-03-12T09:30:00.000Z", "2020-03-12T09:30:00.000Z"},
		{"nothing known: now", time.Time{}, time.Time{}, time.Time{}, false, now, now},
		{"updated before created is clamped", t1, t1, t0, false, "2020-03-14T18:00:00.000Z", "2020-03-14T18:00:00.000Z"},
		{"revoked", t0, t1, t1.Add(2 * time.Hour), true, "2020-03-12T09:30:00.000Z", "2020-03-14T20:00:00.000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			in.FirstSeen, in.LastSeen, in.Updated, in.Revoked = tt.first, tt.last, tt.updated, tt.revoked
			ind, rels := indicatorOf(t, in)
			if ind["created"] != tt.wantCreated || ind["modified"] != tt.wantModif {
				t.Errorf("created %v modified %v, want %s %s", ind["created"], ind["modified"], tt.wantCreated, tt.wantModif)
			}
			if rv, _ := ind["revoked"].(bool); rv != tt.revoked {
				t.Errorf("revoked = %v, want %v", ind["revoked"], tt.revoked)
			}
			if len(rels) != 2 {
				t.Fatalf("%d relationships, want 2 (observable, brand)", len(rels))
			}
			for _, r := range rels {
				if rv, _ := r["revoked"].(bool); rv != tt.revoked || r["modified"] != tt.wantModif {
					t.Errorf("relationship %v: revoked %v modified %v, want %v %s", r["id"], r["revoked"], r["modified"], tt.revoked, tt.wantModif)
				}
			}
		})
	}
}

// TestWriteSTIXRevokedAndInvalid: WriteSTIX publishes revoked indicators
// as revoked (consumers must stop blocking them) and leaves invalid ones
// out, as before; the per-object API refuses the invalid one.
func TestWriteSTIXRevokedAndInvalid(t *testing.T) {
	inds := sample()[:2]
	inds[0].Revoked, inds[0].Updated = true, t1.Add(time.Hour)
	bad := inds[1]
	bad.Value, bad.Confidence = "bad.example", 101
	out := writeSTIX(t, append(inds, bad))
	if strings.Contains(string(out), "bad.example") {
		t.Errorf("an invalid indicator was written")
	}
	revoked := 0
	for _, o := range bundleObjects(t, out) {
		var m map[string]any
		json.Unmarshal(o, &m)
		if m["type"] == "indicator" && m["revoked"] == true {
			revoked++
			if m["pattern"] != "[url:value = 'https://rivm-covid19.example/login.php?lang=nl']" {
				t.Errorf("the wrong indicator is revoked: %v", m["pattern"])
			}
		}
	}
	if revoked != 1 {
		t.Errorf("%d revoked indicators in the bundle, want 1", revoked)
	}
	res, err := ReadSTIXBundle(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Indicators) != 1 || res.SkippedCount != 1 {
		t.Errorf("reading back: %d indicators, %d skipped (%v); want 1 and the revoked one skipped", len(res.Indicators), res.SkippedCount, res.Skipped)
	}
	if _, err := STIXObjectsOf(bad, STIXOptions{Now: t1}); err == nil {
		t.Errorf("STIXObjectsOf accepted an invalid indicator")
	}
	// The bundle id changes when an indicator is revoked, even at the same version.
	a := sample()[:1]
	b := sample()[:1]
	b[0].Revoked = true
	var ha, hb struct{ ID string }
	json.Unmarshal(writeSTIX(t, a), &ha)
	json.Unmarshal(writeSTIX(t, b), &hb)
	if ha.ID == hb.ID {
		t.Errorf("revoking an indicator kept the bundle id %s", ha.ID)
	}
}
