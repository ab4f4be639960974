package lookalike

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ward-health/ward/examples"
	"github.com/ward-health/ward/internal/brand"
)

func healthMatcher(t testing.TB) *Matcher {
	t.Helper()
	set, err := brand.Parse("brands-health.yaml", examples.HealthBrands)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher(set)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatchAlerts(t *testing.T) {
	m := healthMatcher(t)
	tests := []struct {
		input, brand, technique string
	}{
		// The brand label under another TLD or SLD.
		{"rivm.com", "RIVM", TechTLDSwap},
		{"rivm.co.uk", "RIVM", TechTLDSwap},
		{"amsterdamumc.org", "AmsterdamUMC", TechTLDSwap},
		// Official domain joined into the label.
		{"rivmnl.com", "RIVM", TechTLDJoined},
		{"rivm-nl.info", "RIVM", TechTLDJoined},
		{"who-int.org", "WHO", TechTLDJoined},
		// Typos of the brand label.
		{"erasmsmc.nl", "ErasmusMC", TechOmission},
		{"erasmuusmc.nl", "ErasmusMC", TechRepetition},
		{"erasmusmcc.com", "ErasmusMC", TechRepetition},
		{"erasmusmcx.nl", "ErasmusMC", TechAddition},
		{"erazmusmc.nl", "ErasmusMC", TechReplacement},
		{"earsmusmc.nl", "ErasmusMC", TechTransposition},
		{"erasmosmc.nl", "ErasmusMC", TechVowelSwap},
		{"eraseusmc.nl", "ErasmusMC", TechBitsquatting},
		{"doctolb.fr", "Doctolib", TechOmission},
		// Homoglyphs: ASCII and Unicode, single and multi-character.
		{"rlvm.nl", "RIVM", TechHomoglyph},
		{"arnsterdamumc.nl", "AmsterdamUMC", TechHomoglyph},
		{"c1evelandclinic.org", "ClevelandClinic", TechHomoglyph},
		{"d0ctolib.fr", "Doctolib", TechHomoglyph},
		{"whо.int", "WHO", TechIDNHomoglyph},        // Cyrillic о
		{"xn--wh-gmc.int", "WHO", TechIDNHomoglyph}, // the same in punycode
		{"rіvm.nl", "RIVM", TechIDNHomoglyph},       // Cyrillic і
		{"ameIi.fr", "Ameli", TechHomoglyph},        // upper-case I folds to i, a look-alike of l
		// Hyphen and dot insertion.
		{"amsterdam-umc.nl", "AmsterdamUMC", TechHyphenation},
		{"erasmus-mc.com", "ErasmusMC", TechHyphenation},
		{"amsterdam.umc.nl", "AmsterdamUMC", TechDotInsertion},
		// Combosquats, with and without hyphens, short brands included.
		{"rivm-coronatest.nl", "RIVM", TechCombosquat},
		{"ggd-afspraak-online.com", "GGD", TechCombosquat},
		{"ggd-afspraak.nl", "GGD", TechCombosquat},
		{"who-covid19-relief.com", "WHO", TechCombosquat},
		{"rivmcoronatest.nl", "RIVM", TechCombosquat},
		{"mijnggd-afspraak.com", "GGD", TechCombosquat},
		{"ameli-remboursement.fr", "Ameli", TechCombosquat},
		{"login.amsterdamumc-secure.com", "AmsterdamUMC", TechCombosquat},
		{"nhs-covidpass.uk", "NHS", TechCombosquat},
		// Spelled-out names.
		{"worldhealthorganization-relief.org", "WHO", TechCombosquat},
		{"worldhealthorganization.net", "WHO", TechBrandName},
		// Brand domain or label inside another registrable domain.
		{"rivm.nl.verify-login.com", "RIVM", TechSubdomain},
		{"who.int.covid-donate.xyz", "WHO", TechSubdomain},
		{"amsterdamumc.secure-login.com", "AmsterdamUMC", TechSubdomain},
		// Combinations.
		{"rlvm-coronatest.nl", "RIVM", TechHomoglyph},
		{"rvmcoronatest.nl", "RIVM", TechOmission},
		{"erasmsmc-afspraak.com", "ErasmusMC", TechOmission},
		// URLs and email addresses.
		{"https://rivm-coronatest.nl/login?x=1", "RIVM", TechCombosquat},
		{"noreply@who-covid19-relief.com", "WHO", TechCombosquat},
		{"HTTP://USER@RIVM-CORONATEST.NL:8443/", "RIVM", TechCombosquat},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			r, ok, err := m.Match(tt.input)
			if err != nil || !ok {
				t.Fatalf("Match = ok %v, err %v; want a %s match", ok, err, tt.brand)
			}
			if r.Brand != tt.brand {
				t.Errorf("brand = %s, want %s (%+v)", r.Brand, tt.brand, r)
			}
			if r.Score < AlertThreshold {
				t.Errorf("score = %d, below the alert threshold %d (%+v)", r.Score, AlertThreshold, r)
			}
			if !slices.Contains(r.Techniques, tt.technique) {
				t.Errorf("techniques = %v, want %s among them (%v)", r.Techniques, tt.technique, r.Reasons)
			}
			if len(r.Reasons) == 0 {
				t.Error("no reasons")
			}
		})
	}
}

