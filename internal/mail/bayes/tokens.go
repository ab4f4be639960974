// Package bayes is ward's statistical content classifier for bulk scam
// mail: a naive Bayes model over the words of a message, combined the way
// Gary Robinson described for spam filtering (a per-word probability with
// a prior, then Fisher's chi-square combining of the most telling words),
// as SpamBayes, bogofilter and SpamAssassin's Bayes plugin do.
//
// The package holds the tokenizer, the model and its compact binary form,
// and the trainer's counting and feature selection. The built-in model
// (model.bin, see README.md) is trained only on the SpamAssassin public
// corpus by the command in ./train.
//
// Everything it reads is hostile: the text read per message, the words
// taken from it and the size of a model file are all bounded.
package bayes

import (
	"crypto/sha256"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of the tokenizer.
const (
	// MinWord and MaxWord bound a word's length in characters (runes);
	// shorter and longer runs of letters are not tokens.
	MinWord = 3
	MaxWord = 20
	// MaxText is the number of bytes of text read per message.
	MaxText = 64 << 10
	// MaxWords is the number of words (with repeats) taken from one
	// message; the rest of the text is not read.
	MaxWords = 3000
)

// Message is what the classifier reads of one message.
type Message struct {
	// Text is the subject and the decoded body text: plain-text parts and
	// the visible text of HTML parts. Only the first MaxText bytes are
	// read.
	Text string
	// FromDomain is the domain of the From address ("mail.example.com"),
	// or empty. Only its top-level domain is used.
	FromDomain string
	// FromSite is the registrable domain of the From address
	// ("example.com"), or empty.
	FromSite string
	// LinkSites are the registrable domains of the message's links; the
	// first MaxLinkSites distinct ones are read.
	LinkSites []string
}

// MaxLinkSites is the number of distinct link domains read per message.
const MaxLinkSites = 32

// headerTokens returns the tokens the classifier takes from outside the
// text: the From domain's top-level domain ("h:tld:com"), the From
// address's registrable domain ("h:from:example.com") and the registrable
// domains of the links ("h:url:example.net"). A campaign reuses its
// sending and landing domains, so once a site has learned some of its
// messages these tell the next ones. Header tokens contain ':', which no
// word does, so they never collide with words.
//
// The message's Content-Type is left out on purpose: in the 2002 training
// corpus HTML mail was nearly always spam, while today most legitimate
// mail is HTML, so "text/html" would teach the model a bias that no longer
// holds.
func headerTokens(m Message) []string {
	var out []string
	if d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(m.FromDomain)), "."); d != "" {
		tld := d[strings.LastIndexByte(d, '.')+1:]
		if tld != "" && len(tld) <= 24 && isLetters(tld) {
			out = append(out, "h:tld:"+tld)
		}
	}
	if t, ok := siteToken("h:from:", m.FromSite); ok {
		out = append(out, t)
	}
	n := 0
	for _, s := range m.LinkSites {
		if n == MaxLinkSites {
			break
		}
		if t, ok := siteToken("h:url:", s); ok {
			out = append(out, t)
			n++
		}
	}
	return out
}

// siteToken returns the token of a registrable domain under prefix, if
// the domain is a plausible one that fits in a model's token.
func siteToken(prefix, site string) (string, bool) {
	site = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(site)), ".")
	if site == "" || len(prefix)+len(site) > maxTokenLen || !strings.Contains(site, ".") {
		return "", false
	}
	for i := 0; i < len(site); i++ {
		if c := site[i]; c != '.' && !isLetters(site[i:i+1]) {
			return "", false
		}
	}
	return prefix + site, true
}

// isLetters reports whether s is made of ASCII letters and digits (a
// top-level domain, punycode included).
func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// words calls yield with each word of text, lower-cased, in order, until
// yield returns false or MaxWords words were given. A word is a run of
// letters and digits of MinWord to MaxWord characters that is not only
// digits. The slice given to yield is reused: copy it to keep it.
func words(text string, yield func(w []byte) bool) {
	if len(text) > MaxText {
		text = text[:MaxText]
	}
	buf := make([]byte, 0, 4*MaxWord)
	var runes int
	var letter, long bool
	n := 0
	flush := func() bool {
		ok := true
		if !long && runes >= MinWord && letter {
			n++
			ok = yield(buf) && n < MaxWords
		}
		buf, runes, letter, long = buf[:0], 0, false, false
		return ok
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z':
				letter = true
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
				letter = true
			case '0' <= c && c <= '9':
			default:
				if runes > 0 && !flush() {
					return
				}
				continue
			}
			runes++
			if runes > MaxWord {
				long = true
			} else {
				buf = append(buf, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r), unicode.Is(unicode.Mn, r):
			// Digits, and combining marks that belong to the letter
			// before them.
		default:
			if runes > 0 && !flush() {
				return
			}
			continue
		}
		runes++
		if runes > MaxWord {
			long = true
		} else {
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
		}
	}
	if runes > 0 {
		flush()
	}
}

// Tokens returns the distinct tokens of m, sorted: the words of its text
// (see Message) and the header token of the From domain's top-level
// domain ("h:tld:com"). The model scores the same tokens.
func Tokens(m Message) []string {
	seen := map[string]bool{}
	var out []string
	words(m.Text, func(w []byte) bool {
		if !seen[string(w)] {
			s := string(w)
			seen[s] = true
			out = append(out, s)
		}
		return true
	})
	for _, h := range headerTokens(m) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// HeldOut reports whether the corpus file named name (its base name is
// used) belongs to the held-out half that the built-in model never sees:
// the first byte of the SHA-256 of the base name is odd. The trainer
// skips these files and "ward mail eval" reports them apart.
func HeldOut(name string) bool {
	sum := sha256.Sum256([]byte(filepath.Base(name)))
	return sum[0]&1 == 1
}
