// Package brand holds the organisations ward protects: their brands, the
// official domains of each, other names attackers spell out, extra keywords
// and allowlisted domains; and it reads them from YAML or plain-list files.
package brand

import (
	"fmt"
	"strings"

	"golang.org/x/net/idna"
)

// Brand is one protected brand: usually one organisation's public identity.
type Brand struct {
	// Name is the short display name used in output ("RIVM"). Required in
	// YAML; for plain lists and -brand flags it is the first official domain.
	Name string `json:"name"`
	// Organisation is the organisation's full name. Optional.
	Organisation string `json:"organisation,omitempty"`
	// Domains are the official domains, lower-case ASCII (punycode for
	// IDN). At least one. They, their subdomains and Allowlist never match.
	Domains []string `json:"domains"`
	// Names are other names an attacker may spell out in a domain
	// ("worldhealthorganization"): lower-case letters and digits.
	Names []string `json:"names,omitempty"`
	// Keywords are extra words that strengthen a match when they appear next
	// to a brand token ("coronatest" for RIVM).
	Keywords []string `json:"keywords,omitempty"`
	// Allowlist holds further legitimate domains of the organisation, or
	// unrelated legitimate domains that resemble it; they never match.
	Allowlist []string `json:"allowlist,omitempty"`
}

// Set is an ordered list of brands with unique names.
type Set struct {
	Brands []Brand
}

// NormalizeDomain returns the lower-case ASCII (punycode) form of a domain
// typed by an operator, or an error that says what is wrong with it.
func NormalizeDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if d == "" {
		return "", fmt.Errorf("empty domain")
	}
	if strings.ContainsAny(d, "/:@ \t") {
		return "", fmt.Errorf("%q is not a domain name (give the host only, e.g. rivm.nl)", s)
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid domain name: %v", s, err)
	}
	if !strings.Contains(a, ".") {
		return "", fmt.Errorf("%q has no dot: give a full domain such as %s.nl", s, a)
	}
	return a, nil
}

// validWord reports whether s is a lower-case token of letters, digits and
// hyphens, as names and keywords must be.
func validWord(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Validate checks a brand and normalises its domains in place. The error
// names the field at fault.
func (b *Brand) Validate() error {
	if strings.TrimSpace(b.Name) == "" {
		return fmt.Errorf("brand has no name: set name, e.g. name: RIVM")
	}
	if len(b.Domains) == 0 {
		return fmt.Errorf("brand %s has no domains: list its official domains, e.g. domains: [rivm.nl]", b.Name)
	}
	for i, d := range b.Domains {
		n, err := NormalizeDomain(d)
		if err != nil {
			return fmt.Errorf("brand %s: domains: %v", b.Name, err)
		}
		b.Domains[i] = n
	}
	for i, d := range b.Allowlist {
		n, err := NormalizeDomain(d)
		if err != nil {
			return fmt.Errorf("brand %s: allowlist: %v", b.Name, err)
		}
		b.Allowlist[i] = n
	}
	for i, w := range b.Names {
		w = strings.ToLower(strings.TrimSpace(w))
		if !validWord(w) {
			return fmt.Errorf("brand %s: names: %q must be lower-case letters, digits or hyphens as written in a domain (e.g. worldhealthorganization)", b.Name, w)
		}
		b.Names[i] = w
	}
	for i, w := range b.Keywords {
		w = strings.ToLower(strings.TrimSpace(w))
		if !validWord(w) {
			return fmt.Errorf("brand %s: keywords: %q must be lower-case letters, digits or hyphens", b.Name, w)
		}
		b.Keywords[i] = w
	}
	return nil
}
