package attach

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// The PDF's text, for the lure and content checks of the message: the
// strings its content streams show (Tj, TJ, ', "), decoded through the
// font's ToUnicode CMap when the font can be found (ISO 32000-1 9.10.3),
// else through the CMap that maps the most of the string's codes, else as
// single-byte WinAnsi. This is a reader for wording, not a layout engine:
// words may run together or split where a PDF positions glyphs one by one.
const (
	pdfMaxText     = 64 << 10 // bytes of text kept from one PDF
	pdfMaxContents = 256      // content streams read for text
	pdfMaxCMaps    = 64       // ToUnicode CMaps parsed
	pdfMaxCMapLen  = 1 << 16  // mappings kept from one CMap
	pdfMaxObjects  = 1 << 14  // object dictionaries indexed
	pdfMaxOperands = 64       // operands kept before an operator
)

// pdfObjects indexes what the text reader needs of the object graph: the
// object dictionaries by object number.
type pdfObjects struct {
	dicts map[int][]byte // object number → dictionary text (bounded)
}

// objAt reads the "N G obj" header whose "obj" keyword starts at i in b,
// returning N. It looks back at most 32 bytes, without a regular
// expression: it runs for every "obj" in the file.
func objAt(b []byte, i int) (int, bool) {
	if i+3 < len(b) && !isPDFSpace(b[i+3]) && !pdfDelim(b[i+3]) {
		return 0, false // "object", "objstm"
	}
	j := i - 1
	digits := func(maxLen int) (int, bool) {
		end := j + 1
		for j >= 0 && i-j < 32 && b[j] >= '0' && b[j] <= '9' {
			j--
		}
		if n := end - (j + 1); n == 0 || n > maxLen {
			return 0, false
		}
		v, err := strconv.Atoi(string(b[j+1 : end]))
		return v, err == nil
	}
	spaces := func() bool {
		k := j
		for j >= 0 && i-j < 32 && isPDFSpace(b[j]) {
			j--
		}
		return j < k
	}
	if !spaces() {
		return 0, false
	}
	if _, ok := digits(5); !ok || !spaces() {
		return 0, false
	}
	n, ok := digits(9)
	if !ok || j >= 0 && !isPDFSpace(b[j]) && !pdfDelim(b[j]) {
		return 0, false
	}
	return n, true
}

// indexObjects records the dictionaries of the objects written in b (the
// file outside streams, or an object stream's objects).
func (o *pdfObjects) indexObjects(b []byte) {
	for p := 0; len(o.dicts) < pdfMaxObjects; {
		i := bytes.Index(b[p:], []byte("obj"))
		if i < 0 {
			return
		}
		i += p
		p = i + 3
		n, ok := objAt(b, i)
		if !ok {
			continue
		}
		body := b[p:min(len(b), p+4096)]
		if e := bytes.Index(body, []byte("endobj")); e >= 0 {
			body = body[:e]
		}
		if e := bytes.Index(body, []byte("stream")); e >= 0 {
			body = body[:e]
		}
		o.dicts[n] = body
	}
}

// indexObjStm records the objects of an object stream (ISO 32000-1
// 7.5.7): data starts with /N pairs of object number and offset from
// /First.
func (o *pdfObjects) indexObjStm(dict, data []byte) {
	n, okn := pdfInt(dict, "N")
	first, okf := pdfInt(dict, "First")
	if !okn || !okf || n <= 0 || first <= 0 || first > len(data) {
		return
	}
	fields := bytes.Fields(data[:first])
	for i := 0; i+1 < len(fields) && i/2 < n && len(o.dicts) < pdfMaxObjects; i += 2 {
		num, err1 := strconv.Atoi(string(fields[i]))
		off, err2 := strconv.Atoi(string(fields[i+1]))
		if err1 != nil || err2 != nil || off < 0 || first+off >= len(data) {
			continue
		}
		body := data[first+off:]
		if i+3 < len(fields) {
			if next, err := strconv.Atoi(string(fields[i+3])); err == nil && next > off && first+next <= len(data) {
				body = data[first+off : first+next]
			}
		}
		o.dicts[num] = body[:min(len(body), 4096)]
	}
}

var (
	objRef       = regexp.MustCompile(`/([^\s/<>\[\]()]{1,64})\s+(\d{1,9})\s+\d{1,5}\s+R\b`)
	leadingRef   = regexp.MustCompile(`^(\d{1,9})\s+\d{1,5}\s+R`)
	toUnicodeRef = regexp.MustCompile(`/ToUnicode\s+(\d{1,9})\s+\d{1,5}\s+R`)
)

