package lookalike

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/idna"
)

// generate returns the candidates of domain under opts, in order.
func generate(t testing.TB, opts GenerateOptions, domain string) []Candidate {
	t.Helper()
	g, err := NewGenerator(opts)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := g.Candidates(domain)
	if err != nil {
		t.Fatalf("Candidates(%q): %v", domain, err)
	}
	return slices.Collect(seq)
}

func domains(cs []Candidate) map[string]Candidate {
	m := make(map[string]Candidate, len(cs))
	for _, c := range cs {
		m[c.Domain] = c
	}
	return m
}

func TestFuzzers(t *testing.T) {
	for _, tc := range []struct {
		fuzzer, domain string
		allIDN         bool
		exact          []string // the whole output, when short
		has, hasNot    []string // Unicode forms
	}{
		{fuzzer: "omission", domain: "rivm.nl", exact: []string{"ivm.nl", "rvm.nl", "rim.nl", "riv.nl"}},
		{fuzzer: "transposition", domain: "rivm.nl", exact: []string{"irvm.nl", "rvim.nl", "rimv.nl"}},
		{fuzzer: "repetition", domain: "rivm.nl", exact: []string{"rrivm.nl", "riivm.nl", "rivvm.nl", "rivmm.nl"}},
		{fuzzer: "hyphenation", domain: "rivm.nl", exact: []string{"r-ivm.nl", "ri-vm.nl", "riv-m.nl"}},
		{fuzzer: "subdomain", domain: "rivm.nl", exact: []string{"r.ivm.nl", "ri.vm.nl", "riv.m.nl"}},
		{fuzzer: "vowel-swap", domain: "rivm.nl", exact: []string{"ravm.nl", "revm.nl", "rovm.nl", "ruvm.nl"}},
		{fuzzer: "plural", domain: "rivm.nl", exact: []string{"rivsm.nl", "rivms.nl"}},
		{fuzzer: "plural", domain: "aphp.fr", has: []string{"aphps.fr", "aphsp.fr"}},
		{fuzzer: "addition", domain: "ggd-test.nl", has: []string{"ggd-testa.nl", "aggd-test.nl", "ggd9-test.nl"}},
		{fuzzer: "bitsquatting", domain: "rivm.nl", has: []string{"rhvm.nl", "bivm.nl", "rivl.nl"}, hasNot: []string{"rivm.nl"}},
		{fuzzer: "insertion", domain: "rivm.nl", has: []string{"rivbm.nl", "erivm.nl", "rivmn.nl", "riuvm.nl"}},
		{fuzzer: "replacement", domain: "rivm.nl", has: []string{"rivn.nl", "eivm.nl", "rovm.nl", "rivj.nl", "rivp.nl"}, hasNot: []string{"rivq.nl"}},
		{
			fuzzer: "homoglyph", domain: "rivm.nl",
			has:    []string{"rlvm.nl", "r1vm.nl", "rivrn.nl", "rlvrn.nl", "rivnn.nl"},
			hasNot: []string{"rívm.nl"}, // .nl takes no IDN
		},
		{fuzzer: "homoglyph", domain: "rivm.nl", allIDN: true, has: []string{"rívm.nl", "rivṁ.nl", "ŕlvm.nl"}},
		{fuzzer: "homoglyph", domain: "google.com", has: []string{"g00gle.com", "googie.com", "goögle.com", "ɡoogle.com", "qoogle.com"}},
		{fuzzer: "homoglyph", domain: "dhl.com", has: []string{"clhl.com", "dhi.com", "đhl.com"}},
		{fuzzer: "homoglyph", domain: "bbc.co.uk", has: []string{"dbc.co.uk", "bdc.co.uk"}},
		{fuzzer: "script-swap", domain: "who.com", has: []string{"ԝһо.com"}},
		{fuzzer: "script-swap", domain: "rivm.nl", exact: []string{}},
		{fuzzer: "script-swap", domain: "rivm.nl", allIDN: true, has: []string{"гіѵм.nl"}},
		{fuzzer: "cyrillic", domain: "aphp.com", has: []string{"арһр.com"}},
		{fuzzer: "dictionary", domain: "rivm.nl", has: []string{"rivm-coronatest.nl", "mijnrivm.nl", "rivmlogin.nl", "rivm-vaccin-login.nl", "login-rivm-vaccin.nl"}},
		{fuzzer: "dictionary", domain: "ggd-amsterdam.nl", has: []string{"ggd-login.nl", "mijn-amsterdam.nl"}},
		{fuzzer: "tld-swap", domain: "rivm.nl", has: []string{"rivm.com", "rivm.de", "rivm.co.uk"}, hasNot: []string{"rivm.nl"}},
		{fuzzer: "tld-swap", domain: "bbc.co.uk", has: []string{"bbc.uk", "bbc.com"}},
		{fuzzer: "tld-joined", domain: "rivm.nl", has: []string{"rivmnl.nl", "rivm-nl.com", "rivmnl.com", "rivm-nl.xyz"}},
		{fuzzer: "tld-joined", domain: "bbc.co.uk", has: []string{"bbcco.uk", "bbccouk.com", "bbc-co-uk.com"}},
		{fuzzer: "subdomain-joined", domain: "www.rivm.nl", exact: []string{"wwwrivm.nl", "www-rivm.nl"}},
		{fuzzer: "subdomain-joined", domain: "rivm.nl", exact: []string{}},
		{fuzzer: "various", domain: "www.rivm.nl", has: []string{"wwwrivm.nl", "www.rivmnl.nl", "www.rivm.com"}},
		{fuzzer: "dictionary-tld", domain: "rivm.nl", has: []string{"rivm-coronatest.com", "login-rivm.xyz"}, hasNot: []string{"rivm-coronatest.nl"}},
		{fuzzer: "typo-dictionary", domain: "rivm.nl", has: []string{"rvm-coronatest.nl", "login-rlvm.nl", "irvm-login.nl", "rivrn-vaccin.nl"}},
	} {
		t.Run(tc.fuzzer+"/"+tc.domain, func(t *testing.T) {
			cs := generate(t, GenerateOptions{Fuzzers: []string{tc.fuzzer}, AllIDN: tc.allIDN}, tc.domain)
			got := map[string]bool{}
			var list []string
			for _, c := range cs {
				got[c.Unicode] = true
				list = append(list, c.Unicode)
				want := tc.fuzzer
				if a := fuzzerAliases[tc.fuzzer]; len(a) > 0 {
					want = ""
					for _, f := range a {
						if fuzzerNames[f] == c.Fuzzer {
							want = c.Fuzzer
						}
					}
				}
				if c.Fuzzer != want {
					t.Errorf("%s: fuzzer %q, want %q", c.Domain, c.Fuzzer, tc.fuzzer)
				}
			}
			if tc.exact != nil {
				slices.Sort(list)
				want := slices.Sorted(slices.Values(tc.exact))
				if !slices.Equal(list, want) {
					t.Errorf("got %q, want %q", list, want)
				}
			}
			for _, d := range tc.has {
				if !got[d] {
					t.Errorf("%s missing (%d candidates)", d, len(cs))
				}
			}
			for _, d := range tc.hasNot {
				if got[d] {
					t.Errorf("%s generated", d)
				}
			}
		})
	}
}

