package probe

import (
	"bytes"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/ward-health/ward/internal/lookalike"
)

// Bounds of content extraction: a hostile page cannot make the extractor
// hold more than these, whatever its size.
const (
	maxTokens       = 1 << 19   // HTML tokens read
	maxTokenBuf     = 256 << 10 // bytes of one token
	maxTitle        = 512       // bytes of the title
	maxTextSample   = 2048      // bytes of the visible-text sample
	maxMentionText  = 256 << 10 // bytes of lower-cased text searched for brand mentions
	maxScriptText   = 64 << 10  // bytes of one inline script scanned for redirects
	maxForms        = 32
	maxFormInputs   = 64
	maxDownloads    = 32
	maxPageRedirect = 8
	shingleTags     = 4 // start tags per tag shingle
	shingleWords    = 3 // words per text shingle
)

// Form is an HTML form, or the inputs found outside any form when they
// include a password field (kits that post with scripts).
type Form struct {
	// Action is the form's target, resolved against the page URL;
	// "" for inputs outside a form.
	Action string `json:"action"`
	// Method is the method in lower case ("get" when absent).
	Method string `json:"method"`
	// HasPassword is set when the form has a password field.
	HasPassword bool `json:"has_password"`
	// Inputs are the kinds of sensitive fields found, sorted: "card",
	// "email", "otp", "password", "user".
	Inputs []string `json:"inputs,omitempty"`
	// PostsElsewhere is set when Action is on another registrable domain
	// than the page, or is a mailto: address.
	PostsElsewhere bool `json:"posts_elsewhere"`
	// PostsOverHTTP is set when Action is a plain http:// URL.
	PostsOverHTTP bool `json:"posts_over_http"`
}

// Download is a file the page offers.
type Download struct {
	// URL is the file's URL, resolved.
	URL string `json:"url"`
	// Reason says why it counts: "extension .exe", "download attribute",
	// "attachment", "not html: application/zip".
	Reason string `json:"reason"`
}

// PageRedirect is a redirect written in the page rather than sent by the
// server. Scripts are never run; targets are read from the source.
type PageRedirect struct {
	// Kind is "meta_refresh" or "js_location".
	Kind string `json:"kind"`
	// Target is the URL, resolved against the page URL.
	Target string `json:"target"`
}

// Favicon is a fetched site icon and its hashes.
type Favicon struct {
	// URL is where it was fetched.
	URL string `json:"url"`
	// Bytes is its size (at most 100 KiB are read).
	Bytes int `json:"bytes"`
	// MMH3 is the Shodan favicon hash (see [FaviconHash]).
	MMH3 int32 `json:"mmh3"`
	// SHA256 is the hex SHA-256 of the bytes.
	SHA256 string `json:"sha256"`
}

// Content is what a page shows, read from its HTML without running
// scripts.
type Content struct {
	// URL is the page's URL.
	URL string `json:"url"`
	// Title is the text of the first <title>, whitespace collapsed, at
	// most 512 bytes.
	Title string `json:"title,omitempty"`
	// TextSample is the start of the visible text, whitespace collapsed,
	// at most 2048 bytes.
	TextSample string `json:"text_sample,omitempty"`
	// BrandMentions are the brand names and official domains of the
	// Reference found in the title or text, as words.
	BrandMentions []string `json:"brand_mentions,omitempty"`
	// Forms are the forms with a sensitive field, at most 32.
	Forms []Form `json:"forms,omitempty"`
	// LoginForm, PostsElsewhere and PostsOverHTTP sum up Forms: some
	// form has a password field, and (for the latter two) posts off-site
	// or over http.
	LoginForm      bool `json:"login_form"`
	PostsElsewhere bool `json:"posts_elsewhere"`
	PostsOverHTTP  bool `json:"posts_over_http"`
	// Downloads are the files offered, at most 32.
	Downloads []Download `json:"downloads,omitempty"`
	// Redirects are meta-refresh and script location targets, at most 8.
	Redirects []PageRedirect `json:"redirects,omitempty"`
	// IconURL is the <link rel=icon> target, or /favicon.ico of the page.
	IconURL string `json:"icon_url,omitempty"`
	// Favicon is the fetched icon; nil when none was found.
	Favicon *Favicon `json:"favicon,omitempty"`
	// SimHash fingerprints the page's tag sequence and text; Features is
	// the number of features hashed (0: nothing to compare).
	SimHash  SimHash `json:"simhash"`
	Features int     `json:"features"`
	// Tokens is the number of HTML tokens read; Truncated is set when the
	// extractor stopped at its token limit.
	Tokens    int  `json:"tokens"`
	Truncated bool `json:"truncated,omitempty"`
}