// pdfFont is what the text reader knows of a font: its ToUnicode CMap
// (nil: single-byte WinAnsi) and its glyph widths in thousandths of an em
// by code (nil: unknown), with the width of codes not listed.
type pdfFont struct {
	cmap   *pdfCMap
	widths map[uint32]float64
	dw     float64
}

// fonts maps font resource names (/F1) to their fonts, through the /Font
// dictionaries of the resources: each font's /ToUnicode, and its /Widths
// (simple fonts) or its descendant's /W (composite fonts). A name used by
// several pages for different fonts keeps the first.
func (o *pdfObjects) fonts(cmaps map[int]*pdfCMap) map[string]*pdfFont {
	out := map[string]*pdfFont{}
	for _, d := range o.dicts {
		i := bytes.Index(d, []byte("/Font"))
		if i < 0 {
			continue
		}
		rest := d[i+5:]
		rest = bytes.TrimLeft(rest, " \t\r\n")
		var fontDict []byte
		switch {
		case bytes.HasPrefix(rest, []byte("<<")):
			if e := bytes.Index(rest, []byte(">>")); e > 0 {
				fontDict = rest[2:e]
			}
		default:
			// "/Font 12 0 R": the font dictionary is an object of its own.
			if m := leadingRef.FindSubmatch(rest); m != nil {
				if n, err := strconv.Atoi(string(m[1])); err == nil {
					fontDict = o.dicts[n]
				}
			}
		}
		for _, m := range objRef.FindAllSubmatch(fontDict, 256) {
			name := string(m[1])
			if _, seen := out[name]; seen {
				continue
			}
			n, err := strconv.Atoi(string(m[2]))
			if err != nil || o.dicts[n] == nil {
				continue
			}
			f := &pdfFont{cmap: o.toUnicode(n, cmaps)}
			o.widthsOf(f, o.dicts[n])
			out[name] = f
		}
	}
	return out
}

var (
	descendantRef = regexp.MustCompile(`/DescendantFonts\s*\[?\s*(\d{1,9})\s+\d{1,5}\s+R`)
	defaultWidth  = regexp.MustCompile(`/DW\s+(\d{1,5})`)
)

// widthsOf reads a font's glyph widths: /FirstChar and /Widths of a
// simple font, /DW and /W of a composite font's descendant (code = CID,
// as with Identity-H).
func (o *pdfObjects) widthsOf(f *pdfFont, dict []byte) {
	if m := descendantRef.FindSubmatch(dict); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		cid := o.dicts[n]
		f.dw = 1000
		if dm := defaultWidth.FindSubmatch(cid); dm != nil {
			f.dw, _ = strconv.ParseFloat(string(dm[1]), 64)
		}
		arr := o.array(cid, "W")
		if arr == nil {
			return
		}
		f.widths = map[uint32]float64{}
		// c [w1 w2 ...]  or  c_first c_last w
		for i := 0; i < len(arr) && len(f.widths) < pdfMaxCMapLen; {
			switch {
			case i+1 < len(arr) && arr[i].list == nil && arr[i+1].list != nil:
				for k, w := range arr[i+1].list {
					f.widths[uint32(arr[i].num)+uint32(k)] = w
				}
				i += 2
			case i+2 < len(arr) && arr[i].list == nil && arr[i+1].list == nil && arr[i+2].list == nil:
				lo, hi := arr[i].num, arr[i+1].num
				for c := lo; c <= hi && hi-lo < pdfMaxCMapLen && len(f.widths) < pdfMaxCMapLen; c++ {
					f.widths[uint32(c)] = arr[i+2].num
				}
				i += 3
			default:
				i++
			}
		}
		return
	}
	first, ok := pdfInt(dict, "FirstChar")
	arr := o.array(dict, "Widths")
	if !ok || arr == nil || first < 0 {
		return
	}
	f.widths = map[uint32]float64{}
	for k, e := range arr {
		if e.list == nil {
			f.widths[uint32(first+k)] = e.num
		}
	}
}

// arrayItem is a number, or a nested array of numbers.
type arrayItem struct {
	num  float64
	list []float64
}

