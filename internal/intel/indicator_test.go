package intel

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		typ     Type
		in      string
		want    string
		wantErr string // substring of the error; "" means success
	}{
		{TypeDomain, "Evil.Example.ORG.", "evil.example.org", ""},
		{TypeDomain, "  rivm-covid.nl  ", "rivm-covid.nl", ""},
		{TypeDomain, "rivm[.]nl", "rivm.nl", ""},
		{TypeDomain, "bücher.example", "xn--bcher-kva.example", ""},
		{TypeDomain, "ΡΙΒΜ.com", "xn--nxankr.com", ""},
		{TypeDomain, "_dmarc.example.org", "_dmarc.example.org", ""},
		{TypeDomain, "localhost", "", "single label"},
		{TypeDomain, "http://evil.example/", "", "use type url"},
		{TypeDomain, "a@evil.example", "", "use type email"},
		{TypeDomain, "*.evil.example", "", "wildcard"},
		{TypeDomain, "1.2.3.4", "", "use type ip"},
		{TypeDomain, "evil..example", "", "empty label"},
		{TypeDomain, "-evil.example", "", "hyphen"},
		{TypeDomain, strings.Repeat("a", 64) + ".example", "", "limit 63"},
		{TypeDomain, "evil.example\n$ORIGIN attacker.", "", "character"},
		{TypeDomain, "evil example.org", "", "character"},
		{TypeDomain, "evil.123", "", "numeric"},
		{TypeURL, "HTTPS://Evil.Example:443/login?x=1#frag", "https://evil.example/login?x=1", ""},
		{TypeURL, "hxxp://evil[.]example", "http://evil.example/", ""},
		{TypeURL, "http://evil.example:8080", "http://evil.example:8080/", ""},
		{TypeURL, "http://[2001:DB8::1]/x", "http://[2001:db8::1]/x", ""},
		{TypeURL, "http://bücher.example/ä", "http://xn--bcher-kva.example/%C3%A4", ""},
		{TypeURL, "evil.example/login", "", "no scheme"},
		{TypeURL, "javascript:alert(1)", "", "scheme"},
		{TypeURL, "http://evil.example:99999/", "", "port"},
		{TypeURL, "http:///path", "", "no host"},
		{TypeIP, "192.0.2.1", "192.0.2.1", ""},
		{TypeIP, "2001:0DB8:0000::0001", "2001:db8::1", ""},
		{TypeIP, "::ffff:192.0.2.1", "192.0.2.1", ""},
		{TypeIP, "[2001:db8::1]", "2001:db8::1", ""},
		{TypeIP, "192.0.2.0/24", "", "network"},
		{TypeIP, "fe80::1%eth0", "", "zone"},
		{TypeIP, "192.0.2.256", "", "not an IP"},
		{TypeEmail, "CEO@RIVM-Covid.NL", "ceo@rivm-covid.nl", ""},
		{TypeEmail, "ceo[@]evil[.]example", "ceo@evil.example", ""},
		{TypeEmail, "a\"b@evil.example", "", "quoted"},
		{TypeEmail, "@evil.example", "", "not an e-mail"},
		{TypeSHA256, strings.Repeat("AB", 32), strings.Repeat("ab", 32), ""},
		{TypeSHA1, strings.Repeat("0", 40), strings.Repeat("0", 40), ""},
		{TypeMD5, "0749BAE92CA336A02C83D126E04EC628", "0749bae92ca336a02c83d126e04ec628", ""},
		{TypeMD5, "0749bae92ca336a02c83d126e04ec62", "", "32 hex"},
		{TypeSHA256, strings.Repeat("g", 64), "", "64 hex"},
		{TypeFilename, "CORONAVIRUS_COVID-19.vbs", "CORONAVIRUS_COVID-19.vbs", ""},
		{TypeFilename, "C:\\Users\\x.exe", "", "directory"},
		{TypeFilename, "a\nb.exe", "", "control"},
		{TypeFilename, "invoice\u202egpj.exe", "", "invisible"},
		{"cidr", "x", "", "unknown indicator type"},
		{TypeDomain, "", "", "empty"},
		{TypeURL, "http://e.example/" + strings.Repeat("a", MaxValueLen), "", "too long"},
		{TypeDomain, "\xff.example", "", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.in, func(t *testing.T) {
			got, err := Parse(tt.typ, tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q, %q) = %q, %v; want an error with %q", tt.typ, tt.in, got.Value, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", tt.typ, tt.in, err)
			}
			if got.Value != tt.want || got.Type != tt.typ {
				t.Errorf("Parse(%q, %q) = %s %q, want %q", tt.typ, tt.in, got.Type, got.Value, tt.want)
			}
			// A normalised value parses to itself.
			again, err := Parse(tt.typ, got.Value)
			if err != nil || again.Value != got.Value {
				t.Errorf("Parse is not idempotent: %q → %q, %v", got.Value, again.Value, err)
			}
		})
	}
}

func TestGuess(t *testing.T) {
	tests := []struct {
		in   string
		typ  Type
		want string
	}{
		{"evil.example", TypeDomain, "evil.example"},
		{"https://evil.example/x", TypeURL, "https://evil.example/x"},
		{"hxxps://evil[.]example/x", TypeURL, "https://evil.example/x"},
		{"ceo@evil.example", TypeEmail, "ceo@evil.example"},
		{"2001:db8::1", TypeIP, "2001:db8::1"},
		{"198.51.100.7", TypeIP, "198.51.100.7"},
		{strings.Repeat("a", 32), TypeMD5, strings.Repeat("a", 32)},
		{strings.Repeat("b", 40), TypeSHA1, strings.Repeat("b", 40)},
		{strings.Repeat("C", 64), TypeSHA256, strings.Repeat("c", 64)},
		{"CORONAVIRUS_COVID-19.vbs", TypeFilename, "CORONAVIRUS_COVID-19.vbs"},
		{"lure.zip", TypeDomain, "lure.zip"}, // .zip is a top-level domain
	}
	for _, tt := range tests {
		got, err := Guess(tt.in)
		if err != nil || got.Type != tt.typ || got.Value != tt.want {
			t.Errorf("Guess(%q) = %s %q, %v; want %s %q", tt.in, got.Type, got.Value, err, tt.typ, tt.want)
		}
	}
	if _, err := Guess("not a thing at all"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Guess of a sentence: %v, want ErrInvalid", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Indicator{Type: TypeDomain, Value: "evil.example", Confidence: 80, TLP: TLPGreen, Scope: ScopeShared}
	if err := Validate(ok); err != nil {
		t.Fatalf("Validate(%+v): %v", ok, err)
	}
	bad := []Indicator{
		{Type: TypeDomain, Value: "Evil.example"},
		{Type: TypeDomain, Value: "evil.example", Confidence: 101},
		{Type: TypeDomain, Value: "evil.example", TLP: "white"},
		{Type: TypeDomain, Value: "evil.example", Scope: "public"},
		{Type: TypeDomain, Value: "evil.example", Brand: strings.Repeat("x", MaxTextLen+1)},
	}
	for _, in := range bad {
		if err := Validate(in); err == nil {
			t.Errorf("Validate(%+v) passed, want an error", in)
		}
	}
}
