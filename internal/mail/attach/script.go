package attach

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"

	"github.com/ward-health/ward/internal/mail/finding"
)

// Bounds on text analysis.
const (
	maxText        = 32 << 20 // bytes of a text file examined
	maxHTMLTokens  = 200000   // HTML tokens read
	maxPayloads    = 8        // payloads decoded from one script or page
	maxPayloadText = 48 << 20 // characters of one encoded payload decoded
	maxTextURLs    = 500      // URLs taken from one text file
)

// keyword groups of script behaviour, lower-case.
var (
	kwDownload = []string{"msxml2.xmlhttp", "msxml2.serverxmlhttp", "microsoft.xmlhttp", "winhttp.winhttprequest", "downloadstring", "downloadfile",
		"downloaddata", "invoke-webrequest", "net.webclient", "bitsadmin", "start-bitstransfer", "-urlcache", "urldownloadtofile", "invoke-restmethod"}
	kwWrite = []string{"adodb.stream", "savetofile", "createtextfile", "scripting.filesystemobject", "set-content", "out-file",
		"writeallbytes", "copyfile", ".write("}
	kwExecute = []string{"wscript.shell", "shell.application", "shellexecute", ".run(", ".run ", ".exec(", "start-process", "invoke-expression",
		"iex(", "iex ", "mshta", "regsvr32", "rundll32", "cmd /c", "cmd.exe", "powershell", "win32_process", "invoke-item", "createobject(\"wscript"}
	kwTemp = []string{"%temp%", "%appdata%", "%localappdata%", "%public%", "%programdata%", "getspecialfolder(2)", "$env:temp", "$env:appdata",
		"environ(\"temp\")", "environ(\"appdata\")", "expandenvironmentstrings", "\\appdata\\", "\\temp\\", "gettempname"}
	kwEncoded = []string{"-encodedcommand", " -enc ", " -e ", " -ec ", "frombase64string", "certutil -decode", "certutil.exe -decode", "-decode "}
)

// runnable reports whether a file of type typ runs when double-clicked.
func runnable(typ string) bool { return scriptTypes[typ] || typ == "hta" || typ == "wsf" }

// text analyses text files: scripts, HTML, SVG and plain text.
func (z *analyzer) text(r *Report, k kind, data []byte, depth int, here string) {
	if len(data) > maxText {
		addError(r, fmt.Sprintf("text: only the first %d bytes were examined", maxText))
	}
	t := decodeText(data, maxText)
	lt := lower(t)
	for _, u := range textURLs(t, lt) {
		addURL(r, u)
	}
	markup := k.typ == "html" || k.typ == "svg" || k.typ == "hta" || k.typ == "xml" || k.typ == "wsf"
	var page htmlFacts
	if markup {
		page = z.scanHTML(t)
		for _, u := range page.urls {
			addURL(r, u)
		}
	}
	ext := extension(r.Name)
	run := runnable(k.typ) && (ext == "" || dangerousExt[ext].class == finding.Malware)
	z.scriptSignals(r, k.typ, run, t, lt, depth, here)
	if markup {
		z.htmlSignals(r, k.typ, t, lt, page, depth, here)
	}
}

// found returns the keywords of list that lt contains.
func found(lt string, list []string) []string {
	var out []string
	for _, w := range list {
		if strings.Contains(lt, w) {
			out = append(out, strings.TrimSpace(w))
		}
	}
	return out
}