// checkValid asserts what every output of Candidates must satisfy.
func checkValid(t testing.TB, brand string, cs []Candidate) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cs {
		switch {
		case seen[c.Domain]:
			t.Fatalf("%s: repeated", c.Domain)
		case c.Domain == c.Brand:
			t.Fatalf("%s: the brand itself", c.Domain)
		case c.Brand != brand:
			t.Fatalf("%s: brand %q, want %q", c.Domain, c.Brand, brand)
		case !slices.Contains(fuzzerNames[:], c.Fuzzer):
			t.Fatalf("%s: fuzzer %q", c.Domain, c.Fuzzer)
		case len(c.Domain) > 253:
			t.Fatalf("%s: longer than 253", c.Domain)
		}
		seen[c.Domain] = true
		for _, l := range strings.Split(c.Domain, ".") {
			if !validLabel(l) {
				t.Fatalf("%s: bad label %q", c.Domain, l)
			}
		}
		if c.Domain == c.Unicode && !strings.Contains(c.Domain, "xn--") {
			continue // plain LDH labels, checked above
		}
		a, err := idna.Registration.ToASCII(c.Unicode)
		if err != nil || a != c.Domain {
			t.Fatalf("%s (%s): IDNA registration gives %q, %v", c.Domain, c.Unicode, a, err)
		}
		u, err := idna.Lookup.ToUnicode(c.Domain)
		if err != nil || u != c.Unicode {
			t.Fatalf("%s: ToUnicode gives %q, %v; want %q", c.Domain, u, err, c.Unicode)
		}
	}
}

