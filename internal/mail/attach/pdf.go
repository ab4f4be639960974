package attach

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/ward-health/ward/internal/mail/finding"
)

// The PDF scanner does not parse the object graph: it reads name tokens
// (ISO 32000-1 7.3.5, with #xx escapes decoded), the string after the keys
// it cares about (7.3.4), and the streams (7.3.8), inflating FlateDecode
// ones so that object streams (7.5.7) and embedded files are seen too.
// That is enough to find actions and embedded files however the file is
// laid out, and it tolerates the broken cross-reference tables that
// attackers leave to confuse stricter parsers.
const (
	pdfMaxStreams   = 2000     // streams looked at
	pdfMaxStream    = 16 << 20 // bytes inflated from one stream
	pdfMaxStrings   = 1000     // strings (URIs, file names) kept
	pdfMaxEmbedded  = 64       // embedded files analysed
	pdfStreamWindow = 4096     // bytes before "stream" searched for its dictionary
)

// pdfScan is what the scanner collected.
type pdfScan struct {
	names      map[string]int // name → occurrences
	obfuscated map[string]bool
	uris       []string
	files      []string // /F and /UF strings: file names and launch targets
	params     []string // /P strings: launch parameters
	embedded   [][]byte
	images     []pdfImage
	objs       pdfObjects
	cmaps      map[int]*pdfCMap // ToUnicode CMaps by object number
	cmapOrder  []*pdfCMap
	contents   [][]byte // content streams, for the text
	errs       []string
	streams    int
	inflated   int64
}

// pdfKeys are the names whose #xx-escaped spelling counts as obfuscation.
var pdfKeys = map[string]bool{"JavaScript": true, "JS": true, "Launch": true, "OpenAction": true, "AA": true,
	"EmbeddedFile": true, "URI": true, "SubmitForm": true, "RichMedia": true, "XFA": true, "Encrypt": true, "ObjStm": true}

