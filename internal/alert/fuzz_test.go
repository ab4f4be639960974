package alert

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedStrings adds the hostile strings of testdata/hostile.txt (one per
// line, Go-quoted) and the test alerts' fields to a fuzzer's corpus.
func seedStrings(f *testing.F) {
	f.Helper()
	for _, s := range hostileAlert().Reasons {
		f.Add(s)
	}
	f.Add(hostileAlert().Title)
	f.Add(hostileAlert().Subject)
	f.Add(sampleAlert().Title)
	data, err := os.ReadFile(filepath.Join("testdata", "hostile.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var s string
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			f.Fatalf("testdata/hostile.txt: %q is not a JSON string: %v", line, err)
		}
		f.Add(s)
	}
}

// sanitized is what oneLine promises: valid UTF-8 without controls.
func checkOneLine(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s %q is not UTF-8", what, s)
	}
	for _, r := range s {
		if isLineControl(r) || isBidiControl(r) {
			t.Fatalf("%s %q holds control %U", what, s, r)
		}
	}
}

func FuzzOneLineClip(f *testing.F) {
	seedStrings(f)
	f.Fuzz(func(t *testing.T, s string) {
		o := oneLine(s)
		checkOneLine(t, "oneLine", o)
		for _, n := range []int{3, 4, 10, MaxTitleLen} {
			c := clip(o, n)
			if len(c) > n {
				t.Fatalf("clip(%q, %d) = %q, %d bytes", o, n, c, len(c))
			}
			if !utf8.ValidString(c) {
				t.Fatalf("clip(%q, %d) = %q is not UTF-8", o, n, c)
			}
			if c != o && !strings.HasPrefix(o, strings.TrimSuffix(c, ellipsis)) {
				t.Fatalf("clip(%q, %d) = %q is no prefix", o, n, c)
			}
		}
	})
}

