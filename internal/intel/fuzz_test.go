package intel

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// seedFiles adds the golden files of testdata as seeds.
func seedFiles(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParse(f *testing.F) {
	for _, in := range sample() {
		f.Add(string(in.Type), in.Value)
	}
	for _, s := range []string{"Bücher.example.", "hxxp://x[.]example:80", "::ffff:1.2.3.4", "a@b@c.example", "http://[::1%25x]/", "x.exe"} {
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, typ, value string) {
		var in Indicator
		var err error
		if typ == "" {
			in, err = Guess(value)
		} else {
			in, err = Parse(Type(typ), value)
		}
		if err != nil {
			return
		}
		// A parsed value is normalised, valid, and parses to itself.
		if err := Validate(in); err != nil {
			t.Fatalf("Parse(%q, %q) = %q, which fails Validate: %v", typ, value, in.Value, err)
		}
		if len(in.Value) > MaxValueLen {
			t.Fatalf("value of %d bytes", len(in.Value))
		}
		if h := in.host(); h != "" && checkDomain(h) != nil {
			t.Fatalf("host %q of %q is not a clean domain", h, in.Value)
		}
		if in.Type != TypeFilename && strings.ContainsAny(in.Value, " \n\r\t") {
			t.Fatalf("value %q has white space", in.Value)
		}
	})
}

func FuzzReadSTIX(f *testing.F) {
	seedFiles(f, "stix.json")
	f.Add([]byte(`{"type":"bundle","objects":[{"type":"indicator","pattern":"[file:hashes.'SHA-256' = '\\'']"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ReadSTIXBundle(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, in := range res.Indicators {
			if err := Validate(in); err != nil {
				t.Fatalf("imported an invalid indicator %+v: %v", in, err)
			}
		}
		// What was read can be written and read again unchanged in number.
		var b bytes.Buffer
		if err := WriteSTIX(&b, res.Indicators, STIXOptions{Now: t0}); err != nil {
			t.Fatal(err)
		}
		again, err := ReadSTIXBundle(&b)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Indicators) > len(res.Indicators) || again.SkippedCount != 0 {
			t.Fatalf("re-read %d indicators (skipped %v) from %d", len(again.Indicators), again.Skipped, len(res.Indicators))
		}
	})
}

func FuzzReadMISP(f *testing.F) {
	seedFiles(f, "misp-event.json")
	f.Add([]byte(`{"Attribute":[{"type":"domain|ip","value":"a.example|1.2.3.4","to_ids":true,"timestamp":"-1"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ReadMISPEvent(bytes.NewReader(data))
		if err == nil {
			for _, in := range res.Indicators {
				if err := Validate(in); err != nil {
					t.Fatalf("imported an invalid indicator %+v: %v", in, err)
				}
			}
		}
		// The same bytes as a manifest and as an event in a feed.
		fsys := fstest.MapFS{"manifest.json": {Data: data}, "11111111-1111-4111-8111-111111111111.json": {Data: data}}
		ReadMISPFeed(fsys)
	})
}

func FuzzRPZ(f *testing.F) {
	f.Add("rpz-covid19.example\nhttps://x.example/\n198.51.100.7\n2001:db8::1", "rpz.example", "", true)
	f.Add("a.example", "x.y", "garden.example", false)
	f.Fuzz(func(t *testing.T, values, origin, garden string, ips bool) {
		var inds []Indicator
		for v := range strings.SplitSeq(values, "\n") {
			in, err := Guess(v)
			if err != nil {
				in = Indicator{Type: TypeDomain, Value: v} // hostile, unnormalised values reach the writer too
			}
			inds = append(inds, in)
		}
		opts := RPZOptions{Origin: origin, WalledGarden: garden, OmitIPs: !ips, Passthru: []string{"a.example"}, Serial: 7}
		var b bytes.Buffer
		if err := WriteRPZ(&b, inds, opts); err != nil {
			return // bad options
		}
		o, _ := opts.withDefaults()
		parseZone(t, b.Bytes(), o.Origin)
		var b2 bytes.Buffer
		WriteHosts(&b2, inds, HostsOptions{})
		for _, line := range strings.Split(strings.TrimSpace(b2.String()), "\n") {
			if !strings.HasPrefix(line, "#") && len(strings.Fields(line)) != 2 {
				t.Fatalf("hosts line %q", line)
			}
		}
		_ = Serial(7, "a", "b", time.Unix(int64(len(values))*1e7, 0))
	})
}