// scriptSignals looks for dropper and downloader behaviour in any text.
// The findings are Malware only when run is set: the file is a script
// that Windows runs on a double click (by its extension).
func (z *analyzer) scriptSignals(r *Report, typ string, run bool, t, lt string, depth int, here string) {
	dl, wr, ex, tmp, enc := found(lt, kwDownload), found(lt, kwWrite), found(lt, kwExecute), found(lt, kwTemp), found(lt, kwEncoded)
	if typ == "html" || typ == "svg" || typ == "xml" || typ == "text" {
		// ".write(" is document.write in a page, ".run " ordinary prose.
		wr = without(wr, ".write(")
		ex = without(ex, ".run ")
	}
	payloads := z.embeddedExecutables(r, t, run || typ == "html" || typ == "svg", depth, here)
	class, score := finding.Weak, 4
	if run {
		class, score = finding.Malware, 10
	}
	switch {
	case payloads > 0:
		add(r, "script_embedded_executable", class, max(score, 6), fmt.Sprintf("%s carries a Windows program encoded as text (base64 or hex), the way droppers hide their payload", here))
	case strings.Contains(lt, "tvqqaam") || strings.Contains(lt, "4d5a900003"):
		add(r, "script_embedded_executable", class, max(score, 6), fmt.Sprintf("%s contains the encoded start of a Windows program (\"TVqQ\" or \"4D5A90\")", here))
	}
	switch {
	case len(dl) > 0 && len(ex) > 0:
		add(r, "script_downloader", class, score, fmt.Sprintf("%s downloads (%s) and runs (%s) a file", here, strings.Join(dl, ", "), strings.Join(ex, ", ")))
	case len(wr) > 0 && len(ex) > 0 && (len(tmp) > 0 || payloads > 0):
		add(r, "script_dropper", class, score, fmt.Sprintf("%s writes a file (%s) to a temporary or user folder (%s) and runs it (%s)", here, strings.Join(wr, ", "), strings.Join(tmp, ", "), strings.Join(ex, ", ")))
	case len(ex) > 0 && run:
		add(r, "script_execution", finding.Weak, 3, fmt.Sprintf("%s starts programs (%s)", here, strings.Join(ex, ", ")))
	}
	if len(enc) > 0 && (strings.Contains(lt, "powershell") || strings.Contains(lt, "certutil") || run) {
		add(r, "script_encoded_command", finding.Weak, 5, fmt.Sprintf("%s decodes and runs hidden commands (%s)", here, strings.Join(enc, ", ")))
	}
	if n := strings.Count(lt, "chr(") + strings.Count(lt, "chrw(") + strings.Count(lt, "[char]"); n >= 50 || strings.Contains(lt, "strreverse(") || strings.Contains(lt, "executeglobal") {
		add(r, "script_obfuscation", finding.Weak, 2, fmt.Sprintf("%s builds its code from character codes or reversed strings to hide it", here))
	}
}

func without(list []string, w string) []string {
	out := list[:0:0]
	for _, v := range list {
		if v != strings.TrimSpace(w) {
			out = append(out, v)
		}
	}
	return out
}

// embeddedExecutables decodes base64 or hex runs that start like a Windows
// program and, when extract is set, analyses them as members. It returns
// how many decoded to a program.
func (z *analyzer) embeddedExecutables(r *Report, t string, extract bool, depth int, here string) int {
	n := 0
	for _, m := range []struct {
		marker string
		hex    bool
	}{{"TVqQ", false}, {"TVpQ", false}, {"4d5a90", true}, {"4D5A90", true}, {"4d5a50", true}} {
		from := 0
		for tries := 0; tries < maxPayloads && n < maxPayloads; tries++ {
			i := strings.Index(t[from:], m.marker)
			if i < 0 {
				break
			}
			at := from + i
			var data []byte
			var end int
			if m.hex {
				data, end = decodeHexRun(t, at)
			} else {
				data, end = decodeBase64Run(t, at)
			}
			from = max(end, at+len(m.marker))
			if len(data) < 64 || !isPE(data) && !(data[0] == 'M' && data[1] == 'Z') {
				continue
			}
			n++
			if !extract || !z.canOpen(r, depth, here) {
				continue
			}
			if seenMember(r, data) {
				continue
			}
			z.total += int64(len(data))
			if !z.member(r, fmt.Sprintf("decoded-%d.bin", n), "", data, depth, here) {
				return n
			}
		}
	}
	return n
}

// seenMember reports whether r already has a member with this content
// (a payload found twice, e.g. as a data: link and as base64 text).
func seenMember(r *Report, data []byte) bool {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	for _, m := range r.Members {
		if m.SHA256 == h {
			return true
		}
	}
	return false
}

