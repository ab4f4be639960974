package lookalike

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/ward-health/ward/examples"
	"github.com/ward-health/ward/internal/brand"
)

// syllables build pronounceable synthetic brand and host names.
var syllables = []string{"ka", "ro", "mi", "ne", "sta", "ver", "lin", "do", "ga", "the", "bor",
	"ze", "pha", "qui", "lo", "tra", "mun", "sel", "vi", "an", "ber", "cor", "dal", "fen", "hus"}

var benchTLDs = []string{"nl", "de", "fr", "org", "com", "co.uk", "be", "es", "it", "ch", "eu", "net", "io"}

func synthLabel(r *rand.Rand, parts int) string {
	s := ""
	for range parts {
		s += syllables[r.IntN(len(syllables))]
	}
	return s
}

// benchBrands returns the health brand set plus synthetic brands up to n.
func benchBrands(tb testing.TB, n int) *brand.Set {
	set, err := brand.Parse("brands-health.yaml", examples.HealthBrands)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for len(set.Brands) < n {
		l := synthLabel(r, 2+r.IntN(3))
		if seen[l] {
			continue
		}
		seen[l] = true
		d := l + "." + benchTLDs[r.IntN(len(benchTLDs))]
		set.Brands = append(set.Brands, brand.Brand{Name: fmt.Sprint("B", len(set.Brands)), Domains: []string{d},
			Names: []string{l + "hospital"}})
	}
	return set
}

// ctNames returns realistic certificate names: the Umbrella top list when
// ../shared/data is present, else synthetic names shaped like CT SANs.
func ctNames(tb testing.TB) (names []string, source string) {
	f, err := os.Open("../../../shared/data/domains/benign/umbrella-top-100k.txt")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			names = append(names, sc.Text())
		}
		return names, "umbrella"
	}
	r := rand.New(rand.NewPCG(3, 4))
	prefixes := []string{"", "www.", "mail.", "*.", "api.", "autodiscover.", "cpanel.", "webmail.", "shop.", "cdn-1."}
	for range 100000 {
		n := prefixes[r.IntN(len(prefixes))] + synthLabel(r, 1+r.IntN(4))
		if r.IntN(4) == 0 {
			n += "-" + synthLabel(r, 1+r.IntN(2))
		}
		names = append(names, n+"."+benchTLDs[r.IntN(len(benchTLDs))])
	}
	return names, "synthetic"
}

// BenchmarkMatch measures names per second against 1,000 brands, the issue's
// target being 1,000,000 names/s on one core.
func BenchmarkMatch(b *testing.B) {
	m, err := NewMatcher(benchBrands(b, 1000))
	if err != nil {
		b.Fatal(err)
	}
	names, src := ctNames(b)
	b.Logf("names: %d from %s", len(names), src)
	b.ReportAllocs()
	b.ResetTimer()
	matches := 0
	for i := 0; b.Loop(); i++ {
		if _, ok, _ := m.Match(names[i%len(names)]); ok {
			matches++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "names/s")
}

// BenchmarkNewMatcher measures building the index for 1,000 brands and
// reports the heap it holds (target: at most 200 MB).
func BenchmarkNewMatcher(b *testing.B) {
	set := benchBrands(b, 1000)
	var m *Matcher
	for b.Loop() {
		var err error
		m, err = NewMatcher(set)
		if err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m2, _ := NewMatcher(set)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m2)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "index-MB")
	_ = m
}
