package office

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// seedFiles adds every fixture in testdata to the corpus.
func seedFiles(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecompress checks that the MS-OVBA decompressor never panics and
// never returns more than its limit.
func FuzzDecompress(f *testing.F) {
	f.Add(hexBytes(f, `01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E`))
	f.Add(hexBytes(f, `01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B
		6C 00 30 6D 6E 6F 70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C`))
	f.Add([]byte{0x01, 0xFF, 0xBF, 0xFF, 0xFF, 0xFF})
	const max = 1 << 16
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := decompress(in, max)
		if len(out) > max {
			t.Fatalf("output %d bytes over the %d limit", len(out), max)
		}
		if errors.Is(err, ErrOutputLimit) && len(out) == 0 {
			t.Fatalf("output limit reported with no output")
		}
	})
}

// FuzzAnalyze checks that Analyze never panics and keeps its bounds on
// any input, seeded with the real samples and built cases.
func FuzzAnalyze(f *testing.F) {
	seedFiles(f)
	f.Add([]byte(`{\rtf1{\object{\*\objclass Package}{\objdata ` + ole1("Package", packageNative("a.vbs", []byte("x"))) + `}}}`))
	f.Add([]byte(`{\rtf1{\object{\objdata ` + ole1("OLE2Link", utf16le("http://x.example/a")) + `}}}`))
	f.Add(buildZip(f, map[string]string{
		"word/_rels/settings.xml.rels": rels(`<Relationship Id="r" Type="` + relsNS + `/attachedTemplate" Target="http://x/t" TargetMode="External"/>`),
		"word/document.xml":            `<w:document xmlns:w="w"><w:fldSimple w:instr="DDEAUTO cmd"/></w:document>`,
	}))
	lim := Limits{MaxStream: 1 << 20, MaxTotal: 4 << 20, MaxModules: 16, MaxEmbedded: 4}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Analyze(context.Background(), data, lim)
		if len(r.Embedded) > lim.MaxEmbedded {
			t.Fatalf("%d embedded objects over the limit %d", len(r.Embedded), lim.MaxEmbedded)
		}
		if len(r.Modules) > lim.MaxModules {
			t.Fatalf("%d modules over the limit %d", len(r.Modules), lim.MaxModules)
		}
		if len(r.Errors) > maxErrors || len(r.URLs) > maxURLs {
			t.Fatalf("%d errors, %d URLs: over their bounds", len(r.Errors), len(r.URLs))
		}
		if r.Format == "" && len(r.Findings) != 0 {
			t.Fatalf("findings on a non-Office input: %+v", r.Findings)
		}
	})
}

// BenchmarkAnalyze measures Analyze on each sample in testdata.
func BenchmarkAnalyze(b *testing.B) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) == ".md" || filepath.Ext(e.Name()) == ".txt" || filepath.Ext(e.Name()) == ".json" {
			continue
		}
		data := readTestdata(b, e.Name())
		b.Run(e.Name(), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				Analyze(context.Background(), data, Limits{})
			}
		})
	}
}

// BenchmarkDecompress measures the MS-OVBA decompressor on a module.
func BenchmarkDecompress(b *testing.B) {
	r := Analyze(context.Background(), readTestdata(b, "xlswithmacro.xlsm"), Limits{})
	if len(r.Modules) == 0 {
		b.Fatal("no module")
	}
	// Build a container of raw chunks from real code so that the
	// benchmark does not depend on a compressor.
	code := []byte(r.Modules[0].Code)
	var in []byte
	in = append(in, 0x01)
	for len(code) > 0 {
		n := min(len(code), chunkMax)
		chunk := make([]byte, chunkMax)
		copy(chunk, code[:n])
		in = append(in, 0xFF, 0x3F)
		in = append(in, chunk...)
		code = code[n:]
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decompress(in, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}