func (z *analyzer) pdf(r *Report, d []byte, depth int, here string) {
	s := &pdfScan{names: map[string]int{}, obfuscated: map[string]bool{}}
	// Names are read outside stream bodies only: compressed data holds
	// random bytes that would now and then spell "/JS".
	s.objs = pdfObjects{dicts: map[int][]byte{}}
	s.cmaps = map[int]*pdfCMap{}
	bodies := s.streamsIn(z, r, d, here)
	p := 0
	for _, b := range bodies {
		s.scan(d[p:b[0]])
		s.objs.indexObjects(d[p:b[0]])
		p = b[1]
	}
	s.scan(d[p:])
	s.objs.indexObjects(d[p:])
	r.Text = s.text()
	for _, e := range s.errs {
		addError(r, e)
	}
	for _, u := range s.uris {
		addURL(r, u)
	}
	z.pdfImages(r, s, here)
	has := func(n string) bool { return s.names[n] > 0 }
	js := has("JavaScript") || has("JS")
	auto := has("OpenAction") || has("AA")
	if len(s.obfuscated) > 0 {
		var keys []string
		for _, k := range []string{"JavaScript", "JS", "Launch", "OpenAction", "AA", "EmbeddedFile", "URI", "SubmitForm", "RichMedia", "XFA", "Encrypt", "ObjStm"} {
			if s.obfuscated[k] {
				keys = append(keys, "/"+k)
			}
		}
		add(r, "pdf_obfuscated_names", finding.Weak, 3, fmt.Sprintf("%s spells %s with #xx escapes, a trick to hide them from scanners", here, strings.Join(keys, ", ")))
	}
	switch {
	case js && auto:
		add(r, "pdf_javascript", finding.Weak, 7, fmt.Sprintf("%s runs JavaScript when it is opened (/OpenAction or /AA)", here))
	case js:
		add(r, "pdf_javascript", finding.Weak, 5, fmt.Sprintf("%s contains JavaScript", here))
	case auto:
		add(r, "pdf_auto_action", finding.Weak, 1, fmt.Sprintf("%s has an action that runs when it is opened", here))
	}
	launchTarget := ""
	if has("Launch") {
		for _, f := range append(append([]string{}, s.files...), s.params...) {
			l := lower(f)
			if dangerousExt[extension(l)].class == finding.Malware && dangerousExt[extension(l)].score > 0 ||
				strings.Contains(l, "cmd") || strings.Contains(l, "powershell") || strings.Contains(l, "mshta") || strings.Contains(l, "wscript") {
				launchTarget = f
				break
			}
		}
		if launchTarget != "" {
			add(r, "pdf_launch", finding.Malware, 10, fmt.Sprintf("%s has a /Launch action that starts %q", here, clip(launchTarget, 120)))
		} else {
			add(r, "pdf_launch", finding.Weak, 6, fmt.Sprintf("%s has a /Launch action that starts a program or opens a file", here))
		}
	}
	if has("SubmitForm") {
		add(r, "pdf_submit_form", finding.Weak, 3, fmt.Sprintf("%s has a form that submits its fields to a server", here))
	}
	if has("RichMedia") {
		add(r, "pdf_richmedia", finding.Weak, 2, fmt.Sprintf("%s embeds rich media (Flash or video)", here))
	}
	if has("XFA") {
		add(r, "pdf_xfa", finding.Weak, 2, fmt.Sprintf("%s contains an XFA form (scriptable XML form)", here))
	}
	if has("Encrypt") {
		add(r, "pdf_encrypted", finding.Weak, 2, fmt.Sprintf("%s is encrypted: its streams could not be examined", here))
	}
	var fileNames []string
	for _, f := range s.files {
		if strings.Contains(f, ".") && !strings.ContainsAny(f, "\r\n") {
			fileNames = append(fileNames, f)
		}
	}
	if has("EmbeddedFile") || len(s.embedded) > 0 {
		add(r, "pdf_embedded_file", finding.Weak, 2, fmt.Sprintf("%s carries %d embedded file(s)", here, max(len(s.embedded), 1)))
		for _, n := range fileNames {
			if d, ok := dangerousExt[extension(n)]; ok && d.class == finding.Malware {
				add(r, "pdf_embedded_dangerous_name", finding.Weak, 6, fmt.Sprintf("%s embeds a file named %q (%s)", here, clip(n, 120), d.what))
				break
			}
		}
	}
	dangerous := false
	if len(s.embedded) > 0 && z.canOpen(r, depth, here) {
		for i, e := range s.embedded {
			name := fmt.Sprintf("embedded-%d", i+1)
			if i < len(fileNames) {
				name = fileNames[i]
			}
			if !z.member(r, name, "", e, depth, here) {
				break
			}
			m := &r.Members[len(r.Members)-1]
			for _, f := range m.Findings {
				if f.Class == finding.Malware {
					dangerous = true
				}
			}
		}
	}
	if dangerous && (js || has("Launch")) {
		add(r, "pdf_dropper", finding.Malware, 10, fmt.Sprintf("%s carries a program or script and the JavaScript or /Launch action to start it", here))
	}
	if len(s.uris) == 1 && s.names["Page"] <= 1 && !js {
		u := s.uris[0]
		score := 3
		l := lower(u)
		for _, w := range []string{"login", "logon", "signin", "sign-in", "verify", "account", "auth", "password", "webmail", "secure", "office", "sharepoint", "onedrive", "docusign", "wetransfer"} {
			if strings.Contains(l, w) {
				score = 5
				break
			}
		}
		add(r, "pdf_single_link", finding.Weak, score, fmt.Sprintf("%s is a one-page document whose only link goes to %s, the shape of a phishing lure", here, clip(u, 200)))
	}
}

// scan reads the name tokens of b and the strings after /URI, /F, /UF, /P.
func (s *pdfScan) scan(b []byte) {
	for p := 0; p < len(b); {
		i := bytes.IndexByte(b[p:], '/')
		if i < 0 {
			return
		}
		p += i + 1
		start := p
		for p < len(b) && !pdfDelim(b[p]) && p-start < 256 {
			p++
		}
		raw := b[start:p]
		name, escaped := pdfName(raw)
		if name == "" {
			continue
		}
		s.names[name]++
		if escaped && pdfKeys[name] {
			s.obfuscated[name] = true
		}
		switch name {
		case "URI", "F", "UF", "P":
			if len(s.uris)+len(s.files)+len(s.params) >= pdfMaxStrings {
				continue
			}
			v, n, ok := pdfString(b[p:min(len(b), p+8192)])
			p += n // what a string held is not read again as names
			if !ok || v == "" {
				continue
			}
			switch name {
			case "URI":
				s.uris = appendOnce(s.uris, strings.TrimSpace(v))
			case "P":
				s.params = append(s.params, v)
			default:
				s.files = appendOnce(s.files, v)
			}
		}
	}
}

func appendOnce(list []string, v string) []string {
	if contains1(list, v) {
		return list
	}
	return append(list, v)
}

