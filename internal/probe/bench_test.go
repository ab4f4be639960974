package probe

import (
	"bytes"
	"os"
	"testing"
	"time"
)

var testTime = time.Date(2020, 3, 14, 0, 0, 0, 0, time.UTC)

// bigPage is a 2 MiB page: the brand page repeated, as a kit that pads its
// page to hide from scanners might serve.
func bigPage(b *testing.B) []byte {
	page, err := os.ReadFile("testdata/pages/brand.html")
	if err != nil {
		b.Fatal(err)
	}
	return bytes.Repeat(page, 2<<20/len(page)+1)[:2<<20]
}

func BenchmarkExtractContent2MiB(b *testing.B) {
	page := bigPage(b)
	ref := &Reference{Names: []string{"rivm"}, Domains: []string{"rivm.nl"}}
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		ExtractContent(page, "https://rivm-test.example/", ref)
	}
}

func BenchmarkSimHash(b *testing.B) {
	var h uint64 = 1
	b.ReportAllocs()
	for b.Loop() {
		var s simhasher
		for range 1000 {
			h = h*6364136223846793005 + 1442695040888963407
			s.add(h)
		}
		_ = s.sum()
	}
}

func BenchmarkFaviconHash(b *testing.B) {
	icon := bytes.Repeat([]byte{1, 2, 3, 4}, 4<<10) // 16 KiB
	b.SetBytes(int64(len(icon)))
	b.ReportAllocs()
	for b.Loop() {
		FaviconHash(icon)
	}
}
