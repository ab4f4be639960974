package mail

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	// The charset package teaches go-message the common charsets
	// (ISO-8859-x, Windows-125x, Shift_JIS, GB18030, ...).
	_ "github.com/emersion/go-message/charset"
)

// maxHeaderBytes bounds the header block of the message and of each part.
const maxHeaderBytes = 1 << 20

// maxErrors bounds the number of structural errors recorded per message.
const maxErrors = 50

// parsed is a message taken apart: its top-level header, the decoded text
// and HTML bodies and the attachments, with what went wrong on the way.
type parsed struct {
	header      message.Header
	headerOK    bool
	texts       []string
	htmls       []string
	attachments []rawAttachment
	errors      []string
	// limits say which bounds were reached, in words ("more than 500 MIME
	// parts").
	limits []string
}

// rawAttachment is one attachment as the message carries it.
type rawAttachment struct {
	name, ctype string
	data        []byte
}

func (p *parsed) errorf(format string, args ...any) {
	if len(p.errors) < maxErrors {
		p.errors = append(p.errors, truncate(fmt.Sprintf(format, args...), 300))
	} else if len(p.errors) == maxErrors {
		p.errors = append(p.errors, "further errors not recorded")
	}
}

func (p *parsed) limit(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	for _, l := range p.limits {
		if l == s {
			return
		}
	}
	p.limits = append(p.limits, s)
}

// walker walks the MIME tree of one message within the limits.
type walker struct {
	ctx     context.Context
	lim     Limits
	parts   int
	decoded int64
	out     *parsed
	stopped bool
}

// parse takes raw apart. It never fails: what cannot be read is recorded in
// errors, and a message whose header cannot be read at all is treated as
// plain text so that its links and words are still examined.
func parse(ctx context.Context, raw []byte, lim Limits) *parsed {
	out := &parsed{}
	w := &walker{ctx: ctx, lim: lim, out: out}
	raw = skipMboxLine(raw)
	e, err := readEntity(raw)
	if e == nil {
		// Drop the header lines that are not "Name: value" and try again.
		fixed, dropped := repairHeader(raw)
		if dropped > 0 {
			out.errorf("message header: %v (%d malformed header lines skipped)", err, dropped)
			e, err = readEntity(fixed)
		}
	}
	if e == nil {
		out.errorf("message header: %v", err)
		w.addText(raw)
		return out
	}
	if err != nil {
		out.errorf("message: %v", err)
	}
	out.header = e.Header
	out.headerOK = true
	w.entity(e, 1)
	return out
}

// skipMboxLine drops leading blank lines and an mbox "From " separator
// line, which message stores often keep at the top.
func skipMboxLine(raw []byte) []byte {
	raw = bytes.TrimLeft(raw, "\r\n")
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

// repairHeader returns raw with the header lines that are neither a field
// ("Name: value") nor a continuation removed, and how many were removed.
func repairHeader(raw []byte) ([]byte, int) {
	out := make([]byte, 0, len(raw))
	dropped := 0
	rest := raw
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		line := rest
		if i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		t := bytes.TrimRight(line, "\r\n")
		if len(t) == 0 {
			out = append(out, line...)
			out = append(out, rest...)
			return out, dropped
		}
		if t[0] == ' ' || t[0] == '\t' || validFieldLine(t) {
			out = append(out, line...)
			continue
		}
		dropped++
	}
	return out, dropped
}

