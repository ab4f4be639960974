package attach

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"unicode/utf8"

	"github.com/ward-health/ward/internal/mail/finding"
)

// fuzzLimits keep each fuzz input cheap while still reaching every limit.
var fuzzLimits = Limits{MaxDepth: 4, MaxFiles: 64, MaxFileSize: 1 << 20, MaxTotal: 4 << 20, MaxRatio: 100}

// checkReport asserts what must hold for any input.
func checkReport(t *testing.T, r Report, data []byte, lim Limits) {
	t.Helper()
	if r.Size != int64(len(data)) || len(r.SHA256) != 64 {
		t.Fatalf("size %d/%d sha %q", r.Size, len(data), r.SHA256)
	}
	if n := countMembers(r); n > lim.MaxFiles {
		t.Fatalf("%d members, limit %d", n, lim.MaxFiles)
	}
	if len(r.Text) > pdfMaxText+len("\n…") || !utf8.ValidString(r.Text) {
		t.Fatalf("text of %d bytes (valid UTF-8: %v)", len(r.Text), utf8.ValidString(r.Text))
	}
	var walk func(Report, int)
	walk = func(r Report, depth int) {
		if depth > lim.MaxDepth+1 {
			t.Fatalf("members nested %d deep, limit %d", depth, lim.MaxDepth)
		}
		for _, f := range r.Findings {
			if f.Signal == "" || f.Class > finding.Limit {
				t.Fatalf("bad finding %+v", f)
			}
		}
		for _, m := range r.Members {
			walk(m, depth+1)
		}
	}
	walk(r, 0)
}

// seeds returns the fixtures of the unit tests, for the fuzzers' corpora.
func seeds(f *testing.F) [][]byte {
	out := [][]byte{
		minimalPE(false), lnkFile(), vbsDropper(), smugglingPage(f), []byte(loginPage),
		buildZip(f, zipMember{name: "a.exe", data: minimalPE(false)}, zipMember{name: "../b.txt", data: []byte("x"), store: true}),
		buildZip(f, zipMember{name: "a.exe", data: minimalPE(false), password: "pw"}),
		buildZip(f, zipMember{name: "a.exe", data: []byte("hello"), password: "pw", aes: 1}),
		nestedZip(f, zipMember{name: "deep.js", data: []byte("var a")}, 3),
		gzipOf("x.tar", tarOf(map[string][]byte{"a": []byte("a")}, "a")),
		buildISO(isoFile{"A.EXE;1", minimalPE(false)}),
		rar4Fixture("a.exe"), rar5Fixture("b.js"),
		pdfDoc(`<< /OpenAction << /S /JavaScript /JS (x) >> >>`, flateStream("/Type /EmbeddedFile", minimalPE(false))),
		pdfDoc(`<< /S /J#61vaScript /URI (https://x.example/) >>`, flateStream("/Type /ObjStm", []byte("<< /Launch /F (cmd.exe) >>"))),
	}
	if b, err := os.ReadFile("testdata/zipcrypto.zip"); err == nil {
		out = append(out, b)
	}
	return out
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add("attachment.bin", s)
	}
	f.Add("a.pdf.exe", []byte("MZ"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		r := Analyze(context.Background(), Attachment{Name: name, Data: data, Passwords: []string{"pw"}}, fuzzLimits)
		checkReport(t, r, data, fuzzLimits)
	})
}

func FuzzZip(f *testing.F) {
	for _, s := range seeds(f) {
		if bytes.HasPrefix(s, []byte("PK")) {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		zd := readZipDir(data, 16)
		if len(zd.entries) > 16 {
			t.Fatalf("%d entries, asked for 16", len(zd.entries))
		}
		for i := range zd.entries {
			zd.entries[i].raw(data)
		}
		z := &analyzer{ctx: context.Background(), lim: fuzzLimits.withDefaults(), passwords: []string{"pw"}}
		r := Report{Name: "x.zip", Type: "zip"}
		z.zip(&r, data, zd, 0, "x.zip")
		if countMembers(r) > fuzzLimits.MaxFiles {
			t.Fatalf("too many members")
		}
	})
}

