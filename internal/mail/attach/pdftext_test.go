package attach

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// pdfWith writes a PDF of the given objects (bodies after "N 0 obj"),
// each stream given as dict and data.
type pdfObj struct {
	dict   string
	stream []byte // nil: no stream
}

func pdfOf(objs ...pdfObj) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	for i, o := range objs {
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		if o.stream == nil {
			b.WriteString(o.dict + "\nendobj\n")
			continue
		}
		fmt.Fprintf(&b, "<< %s /Length %d >>\nstream\n", o.dict, len(o.stream))
		b.Write(o.stream)
		b.WriteString("\nendstream\nendobj\n")
	}
	b.WriteString("trailer\n<< /Root 1 0 R >>\n%%EOF\n")
	return b.Bytes()
}

// hexUTF16 writes s as a CMap destination.
func hexUTF16(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, "%04X", r)
	}
	return "<" + b.String() + ">"
}

// identityCMap maps 2-byte codes 1..n to the letters of alphabet, code i
// to alphabet[i-1]: a subset font's CMap.
func identityCMap(alphabet string) []byte {
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	rs := []rune(alphabet)
	fmt.Fprintf(&b, "%d beginbfchar\n", len(rs))
	for i, r := range rs {
		fmt.Fprintf(&b, "<%04X> %s\n", i+1, hexUTF16(string(r)))
	}
	b.WriteString("endbfchar\nendcmap\nend end\n")
	return []byte(b.String())
}

// encodeWith returns the 2-byte codes of s in alphabet, as hex.
func encodeWith(alphabet, s string) string {
	rs := []rune(alphabet)
	var b strings.Builder
	b.WriteByte('<')
	for _, r := range s {
		for i, a := range rs {
			if a == r {
				fmt.Fprintf(&b, "%04X", i+1)
				break
			}
		}
	}
	b.WriteByte('>')
	return b.String()
}