// pdfDelim reports whether c ends a name token (whitespace or delimiter).
func pdfDelim(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ', '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// pdfName decodes #xx escapes in a name token.
func pdfName(raw []byte) (string, bool) {
	if bytes.IndexByte(raw, '#') < 0 {
		return string(raw), false
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) {
			if h, ok := unhex2(raw[i+1], raw[i+2]); ok {
				out = append(out, h)
				i += 2
				continue
			}
		}
		out = append(out, raw[i])
	}
	return string(out), true
}

func unhex2(a, b byte) (byte, bool) {
	x, ok1 := unhex(a)
	y, ok2 := unhex(b)
	return x<<4 | y, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// pdfString reads the literal (...) or hex <...> string at the start of b
// (after white space), decoding escapes; at most 4 KiB of output. It
// returns the string and the bytes of b it read.
func pdfString(b []byte) (string, int, bool) {
	raw, n, ok := pdfRawString(b, 4096)
	if !ok {
		return "", n, false
	}
	return pdfText(raw), n, true
}

// pdfRawString reads a literal or hex string at the start of b (after
// white space), escapes decoded, at most limit bytes of output: the bytes
// as the file holds them, before any text encoding.
func pdfRawString(b []byte, limit int) ([]byte, int, bool) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\r' || b[i] == '\n' || b[i] == '\t' || b[i] == '\f') {
		i++
	}
	if i >= len(b) {
		return nil, 0, false
	}
	var out []byte
	switch b[i] {
	case '(':
		depth := 1
		for i++; i < len(b) && len(out) < limit; i++ {
			c := b[i]
			switch c {
			case '\\':
				if i+1 >= len(b) {
					return out, i, true
				}
				i++
				switch e := b[i]; e {
				case 'n':
					out = append(out, '\n')
				case 'r':
					out = append(out, '\r')
				case 't':
					out = append(out, '\t')
				case 'b':
					out = append(out, '\b')
				case 'f':
					out = append(out, '\f')
				case '\r', '\n':
				default:
					if e >= '0' && e <= '7' {
						v := int(e - '0')
						for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; k++ {
							i++
							v = v*8 + int(b[i]-'0')
						}
						out = append(out, byte(v))
					} else {
						out = append(out, e)
					}
				}
			case '(':
				depth++
				out = append(out, c)
			case ')':
				depth--
				if depth == 0 {
					return out, i + 1, true
				}
				out = append(out, c)
			default:
				out = append(out, c)
			}
		}
		return out, min(i+1, len(b)), true
	case '<':
		if i+1 < len(b) && b[i+1] == '<' {
			return nil, 0, false
		}
		var hi byte
		half := false
		for i++; i < len(b) && b[i] != '>' && len(out) < limit; i++ {
			v, ok := unhex(b[i])
			if !ok {
				continue
			}
			if half {
				out = append(out, hi<<4|v)
			} else {
				hi = v
			}
			half = !half
		}
		if half && len(out) < limit {
			out = append(out, hi<<4) // an odd last digit is followed by 0 (7.3.4.3)
		}
		return out, min(i+1, len(b)), true
	}
	return nil, 0, false
}

