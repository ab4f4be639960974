package mail

import (
	"errors"
	"io"
	"strings"
	"unicode"

	"golang.org/x/net/html"
)

// Bounds on what is kept from one HTML part.
const (
	maxHTMLText   = 256 << 10 // visible text kept for lure and password search
	maxAnchorText = 512       // text kept per link
	maxScript     = 256 << 10 // script text kept for smuggling detection
)

// link is one link found in a message.
type link struct {
	url string
	// text is the visible text of an HTML anchor; empty otherwise.
	text string
	// where says where it was found: "text", "href", "src", "form",
	// "meta refresh", "css".
	where string
}

// htmlScan is what one HTML part holds, for the signals.
type htmlScan struct {
	text  strings.Builder
	links []link
	// passwordForms are the actions of forms with a password field ("" for
	// a form that posts back to the page itself).
	passwordForms []string
	forms         []string
	scripts       strings.Builder
	scriptCount   int
	metaRefresh   string
	truncated     bool
	tokenTooLong  bool
	// visibleLetters and hiddenLetters count the letters of text shown
	// and of text hidden by style (display:none, visibility:hidden,
	// font-size:0, max-height:0, opacity:0, the hidden attribute).
	visibleLetters, hiddenLetters int
	// images counts img elements.
	images int
	// dataPictures are the data:image/... URLs of img elements (the first
	// maxDataPictures of at most maxDataPicture bytes), searched for QR
	// codes.
	dataPictures []string
}

// Bounds of the data: images kept from one HTML part.
const (
	maxDataPictures = 8
	maxDataPicture  = 4 << 20
)

// maxElementStack bounds the open elements tracked for hidden text.
const maxElementStack = 256

// voidElements never have content or an end tag.
var voidElements = setOf("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr")

// hidesContent reports whether an element's style or attributes hide
// what it contains from the reader.
func hidesContent(attrs map[string]string) bool {
	if _, ok := attrs["hidden"]; ok {
		return true
	}
	st, ok := attrs["style"]
	if !ok {
		return false
	}
	st = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, asciiLower(st))
	if strings.Contains(st, "display:none") || strings.Contains(st, "visibility:hidden") {
		return true
	}
	for _, p := range []string{"font-size:", "max-height:", "opacity:"} {
		for off := 0; off < len(st); {
			i := strings.Index(st[off:], p)
			if i < 0 {
				break
			}
			v := st[off+i+len(p):]
			off += i + len(p)
			if zeroLength(v) {
				return true
			}
		}
	}
	return false
}

// zeroLength reports whether a CSS value starts with a zero length: "0",
// "0px", "0pt", "0em", "0%", "0;" but not "0.8em" or "01px".
func zeroLength(v string) bool {
	if v == "" || v[0] != '0' {
		return false
	}
	if v = v[1:]; v == "" {
		return true
	}
	switch v[0] {
	case '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return false
	}
	return true
}