// decodeBase64Run decodes the base64 text starting at at (skipping line
// breaks, quotes and string concatenations that split it), up to
// maxPayloadText characters. It returns the bytes and where the run ended.
func decodeBase64Run(t string, at int) ([]byte, int) {
	var sb strings.Builder
	i := at
loop:
	for ; i < len(t) && sb.Len() < maxPayloadText; i++ {
		c := t[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			sb.WriteByte(c)
		case c == '\r' || c == '\n':
		case c == '"' || c == '\'':
			// "TVqQ" & _ <newline> "AAMA" or 'TVqQ' + 'AAMA': joined pieces.
			j := skipSpace(t, i+1, false)
			if j >= len(t) || (t[j] != '&' && t[j] != '+') {
				break loop
			}
			j = skipSpace(t, j+1, true)
			if j >= len(t) || t[j] != c {
				break loop
			}
			i = j
		default:
			break loop
		}
	}
	return decodeBase64(sb.String()), i
}

// skipSpace skips blanks (and, with lines set, line breaks and the VBScript
// line continuation "_") from i, at most 64 bytes.
func skipSpace(t string, i int, lines bool) int {
	for n := 0; i < len(t) && n < 64; i, n = i+1, n+1 {
		switch t[i] {
		case ' ', '\t':
		case '\r', '\n', '_':
			if !lines {
				return i
			}
		default:
			return i
		}
	}
	return i
}

// decodeHexRun decodes hex digits starting at at.
func decodeHexRun(t string, at int) ([]byte, int) {
	i := at
	for i < len(t) && i-at < maxPayloadText {
		if _, ok := unhex(t[i]); !ok {
			break
		}
		i++
	}
	s := t[at:i]
	out, err := hex.DecodeString(s[:len(s)/2*2])
	if err != nil {
		return nil, i
	}
	return out, i
}

// htmlFacts is what the HTML tokenizer saw.
type htmlFacts struct {
	scripts   int
	handlers  int // on* event attributes
	password  bool
	actions   []string
	dataLinks []string // data: URIs of links with a download attribute
	refresh   string
	urls      []string
	truncated bool
}

