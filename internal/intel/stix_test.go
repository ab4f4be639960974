package intel

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
	if err := json.Unmarshal(writeSTIX(t, sample()), &bundle); err != nil {
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