// pdfText converts a PDF text string (UTF-16BE with a byte-order mark, or
// PDFDocEncoding, read here as Latin-1) to UTF-8.
func pdfText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF {
		return utf16String(b[2:], binary.BigEndian)
	}
	if isASCII(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// streamsIn finds the streams of d, inflates FlateDecode ones (not
// images), scans them, and keeps embedded files. It returns where the
// stream bodies are in d, in order.
func (s *pdfScan) streamsIn(z *analyzer, r *Report, d []byte, here string) (bodies [][2]int) {
	for p := 0; p < len(d); {
		i := bytes.Index(d[p:], []byte("stream"))
		if i < 0 {
			return bodies
		}
		at := p + i
		p = at + 6
		if at > 0 && d[at-1] == 'd' { // "endstream"
			continue
		}
		q := p
		switch { // "stream" ends its line
		case q+1 < len(d) && d[q] == '\r' && d[q+1] == '\n':
			q += 2
		case q < len(d) && (d[q] == '\n' || d[q] == '\r'):
			q++
		default:
			continue
		}
		if s.streams++; s.streams > pdfMaxStreams {
			s.errs = append(s.errs, fmt.Sprintf("pdf: more than %d streams; the rest were not examined", pdfMaxStreams))
			return bodies
		}
		dictStart := max(0, at-pdfStreamWindow)
		if j := bytes.LastIndex(d[dictStart:at], []byte("obj")); j >= 0 {
			dictStart += j
		}
		dict := d[dictStart:at]
		endAt := bytes.Index(d[q:], []byte("endstream"))
		var body []byte
		if endAt < 0 {
			body = d[q:]
			p = len(d)
		} else {
			body = d[q : q+endAt]
			p = q + endAt + 9
		}
		bodies = append(bodies, [2]int{q, q + len(body)})
		dn := &pdfScan{names: map[string]int{}, obfuscated: map[string]bool{}}
		dn.scan(dict)
		objNum, hasNum := -1, false
		if bytes.HasPrefix(dict, []byte("obj")) {
			objNum, hasNum = objAt(d, dictStart)
		}
		if dn.names["Image"] > 0 || dn.names["DCTDecode"] > 0 || dn.names["JPXDecode"] > 0 || dn.names["CCITTFaxDecode"] > 0 {
			if dn.names["Image"] > 0 && len(s.images) < pdfMaxImages {
				s.images = append(s.images, pdfImage{dict: dict, body: body})
			}
			continue
		}
		flate := dn.names["FlateDecode"] > 0 || dn.names["Fl"] > 0
		other := dn.names["ASCIIHexDecode"]+dn.names["ASCII85Decode"]+dn.names["LZWDecode"]+dn.names["RunLengthDecode"]+dn.names["Crypt"] > 0
		embedded := dn.names["EmbeddedFile"] > 0
		var data []byte
		switch {
		case other:
			continue
		case flate:
			data = s.inflate(z, r, body, here)
		case embedded:
			data = bytes.TrimRight(body, "\r\n")
		default:
			// An unfiltered stream: only its text is read.
			s.keepText(objNum, hasNum, body)
			continue
		}
		if embedded {
			if len(s.embedded) < pdfMaxEmbedded {
				s.embedded = append(s.embedded, data)
			}
			continue
		}
		s.scan(data)
		if dn.names["ObjStm"] > 0 {
			s.objs.indexObjStm(dict, data)
		}
		s.keepText(objNum, hasNum, data)
	}
	return bodies
}

// keepText keeps what the text reader needs of a decoded stream: a
// ToUnicode CMap (by object number) or a content stream.
func (s *pdfScan) keepText(objNum int, hasNum bool, data []byte) {
	switch {
	case bytes.Contains(data, []byte("begincmap")):
		if hasNum && len(s.cmaps) < pdfMaxCMaps {
			cm := parseCMap(data)
			s.cmaps[objNum] = cm
			s.cmapOrder = append(s.cmapOrder, cm)
		}
	case len(s.contents) < pdfMaxContents && bytes.Contains(data, []byte("BT")) && (bytes.Contains(data, []byte("Tj")) || bytes.Contains(data, []byte("TJ"))):
		s.contents = append(s.contents, data)
	}
}

// text reads the text of the content streams kept.
func (s *pdfScan) text() string {
	if len(s.contents) == 0 {
		return ""
	}
	t := &pdfTextReader{fonts: s.objs.fonts(s.cmaps), all: s.cmapOrder}
	for _, c := range s.contents {
		if t.full() {
			break
		}
		t.read(c)
	}
	return t.text()
}

// inflate decompresses a FlateDecode stream (zlib, or raw deflate when the
// zlib header is missing), keeping what decodes before an error.
func (s *pdfScan) inflate(z *analyzer, r *Report, body []byte, here string) []byte {
	left := z.lim.MaxTotal - z.total
	if left <= 0 {
		z.hit(r, "limit_total", fmt.Sprintf("total decompressed size limit %d bytes reached in %s; later streams were not examined", z.lim.MaxTotal, here))
		return nil
	}
	var rd io.Reader
	if zr, err := zlib.NewReader(bytes.NewReader(body)); err == nil {
		defer zr.Close()
		rd = zr
	} else {
		fr := flate.NewReader(bytes.NewReader(body))
		defer fr.Close()
		rd = fr
	}
	limit := min(int64(pdfMaxStream), left, z.lim.MaxFileSize)
	var buf bytes.Buffer
	io.Copy(&buf, &ctxReader{ctx: z.ctx, r: io.LimitReader(rd, limit)})
	z.total += int64(buf.Len())
	s.inflated += int64(buf.Len())
	return buf.Bytes()
}