// scanHTML tokenizes t (HTML, SVG, HTA, XML) within maxHTMLTokens.
func (z *analyzer) scanHTML(t string) htmlFacts {
	var f htmlFacts
	tk := html.NewTokenizer(strings.NewReader(t))
	tk.SetMaxBuf(4 << 20)
	for n := 0; ; n++ {
		if n >= maxHTMLTokens || z.ctx.Err() != nil {
			f.truncated = true
			return f
		}
		tt := tk.Next()
		if tt == html.ErrorToken {
			return f
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := tk.TagName()
		tag := string(name)
		attrs := map[string]string{}
		for hasAttr && len(attrs) < 64 {
			var k, v []byte
			k, v, hasAttr = tk.TagAttr()
			key := strings.ToLower(string(k))
			if strings.HasPrefix(key, "on") && len(key) > 2 {
				f.handlers++
			}
			if _, dup := attrs[key]; !dup {
				attrs[key] = string(v)
			}
		}
		switch tag {
		case "script":
			f.scripts++
		case "input":
			if lower(strings.TrimSpace(attrs["type"])) == "password" {
				f.password = true
			}
		case "form":
			if a := strings.TrimSpace(attrs["action"]); a != "" && len(f.actions) < 20 {
				f.actions = append(f.actions, a)
			}
		case "meta":
			if lower(attrs["http-equiv"]) == "refresh" {
				c := attrs["content"]
				if i := strings.Index(lower(c), "url="); i >= 0 {
					f.refresh = strings.Trim(strings.TrimSpace(c[i+4:]), `'"`)
				}
			}
		case "a":
			if _, ok := attrs["download"]; ok && strings.HasPrefix(lower(strings.TrimSpace(attrs["href"])), "data:") && len(f.dataLinks) < maxPayloads {
				f.dataLinks = append(f.dataLinks, strings.TrimSpace(attrs["href"]))
			}
		}
		for _, k := range []string{"href", "src", "action", "xlink:href", "data"} {
			if v := strings.TrimSpace(attrs[k]); isWebURL(v) && len(f.urls) < maxTextURLs {
				f.urls = append(f.urls, v)
			}
		}
	}
}

// htmlSignals reports smuggling, scripts, credential forms and redirects
// in HTML, SVG and HTA files.
func (z *analyzer) htmlSignals(r *Report, typ, t, lt string, f htmlFacts, depth int, here string) {
	if f.truncated {
		addError(r, fmt.Sprintf("html: only the first %d tokens were read", maxHTMLTokens))
	}
	blob := strings.Contains(lt, "new blob(") || strings.Contains(lt, "blob([")
	save := strings.Contains(lt, "mssaveoropenblob") || strings.Contains(lt, "mssaveblob") ||
		strings.Contains(lt, "createobjecturl") && (strings.Contains(lt, ".download") || strings.Contains(lt, "download=") || strings.Contains(lt, "'download'") || strings.Contains(lt, "\"download\""))
	smuggled := 0
	for _, u := range f.dataLinks {
		data, mediatype := decodeDataURI(u)
		if len(data) == 0 {
			continue
		}
		smuggled++
		if !seenMember(r, data) && z.canOpen(r, depth, here) {
			z.total += int64(len(data))
			if !z.member(r, fmt.Sprintf("smuggled-%d", smuggled), mediatype, data, depth, here) {
				break
			}
		}
	}
	if blob && save {
		smuggled += z.smuggledBlobs(r, t, depth, here)
	}
	switch {
	case blob && save:
		add(r, "html_smuggling", finding.Malware, 10, fmt.Sprintf("%s builds a file in the browser from data it carries and saves it to disk (Blob with msSaveOrOpenBlob or a download link): HTML smuggling", here))
	case len(f.dataLinks) > 0 && smuggled > 0:
		add(r, "html_smuggling", finding.Malware, 10, fmt.Sprintf("%s offers a file carried inside the page itself (a data: link with a download attribute): HTML smuggling", here))
	}
	if f.password || strings.Contains(lt, `type="password"`) || strings.Contains(lt, `type='password'`) || strings.Contains(lt, `type=password`) {
		detail := fmt.Sprintf("%s is a page that asks for a password", here)
		for _, a := range f.actions {
			if u, err := url.Parse(a); err == nil && u.Host != "" {
				detail += fmt.Sprintf(" and sends it to %s", u.Host)
				break
			}
		}
		add(r, "html_attachment_login_form", finding.Phishing, 8, detail+": an attached login page is the classic credential phish")
	}
	switch {
	case typ == "svg" && (f.scripts > 0 || f.handlers > 0):
		add(r, "svg_script", finding.Weak, 5, fmt.Sprintf("%s is an image that runs script when opened", here))
	case typ == "html" && f.scripts > 0:
		add(r, "html_script", finding.Weak, 1, fmt.Sprintf("%s contains script", here))
	}
	if f.refresh != "" && isWebURL(f.refresh) {
		add(r, "html_redirect", finding.Weak, 3, fmt.Sprintf("%s sends the reader on to %s", here, clip(f.refresh, 200)))
	} else if typ == "html" || typ == "svg" {
		compact := lt
		if strings.Contains(lt, "location") {
			compact = strings.ReplaceAll(lt, " ", "")
		}
		for _, w := range []string{"window.location.href=", "window.location=", "location.replace(", "location.href=", "window.location.replace("} {
			if strings.Contains(compact, w+"\"http") || strings.Contains(compact, w+"'http") {
				add(r, "html_redirect", finding.Weak, 3, fmt.Sprintf("%s sends the reader on to another site by script", here))
				break
			}
		}
	}
	if strings.Contains(lt, "document.write(unescape(") || strings.Contains(lt, "document.write(atob(") || strings.Contains(lt, "eval(atob(") || strings.Contains(lt, "eval(unescape(") {
		add(r, "html_obfuscated", finding.Weak, 3, fmt.Sprintf("%s writes itself from encoded text at run time, hiding its content from filters", here))
	}
}

// smuggledBlobs decodes the long base64 string literals of a smuggling page
// and analyses those that decode to a file of a known binary type.
func (z *analyzer) smuggledBlobs(r *Report, t string, depth int, here string) int {
	n := 0
	for p := 0; p < len(t) && n < maxPayloads; {
		i := strings.IndexAny(t[p:], "\"'`")
		if i < 0 {
			break
		}
		q := t[p+i]
		start := p + i + 1
		end := strings.IndexByte(t[start:], q)
		if end < 0 {
			break
		}
		p = start + end + 1
		if end < 256 {
			continue
		}
		data := decodeBase64(t[start : start+end])
		if len(data) == 0 || sniffBinary(data) == "" {
			continue
		}
		n++
		if seenMember(r, data) || !z.canOpen(r, depth, here) {
			continue
		}
		z.total += int64(len(data))
		if !z.member(r, fmt.Sprintf("smuggled-blob-%d", n), "", data, depth, here) {
			break
		}
	}
	return n
}

// decodeBase64 decodes standard base64 with or without padding, ignoring
// white space; it returns nil when s is not base64.
func decodeBase64(s string) []byte {
	if len(s) > maxPayloadText {
		s = s[:maxPayloadText]
	}
	clean := strings.Map(func(c rune) rune {
		if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
			return -1
		}
		return c
	}, s)
	clean = strings.TrimRight(clean, "=")
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out, err := base64.RawStdEncoding.DecodeString(clean)
	if err != nil {
		return nil
	}
	return out
}

