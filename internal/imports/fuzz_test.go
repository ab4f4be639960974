package imports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/intel"
)

// seed adds the named testdata files to the corpus.
func seed(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkUpdate asserts what every Update must satisfy whatever the input:
// valid indicators marked with the source, bounded skip examples.
func checkUpdate(t *testing.T, u Update) {
	t.Helper()
	for _, in := range u.Indicators {
		if err := intel.Validate(in); err != nil {
			t.Fatalf("invalid indicator %+v: %v", in, err)
		}
		if in.Source != "import fuzz" {
			t.Fatalf("indicator source %q", in.Source)
		}
	}
	if len(u.SkipExamples) > MaxSkipExamples || len(u.SkipExamples) > u.Skipped {
		t.Fatalf("%d skip examples for %d skipped", len(u.SkipExamples), u.Skipped)
	}
}

var fuzzSource = Source{Name: "fuzz", MaxIndicators: MaxIndicatorsLimit}

func FuzzEnvelope(f *testing.F) {
	seed(f, "envelope.json")
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"more": true, "next": "\u0000", "objects": [1, "x", null, {"type": "indicator", "revoked": true}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := parseEnvelope(body)
		if err != nil {
			return
		}
		if len(env.Next) > maxNextLen || strings.ContainsAny(env.Next, "\x00\r\n") {
			t.Fatalf("next %q passed", env.Next)
		}
		// Read it as two pages, so that carried context is exercised.
		var sr stixReader
		var u Update
		half := len(env.Objects) / 2
		if err := sr.read(env.Objects[:half], fuzzSource, &u); err != nil {
			return
		}
		if err := sr.read(env.Objects[half:], fuzzSource, &u); err != nil {
			return
		}
		checkUpdate(t, u)
	})
}

func FuzzBundle(f *testing.F) {
	seed(f, "envelope.json")
	f.Add([]byte(`{"type": "bundle", "objects": [{"type": "indicator", "pattern": "[url:value = 'http://a.example/']", "revoked": true}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, err := parseBundle(body)
		if err != nil {
			return
		}
		var sr stixReader
		var u Update
		if err := sr.read(objs, fuzzSource, &u); err != nil {
			return
		}
		checkUpdate(t, u)
	})
}

func FuzzManifest(f *testing.F) {
	seed(f, "manifest.json")
	f.Add([]byte(`{"5FC50781-076A-5319-91FD-2F06296ABB8A": {"timestamp": null}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseManifest(body)
		if err != nil {
			return
		}
		if len(m.events) > MaxEvents || len(m.bad) > MaxSkipExamples {
			t.Fatalf("%d events, %d bad keys", len(m.events), len(m.bad))
		}
		for id, ts := range m.events {
			if !isUUID(id) || strings.ContainsAny(id, "/.\\") {
				t.Fatalf("key %q used as an event", id)
			}
			if strings.Trim(ts, "0123456789") != "" || len(ts) > 20 {
				t.Fatalf("timestamp %q", ts)
			}
		}
	})
}

func FuzzDiscovery(f *testing.F) {
	seed(f, "discovery.json")
	f.Add([]byte(`{"collections": [{"id": "c", "title": "t", "can_read": true}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if d, err := parseDiscovery(body); err == nil && (len(d.APIRoots) > maxAPIRoots || len(d.Versions) > maxAPIRoots) {
			t.Fatalf("%d api roots passed", len(d.APIRoots))
		}
		if c, err := parseCollections(body); err == nil && len(c) > maxCollections {
			t.Fatalf("%d collections passed", len(c))
		}
	})
}