func TestCandidatesValidAndDeterministic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		domain string
		allIDN bool
	}{
		{"rivm.nl", false},
		{"www.rivm.nl", true},
		{"bbc.co.uk", true},
		{"example.com", false},
		{"müller.de", true},
		{"a.b.c.who.int", true},
	} {
		opts := GenerateOptions{AllIDN: tc.allIDN}
		cs := generate(t, opts, tc.domain)
		brand, _ := ParseHost(tc.domain)
		checkValid(t, brand.ASCII, cs)
		if len(cs) < 10000 {
			t.Errorf("%s: only %d candidates", tc.domain, len(cs))
		}
		if again := generate(t, opts, tc.domain); !slices.Equal(cs, again) {
			t.Errorf("%s: two runs differ", tc.domain)
		}
	}
}

func TestIDNPolicy(t *testing.T) {
	idnFuzzers := []string{"homoglyph", "script-swap"}
	count := func(domain string, allIDN bool) (latin, other int) {
		for _, c := range generate(t, GenerateOptions{Fuzzers: idnFuzzers, AllIDN: allIDN}, domain) {
			if c.Domain == c.Unicode {
				continue
			}
			if c.Fuzzer == "homoglyph" {
				latin++
			} else {
				other++
			}
		}
		return
	}
	for _, tc := range []struct {
		domain       string
		latin, other bool
	}{
		{"rivm.nl", false, false},
		{"who.int", false, false},
		{"cdc.gov", false, false},
		{"bbc.co.uk", false, false},
		{"aphp.fr", true, false},
		{"example.de", true, false},
		{"example.com", true, true},
		{"example.eu", true, true},
	} {
		latin, other := count(tc.domain, false)
		if latin > 0 != tc.latin || other > 0 != tc.other {
			t.Errorf("%s: %d Latin IDN homoglyphs and %d script swaps; want some: %v, %v", tc.domain, latin, other, tc.latin, tc.other)
		}
		if latin, other := count(tc.domain, true); latin == 0 || other == 0 {
			t.Errorf("%s with AllIDN: %d Latin IDN homoglyphs and %d script swaps; want both", tc.domain, latin, other)
		}
	}
	for tld, want := range map[string]bool{"nl": false, "uk": false, "int": false, "gov": false, "edu": false, "cz": false,
		"com": true, "net": true, "org": true, "info": true, "de": true, "fr": true, "eu": true} {
		if tldAllowsIDN(tld) != want {
			t.Errorf("tldAllowsIDN(%q) = %v", tld, !want)
		}
	}
}

func TestGenerateOptions(t *testing.T) {
	t.Run("dict", func(t *testing.T) {
		got := domains(generate(t, GenerateOptions{Fuzzers: []string{"dictionary"}, Dict: []string{"Ziekenhuisportaal", "xn--sant-epa"}}, "rivm.nl"))
		for _, d := range []string{"rivm-ziekenhuisportaal.nl", "ziekenhuisportaalrivm.nl", "rivm-xn--sant-epa.nl"} {
			if _, ok := got[d]; !ok {
				t.Errorf("%s missing", d)
			}
		}
		if _, ok := got["xn--rivm-sant-x4a.nl"]; ok {
			t.Errorf("IDN word under .nl generated without AllIDN")
		}
	})
	t.Run("tlds", func(t *testing.T) {
		cs := generate(t, GenerateOptions{Fuzzers: []string{"tld-swap", "dictionary-tld"}, TLDs: []string{"XYZ", ".co.uk", "nl"}}, "rivm.nl")
		for _, c := range cs {
			if !strings.HasSuffix(c.Domain, ".xyz") && !strings.HasSuffix(c.Domain, ".co.uk") {
				t.Errorf("%s: not under the given TLDs", c.Domain)
			}
		}
		if got := domains(cs); got["rivm.xyz"].Fuzzer != "tld-swap" || got["rivm-login.co.uk"].Fuzzer != "dictionary-tld" {
			t.Errorf("rivm.xyz or rivm-login.co.uk missing")
		}
		if cs := generate(t, GenerateOptions{Fuzzers: []string{"tld-swap"}, TLDs: []string{}}, "rivm.nl"); len(cs) != 0 {
			t.Errorf("empty TLD list: %d tld swaps", len(cs))
		}
	})
	for _, opts := range []GenerateOptions{
		{Fuzzers: []string{"omission", "typosquat"}},
		{Dict: []string{"two words"}},
		{Dict: []string{"a.b"}},
		{Dict: []string{"-x"}},
		{TLDs: []string{"bad_tld"}},
	} {
		if _, err := NewGenerator(opts); err == nil {
			t.Errorf("NewGenerator(%+v): no error", opts)
		}
	}
}