// scanHTML tokenises doc, reading at most maxTokens tokens and keeping at
// most maxLinks links. truncated is set when either bound was reached.
func scanHTML(doc string, maxTokens, maxLinks int) *htmlScan {
	s := &htmlScan{}
	z := html.NewTokenizer(strings.NewReader(doc))
	z.SetMaxBuf(1 << 20)
	var (
		stack      []string // open elements
		hiddenAt   = -1     // stack depth of the element that hides its content, or -1
		inAnchor   = -1     // index in s.links of the open anchor, or -1
		inScript   bool
		inStyle    bool
		formAction = ""
		inForm     bool
		formHasPW  bool
	)
	addLink := func(u, where string) int {
		u = strings.TrimSpace(u)
		if u == "" || strings.HasPrefix(u, "#") || strings.HasPrefix(strings.ToLower(u), "cid:") {
			return -1
		}
		if len(s.links) >= maxLinks {
			s.truncated = true
			return -1
		}
		s.links = append(s.links, link{url: truncate(u, 2048), where: where})
		return len(s.links) - 1
	}
	closeForm := func() {
		if inForm {
			s.forms = append(s.forms, formAction)
			if formHasPW {
				s.passwordForms = append(s.passwordForms, formAction)
			}
		}
		inForm, formHasPW, formAction = false, false, ""
	}
	for n := 0; ; n++ {
		if n >= maxTokens {
			s.truncated = true
			break
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				// A token longer than the buffer: what follows is unread.
				s.tokenTooLong = true
			}
			break
		}
		switch tt {
		case html.TextToken:
			t := z.Text()
			switch {
			case inScript:
				if s.scripts.Len() < maxScript {
					s.scripts.Write(t[:min(len(t), maxScript-s.scripts.Len())])
				}
			case inStyle:
				for _, u := range cssURLs(string(t), 20) {
					addLink(u, "css")
				}
			default:
				if n := countLetters(t); hiddenAt >= 0 {
					s.hiddenLetters += n
				} else {
					s.visibleLetters += n
				}
				if s.text.Len() < maxHTMLText {
					s.text.Write(t[:min(len(t), maxHTMLText-s.text.Len())])
					s.text.WriteByte(' ')
				}
				if inAnchor >= 0 && len(s.links[inAnchor].text) < maxAnchorText {
					s.links[inAnchor].text = truncate(s.links[inAnchor].text+string(t), maxAnchorText)
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if tt == html.EndTagToken {
				// Close the innermost open element of that name, and
				// everything left open inside it.
				for i := len(stack) - 1; i >= 0 && i >= len(stack)-maxElementStack; i-- {
					if stack[i] == tag {
						stack = stack[:i]
						if hiddenAt >= len(stack) {
							hiddenAt = -1
						}
						break
					}
				}
				switch tag {
				case "a":
					inAnchor = -1
				case "script":
					inScript = false
				case "style":
					inStyle = false
				case "form":
					closeForm()
				}
				continue
			}
			attrs := map[string]string{}
			for hasAttr && len(attrs) < 64 {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key := string(k)
				if _, dup := attrs[key]; !dup {
					attrs[key] = string(v)
				}
			}
			if st, ok := attrs["style"]; ok {
				for _, u := range cssURLs(st, 10) {
					addLink(u, "css")
				}
			}
			if tt == html.StartTagToken && !voidElements[tag] && len(stack) < maxElementStack {
				stack = append(stack, tag)
				if hiddenAt < 0 && hidesContent(attrs) {
					hiddenAt = len(stack) - 1
				}
			}
			if tag == "img" {
				s.images++
			}
			switch tag {
			case "a", "area":
				if h, ok := attrs["href"]; ok {
					i := addLink(h, "href")
					if tag == "a" && tt == html.StartTagToken {
						inAnchor = i
					}
				}
			case "img", "iframe", "embed", "frame", "source", "video", "audio":
				if v, ok := attrs["src"]; ok {
					if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "data:image/") {
						addLink(v, "src")
					} else if tag == "img" && len(s.dataPictures) < maxDataPictures && len(v) <= maxDataPicture {
						s.dataPictures = append(s.dataPictures, strings.TrimSpace(v))
					}
				}
			case "script":
				s.scriptCount++
				if v, ok := attrs["src"]; ok {
					addLink(v, "src")
				}
				if tt == html.StartTagToken {
					inScript = true
				}
			case "style":
				if tt == html.StartTagToken {
					inStyle = true
				}
			case "form":
				closeForm()
				inForm = true
				formAction = strings.TrimSpace(attrs["action"])
				if formAction != "" {
					addLink(formAction, "form")
				}
			case "input":
				if strings.EqualFold(strings.TrimSpace(attrs["type"]), "password") {
					if !inForm {
						// A password field outside any form still asks for
						// a password; count it as a form posting nowhere.
						s.passwordForms = append(s.passwordForms, "")
					} else {
						formHasPW = true
					}
				}
			case "meta":
				if strings.EqualFold(attrs["http-equiv"], "refresh") {
					c := attrs["content"]
					if i := strings.Index(strings.ToLower(c), "url="); i >= 0 {
						u := strings.Trim(strings.TrimSpace(c[i+4:]), `'"`)
						s.metaRefresh = u
						addLink(u, "meta refresh")
					}
				}
			}
		}
	}
	closeForm()
	return s
}

// cssURLs returns the targets of url(...) in CSS text, at most max.
func cssURLs(css string, max int) []string {
	var out []string
	low := strings.ToLower(css)
	for i := 0; len(out) < max; {
		j := strings.Index(low[i:], "url(")
		if j < 0 {
			break
		}
		start := i + j + 4
		end := strings.IndexByte(css[start:], ')')
		if end < 0 {
			break
		}
		u := strings.Trim(strings.TrimSpace(css[start:start+end]), `'"`)
		if u != "" && !strings.HasPrefix(strings.ToLower(u), "data:image/") {
			out = append(out, u)
		}
		i = start + end
	}
	return out
}

// countLetters counts the letters in UTF-8 text b.
func countLetters(b []byte) int {
	n := 0
	for _, r := range string(b) {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}