// array reads the array of numbers under key in dict, direct or through
// an indirect reference ("/Widths 12 0 R"), one level of nesting kept.
func (o *pdfObjects) array(dict []byte, key string) []arrayItem {
	k := []byte("/" + key)
	i := bytes.Index(dict, k)
	for i >= 0 && i+len(k) < len(dict) && !pdfDelim(dict[i+len(k)]) {
		j := bytes.Index(dict[i+len(k):], k)
		if j < 0 {
			return nil
		}
		i += len(k) + j
	}
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(dict[i+len(k):], " \t\r\n")
	if m := leadingRef.FindSubmatch(rest); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		rest = bytes.TrimLeft(o.dicts[n], " \t\r\n")
	}
	if !bytes.HasPrefix(rest, []byte("[")) {
		return nil
	}
	var out []arrayItem
	var inner []float64
	nested := false
	for p := 1; p < len(rest) && len(out) < pdfMaxCMapLen; {
		c := rest[p]
		switch {
		case c == '[':
			nested, inner = true, nil
			p++
		case c == ']':
			if !nested {
				return out
			}
			out = append(out, arrayItem{list: inner})
			nested = false
			p++
		case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
			v, n := pdfNumber(rest[p:])
			e := p + n
			if nested {
				if len(inner) < pdfMaxCMapLen {
					inner = append(inner, v)
				}
			} else {
				out = append(out, arrayItem{num: v})
			}
			p = e
		case isPDFSpace(c):
			p++
		default:
			return out
		}
	}
	return out
}

// toUnicode returns the CMap of font object n.
func (o *pdfObjects) toUnicode(n int, cmaps map[int]*pdfCMap) *pdfCMap {
	m := toUnicodeRef.FindSubmatch(o.dicts[n])
	if m == nil {
		return nil
	}
	c, err := strconv.Atoi(string(m[1]))
	if err != nil {
		return nil
	}
	return cmaps[c]
}

// pdfCMap is a ToUnicode CMap: source codes of width bytes to text.
type pdfCMap struct {
	width int
	m     map[uint32]string
}

// parseCMap reads the code space width and the bfchar and bfrange
// mappings of a ToUnicode CMap.
func parseCMap(b []byte) *pdfCMap {
	c := &pdfCMap{width: 2, m: map[uint32]string{}}
	if i := bytes.Index(b, []byte("begincodespacerange")); i >= 0 {
		if lo, _, ok := hexToken(b[i+19:]); ok && len(lo) >= 1 && len(lo) <= 4 {
			c.width = len(lo)
		}
	}
	for p := 0; p < len(b) && len(c.m) < pdfMaxCMapLen; {
		i := bytes.Index(b[p:], []byte("begin"))
		if i < 0 {
			break
		}
		p += i + 5
		switch {
		case bytes.HasPrefix(b[p:], []byte("bfchar")):
			p += 6
			for len(c.m) < pdfMaxCMapLen {
				src, n, ok := hexToken(b[p:])
				if !ok {
					break
				}
				dst, n2, ok := hexToken(b[p+n:])
				if !ok {
					break
				}
				p += n + n2
				c.m[codeOf(src)] = utf16BE(dst)
			}
		case bytes.HasPrefix(b[p:], []byte("bfrange")):
			p += 7
			for len(c.m) < pdfMaxCMapLen {
				lo, n1, ok1 := hexToken(b[p:])
				hi, n2, ok2 := hexToken(b[p+n1:])
				if !ok1 || !ok2 {
					break
				}
				p += n1 + n2
				from, to := codeOf(lo), codeOf(hi)
				if to < from || to-from > pdfMaxCMapLen {
					break
				}
				rest := bytes.TrimLeft(b[p:], " \t\r\n")
				p += len(b[p:]) - len(rest)
				if bytes.HasPrefix(rest, []byte("[")) {
					// An array of one destination per code.
					p++
					for code := from; code <= to && len(c.m) < pdfMaxCMapLen; code++ {
						dst, n, ok := hexToken(b[p:])
						if !ok {
							break
						}
						p += n
						c.m[code] = utf16BE(dst)
					}
					if e := bytes.IndexByte(b[p:], ']'); e >= 0 {
						p += e + 1
					}
					continue
				}
				dst, n, ok := hexToken(b[p:])
				if !ok {
					break
				}
				p += n
				base := utf16.Decode(utf16Units(dst))
				for code := from; code <= to && len(c.m) < pdfMaxCMapLen; code++ {
					if len(base) == 0 {
						break
					}
					r := append([]rune{}, base...)
					r[len(r)-1] += rune(code - from)
					c.m[code] = string(r)
				}
			}
		}
	}
	return c
}

// hexToken reads the next <hex> token of b (after white space) and
// returns its bytes and the bytes of b it read.
func hexToken(b []byte) ([]byte, int, bool) {
	i := 0
	for i < len(b) && isPDFSpace(b[i]) {
		i++
	}
	if i >= len(b) || b[i] != '<' {
		return nil, 0, false
	}
	if e := bytes.IndexByte(b[i:], '>'); e < 0 || e > 260 {
		return nil, 0, false
	}
	out, n, ok := pdfRawString(b[i:], 130)
	return out, i + n, ok
}

