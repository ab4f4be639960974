package alert

import (
	"bytes"
	"fmt"
	"html"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseAddress parses one mail address and requires its address part to be
// printable ASCII: ward does not speak SMTPUTF8.
func parseAddress(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a mail address (%v): use name@example.org or \"Name <name@example.org>\"", s, err)
	}
	for i := 0; i < len(a.Address); i++ {
		if c := a.Address[i]; c <= ' ' || c > '~' {
			return nil, fmt.Errorf("%q has characters outside printable ASCII: use an ASCII address", a.Address)
		}
	}
	return a, nil
}

// maxHeaderLine is the line length that header folding aims for (RFC 5322
// section 2.1.1 recommends 78).
const maxHeaderLine = 78

// encodeHeader renders one header field, value made one line and encoded
// as RFC 2047 encoded-words when it holds anything but printable ASCII or
// looks like an encoded-word itself (a hostile title must not smuggle in
// encoded-words that decode to something else), then folded at spaces.
// The result never holds CR or LF except the folding "\r\n " and the final
// "\r\n".
func encodeHeader(name, value string) string {
	v := headerText(value)
	needs := strings.Contains(v, "=?")
	for i := 0; i < len(v) && !needs; i++ {
		needs = v[i] < ' ' || v[i] > '~'
	}
	if needs {
		v = qEncode(v)
	}
	return foldHeader(name, v)
}

// qEncode encodes s as RFC 2047 "Q" encoded-words of at most 75
// characters, separated by spaces, never splitting a character across two
// words. Unlike mime.QEncoding it always encodes: its caller decided that
// s must not reach the reader as it stands.
func qEncode(s string) string {
	const (
		prefix = "=?utf-8?q?"
		suffix = "?="
		room   = 75 - len(prefix) - len(suffix)
	)
	const hexdigits = "0123456789ABCDEF"
	var out, word strings.Builder
	flush := func() {
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(prefix + word.String() + suffix)
		word.Reset()
	}
	var enc []byte
	for _, r := range s {
		enc = enc[:0]
		var buf [utf8.UTFMax]byte
		for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
			switch {
			case c == ' ':
				enc = append(enc, '_')
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
				c == '!', c == '*', c == '+', c == '-', c == '/':
				enc = append(enc, c)
			default:
				enc = append(enc, '=', hexdigits[c>>4], hexdigits[c&15])
			}
		}
		if word.Len()+len(enc) > room {
			flush()
		}
		word.Write(enc)
	}
	if word.Len() > 0 || out.Len() == 0 {
		flush()
	}
	return out.String()
}

// foldHeader writes "name: value\r\n", folding before a space when a line
// would pass maxHeaderLine. Unfolding gives back value exactly.
func foldHeader(name, value string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(":")
	line, words := len(name)+1, 0
	for i, w := range strings.Split(value, " ") {
		if i > 0 && w != "" && words > 0 && line+1+len(w) > maxHeaderLine {
			b.WriteString("\r\n")
			line, words = 0, 0
		}
		b.WriteByte(' ')
		b.WriteString(w)
		line += 1 + len(w)
		if w != "" {
			words++
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// messageID renders the Message-ID of an alert: "<ID@ward>", with the ID
// made a dot-atom of letters, digits, '-', '_' and '.' (see idToken).
func messageID(id string) string {
	local := idToken(id, MaxIDLen, func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	})
	return "<" + local + "@ward>"
}

// plainBody is the text of an alert mail.
func plainBody(a Alert) string {
	var b strings.Builder
	b.WriteString(a.Title)
	b.WriteString("\n\n")
	field := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-13s %s\n", label+":", v)
		}
	}
	field("Subject", a.Subject)
	field("Organisation", a.Org)
	field("Brand", a.Brand)
	field("Severity", a.Severity)
	field("State", a.stateLine())
	field("Score", strconv.Itoa(a.Score))
	field("Kind", a.Kind)
	field("Time", a.Time.Format("2006-01-02 15:04:05 UTC"))
	if len(a.Reasons) > 0 {
		b.WriteString("\nReasons:\n")
		for _, r := range a.Reasons {
			b.WriteString("- ")
			b.WriteString(r)
			b.WriteByte('\n')
		}
	}
	if a.Link != "" {
		b.WriteString("\n")
		field("Details", a.Link)
	}
	b.WriteString("\n-- \nward alert ")
	b.WriteString(a.ID)
	b.WriteByte('\n')
	return b.String()
}

// htmlBody is the HTML alternative: the same facts, every value escaped.
func htmlBody(a Alert) string {
	var b strings.Builder
	e := html.EscapeString
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n")
	fmt.Fprintf(&b, "<h2>%s</h2>\n<table>\n", e(a.Title))
	row := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "<tr><th align=\"left\">%s</th><td>%s</td></tr>\n", label, e(v))
		}
	}
	row("Subject", a.Subject)
	row("Organisation", a.Org)
	row("Brand", a.Brand)
	row("Severity", a.Severity)
	row("State", a.stateLine())
	row("Score", strconv.Itoa(a.Score))
	row("Kind", a.Kind)
	row("Time", a.Time.Format("2006-01-02 15:04:05 UTC"))
	b.WriteString("</table>\n")
	if len(a.Reasons) > 0 {
		b.WriteString("<ul>\n")
		for _, r := range a.Reasons {
			fmt.Fprintf(&b, "<li>%s</li>\n", e(r))
		}
		b.WriteString("</ul>\n")
	}
	if safeLink(a.Link) {
		fmt.Fprintf(&b, "<p><a href=\"%s\">Open in ward</a></p>\n", e(a.Link))
	}
	fmt.Fprintf(&b, "<p><small>ward alert %s</small></p>\n</body></html>\n", e(a.ID))
	return b.String()
}

// qp encodes text as quoted-printable with CRLF line ends.
func qp(text string) []byte {
	var buf bytes.Buffer
	w := quotedprintable.NewWriter(&buf)
	_, _ = w.Write([]byte(text)) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	return buf.Bytes()
}

// buildMessage renders the whole RFC 5322 message of a bounded alert.
func buildMessage(a Alert, from, to string, withHTML bool) ([]byte, error) {
	var m bytes.Buffer
	m.WriteString(encodeHeader("Date", a.Time.Format("Mon, 02 Jan 2006 15:04:05 -0700")))
	m.WriteString(foldHeader("From", from))
	m.WriteString(foldHeader("To", to))
	m.WriteString(encodeHeader("Subject", "[ward] "+a.Title))
	m.WriteString(foldHeader("Message-ID", messageID(a.ID)))
	m.WriteString("MIME-Version: 1.0\r\n")
	m.WriteString("Auto-Submitted: auto-generated\r\n")
	m.WriteString("X-Auto-Response-Suppress: All\r\n")
	m.WriteString(encodeHeader("X-Ward-Alert-ID", a.ID))
	if a.Severity != "" {
		m.WriteString(encodeHeader("X-Ward-Severity", a.Severity))
	}
	if !withHTML {
		m.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
		m.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
		m.Write(qp(plainBody(a)))
		return m.Bytes(), nil
	}
	var parts bytes.Buffer
	mw := multipart.NewWriter(&parts) // random boundary: a title cannot guess it
	for _, p := range []struct{ ctype, text string }{
		{"text/plain; charset=utf-8", plainBody(a)},
		{"text/html; charset=utf-8", htmlBody(a)},
	} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", p.ctype)
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, err
		}
		_, _ = w.Write(qp(p.text))
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	fmt.Fprintf(&m, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", mw.Boundary())
	m.Write(parts.Bytes())
	return m.Bytes(), nil
}