// riskyExtensions are file types a phishing page offers to infect.
var riskyExtensions = map[string]bool{
	".exe": true, ".zip": true, ".iso": true, ".img": true, ".js": true, ".jse": true,
	".vbs": true, ".vbe": true, ".wsf": true, ".hta": true, ".apk": true, ".msi": true,
	".scr": true, ".bat": true, ".cmd": true, ".ps1": true, ".jar": true, ".lnk": true,
	".rar": true, ".7z": true, ".dmg": true, ".pkg": true, ".docm": true, ".xlsm": true,
	".one": true, ".cab": true,
}

// extractor is the state of one ExtractContent run.
type extractor struct {
	c       *Content
	base    *url.URL
	baseReg string
	text    strings.Builder // text sample
	mention strings.Builder // lower-cased text for mentions
	sh      simhasher
	tags    shingler
	words   shingler
	form    *Form // open form
	loose   Form  // inputs outside forms
}

// ExtractContent reads an HTML page: title, text, forms, downloads,
// redirects, icon and fingerprint. pageURL resolves relative links; ref,
// when not nil, supplies the brand names and domains looked for. It is
// bounded in tokens and memory and never fails.
func ExtractContent(page []byte, pageURL string, ref *Reference) *Content {
	e := &extractor{
		c:     &Content{URL: truncate(pageURL, maxURLLen)},
		tags:  shingler{k: shingleTags, salt: fnvOffset},
		words: shingler{k: shingleWords, salt: fnvOffset ^ 0x5bd1e995},
	}
	e.base, _ = url.Parse(pageURL)
	if e.base == nil {
		e.base = &url.URL{}
	}
	e.baseReg = registrableOf(e.base.Hostname())
	e.run(page)
	e.closeForm() // a form left open at the end of the page
	e.tags.flush(&e.sh)
	e.words.flush(&e.sh)
	e.c.SimHash, e.c.Features = e.sh.sum(), e.sh.n
	e.c.TextSample = strings.TrimSpace(e.text.String())
	if e.loose.HasPassword {
		e.addForm(e.loose)
	}
	if e.c.IconURL == "" && e.base.Host != "" && (e.base.Scheme == "http" || e.base.Scheme == "https") {
		e.c.IconURL = (&url.URL{Scheme: e.base.Scheme, Host: e.base.Host, Path: "/favicon.ico"}).String()
	}
	if ref != nil {
		e.c.BrandMentions = ref.mentions(e.c.Title + " " + e.mention.String())
	}
	return e.c
}