func codeOf(b []byte) uint32 {
	var v uint32
	for _, c := range b[:min(len(b), 4)] {
		v = v<<8 | uint32(c)
	}
	return v
}

func utf16Units(b []byte) []uint16 {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, binary.BigEndian.Uint16(b[i:]))
	}
	return u
}

func utf16BE(b []byte) string { return string(utf16.Decode(utf16Units(b))) }

// decode turns the bytes of a shown string into text with cm, or, with cm
// nil, as WinAnsi. It reports how many codes cm did not map.
func (cm *pdfCMap) decode(b []byte, out *strings.Builder) (missed int) {
	if cm == nil {
		for _, c := range b {
			switch {
			case c == 0:
			case c < 0x80:
				out.WriteByte(c)
			default:
				out.WriteRune(charmap.Windows1252.DecodeByte(c))
			}
		}
		return 0
	}
	for i := 0; i+cm.width <= len(b); i += cm.width {
		if t, ok := cm.m[codeOf(b[i:i+cm.width])]; ok {
			out.WriteString(t)
		} else {
			missed++
		}
	}
	return missed
}

// pdfTextReader gathers the text of a PDF's content streams.
type pdfTextReader struct {
	fonts map[string]*pdfFont // by resource name
	all   []*pdfCMap          // every CMap, for strings whose font is unknown
	out   strings.Builder
}

func (t *pdfTextReader) full() bool { return t.out.Len() >= pdfMaxText }

// show writes a shown string in the current font and returns how far it
// moves the text position, in ems: the glyphs' widths when the font gives
// them, else half an em a glyph.
func (t *pdfTextReader) show(s []byte, font string) float64 {
	if t.full() {
		return 0
	}
	if f, ok := t.fonts[font]; ok {
		f.cmap.decode(s, &t.out)
		width := 1
		if f.cmap != nil {
			width = f.cmap.width
		}
		if f.widths == nil {
			return float64(len(s)/width) / 2
		}
		var ems float64
		for i := 0; i+width <= len(s); i += width {
			w, ok := f.widths[codeOf(s[i:i+width])]
			if !ok {
				w = f.dw
				if w == 0 {
					w = 500
				}
			}
			ems += w / 1000
		}
		return ems
	}
	if len(t.all) == 0 {
		(*pdfCMap)(nil).decode(s, &t.out)
		return float64(len(s)) / 2
	}
	// The font is not known: the CMap that maps most of the codes, if any
	// maps them all; else single-byte text.
	for _, cm := range t.all {
		var sink strings.Builder
		if cm.decode(s, &sink) == 0 && len(s) >= cm.width {
			t.out.WriteString(sink.String())
			return float64(len(s)/cm.width) / 2
		}
	}
	(*pdfCMap)(nil).decode(s, &t.out)
	return float64(len(s)) / 2
}

