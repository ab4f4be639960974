package lookalike

import (
	"testing"

	"golang.org/x/net/publicsuffix"
)

func TestPublicSuffix(t *testing.T) {
	tests := []struct{ name, want string }{
		{"rivm.nl", "nl"},
		{"www.bbc.co.uk", "co.uk"},
		{"co.uk", "co.uk"},
		{"rivm.duckdns.org", "duckdns.org"},
		{"foo.bar.unknowntld", "unknowntld"},
		{"a.b.kawasaki.jp", "b.kawasaki.jp"},  // *.kawasaki.jp
		{"x.city.kawasaki.jp", "kawasaki.jp"}, // !city.kawasaki.jp
		{"city.kawasaki.jp", "kawasaki.jp"},   // the exception itself
		{"a.b.c.ck", "c.ck"},                  // *.ck
		{"www.ck", "ck"},                      // !www.ck
		{"bag.admin.ch", "ch"},                // admin.ch is not a suffix
		{"x.s3.amazonaws.com", "s3.amazonaws.com"},
		{"xn--80ak6aa92e.xn--p1ai", "xn--p1ai"}, // IDN TLD
		{"com", "com"},
	}
	for _, tt := range tests {
		if got := publicSuffix(tt.name); got != tt.want {
			t.Errorf("publicSuffix(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestPublicSuffixAgreesWithXNet checks the embedded list and our lookup
// against golang.org/x/net/publicsuffix on names whose rules predate the
// embedded list.
func TestPublicSuffixAgreesWithXNet(t *testing.T) {
	for _, n := range []string{
		"www.google.com", "a.b.c.example.co.uk", "foo.blogspot.com", "x.github.io", "rivm-coronatest.nl",
		"mail.gov.au", "x.y.z.com.br", "who.int", "test.pvt.k12.ma.us", "a.b.jp", "c.tokyo.jp",
		"x.appspot.com", "www.parliament.uk", "a.herokuapp.com", "q.r.s.t.u.nom.br",
	} {
		want, _ := publicsuffix.PublicSuffix(n)
		if got := publicSuffix(n); got != want {
			t.Errorf("publicSuffix(%q) = %q, x/net says %q", n, got, want)
		}
	}
}

func BenchmarkPublicSuffix(b *testing.B) {
	names := []string{"www.google.com", "mail.example.co.uk", "a.b.c.cloudfront.net", "foo.blogspot.com", "rivm-coronatest.nl"}
	for i := 0; b.Loop(); i++ {
		publicSuffix(names[i%len(names)])
	}
}

func TestRegistrable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"login.rivm.nl", "rivm.nl"},
		{"rivm.nl", "rivm.nl"},
		{"rivm.nl.", "rivm.nl"},
		{"a.b.example.co.uk", "example.co.uk"},
		{"co.uk", ""},
		{"nl", ""},
		{"foo.duckdns.org", "foo.duckdns.org"},
		{"x.y.unknowntld", "y.unknowntld"},
	} {
		if got := Registrable(tc.in); got != tc.want {
			t.Errorf("Registrable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