func FuzzSDParam(f *testing.F) {
	seedStrings(f)
	f.Fuzz(func(t *testing.T, s string) {
		e := sdParamEscape(s)
		if !utf8.ValidString(e) {
			t.Fatalf("escaped %q is not UTF-8", e)
		}
		if strings.ContainsAny(e, "\r\n") {
			t.Fatalf("escaped %q holds a line break", e)
		}
		back, ok := sdParamUnescape(e)
		if !ok {
			t.Fatalf("escaped %q does not parse as a PARAM-VALUE", e)
		}
		// Back is s with invalid bytes as U+FFFD and controls as spaces.
		want := strings.Map(func(r rune) rune {
			if isLineControl(r) {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD"))
		// ToValidUTF8 merges a run of invalid bytes into one U+FFFD; range
		// gives one per byte. Compare with runs merged on both sides.
		merge := func(x string) string {
			for strings.Contains(x, "\uFFFD\uFFFD") {
				x = strings.ReplaceAll(x, "\uFFFD\uFFFD", "\uFFFD")
			}
			return x
		}
		if merge(back) != merge(want) {
			t.Fatalf("sdParamUnescape(sdParamEscape(%q)) = %q, want %q", s, back, want)
		}
	})
}

func FuzzSlackEscape(f *testing.F) {
	seedStrings(f)
	unescape := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
	f.Fuzz(func(t *testing.T, s string) {
		e := slackEscape(s)
		if strings.ContainsAny(e, "<>") {
			t.Fatalf("slackEscape(%q) = %q holds < or >", s, e)
		}
		for i := strings.IndexByte(e, '&'); i >= 0; i = strings.IndexByte(e, '&') {
			rest := e[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				t.Fatalf("slackEscape(%q) = %q holds a bare &", s, e)
			}
			e = rest[1:]
		}
		if back := unescape.Replace(slackEscape(s)); back != s {
			t.Fatalf("unescaped %q, want %q", back, s)
		}
	})
}

func FuzzMarkdownEscape(f *testing.F) {
	seedStrings(f)
	f.Fuzz(func(t *testing.T, s string) {
		e := markdownEscape(s)
		// Every special character is escaped, every @ broken.
		for i := 0; i < len(e); i++ {
			switch e[i] {
			case '\\':
				if i+1 >= len(e) || !strings.ContainsRune("\\`*_~[]()<>#|!&:", rune(e[i+1])) {
					t.Fatalf("markdownEscape(%q) = %q: lone backslash at %d", s, e, i)
				}
				i++
			case '`', '*', '_', '~', '[', ']', '(', ')', '<', '>', '#', '|', '!', '&', ':':
				t.Fatalf("markdownEscape(%q) = %q: unescaped %q at %d", s, e, e[i], i)
			case '@':
				if !strings.HasPrefix(e[i+1:], zwsp) {
					t.Fatalf("markdownEscape(%q) = %q: live @ at %d", s, e, i)
				}
			}
		}
		back := strings.ReplaceAll(e, "@"+zwsp, "@")
		var b strings.Builder
		for i := 0; i < len(back); i++ {
			if back[i] == '\\' && i+1 < len(back) {
				i++
			}
			b.WriteByte(back[i])
		}
		if b.String() != s {
			t.Fatalf("unescaped %q, want %q", b.String(), s)
		}
	})
}

// FuzzHeader checks encodeHeader: no CR or LF but the folds and the end,
// lines within 998 bytes, and parsing the header back gives the text.
func FuzzHeader(f *testing.F) {
	seedStrings(f)
	dec := new(mime.WordDecoder)
	f.Fuzz(func(t *testing.T, s string) {
		in := clip(oneLine(s), MaxTitleLen)
		h := encodeHeader("Subject", s)
		body := strings.TrimSuffix(h, "\r\n")
		if strings.ContainsAny(strings.ReplaceAll(body, "\r\n ", ""), "\r\n") {
			t.Fatalf("encodeHeader(%q) = %q holds a CR or LF that is no fold", s, h)
		}
		for line := range strings.SplitSeq(body, "\r\n") {
			if len(line) > 998 && len(s) <= MaxTitleLen {
				t.Fatalf("line of %d bytes", len(line))
			}
			if strings.TrimSpace(line) == "" {
				t.Fatalf("encodeHeader(%q) = %q has a blank line", s, h)
			}
		}
		m, err := mail.ReadMessage(strings.NewReader(encodeHeader("Subject", in) + "\r\n"))
		if err != nil {
			t.Fatalf("header %q does not parse: %v", h, err)
		}
		if len(m.Header) != 1 {
			t.Fatalf("header %q parses as %d fields", h, len(m.Header))
		}
		got, err := dec.DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("header %q does not decode: %v", h, err)
		}
		if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(in), " ") {
			t.Fatalf("decoded %q, want %q", got, in)
		}
	})
}

var messageIDPattern = regexp.MustCompile(`^<[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*@ward>$`)

// FuzzMessage builds whole mails from hostile fields and checks that they
// parse with exactly the headers the sink writes.
func FuzzMessage(f *testing.F) {
	seedStrings(f)
	f.Fuzz(func(t *testing.T, s string) {
		a := sampleAlert()
		a.ID, a.Title, a.Severity, a.Subject, a.Reasons = "x"+s, s, s, s, []string{s}
		b, err := a.bounded()
		if err != nil {
			t.Fatal(err)
		}
		msg, err := buildMessage(b, `"ward" <w@x.example>`, "<s@x.example>", len(s)%2 == 0)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("message does not parse: %v\n%s", err, msg)
		}
		allowed := map[string]bool{"Date": true, "From": true, "To": true, "Subject": true, "Message-Id": true,
			"Mime-Version": true, "Auto-Submitted": true, "X-Auto-Response-Suppress": true, "X-Ward-Alert-Id": true,
			"X-Ward-Severity": true, "Content-Type": true, "Content-Transfer-Encoding": true}
		for k := range m.Header {
			if !allowed[k] {
				t.Fatalf("header %q injected\n%s", k, msg)
			}
		}
		if id := m.Header.Get("Message-Id"); !messageIDPattern.MatchString(id) {
			t.Fatalf("Message-ID %q is not a dot-atom at ward", id)
		}
	})
}

// FuzzSyslogFormat checks that any alert gives a message within the size
// limit that parses back as RFC 5424 with the alert's subject.
func FuzzSyslogFormat(f *testing.F) {
	seedStrings(f)
	f.Fuzz(func(t *testing.T, s string) {
		sink, err := NewSyslog(SyslogConfig{Addr: "127.0.0.1:514", Hostname: "h", MaxSize: 480 + len(s)%2000})
		if err != nil {
			t.Fatal(err)
		}
		ss := sink.(*syslogSink)
		a := sampleAlert()
		a.ID, a.Title, a.Subject, a.Org, a.Reasons = "x"+s, s, s, s, []string{s, s}
		b, err := a.bounded()
		if err != nil {
			t.Fatal(err)
		}
		msg := ss.format(b)
		if len(msg) > ss.maxSize {
			t.Fatalf("message of %d bytes, max %d", len(msg), ss.maxSize)
		}
		if bytes.ContainsAny(msg, "\r\n") {
			t.Fatalf("message %q holds a line break", msg)
		}
		m, err := parse5424(string(msg))
		if err != nil {
			t.Fatalf("%v in %q", err, msg)
		}
		if !strings.HasPrefix(b.Subject, strings.TrimSuffix(m.params["subject"], ellipsis)) {
			t.Fatalf("subject %q is not a prefix of %q", m.params["subject"], b.Subject)
		}
	})
}