// read extracts the text of one content stream.
func (t *pdfTextReader) read(b []byte) {
	type operand struct {
		str  []byte
		arr  [][]byte // strings of a TJ array, nil entries for wide gaps
		name string
		num  float64
	}
	var ops []operand
	font := ""
	nl := func() {
		if t.out.Len() > 0 && !strings.HasSuffix(t.out.String(), "\n") {
			t.out.WriteByte('\n')
		}
	}
	// Where text goes, in text space, to tell a new word or line from the
	// next glyph of the same word: the start of the current line, the
	// estimated end of the text shown last (half an em a glyph), and the
	// font size.
	var lineX, lineY, curX, curY float64
	size := 12.0
	nums := func(n int) ([]float64, bool) {
		if len(ops) < n {
			return nil, false
		}
		v := make([]float64, n)
		for i, o := range ops[len(ops)-n:] {
			if o.str != nil || o.arr != nil || o.name != "" {
				return nil, false
			}
			v[i] = o.num
		}
		return v, true
	}
	moveTo := func(x, y float64) {
		switch {
		case y-curY > size/2 || curY-y > size/2:
			nl()
		case x-curX > size/4 || x < curX-2*size:
			t.out.WriteByte(' ')
		}
		lineX, lineY, curX, curY = x, y, x, y
	}
	push := func(o operand) {
		if len(ops) < pdfMaxOperands {
			ops = append(ops, o)
		}
	}

	for p := 0; p < len(b) && !t.full(); {
		c := b[p]
		switch {
		case isPDFSpace(c):
			p++
		case c == '%':
			if e := bytes.IndexAny(b[p:], "\r\n"); e >= 0 {
				p += e
			} else {
				p = len(b)
			}
		case c == '(' || c == '<' && (p+1 >= len(b) || b[p+1] != '<'):
			s, n, ok := pdfRawString(b[p:], 4096)
			if !ok || n == 0 {
				p++
				continue
			}
			push(operand{str: s})
			p += n
		case c == '<': // a dictionary operand ("BDC" properties)
			e := bytes.Index(b[p:], []byte(">>"))
			if e < 0 {
				return
			}
			p += e + 2
		case c == '[':
			var arr [][]byte
			p++
			for p < len(b) && b[p] != ']' && len(arr) < 1024 {
				switch q := b[p]; {
				case q == '(' || q == '<':
					s, n, ok := pdfRawString(b[p:], 4096)
					if !ok || n == 0 {
						p++
						continue
					}
					arr = append(arr, s)
					p += n
				case q == '-' || q == '+' || q == '.' || q >= '0' && q <= '9':
					v, n := pdfNumber(b[p:])
					if v < -250 {
						arr = append(arr, nil) // a gap wide enough to be a space
					}
					p += n
				default:
					p++
				}
			}
			p++
			push(operand{arr: arr})
		case c == '/':
			e := p + 1
			for e < len(b) && !pdfDelim(b[e]) {
				e++
			}
			push(operand{name: string(b[p+1 : e])})
			p = e
		case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
			v, n := pdfNumber(b[p:])
			push(operand{num: v})
			p += n
		default:
			e := p
			for e < len(b) && !isPDFSpace(b[e]) && !pdfDelim(b[e]) && e-p < 16 {
				e++
			}
			if e == p {
				p++
				continue
			}
			op := string(b[p:e])
			p = e
			switch op {
			case "Tf":
				for i := len(ops) - 1; i >= 0; i-- {
					if ops[i].name != "" {
						font = ops[i].name
						break
					}
				}
				if v, ok := nums(1); ok && v[0] > 0 {
					size = v[0]
				}
			case "Tj", "'", "\"":
				if op != "Tj" {
					moveTo(lineX, lineY-size)
				}
				if len(ops) > 0 && ops[len(ops)-1].str != nil {
					curX += t.show(ops[len(ops)-1].str, font) * size
				}
			case "TJ":
				if len(ops) > 0 {
					for _, s := range ops[len(ops)-1].arr {
						if s == nil {
							t.out.WriteByte(' ')
						} else {
							curX += t.show(s, font) * size
						}
					}
				}
			case "BT":
				lineX, lineY = 0, 0
			case "T*":
				moveTo(lineX, lineY-size)
			case "Td", "TD":
				if v, ok := nums(2); ok {
					moveTo(lineX+v[0], lineY+v[1])
				}
			case "Tm":
				if v, ok := nums(6); ok {
					a, d := v[0], v[3]
					if a == 0 {
						a = 1
					}
					if d == 0 {
						d = 1
					}
					moveTo(v[4]/a, v[5]/d)
				}
			case "ID":
				// Inline image data runs to "EI" after white space.
				e := bytes.Index(b[p:], []byte("EI"))
				for e >= 0 && p+e > 0 && !isPDFSpace(b[p+e-1]) {
					n := bytes.Index(b[p+e+2:], []byte("EI"))
					if n < 0 {
						e = -1
						break
					}
					e += 2 + n
				}
				if e < 0 {
					return
				}
				p += e + 2
			}
			ops = ops[:0]
		}
	}
}

// pdfNumber reads a PDF number (ISO 32000-1 7.3.3: a sign, digits, one
// point) at the start of b, which starts with a sign, a point or a digit,
// without allocating. It returns the value and the bytes read (at least
// one).
func pdfNumber(b []byte) (float64, int) {
	i, neg := 0, false
	if b[0] == '-' || b[0] == '+' {
		neg, i = b[0] == '-', 1
	}
	var v, scale float64
	for ; i < len(b) && i < 32; i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			if scale == 0 {
				v = v*10 + float64(c-'0')
			} else {
				v += float64(c-'0') * scale
				scale /= 10
			}
		case c == '.' && scale == 0:
			scale = 0.1
		default:
			goto done
		}
	}
done:
	if neg {
		v = -v
	}
	return v, max(i, 1)
}

// text returns what was read, valid UTF-8, at most pdfMaxText bytes.
func (t *pdfTextReader) text() string {
	s := t.out.String()
	if len(s) > pdfMaxText {
		s = s[:pdfMaxText]
	}
	return strings.ToValidUTF8(s, string(utf8.RuneError))
}