func FuzzPDF(f *testing.F) {
	for _, s := range seeds(f) {
		if bytes.HasPrefix(s, []byte("%PDF")) {
			f.Add(s)
		}
	}
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Filter /FlateDecode >> stream\r\nxx"))
	gray, w, h := qrGray(f)
	f.Add(imagePDF(fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /DecodeParms << /Predictor 15 /Columns %d >>", w, h, w), deflate(f, gray)))
	f.Add(imagePDF("/Width 8 /Height 8 /ImageMask true /Filter /FlateDecode", deflate(f, make([]byte, 8))))
	f.Add(pdfOf(
		pdfObj{dict: "<< /Type /Page /Resources << /Font << /F1 2 0 R >> >> >>"},
		pdfObj{dict: "<< /Type /Font /Subtype /Type0 /ToUnicode 3 0 R >>"},
		pdfObj{dict: "", stream: identityCMap("Verify acount")},
		pdfObj{dict: "", stream: []byte("BT /F1 9 Tf 1 0 0 1 72 700 Tm [" + encodeWith("Verify acount", "Verify account") + " -300 (x)] TJ T* (y) ' ET BI /W 1 ID \x00 EI")},
	))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := append([]byte("%PDF-1.7\n"), data...)
		r := Analyze(context.Background(), Attachment{Name: "a.pdf", Data: d}, fuzzLimits)
		if r.Type != "pdf" {
			t.Fatalf("type %q", r.Type)
		}
		checkReport(t, r, d, fuzzLimits)
	})
}

// benchAttachment builds a ~25 MB zip of mixed members: PDFs with
// compressed streams, programs (incompressible), scripts, HTML, a nested
// zip and plain text, the kind of attachment set the analyser must get
// through in well under two seconds.
func benchAttachment(b *testing.B) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		return p
	}
	var ms []zipMember
	for i := 0; i < 8; i++ {
		pe := append(minimalPE(false), random(2<<20)...)
		ms = append(ms, zipMember{name: fmt.Sprintf("bin/tool%d.exe", i), data: pe})
	}
	for i := 0; i < 8; i++ {
		text := bytes.Repeat([]byte(fmt.Sprintf("Page %d of the infection control report; see https://intranet.example.org/r/%d for details.\n", i, i)), 8000)
		content := append(random(512<<10), text...)
		ms = append(ms, zipMember{name: fmt.Sprintf("docs/report%d.pdf", i), data: pdfDoc(`<< /Type /Catalog >>`, flateStream("", content), `<< /URI (https://example.org/) >>`)})
	}
	for i := 0; i < 4; i++ {
		ms = append(ms, zipMember{name: fmt.Sprintf("scripts/s%d.vbs", i), data: vbsDropper()})
		ms = append(ms, zipMember{name: fmt.Sprintf("web/p%d.html", i), data: append(smugglingPage(b), bytes.Repeat([]byte("<p>filler text for the page</p>\n"), 20000)...)})
	}
	ms = append(ms, zipMember{name: "inner.zip", data: buildZip(b, zipMember{name: "notes.txt", data: bytes.Repeat([]byte("notes "), 200000)}, zipMember{name: "noise.bin", data: random(4 << 20)})})
	return buildZip(b, ms...)
}

func BenchmarkAnalyze(b *testing.B) {
	data := benchAttachment(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := Analyze(context.Background(), Attachment{Name: "set.zip", Data: data}, Limits{})
		if len(r.Members) == 0 || r.Limit != "" {
			b.Fatalf("members %d limit %q", len(r.Members), r.Limit)
		}
	}
}

// BenchmarkHostile measures inputs built to make a careless parser slow:
// each must stay linear in its size.
func BenchmarkHostile(b *testing.B) {
	iso := buildISO(isoFile{"A.TXT;1", []byte("a")})
	// A root directory that claims the whole image and is full of
	// 34-byte records for subdirectories pointing at itself.
	dir := make([]byte, 34)
	dir[0] = 34
	dir[25] = 2
	dir[32] = 1
	dir[33] = 'D'
	binary.LittleEndian.PutUint32(dir[2:], 18)
	binary.LittleEndian.PutUint32(dir[10:], 8<<20)
	bigISO := append(iso[:18*2048:18*2048], bytes.Repeat(dir, (8<<20)/34)...)
	binary.LittleEndian.PutUint32(bigISO[16*2048+156+10:], 8<<20)
	var many []zipMember
	for i := 0; i < 20000; i++ {
		many = append(many, zipMember{name: fmt.Sprintf("%d.txt", i), data: []byte("x"), store: true})
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"pdf-unclosed-strings", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("/F("), 3<<20)...)},
		{"pdf-stream-words", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("stream\nendstream "), 1<<19)...)},
		{"iso-self-referencing-dirs", bigISO},
		{"zip-20000-members", buildZip(b, many...)},
		{"text-many-markers", bytes.Repeat([]byte("TVqQ!4d5a90 http:/ "), 1<<19)},
		{"html-many-tags", bytes.Repeat([]byte("<a href=http://x.example/ download><input type=password>"), 1<<17)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				Analyze(context.Background(), Attachment{Name: "x", Data: c.data}, Limits{})
			}
		})
	}
}