// validFieldLine reports whether line starts with a field name and a colon.
func validFieldLine(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	for _, c := range line[:i] {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// readEntity reads one message (or a forwarded one) from b, leniently:
// an unknown charset or transfer encoding still gives an entity.
func readEntity(b []byte) (*message.Entity, error) {
	e, err := message.ReadWithOptions(bytes.NewReader(b), &message.ReadOptions{MaxHeaderBytes: maxHeaderBytes})
	if err != nil && e == nil {
		return nil, err
	}
	return e, err
}

func (w *walker) stop(format string, args ...any) {
	w.out.limit(format, args...)
	w.stopped = true
}

// entity walks one MIME entity at the given depth (the message is 1).
func (w *walker) entity(e *message.Entity, depth int) {
	if w.stopped {
		return
	}
	if w.ctx.Err() != nil {
		w.stop("time limit of %v per message", w.lim.Timeout)
		return
	}
	w.parts++
	if w.parts > w.lim.MaxParts {
		w.stop("more than %d MIME parts", w.lim.MaxParts)
		return
	}
	if depth > w.lim.MaxDepth {
		w.stop("MIME nesting deeper than %d levels", w.lim.MaxDepth)
		return
	}
	mt, params, err := e.Header.ContentType()
	if err != nil && e.Header.Get("Content-Type") != "" {
		w.out.errorf("part %d: Content-Type %q: %v", w.parts, truncate(e.Header.Get("Content-Type"), 80), err)
	}
	if mt == "" {
		mt = "text/plain"
	}
	if mr := e.MultipartReader(); mr != nil {
		for !w.stopped {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil && p == nil {
				w.out.errorf("part %d: multipart: %v", w.parts, err)
				break
			}
			if err != nil {
				w.out.errorf("part %d: %v", w.parts, err)
			}
			w.entity(p, depth+1)
		}
		return
	}
	body, ok := w.read(e.Body)
	if !ok {
		return
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = decodeWords(name)
	switch {
	case (mt == "message/rfc822" || mt == "message/global") && disp != "attachment":
		inner, err := readEntity(body)
		if inner == nil {
			w.out.errorf("part %d: forwarded message: %v", w.parts, err)
			w.addText(body)
			return
		}
		if err != nil {
			w.out.errorf("part %d: forwarded message: %v", w.parts, err)
		}
		if s, _ := inner.Header.Text("Subject"); s != "" {
			w.out.texts = append(w.out.texts, s)
		}
		w.entity(inner, depth+1)
	case name != "" || disp == "attachment":
		w.out.attachments = append(w.out.attachments, rawAttachment{name: name, ctype: mt, data: body})
		if isTNEF(body) {
			w.addTNEF(name, body)
		}
	case mt == "text/html":
		w.out.htmls = append(w.out.htmls, string(body))
	case strings.HasPrefix(mt, "text/"):
		w.addText(body)
	default:
		w.out.attachments = append(w.out.attachments, rawAttachment{name: name, ctype: mt, data: body})
	}
}

// read reads a decoded body within the decoded-bytes budget. ok is false
// when the budget ran out; the walk then stops.
func (w *walker) read(r io.Reader) ([]byte, bool) {
	left := w.lim.MaxDecoded - w.decoded
	b, err := io.ReadAll(io.LimitReader(r, left+1))
	if int64(len(b)) > left {
		w.stop("more than %d bytes of decoded content", w.lim.MaxDecoded)
		return nil, false
	}
	w.decoded += int64(len(b))
	if err != nil {
		w.out.errorf("part %d: decoding body: %v", w.parts, err)
	}
	return b, true
}

// addText keeps a text body and takes out the uuencoded files inside it.
func (w *walker) addText(b []byte) {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	text, files := uudecode(b, w.lim.MaxParts-w.parts)
	w.out.texts = append(w.out.texts, string(text))
	for _, f := range files {
		w.parts++
		w.out.attachments = append(w.out.attachments, rawAttachment{name: f.name, ctype: "application/octet-stream", data: f.data})
	}
}

// addTNEF passes on the files inside a winmail.dat, named after it.
func (w *walker) addTNEF(name string, body []byte) {
	files, ok := tnefFiles(body, w.lim.MaxParts-w.parts)
	if !ok {
		w.out.errorf("part %d: %s: damaged TNEF (winmail.dat) container", w.parts, truncate(name, 80))
	}
	for _, f := range files {
		w.parts++
		w.out.attachments = append(w.out.attachments, rawAttachment{name: truncate(name, 80) + "/" + f.name, ctype: "application/octet-stream", data: f.data})
	}
}

type uufile struct {
	name string
	data []byte
}

// uudecode finds "begin MODE NAME" ... "end" blocks in a text body and
// decodes them. It returns the text without the blocks and at most max
// files. Broken lines end a block early; what was decoded is kept.
func uudecode(b []byte, max int) ([]byte, []uufile) {
	if !bytes.Contains(b, []byte("begin ")) || max <= 0 {
		return b, nil
	}
	var text []byte
	var files []uufile
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), len(b)+1)
	var cur *uufile
	for sc.Scan() {
		line := sc.Bytes()
		if cur == nil {
			if name, ok := uuBegin(line); ok && len(files) < max {
				cur = &uufile{name: name}
				continue
			}
			text = append(text, line...)
			text = append(text, '\n')
			continue
		}
		l := bytes.TrimRight(line, "\r")
		if string(l) == "end" || len(l) == 0 {
			if string(l) == "end" {
				files = append(files, *cur)
				cur = nil
			}
			continue
		}
		n := int((l[0] - ' ') & 63)
		if n == 0 {
			continue
		}
		dec, ok := uuLine(l[1:], n)
		if !ok {
			files = append(files, *cur)
			cur = nil
			continue
		}
		cur.data = append(cur.data, dec...)
	}
	if cur != nil {
		files = append(files, *cur)
	}
	return text, files
}

// uuBegin recognises "begin 644 name" with an octal mode.
func uuBegin(line []byte) (string, bool) {
	f := strings.Fields(string(line))
	if len(f) < 3 || f[0] != "begin" || len(f[1]) < 3 || len(f[1]) > 4 {
		return "", false
	}
	for _, c := range f[1] {
		if c < '0' || c > '7' {
			return "", false
		}
	}
	return strings.Join(f[2:], " "), true
}

// uuLine decodes one uuencoded line body that carries n bytes.
func uuLine(s []byte, n int) ([]byte, bool) {
	need := (n + 2) / 3 * 4
	if len(s) < need {
		// Trailing spaces are often stripped in transit.
		s = append(append([]byte(nil), s...), bytes.Repeat([]byte{' '}, need-len(s))...)
	}
	out := make([]byte, 0, n+2)
	for i := 0; i+4 <= need; i += 4 {
		var v [4]byte
		for j := 0; j < 4; j++ {
			c := s[i+j]
			if c < ' ' || c > '`' {
				return out, false
			}
			v[j] = (c - ' ') & 63
		}
		out = append(out, v[0]<<2|v[1]>>4, v[1]<<4|v[2]>>2, v[2]<<6|v[3])
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, true
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
	if message.CharsetReader == nil {
		return nil, fmt.Errorf("unhandled charset %q", cs)
	}
	return message.CharsetReader(strings.ToLower(cs), r)
}}

// decodeWords decodes RFC 2047 encoded words, keeping the input when they
// are broken.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return decodeWordsLenient(s)
	}
	if strings.Contains(d, "=?") {
		// Malformed words are left as they are: try them leniently.
		return decodeWordsLenient(d)
	}
	return d
}