func TestMatchQuiet(t *testing.T) {
	m := healthMatcher(t)
	tests := []string{
		// Short brands inside ordinary names.
		"whoop.com", "who.is", "somewhere.org", "whois.com", "whoami.org",
		"who-cares.org", "nhsbank.example", "issuu.com", "emailmeform.com",
		"bagborroworsteal.com", "cdcr.ca.gov",
		// Ordinary words that are brand labels (health.gov.au, gov.uk).
		"passporthealth.com", "usgovcloud.microsoft", "radio-canada.ca",
		"g0v.top",
		// Near misses of longer brands.
		"lucid.app", "phpmyadmin.net", "meli.com",
		// A typo of a short brand alone.
		"wha.int", "ggb.nl",
		// Official domains, their subdomains and the allowlist.
		"rivm.nl", "www.rivm.nl", "coronadashboard.rivm.nl", "who.int",
		"apps.who.int", "coronatest.nl", "www.ggdghor.nl",
		// A SaaS tenant named after the brand is the brand's own.
		"clevelandclinic-my.sharepoint.com", "clevelandclinic.sharepoint.com",
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			r, ok, err := m.Match(in)
			if err != nil {
				t.Fatalf("Match error: %v", err)
			}
			if ok && r.Score >= AlertThreshold {
				t.Errorf("alert on a benign name: %+v", r)
			}
		})
	}
}

func TestMatchOfficialNeverMatches(t *testing.T) {
	m := healthMatcher(t)
	for _, in := range []string{"rivm.nl", "mail.rivm.nl", "a.b.c.who.int", "ggdkennemerland.nl", "bag.admin.ch", "www.bag.admin.ch"} {
		if r, ok, err := m.Match(in); ok || err != nil {
			t.Errorf("Match(%q) = %+v, %v, %v; official domains must never match", in, r, ok, err)
		}
	}
}

func TestMatchBadInput(t *testing.T) {
	m := healthMatcher(t)
	tests := []struct {
		input string
		err   error
	}{
		{"", ErrEmpty},
		{"   ", ErrEmpty},
		{"localhost", ErrNoSuffix},
		{"192.0.2.1", ErrIP},
		{"http://[2001:db8::1]/", ErrIP},
		{strings.Repeat("a", 64) + ".com", ErrInvalid},
		{strings.Repeat("abcdefgh.", 40) + "com", ErrInvalid},
		{"xn--zzzzzzz-.com", ErrInvalid},
		{"xn--a.com", ErrInvalid},
		{"\xff\xfe.com", ErrInvalid},
		{"-rivm.com", ErrInvalid},
		{"a..com", ErrInvalid},
		{strings.Repeat("x", 10<<20), ErrTooLong},
	}
	for _, tt := range tests {
		_, ok, err := m.Match(tt.input)
		if ok || !errors.Is(err, tt.err) {
			t.Errorf("Match(%.40q) = ok %v, err %v; want %v", tt.input, ok, err, tt.err)
		}
	}
}

func TestMatchScoresExplained(t *testing.T) {
	m := healthMatcher(t)
	r, _, _ := m.Match("rivm-coronatest.nl")
	want := []string{`brand token "rivm"`, `"coronatest"`, "own suffix .nl"}
	all := strings.Join(r.Reasons, "; ")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("reasons %q lack %q", all, w)
		}
	}
	// Context raises a score: the same brand token with lure words scores
	// higher than alone.
	a, _, _ := m.Match("rivm-xyzzy.com")
	b, _, _ := m.Match("rivm-login-secure.com")
	if a.Score >= b.Score {
		t.Errorf("rivm-xyzzy.com scored %d, rivm-login-secure.com %d; lure words must add", a.Score, b.Score)
	}
}

func TestNewMatcherErrors(t *testing.T) {
	if _, err := NewMatcher(nil); err == nil {
		t.Error("nil set: no error")
	}
	if _, err := NewMatcher(&brand.Set{}); err == nil {
		t.Error("empty set: no error")
	}
}

func TestPlainListBrand(t *testing.T) {
	set, err := brand.Parse("list", []byte("mijnziekenhuis.nl\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher(set)
	if err != nil {
		t.Fatal(err)
	}
	r, ok, _ := m.Match("login.mijnziekenhuis-secure.com")
	if !ok || r.Brand != "mijnziekenhuis.nl" || r.Score < AlertThreshold {
		t.Errorf("got %+v, %v", r, ok)
	}
}

func FuzzMatch(f *testing.F) {
	m := healthMatcher(f)
	for _, s := range []string{"rivm-coronatest.nl", "whо.int", "xn--wh-gmc.int", "https://a@b.c:1/d", "rlvmcoronatest.nl",
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.com", "ggd--afspraak.nl", "\x00", "*.rivm.nl"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r1, ok1, err1 := m.Match(in)
		r2, ok2, err2 := m.Match(in)
		if ok1 != ok2 || (err1 == nil) != (err2 == nil) || !slices.Equal(r1.Reasons, r2.Reasons) || r1.Score != r2.Score || r1.Brand != r2.Brand {
			t.Fatalf("non-deterministic: %+v %v %v / %+v %v %v", r1, ok1, err1, r2, ok2, err2)
		}
		if ok1 && (r1.Score <= 0 || r1.Score > 100 || r1.Brand == "" || len(r1.Techniques) == 0) {
			t.Fatalf("bad match %+v", r1)
		}
		if err1 != nil && ok1 {
			t.Fatal("ok with error")
		}
	})
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"rivm.nl", "HTTPS://WWW.RIVM.NL/x", "mailto:a@b.nl", "xn--wh-gmc.int", "[::1]", "a:b:c", "bücher.de."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		h, err := ParseHost(in)
		if err != nil {
			return
		}
		if h.ASCII == "" || len(h.ASCII) > 253 || !isASCIILowerLDH(h.ASCII) {
			t.Fatalf("ParseHost(%q) = %+v: not a valid lower-case ASCII name", in, h)
		}
		h2, err := ParseHost(h.ASCII)
		if err != nil || h2 != h {
			t.Fatalf("not idempotent: %q -> %+v -> %+v, %v", in, h, h2, err)
		}
	})
}