func (e *extractor) run(page []byte) {
	z := html.NewTokenizer(bytes.NewReader(page))
	z.SetMaxBuf(maxTokenBuf)
	var raw string // element whose text is not visible: script, style, ...
	inTitle := false
	for {
		if e.c.Tokens >= maxTokens {
			e.c.Truncated = true
			return
		}
		tt := z.Next()
		e.c.Tokens++
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			switch {
			case raw == "script":
				e.scanScript(z.Text())
			case raw != "":
			case inTitle:
				if e.c.Title == "" || len(e.c.Title) < maxTitle {
					e.c.Title = truncate(collapse(e.c.Title+" "+string(z.Text())), maxTitle)
				}
			default:
				e.addText(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			e.tags.push(hashBytes(name), &e.sh)
			var attrs []attr
			switch tag {
			case "form", "input", "select", "a", "area", "meta", "link":
				attrs = readAttrs(z, hasAttr)
			}
			switch tag {
			case "script", "style", "noscript", "template", "textarea", "xmp", "iframe", "noembed", "noframes":
				if tt == html.StartTagToken {
					raw = tag
				}
			case "title":
				inTitle = tt == html.StartTagToken && e.c.Title == ""
			}
			e.startTag(tag, attrs)
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if tag == raw {
				raw = ""
			}
			switch tag {
			case "title":
				inTitle = false
			case "form":
				e.closeForm()
			case "p", "div", "br", "li", "td", "h1", "h2", "h3", "tr", "section", "article":
				e.addText([]byte(" "))
			}
		}
	}
}

// attr is one attribute, key lower-cased by the tokenizer.
type attr struct{ key, val string }

// readAttrs reads at most 32 attributes of the current tag.
func readAttrs(z *html.Tokenizer, more bool) []attr {
	var out []attr
	for more && len(out) < 32 {
		var k, v []byte
		k, v, more = z.TagAttr()
		out = append(out, attr{string(k), truncate(string(v), maxURLLen)})
	}
	return out
}

func get(attrs []attr, key string) (string, bool) {
	for _, a := range attrs {
		if a.key == key {
			return a.val, true
		}
	}
	return "", false
}

func (e *extractor) startTag(tag string, attrs []attr) {
	switch tag {
	case "form":
		e.closeForm()
		action, _ := get(attrs, "action")
		method, _ := get(attrs, "method")
		method = strings.ToLower(strings.TrimSpace(method))
		if method == "" {
			method = "get"
		}
		f := Form{Action: e.resolve(action), Method: truncate(method, 16)}
		if au, err := url.Parse(f.Action); err == nil {
			switch au.Scheme {
			case "mailto":
				f.PostsElsewhere = true
			case "http", "https":
				f.PostsOverHTTP = au.Scheme == "http"
				if reg := registrableOf(au.Hostname()); reg != e.baseReg {
					f.PostsElsewhere = true
				}
			}
		}
		e.form = &f
	case "input", "select":
		kind := inputKind(attrs)
		if kind == "" {
			return
		}
		f := e.form
		if f == nil {
			f = &e.loose
		}
		if kind == "password" {
			f.HasPassword = true
		}
		if !slices.Contains(f.Inputs, kind) && len(f.Inputs) < maxFormInputs {
			f.Inputs = append(f.Inputs, kind)
			slices.Sort(f.Inputs)
		}
	case "a", "area":
		href, ok := get(attrs, "href")
		if !ok {
			return
		}
		_, dl := get(attrs, "download")
		target := e.resolve(href)
		if ext := riskyExt(target); ext != "" {
			e.addDownload(target, "extension "+ext)
		} else if dl && !strings.HasPrefix(target, "javascript:") {
			e.addDownload(target, "download attribute")
		}
	case "meta":
		equiv, _ := get(attrs, "http-equiv")
		if !strings.EqualFold(strings.TrimSpace(equiv), "refresh") {
			return
		}
		content, _ := get(attrs, "content")
		if t := refreshTarget(content); t != "" {
			e.addRedirect("meta_refresh", t)
		}
	case "link":
		rel, _ := get(attrs, "rel")
		href, ok := get(attrs, "href")
		if !ok || e.c.IconURL != "" {
			return
		}
		for _, r := range strings.Fields(strings.ToLower(rel)) {
			if r == "icon" {
				if t := e.resolve(href); strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
					e.c.IconURL = t
				}
				return
			}
		}
	}
}

func (e *extractor) closeForm() {
	if e.form == nil {
		return
	}
	f := *e.form
	e.form = nil
	if f.HasPassword || len(f.Inputs) > 0 {
		e.addForm(f)
	}
}

func (e *extractor) addForm(f Form) {
	if len(e.c.Forms) >= maxForms {
		return
	}
	e.c.Forms = append(e.c.Forms, f)
	if f.HasPassword {
		e.c.LoginForm = true
		e.c.PostsElsewhere = e.c.PostsElsewhere || f.PostsElsewhere
		e.c.PostsOverHTTP = e.c.PostsOverHTTP || f.PostsOverHTTP
	}
}

func (e *extractor) addDownload(u, reason string) {
	if len(e.c.Downloads) >= maxDownloads {
		return
	}
	for _, d := range e.c.Downloads {
		if d.URL == u {
			return
		}
	}
	e.c.Downloads = append(e.c.Downloads, Download{URL: u, Reason: reason})
}

func (e *extractor) addRedirect(kind, target string) {
	if len(e.c.Redirects) >= maxPageRedirect {
		return
	}
	r := PageRedirect{Kind: kind, Target: e.resolve(target)}
	if !slices.Contains(e.c.Redirects, r) {
		e.c.Redirects = append(e.c.Redirects, r)
	}
}

// resolve makes ref absolute against the page URL; unparsable references
// are returned as written (bounded).
func (e *extractor) resolve(ref string) string {
	ref = strings.TrimSpace(ref)
	u, err := e.base.Parse(ref)
	if err != nil {
		return truncate(ref, maxURLLen)
	}
	return truncate(u.String(), maxURLLen)
}

// addText adds visible text to the sample, the mention buffer and the
// word shingles.
func (e *extractor) addText(t []byte) {
	if e.text.Len() < maxTextSample {
		s := collapse(string(t[:min(len(t), maxTextSample)]))
		if s != "" {
			if e.text.Len() > 0 {
				e.text.WriteByte(' ')
			}
			e.text.WriteString(truncateUTF8(s, maxTextSample-e.text.Len()))
		}
	}
	if e.mention.Len() < maxMentionText {
		e.mention.WriteByte(' ')
		n := min(len(t), maxMentionText-e.mention.Len())
		e.mention.Write(t[:n]) // lower-cased when searched
	}
	// Words: runs of letters and digits, lower-cased, hashed with FNV-1a.
	h, inWord := uint64(fnvOffset), false
	for len(t) > 0 {
		r, size := utf8.DecodeRune(t)
		t = t[size:]
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			r = unicode.ToLower(r)
			for ; r > 0; r >>= 8 {
				h = (h ^ uint64(r&0xff)) * fnvPrime
			}
			inWord = true
			continue
		}
		if inWord {
			e.words.push(h, &e.sh)
			h, inWord = fnvOffset, false
		}
	}
	if inWord {
		e.words.push(h, &e.sh)
	}
}

