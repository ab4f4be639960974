package intel

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
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

// heapSampler is a writer that records the largest live heap seen at its
// writes: the memory WriteSTIX holds while it streams.
type heapSampler struct{ peak uint64 }

func (h *heapSampler) Write(p []byte) (int, error) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.peak = max(h.peak, m.HeapAlloc)
	return len(p), nil
}

// BenchmarkWriteSTIXPeak reports the live heap while writing bundles of 10k
// and 100k indicators: it should grow with the input slice, not with the
// bundle (about 8 KB of JSON per indicator).
func BenchmarkWriteSTIXPeak(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			inds := many(n)
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			h := &heapSampler{}
			for b.Loop() {
				if err := WriteSTIX(h, inds, STIXOptions{Now: t1}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(h.peak-min(h.peak, base.HeapAlloc))/(1<<20), "peak-extra-heap-MB")
		})
	}
}
