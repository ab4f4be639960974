package lookalike

import (
	"testing"
)

// benchDomains are the domains dnstwist's generation rate was measured on
// (see BENCHMARKS.md): health brands, a subdomain and a multi-label suffix.
var benchDomains = []string{
	"rivm.nl", "who.int", "amsterdamumc.nl", "ggd.nl", "aphp.fr", "nhs.uk",
	"cdc.gov", "example.com", "www.rivm.nl", "bbc.co.uk",
}

// BenchmarkCandidates measures generation with every fuzzer, the built-in
// words and the default TLDs, as "ward lookalikes" runs by default; names/s
// is the figure to compare with dnstwist's. "dnstwist-fuzzers" runs only
// the fuzzers dnstwist has, which make fewer names per domain, most of them
// homoglyphs that need punycode.
//
// On the 2-core development machine (Intel Xeon, Go 1.26):
//
//	go test ./internal/lookalike/ -run '^$' -bench Candidates -benchmem -benchtime 3s
//	default           3.2-3.7M names/s  (270-310 ns/name)
//	all-idn           3.2M names/s
//	dnstwist-fuzzers  2.1-2.2M names/s
//
// dnstwist 20250130's generation alone (Fuzzer.generate, Python 3.11,
// idna 3.3) on the same ten domains made 39,000 names/s (42,000 with
// Python's built-in IDNA codec): ward is 50-95 times faster.
func BenchmarkCandidates(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts GenerateOptions
	}{
		{"default", GenerateOptions{}},
		{"all-idn", GenerateOptions{AllIDN: true}},
		{"dnstwist-fuzzers", GenerateOptions{Fuzzers: []string{
			"addition", "bitsquatting", "cyrillic", "homoglyph", "hyphenation", "insertion", "omission",
			"plural", "repetition", "replacement", "subdomain", "transposition", "vowel-swap", "various"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g, err := NewGenerator(bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			names := 0
			for b.Loop() {
				for _, d := range benchDomains {
					seq, err := g.Candidates(d)
					if err != nil {
						b.Fatal(err)
					}
					for range seq {
						names++
					}
				}
			}
			b.ReportMetric(float64(names)/b.Elapsed().Seconds(), "names/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(names), "ns/name")
		})
	}
}