// decodeDataURI decodes a data: URI (RFC 2397) with base64 or percent
// encoding, at most maxPayloadText characters.
func decodeDataURI(u string) ([]byte, string) {
	u = strings.TrimSpace(u)
	comma := strings.IndexByte(u, ',')
	if comma < 0 || !strings.HasPrefix(lower(u), "data:") {
		return nil, ""
	}
	meta := lower(u[5:comma])
	payload := u[comma+1:]
	if len(payload) > maxPayloadText {
		payload = payload[:maxPayloadText]
	}
	mediatype := meta
	if i := strings.IndexByte(mediatype, ';'); i >= 0 {
		mediatype = mediatype[:i]
	}
	if strings.HasSuffix(meta, ";base64") {
		return decodeBase64(payload), mediatype
	}
	s, err := url.PathUnescape(payload)
	if err != nil {
		return []byte(payload), mediatype
	}
	return []byte(s), mediatype
}

// isWebURL reports whether s is an absolute http or https URL.
func isWebURL(s string) bool {
	return len(s) >= 7 && strings.EqualFold(s[:7], "http://") || len(s) >= 8 && strings.EqualFold(s[:8], "https://")
}

// textURLs finds http and https URLs in t; lt is t lower-cased, used to
// find them when it has the same length.
func textURLs(t, lt string) []string {
	if len(t) != len(lt) {
		lt = t
	}
	var out []string
	for p := 0; p < len(lt) && len(out) < maxTextURLs; {
		i := strings.Index(lt[p:], "http")
		if i < 0 {
			break
		}
		at := p + i
		p = at + 4
		if !isWebURL(t[at:min(len(t), at+8)]) {
			continue
		}
		end := at
		for end < len(t) && end-at < 2048 && !urlStop(t[end]) {
			end++
		}
		u := strings.TrimRight(t[at:end], ".,;:!?")
		if len(u) > len("https://") {
			out = appendOnce(out, u)
		}
		p = end
	}
	return out
}

// urlStop reports whether c ends a URL in running text or code.
func urlStop(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '\'', '<', '>', '(', ')', '[', ']', '{', '}', '\\', '`', '^', '|':
		return true
	}
	return c < 0x20 || c == 0x7F
}