// encodedWord matches one RFC 2047 encoded word.
var encodedWord = regexp.MustCompile(`=\?([^?\s]{1,40})\?([bBqQ])\?([^?\s]*)\?=`)

// decodeWordsLenient decodes encoded words one by one, forgiving the
// broken base64 padding that bulk mailers produce; a word that still
// cannot be decoded is kept as written.
func decodeWordsLenient(s string) string {
	return encodedWord.ReplaceAllStringFunc(s, func(w string) string {
		m := encodedWord.FindStringSubmatch(w)
		if m == nil {
			return w
		}
		if m[2] == "b" || m[2] == "B" {
			raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(m[3], "="))
			if err != nil {
				return w
			}
			fixed := "=?" + m[1] + "?B?" + base64.StdEncoding.EncodeToString(raw) + "?="
			if d, err := wordDecoder.DecodeHeader(fixed); err == nil {
				return d
			}
			return w
		}
		if d, err := wordDecoder.DecodeHeader(w); err == nil {
			return d
		}
		return w
	})
}

// address is one mailbox from a header, lower-cased domain.
type address struct {
	name, addr, domain string
	// lenient is true when the header was not valid RFC 5322 and the
	// address was recovered by the lenient reader.
	lenient bool
}

// parseAddresses reads an address-list header value leniently: the strict
// RFC 5322 parser first, then, for the broken headers that phishing mail
// is full of, the last <...> or the first word with an @.
func parseAddresses(v string, max int) []address {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: wordDecoder}
	if list, err := p.ParseList(v); err == nil {
		var out []address
		for _, a := range list {
			if len(out) >= max {
				break
			}
			out = append(out, newAddress(a.Name, a.Address))
		}
		return out
	}
	dv := decodeWords(v)
	if i := strings.LastIndexByte(dv, '<'); i >= 0 {
		if j := strings.IndexByte(dv[i:], '>'); j > 0 {
			name := strings.Trim(strings.TrimSpace(dv[:i]), `"' `)
			a := newAddress(name, strings.TrimSpace(dv[i+1:i+j]))
			a.lenient = true
			return []address{a}
		}
	}
	for _, f := range strings.Fields(dv) {
		if strings.Contains(f, "@") {
			f = strings.Trim(f, `<>"'(),;`)
			name := strings.TrimSpace(strings.Replace(dv, f, "", 1))
			name = strings.Trim(name, `<>"'() `)
			a := newAddress(name, f)
			a.lenient = true
			return []address{a}
		}
	}
	return []address{{name: dv, lenient: true}}
}

func newAddress(name, addr string) address {
	a := address{name: strings.TrimSpace(name), addr: strings.ToLower(strings.TrimSpace(addr))}
	if i := strings.LastIndexByte(a.addr, '@'); i >= 0 {
		a.domain = strings.TrimSuffix(a.addr[i+1:], ".")
	}
	return a
}

// truncate shortens s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
