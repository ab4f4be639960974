package alert

import (
	"strings"
	"unicode/utf8"
)

// This file holds the escaping of attacker-influenced text for each
// target. Every function is total: any input, valid UTF-8 or not, gives
// an output that is safe for its target.

// isBidiControl reports the characters that reorder text on screen
// (embeddings, overrides, isolates and marks): a hostile title could use
// them to make "lp.nrob-mivr" read as something else.
func isBidiControl(r rune) bool {
	switch {
	case r == 0x061C, r == 0x200E, r == 0x200F:
		return true
	case r >= 0x202A && r <= 0x202E:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// isLineControl reports the characters that must not appear in a one-line
// value: C0 and C1 controls, DEL, and the Unicode line and paragraph
// separators.
func isLineControl(r rune) bool {
	return r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0x9F) || r == 0x2028 || r == 0x2029
}

// oneLine makes s valid UTF-8 on one line: invalid bytes and
// bidirectional controls become U+FFFD, controls and line breaks become
// spaces, and surrounding space is trimmed.
func oneLine(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || isLineControl(r) || isBidiControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // invalid bytes come out as utf8.RuneError
		switch {
		case isLineControl(r):
			b.WriteByte(' ')
		case isBidiControl(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// ellipsis ends a value that was cut.
const ellipsis = "…"

// clip cuts s to at most n bytes at a character boundary, ending it with
// "…" when it was cut. n must be at least len(ellipsis).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// slackEscape escapes s for Slack's mrkdwn: Slack reads "<...>" as links
// and mentions (<!channel>, <@U123>, <http://x|click here>) and "&" as the
// start of an entity, and asks senders to replace exactly these three
// characters by entities.
func slackEscape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// zwsp is the zero-width space, put after "@" so that "@channel" or
// "@all" in a hostile value is no mention.
const zwsp = "\u200b"

// markdownEscape escapes s for Mattermost's Markdown: every ASCII
// punctuation character that starts Markdown syntax (emphasis, links,
// images, code, HTML, headings, tables) gets a backslash, which CommonMark
// defines as "this character is literal"; and "@" is followed by a
// zero-width space so that no @channel, @all, @here or @user notifies
// anyone.
func markdownEscape(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '_', '~', '[', ']', '(', ')', '<', '>', '#', '|', '!', '&', ':':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '@':
			b.WriteByte('@')
			b.WriteString(zwsp)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// cardText prepares s for an Adaptive Card TextRun. TextRuns do not read
// Markdown, but Teams expands the text functions {{DATE(...)}} and
// {{TIME(...)}} everywhere; a zero-width space between the braces keeps a
// hostile value from reaching them.
func cardText(s string) string {
	return strings.ReplaceAll(s, "{{", "{"+zwsp+"{")
}

// headerText makes s safe as the value of a mail header: one line (no CR
// or LF can start a new header such as "Bcc:"), valid UTF-8. Encoding it
// for the wire is encodeHeader's job.
func headerText(s string) string {
	return oneLine(s)
}

// sdParamEscape escapes s as an RFC 5424 PARAM-VALUE (section 6.3.3): a
// backslash before '"', '\' and ']'. Invalid UTF-8 becomes U+FFFD (the
// value must be UTF-8) and control characters become spaces, so that a
// receiver that splits on newlines still sees one message.
func sdParamEscape(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r == ']':
			b.WriteByte('\\')
			b.WriteRune(r)
		case isLineControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r) // utf8.RuneError for invalid bytes
		}
	}
	return b.String()
}

// sdParamUnescape reverses sdParamEscape as a receiver does: a backslash
// before '"', '\' or ']' is dropped, any other backslash is kept. It
// reports false when v holds an unescaped '"' or ']' or ends in a lone
// backslash, which would end the value early.
func sdParamUnescape(v string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '\\':
			if i+1 >= len(v) {
				return "", false
			}
			if n := v[i+1]; n == '"' || n == '\\' || n == ']' {
				b.WriteByte(n)
				i++
				continue
			}
			b.WriteByte(c)
		case '"', ']':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// printASCII makes s a token of printable US-ASCII without spaces (RFC
// 5424's PRINTUSASCII), at most n bytes: other bytes become '_'. An empty
// result is "-", syslog's nil value.
func printASCII(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b.WriteByte(c)
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}