// scanScript records location assignments in an inline script:
// location = "...", location.href = '...', location.replace("..."),
// location.assign(`...`), on window, document, top or self.
func (e *extractor) scanScript(src []byte) {
	s := string(src[:min(len(src), maxScriptText)])
	for len(s) > 0 && len(e.c.Redirects) < maxPageRedirect {
		i := strings.Index(s, "location")
		if i < 0 {
			return
		}
		s = s[i+len("location"):]
		rest := strings.TrimLeft(s, " \t\r\n")
		call := false
		switch {
		case strings.HasPrefix(rest, ".href"):
			rest = strings.TrimLeft(rest[len(".href"):], " \t\r\n")
		case strings.HasPrefix(rest, ".replace"):
			rest, call = strings.TrimLeft(rest[len(".replace"):], " \t\r\n"), true
		case strings.HasPrefix(rest, ".assign"):
			rest, call = strings.TrimLeft(rest[len(".assign"):], " \t\r\n"), true
		}
		switch {
		case call && strings.HasPrefix(rest, "("):
			rest = rest[1:]
		case !call && strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "=="):
			rest = rest[1:]
		default:
			continue
		}
		rest = strings.TrimLeft(rest, " \t\r\n")
		if rest == "" || strings.IndexByte("\"'`", rest[0]) < 0 {
			continue
		}
		q := rest[0]
		end := strings.IndexByte(rest[1:], q)
		if end < 0 || end > maxURLLen {
			continue
		}
		if t := strings.TrimSpace(rest[1 : 1+end]); t != "" && !strings.ContainsAny(t, "\n+") {
			e.addRedirect("js_location", t)
		}
	}
}

// refreshTarget reads the URL of a meta refresh content attribute:
// "5; url=https://example.org/" (quotes and spaces allowed).
func refreshTarget(content string) string {
	_, after, ok := strings.Cut(content, ";")
	if !ok {
		_, after, ok = strings.Cut(content, ",")
	}
	if !ok {
		return ""
	}
	after = strings.TrimSpace(after)
	if len(after) >= 4 && strings.EqualFold(after[:3], "url") {
		after = strings.TrimLeft(after[3:], " ")
		if strings.HasPrefix(after, "=") {
			after = strings.TrimSpace(after[1:])
		}
	}
	after = strings.Trim(after, `"' `)
	return after
}

// inputKind classifies a form field as "password", "email", "user",
// "otp", "card", or "" for anything else.
func inputKind(attrs []attr) string {
	typ, _ := get(attrs, "type")
	typ = strings.ToLower(strings.TrimSpace(typ))
	switch typ {
	case "password":
		return "password"
	case "email":
		return "email"
	case "hidden", "submit", "button", "image", "reset", "checkbox", "radio", "file":
		return ""
	}
	var sb strings.Builder
	for _, k := range []string{"name", "id", "autocomplete", "placeholder"} {
		if v, ok := get(attrs, k); ok {
			sb.WriteString(strings.ToLower(truncate(v, 128)))
			sb.WriteByte(' ')
		}
	}
	s := sb.String()
	has := func(subs ...string) bool {
		for _, x := range subs {
			if strings.Contains(s, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has("pass", "pwd", "wachtwoord", "passwort", "mot de passe", "contraseña"):
		return "password"
	case has("card", "cvv", "cvc", "cc-", "ccnum", "expiry", "iban"):
		return "card"
	case has("otp", "2fa", "mfa", "one-time", "totp", "sms code", "verification"):
		return "otp"
	case has("mail"):
		return "email"
	case has("user", "login", "account", "uid", "gebruiker", "username"):
		return "user"
	}
	return ""
}

// riskyExt returns the risky extension of a URL's path, or "".
func riskyExt(u string) string {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https" && pu.Scheme != "") {
		return ""
	}
	ext := strings.ToLower(path.Ext(pu.Path))
	if riskyExtensions[ext] {
		return ext
	}
	return ""
}

// registrableOf returns the registrable domain of a host, or the host
// itself when it has none (an IP address, a single label).
func registrableOf(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if r := lookalike.Registrable(host); r != "" {
		return r
	}
	return host
}

// collapse folds runs of white space into one space and trims the ends.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func hashBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}