func TestPDFText(t *testing.T) {
	const lure = "Your mailbox is full. Verify your account"
	simple := pdfOf(
		pdfObj{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		pdfObj{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		pdfObj{dict: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"},
		pdfObj{dict: "/Filter /FlateDecode", stream: deflate(t, []byte("BT /F1 12 Tf 72 720 Td ("+lure+") Tj 0 -14 Td [(to k)20(eep)-400(it) ] TJ T* (Caf\\351 \\(open\\)) Tj ET"))},
		pdfObj{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"},
	)
	if got := analyze(t, "notice.pdf", simple).Text; !strings.Contains(got, lure) || !strings.Contains(got, "to keep it") || !strings.Contains(got, "Café (open)") {
		t.Errorf("simple font text: %q", got)
	}

	// Two subset fonts whose codes overlap: only the fonts' own CMaps
	// give the right letters.
	alphaA, alphaB := "Pas wordexpi", "Clicker hn"
	content := "BT /F1 11 Tf 72 700 Td " + encodeWith(alphaA, "Password expires") + " Tj /F2 11 Tf 0 -20 Td [" +
		encodeWith(alphaB, "Click") + " -600 " + encodeWith(alphaB, "here") + "] TJ ET"
	type0 := pdfOf(
		pdfObj{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		pdfObj{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		pdfObj{dict: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R /F2 7 0 R >> >> >>"},
		pdfObj{dict: "/Filter /FlateDecode", stream: deflate(t, []byte(content))},
		pdfObj{dict: "<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 6 0 R >>"},
		pdfObj{dict: "/Filter /FlateDecode", stream: deflate(t, identityCMap(alphaA))},
		pdfObj{dict: "<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 8 0 R >>"},
		pdfObj{dict: "", stream: identityCMap(alphaB)},
	)
	if got := analyze(t, "doc.pdf", type0).Text; !strings.Contains(got, "Password expires") || !strings.Contains(got, "Click here") {
		t.Errorf("Type0 text: %q", got)
	}

	// The font dictionaries (objects 9 and 10) inside an object stream.
	stmContent := strings.NewReplacer("/F1 ", "/F9 ", "/F2 ", "/F10 ").Replace(content)
	objstm := "9 0 10 80 "
	first := len(objstm)
	o9 := "<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 6 0 R >>"
	o10 := "<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 8 0 R >>"
	objstm += o9 + strings.Repeat(" ", 80-len(o9)) + o10
	inStm := pdfOf(
		pdfObj{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		pdfObj{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		pdfObj{dict: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F9 9 0 R /F10 10 0 R >> >> >>"},
		pdfObj{dict: "/Filter /FlateDecode", stream: deflate(t, []byte(stmContent))},
		pdfObj{dict: fmt.Sprintf("/Type /ObjStm /N 2 /First %d /Filter /FlateDecode", first), stream: deflate(t, []byte(objstm))},
		pdfObj{dict: "/Filter /FlateDecode", stream: deflate(t, identityCMap(alphaA))},
		pdfObj{dict: "<< >>"},
		pdfObj{dict: "", stream: identityCMap(alphaB)},
	)
	if got := analyze(t, "stm.pdf", inStm).Text; !strings.Contains(got, "Password expires") || !strings.Contains(got, "Click here") {
		t.Errorf("fonts in an object stream: %q", got)
	}

	// A PDF in a zip: the text comes up with the member.
	z := buildZip(t, zipMember{name: "notice.pdf", data: simple})
	if got := analyze(t, "a.zip", z).Text; !strings.Contains(got, lure) {
		t.Errorf("zip member text: %q", got)
	}
}

// TestPDFTextBounded checks the bound on text and that an inline image's
// binary data is not read as text.
func TestPDFTextBounded(t *testing.T) {
	var c strings.Builder
	c.WriteString("BT /F1 12 Tf ")
	for range 20000 {
		c.WriteString("(lorem ipsum dolor sit amet) Tj T* ")
	}
	c.WriteString("ET BI /W 4 /H 4 /BPC 8 /CS /G ID \x00(Tj)\xff BT (hidden) Tj EI")
	p := pdfOf(pdfObj{dict: "/Filter /FlateDecode", stream: deflate(t, []byte(c.String()))})
	got := analyze(t, "big.pdf", p).Text
	if len(got) > pdfMaxText+8 || !strings.HasPrefix(got, "lorem ipsum") {
		t.Errorf("%d bytes of text, want at most %d", len(got), pdfMaxText)
	}
	img := pdfOf(pdfObj{dict: "", stream: []byte("BT (before) Tj ET BI /W 2 /H 2 ID \x00 BT (inside) Tj ET\x01 EI BT (after) Tj ET")})
	if got := analyze(t, "img.pdf", img).Text; !strings.Contains(got, "before") || !strings.Contains(got, "after") || strings.Contains(got, "inside") {
		t.Errorf("inline image: %q", got)
	}
}

// perGlyph writes text glyph by glyph, each placed with Td by its width
// (size 10), spaces not drawn but added to the next move, as some
// HTML-to-PDF converters do; show writes one glyph.
func perGlyph(text string, width func(r rune) float64, show func(r rune) string) string {
	var b strings.Builder
	b.WriteString("BT /F1 10 Tf 1 0 0 1 50 700 Tm ")
	pending := 0.0
	for _, r := range text {
		if r == ' ' {
			pending += width(' ') / 100
			continue
		}
		if pending > 0 {
			fmt.Fprintf(&b, "%.2f 0 Td ", pending)
			pending = 0
		}
		fmt.Fprintf(&b, "%s Tj ", show(r))
		pending = width(r) / 100
	}
	b.WriteString("ET")
	return b.String()
}

// TestPDFTextWidths checks that glyph widths read from the fonts tell a
// word's wide glyphs from a space: simple fonts (/FirstChar, /Widths
// through a reference) and composite fonts (/W in both forms).
func TestPDFTextWidths(t *testing.T) {
	const text = "Welcome member, confirm your Mailbox"
	width := func(r rune) float64 {
		switch r {
		case ' ':
			return 278
		case 'm', 'M':
			return 833
		case 'W':
			return 944
		case 'i', 'l', ',':
			return 222
		}
		return 556
	}
	var widths strings.Builder
	for c := 32; c < 127; c++ {
		fmt.Fprintf(&widths, "%g ", width(rune(c)))
	}
	simple := pdfOf(
		pdfObj{dict: "<< /Type /Page /Contents 2 0 R /Resources << /Font << /F1 3 0 R >> >> >>"},
		pdfObj{dict: "/Filter /FlateDecode", stream: deflate(t, []byte(perGlyph(text, width, func(r rune) string { return "(" + string(r) + ")" })))},
		pdfObj{dict: "<< /Type /Font /Subtype /TrueType /FirstChar 32 /LastChar 126 /Widths 4 0 R >>"},
		pdfObj{dict: "[" + widths.String() + "]"},
	)
	if got := strings.TrimSpace(analyze(t, "simple.pdf", simple).Text); got != text {
		t.Errorf("simple font: %q, want %q", got, text)
	}

	alphabet := "Welcom b,nfiryuMax"
	var w strings.Builder
	w.WriteString("[")
	for i, r := range alphabet {
		if i < 5 {
			if i == 0 {
				w.WriteString("1 [")
			}
			fmt.Fprintf(&w, "%g ", width(r))
			if i == 4 {
				w.WriteString("] ")
			}
			continue
		}
		fmt.Fprintf(&w, "%d %d %g ", i+1, i+1, width(r))
	}
	w.WriteString("]")
	composite := pdfOf(
		pdfObj{dict: "<< /Type /Page /Contents 2 0 R /Resources << /Font << /F1 3 0 R >> >> >>"},
		pdfObj{dict: "/Filter /FlateDecode", stream: deflate(t, []byte(perGlyph(text, width, func(r rune) string { return encodeWith(alphabet, string(r)) })))},
		pdfObj{dict: "<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 4 0 R >>"},
		pdfObj{dict: "", stream: identityCMap(alphabet)},
		pdfObj{dict: "<< /Type /Font /Subtype /CIDFontType2 /DW 556 /W " + w.String() + " >>"},
	)
	if got := strings.TrimSpace(analyze(t, "composite.pdf", composite).Text); got != text {
		t.Errorf("composite font: %q, want %q", got, text)
	}
}

func TestPDFNumber(t *testing.T) {
	for _, c := range []struct {
		in   string
		v    float64
		read int
	}{{"-12.5 ", -12.5, 5}, {"+.5x", 0.5, 3}, {"300]", 300, 3}, {"1.2.3", 1.2, 3}, {".", 0, 1}, {"-", 0, 1}} {
		if v, n := pdfNumber([]byte(c.in)); v != c.v || n != c.read {
			t.Errorf("%q: %v %d, want %v %d", c.in, v, n, c.v, c.read)
		}
	}
}
