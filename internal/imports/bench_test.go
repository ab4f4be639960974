package imports

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/intel"
)

// list100k is a list of 100,000 domains, URLs and IP addresses.
func list100k() string {
	var b strings.Builder
	b.WriteString("# 100,000 indicators\n")
	for i := range 100_000 {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "https://login-%d.phish.example/owa/\n", i)
		case 1:
			fmt.Fprintf(&b, "198.51.%d.%d\n", i/256%256, i%256)
		default:
			fmt.Fprintf(&b, "rivm-covid-%d.example\n", i)
		}
	}
	return b.String()
}

// BenchmarkFetchList100k fetches a 100,000-line list over loopback HTTP
// and reads it into indicators.
func BenchmarkFetchList100k(b *testing.B) {
	body := list100k()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	f := &Fetcher{}
	src := Source{Name: "bench", URL: srv.URL, Format: FormatList}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		up, _, err := f.Fetch(context.Background(), src, State{})
		if err != nil {
			b.Fatal(err)
		}
		if len(up.Indicators) != 100_000 {
			b.Fatalf("%d indicators", len(up.Indicators))
		}
	}
}

// BenchmarkTAXIIPages fetches 10,000 indicators from the TAXII stub in
// pages of 1,000.
func BenchmarkTAXIIPages(b *testing.B) {
	s := &taxiiStub{token: "t"}
	s.srv = httptest.NewServer(s)
	defer s.srv.Close()
	inds := make([]intel.Indicator, 0, 10_000)
	for i := range 10_000 {
		inds = append(inds, ind(intel.TypeDomain, fmt.Sprintf("rivm-covid-%d.example", i), "", 12))
	}
	s.add(stixObjects(b, inds...)...)
	f := &Fetcher{}
	src := Source{Name: "bench", URL: s.srv.URL, Format: FormatTAXII, Collection: "c-health", Token: "t", PageSize: 1000}
	for b.Loop() {
		up, _, err := f.Fetch(context.Background(), src, State{})
		if err != nil {
			b.Fatal(err)
		}
		if len(up.Indicators) != 10_000 {
			b.Fatalf("%d indicators", len(up.Indicators))
		}
	}
}
