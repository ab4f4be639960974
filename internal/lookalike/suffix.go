package lookalike

import (
	_ "embed"
	"strings"
	"sync"

	"golang.org/x/net/idna"
)

// The Public Suffix List, embedded; see psl/README.md.
//
//go:embed psl/public_suffix_list.dat
var pslData string

// suffixNode says what the list says of one domain.
type suffixNode uint8

const (
	pslRule      suffixNode = 1 << iota // a rule: the domain is a public suffix
	pslWildcard                         // "*.domain": every child is a public suffix
	pslException                        // "!domain": not a public suffix after all
	pslInner                            // rules exist below it: keep looking
	pslPrivate                          // a rule of the list's private section
)

// suffixTable maps every rule, and every domain that has rules below it, to
// its node flags. Built once, read-only afterwards. A lookup is one table
// access per label, on substrings, without allocation.
var suffixTable = sync.OnceValue(func() *strTable[suffixNode] {
	t := make(map[string]suffixNode, 16000)
	private := suffixNode(0)
	for line := range strings.Lines(pslData) {
		if strings.Contains(line, "===BEGIN PRIVATE DOMAINS===") {
			private = pslPrivate
		}
		rule, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if rule == "" || strings.HasPrefix(rule, "//") {
			continue
		}
		kind := pslRule
		switch {
		case strings.HasPrefix(rule, "!"):
			kind, rule = pslException, rule[1:]
		case strings.HasPrefix(rule, "*."):
			kind, rule = pslWildcard, rule[2:]
		}
		a, err := idna.Lookup.ToASCII(rule)
		if err != nil {
			continue
		}
		t[a] |= kind | private
		for i := strings.IndexByte(a, '.'); i >= 0; i = strings.IndexByte(a, '.') {
			a = a[i+1:]
			t[a] |= pslInner
		}
	}
	return newStrTable(t)
})

// publicSuffix returns the public suffix of a lower-case ASCII name, by the
// list's algorithm: the longest matching rule, wildcards included, unless an
// exception rule matches; a name under no rule has its last label as
// suffix. The result is a suffix of name, possibly name itself.
func publicSuffix(name string) string {
	t := suffixTable()
	start := strings.LastIndexByte(name, '.') + 1 // the implicit "*" rule
	i := len(name)
	parentWild := false
	for {
		dot := strings.LastIndexByte(name[:i], '.')
		n, _ := t.get(name[dot+1:])
		if n&pslException != 0 {
			return name[i+1:]
		}
		if n&pslRule != 0 || parentWild {
			start = dot + 1
		}
		if n&(pslInner|pslWildcard) == 0 || dot < 0 {
			return name[start:]
		}
		parentWild = n&pslWildcard != 0
		i = dot
	}
}

// privateSuffix reports whether suffix is a rule of the list's private
// section (uk.com, duckdns.org): registries run by companies, not by
// governments or ICANN.
func privateSuffix(suffix string) bool {
	n, _ := suffixTable().get(suffix)
	return n&pslPrivate != 0
}

// Registrable returns the registrable domain of a lower-case ASCII name (the
// public suffix and one label more: "login.rivm.nl" → "rivm.nl",
// "a.b.example.co.uk" → "example.co.uk"), by the embedded Public Suffix List
// including its private section. It returns "" when name is itself a public
// suffix or has no label left of one.
func Registrable(name string) string {
	name = strings.TrimSuffix(name, ".")
	suffix := publicSuffix(name)
	if len(suffix) >= len(name) {
		return ""
	}
	rest := name[:len(name)-len(suffix)-1]
	return rest[strings.LastIndexByte(rest, '.')+1:] + "." + suffix
}
