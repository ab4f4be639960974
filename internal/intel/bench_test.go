package intel

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// many returns n distinct domain indicators.
func many(n int) []Indicator {
	out := make([]Indicator, n)
	for i := range out {
		out[i] = Indicator{Type: TypeDomain, Value: fmt.Sprintf("covid-%d-rivm.example", i), FirstSeen: t0, LastSeen: t1,
			TLP: TLPGreen, Confidence: 80, Brand: "RIVM"}
	}
	return out
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Parse(TypeURL, "HTTPS://Rivm-Covid19.example:443/login.php?lang=nl#x")
		Parse(TypeDomain, "bücher.example.")
	}
}

func BenchmarkWriteRPZ10k(b *testing.B) {
	inds := many(10_000)
	w, _ := NewWarninglist()
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteRPZ(io.Discard, inds, RPZOptions{Origin: "rpz.example", Warninglist: w}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteSTIX10k(b *testing.B) {
	inds := many(10_000)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteSTIX(io.Discard, inds, STIXOptions{Now: t1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadSTIX10k(b *testing.B) {
	var buf bytes.Buffer
	WriteSTIX(&buf, many(10_000), STIXOptions{Now: t1})
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadSTIXBundle(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
