package intel

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestWarninglist(t *testing.T) {
	w, err := NewWarninglist("rivm.nl", "WHO.int.")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want bool
	}{
		{"rivm.nl", true},
		{"www.rivm.nl", true},        // subdomain of an official domain
		{"login.who.int", true},      // normalised when added
		{"rivm-covid.nl", false},     // a look-alike, not a subdomain
		{"nlrivm.nl", false},         // suffix without a dot boundary
		{"a.root-servers.net", true}, // built-in tree
		{"dns.google", true},
		{"github.io", true},         // public suffix (private section)
		{"evil.github.io", false},   // but customer pages are blockable
		{"azurewebsites.net", true}, // built-in exact
		{"evil.azurewebsites.net", false},
		{"co.uk", true}, // public suffix
		{"gov.uk", true},
		{"nhs-covid.co.uk", false},
	}
	for _, tt := range tests {
		if got := w.ContainsDomain(tt.name); got != tt.want {
			t.Errorf("ContainsDomain(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
	for _, ip := range []string{"10.1.2.3", "127.0.0.1", "8.8.8.8", "::1", "fd00::1", "::ffff:192.168.1.1"} {
		if !w.ContainsIP(netip.MustParseAddr(ip)) {
			t.Errorf("ContainsIP(%s) = false, want true", ip)
		}
	}
	if w.ContainsIP(netip.MustParseAddr("198.51.100.7")) {
		t.Errorf("ContainsIP(198.51.100.7) = true, want false")
	}
	if _, err := NewWarninglist("not a domain"); err == nil {
		t.Errorf("NewWarninglist accepted an invalid domain")
	}
}

func TestLoadWarninglist(t *testing.T) {
	list := "# top sites\n1,google.com\n2,Example.ORG\n3,bad..name\n0.0.0.0 hosts-style.example\nplain.example # comment\n\n"
	w, err := NewWarninglist()
	if err != nil {
		t.Fatal(err)
	}
	added, skipped, err := w.Load(strings.NewReader(list))
	if err != nil || added != 4 || skipped != 1 {
		t.Fatalf("Load = %d added, %d skipped, %v; want 4, 1, nil", added, skipped, err)
	}
	for _, d := range []string{"example.org", "hosts-style.example", "plain.example"} {
		if !w.ContainsDomain(d) {
			t.Errorf("%s from the list is not on the warninglist", d)
		}
	}
	if w.ContainsDomain("phish.example.org") {
		t.Errorf("a top-list entry protects its subdomains; it must not (hosting apexes)")
	}
	if _, err := LoadWarninglist(strings.NewReader(strings.Repeat("x", maxLineLen+10))); err == nil {
		t.Errorf("an overlong line was accepted")
	}
}

func TestSelect(t *testing.T) {
	w, _ := NewWarninglist("rivm.nl")
	now := time.Date(2020, 4, 1, 0, 0, 0, 0, time.UTC)
	mk := func(typ Type, v string, until time.Time) Indicator {
		return Indicator{Type: typ, Value: v, ValidUntil: until, TLP: TLPGreen}
	}
	in := []Indicator{
		mk(TypeDomain, "zz-evil.example", time.Time{}),
		mk(TypeDomain, "expired.example", now.Add(-time.Hour)),
		mk(TypeDomain, "expires-now.example", now),
		mk(TypeDomain, "www.rivm.nl", time.Time{}),            // official: never exported
		mk(TypeURL, "https://www.rivm.nl/covid", time.Time{}), // the brand's own page
		mk(TypeEmail, "ceo@rivm.nl", time.Time{}),             // a spoofed official sender
		mk(TypeIP, "10.0.0.1", time.Time{}),                   // internal
		mk(TypeIP, "198.51.100.7", now.Add(time.Hour)),        // kept
		mk(TypeURL, "https://evil.example/x", time.Time{}),    // kept
		mk(TypeDomain, "Not-Normalised.example", time.Time{}), // invalid
		mk(TypeSHA256, strings.Repeat("a", 64), time.Time{}),  // kept
		mk(TypeDomain, "a-evil.example", time.Time{}),         // kept, sorted first
		{Type: TypeDomain, Value: "withdrawn.example", Revoked: true},
	}
	got := Select(in, now, w)
	var vals []string
	for _, g := range got {
		vals = append(vals, string(g.Type)+":"+g.Value)
	}
	want := "domain:a-evil.example domain:zz-evil.example url:https://evil.example/x ip:198.51.100.7 sha256:" + strings.Repeat("a", 64)
	if strings.Join(vals, " ") != want {
		t.Errorf("Select =\n%s\nwant\n%s", strings.Join(vals, " "), want)
	}
}

func TestUpToTLP(t *testing.T) {
	in := []Indicator{{Value: "a", TLP: TLPClear}, {Value: "b", TLP: TLPGreen}, {Value: "c"}, {Value: "d", TLP: TLPRed}}
	got := UpToTLP(in, TLPGreen)
	if len(got) != 2 || got[0].Value != "a" || got[1].Value != "b" {
		t.Errorf("UpToTLP(green) = %+v, want clear and green only (unmarked counts as amber)", got)
	}
}

// A URL on a popular service is not blocked as a name (that would take
// the service away), while a customer's name under a public suffix is.
func TestURLHostsOfPopularServices(t *testing.T) {
	w, _ := NewWarninglist()
	w.Load(strings.NewReader("1,google.com\n2,blogspot.com\n3,sharepoint.com\n"))
	inds := []Indicator{
		{Type: TypeURL, Value: "https://docs.google.com/forms/d/e/phish/viewform", TLP: TLPGreen},
		{Type: TypeURL, Value: "https://tenant-my.sharepoint.com/personal/x", TLP: TLPGreen},
		{Type: TypeURL, Value: "https://evil-login.blogspot.com/", TLP: TLPGreen},
		{Type: TypeDomain, Value: "phish.sharepoint.com", TLP: TLPGreen}, // a domain indicator is meant as a block
		{Type: TypeURL, Value: "https://rivm-login.example/x", TLP: TLPGreen},
	}
	var zone, hosts strings.Builder
	if err := WriteRPZ(&zone, inds, RPZOptions{Origin: "rpz.example", Warninglist: w}); err != nil {
		t.Fatal(err)
	}
	if err := WriteHosts(&hosts, inds, HostsOptions{Warninglist: w}); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{zone.String(), hosts.String()} {
		for _, want := range []string{"evil-login.blogspot.com", "phish.sharepoint.com", "rivm-login.example"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s is not blocked:\n%s", want, out)
			}
		}
		for _, no := range []string{"docs.google.com", "tenant-my.sharepoint.com"} {
			if strings.Contains(out, no) {
				t.Errorf("%s, a popular service's host, is blocked:\n%s", no, out)
			}
		}
	}
	// The URL itself still goes to the feeds that carry URLs.
	if got := Select(inds, time.Now(), w); len(got) != 5 {
		t.Errorf("Select kept %d of 5", len(got))
	}
}

func TestDomainAndParents(t *testing.T) {
	for in, want := range map[string]string{"a.b.example": "a.b.example b.example", "rivm-fake.nl": "rivm-fake.nl", "localhost": ""} {
		if got := strings.Join(DomainAndParents(in), " "); got != want {
			t.Errorf("DomainAndParents(%q) = %q, want %q", in, got, want)
		}
	}
}