func TestCandidatesBadInput(t *testing.T) {
	g, err := NewGenerator(GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"", "localhost", "192.0.2.1", "-rivm.nl", "ri vm.nl", "rivm..nl", strings.Repeat("a", 64) + ".nl", "under_score.nl"} {
		if _, err := g.Candidates(d); err == nil {
			t.Errorf("Candidates(%q): no error", d)
		}
	}
	// Stopping early stops the generation.
	seq, _ := g.Candidates("rivm.nl")
	n := 0
	for range seq {
		if n++; n == 10 {
			break
		}
	}
	if n != 10 {
		t.Errorf("got %d", n)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestDnstwistSuperset checks that ward generates every name dnstwist
// generates (testdata/dnstwist/README.md says how its output was made).
func TestDnstwistSuperset(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/dnstwist/*.txt")
	ran := 0
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), ".txt")
		domain, extra, _ := strings.Cut(base, "+")
		if base == "dict" || base == "tld" {
			continue
		}
		ran++
		t.Run(base, func(t *testing.T) {
			want := readLines(t, file)
			opts := GenerateOptions{AllIDN: true}
			if extra == "dict+tld" {
				opts.Dict = readLines(t, "testdata/dnstwist/dict.txt")
				opts.TLDs = readLines(t, "testdata/dnstwist/tld.txt")
			}
			got := domains(generate(t, opts, domain))
			opts.AllIDN = false
			gotDefault := domains(generate(t, opts, domain))
			missing := 0
			for _, d := range want {
				if _, ok := got[d]; !ok {
					if missing++; missing <= 10 {
						t.Errorf("missing %s", d)
					}
				}
				if _, ok := gotDefault[d]; !ok && !strings.Contains(d, "xn--") {
					t.Errorf("missing %s without AllIDN", d)
				}
			}
			t.Logf("dnstwist %d, ward %d (%d without AllIDN), missing %d", len(want), len(got), len(gotDefault), missing)
		})
	}
	if ran < 10 {
		t.Errorf("only %d reference files", ran)
	}
}

func TestPunycode(t *testing.T) {
	t.Parallel()
	labels := []string{"münchen", "ü", "bücher-ä", "ԝһо", "rívṁ", "ꝏxꝏ", "aaaaaaaaaaé", "ſ-ſ"}
	for _, row := range glyphRows {
		for _, alt := range strings.Fields(row.idn + " " + row.cyrillic + " " + row.greek) {
			labels = append(labels, "x"+alt+"y", alt+alt)
		}
	}
	for _, l := range labels {
		want, err := idna.Punycode.ToASCII(l)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(appendPunycode(nil, []byte(l))); got != want {
			t.Errorf("appendPunycode(%q) = %q, want %q", l, got, want)
		}
	}
}

func TestKeyboardNeighbours(t *testing.T) {
	for _, tc := range []struct {
		a, b byte
		want bool
	}{
		{'q', 'w', true}, {'q', 'a', true}, {'q', '1', true}, {'m', 'n', true}, {'m', 'k', true},
		{'a', 'z', true}, // QWERTY diagonal, and AZERTY neighbours
		{'t', 'z', true}, // QWERTZ
		{'m', 'l', true}, // AZERTY
		{'a', 'p', false}, {'q', 'q', false}, {'m', 'o', false}, {'-', 'a', false}, {'a', 'A', false},
	} {
		if got := isKeyboardNeighbour(tc.a, tc.b); got != tc.want {
			t.Errorf("isKeyboardNeighbour(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
	for a := byte(0); a < 128; a++ {
		for b := byte(0); b < 128; b++ {
			if isKeyboardNeighbour(a, b) != isKeyboardNeighbour(b, a) {
				t.Errorf("%q and %q: not symmetric", a, b)
			}
		}
	}
}

func FuzzCandidates(f *testing.F) {
	for _, s := range []string{"www.rivm.nl", "müller.de", "ggd-amsterdam.nl", "a.b", "xn--80ak6aa92e.com", "nhs.uk", "localhost", strings.Repeat("ab", 31) + ".com"} {
		f.Add(s)
	}
	g, err := NewGenerator(GenerateOptions{Dict: []string{"x"}, TLDs: []string{"com", "co.uk"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, domain string) {
		seq, err := g.Candidates(domain)
		if err != nil {
			return
		}
		// Enough to reach the homoglyphs and the start of the word lists.
		const limit = 6000
		var cs []Candidate
		for c := range seq {
			if cs = append(cs, c); len(cs) == limit {
				break
			}
		}
		h, _ := ParseHost(domain)
		checkValid(t, h.ASCII, cs)
		var again []Candidate
		for c := range seq {
			if again = append(again, c); len(again) == limit {
				break
			}
		}
		if !slices.Equal(cs, again) {
			t.Errorf("%q: two runs differ", domain)
		}
	})
}
