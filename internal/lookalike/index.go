package lookalike

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ward-health/ward/internal/brand"
)

// tokenKind says where a brand token comes from.
type tokenKind uint8

const (
	// kindLabel is the first label of an official domain: "rivm" of rivm.nl.
	kindLabel tokenKind = iota
	// kindJoined is an official domain with its dots dropped: "rivmnl".
	kindJoined
	// kindName is a spelled-out name from the brands file.
	kindName
)

// strength grades how distinctive a token is; it bounds how far a match on
// it may be trusted.
type strength uint8

const (
	// weak tokens are three letters or fewer ("who", "ggd") or ordinary
	// words ("health"): alone they match countless benign names.
	weak strength = iota
	// medium tokens have four letters ("rivm", "aphp").
	medium
	// strong tokens have five or more letters and are not ordinary words.
	strong
)

func (s strength) String() string {
	return [...]string{"weak", "medium", "strong"}[s]
}

// token is one string that identifies a brand.
type token struct {
	brand int32
	// text is lower-case ASCII without hyphens; orig keeps the hyphens of
	// the official label ("solidarites-sante").
	text, orig string
	kind       tokenKind
	strength   strength
	// word marks a token that is an ordinary word ("gov", "health"):
	// found anywhere but as the whole registrable label or inside an
	// official domain spelled out, it is not evidence of imitation.
	word bool
}

// lexKind classifies a lexicon entry.
type lexKind uint8

const (
	lexHealth lexKind = 1 << iota
	lexLure
	lexKeyword // a keyword of at least one brand
	lexTLD     // a top-level domain name, as in "rivm-nl.com"
)

// dictEntry is what a string is: tokens of brands, a lexicon word, or both.
type dictEntry struct {
	toks []int32 // tokens equal to the string
	skel []int32 // tokens whose skeleton is the string
	lex  lexKind
}

// lookup returns the tokens that s is and its lexicon kind.
func (m *Matcher) lookup(s string) ([]int32, lexKind) {
	if e, _ := m.dict.get(s); e != nil {
		return e.toks, e.lex
	}
	return nil, 0
}

// entry returns the dictionary entry of s, or nil.
func (m *Matcher) entry(s string) *dictEntry {
	e, _ := m.dict.get(s)
	return e
}

// entryBytes is entry for a string in a byte slice.
func (m *Matcher) entryBytes(b []byte) *dictEntry {
	e, _ := m.dict.getBytes(b)
	return e
}

// delEntry is one entry of the deletion-neighbourhood index: the token with
// the byte at pos removed (pos -1: the token itself).
type delEntry struct {
	tok int32
	pos int16
}

// brandInfo is the per-brand data the matcher needs at match time.
type brandInfo struct {
	name     string
	keywords map[string]bool
	// suffixes are the public suffixes of the official domains ("nl").
	suffixes []string
	// domains are the official domains, for the subdomain-embed check.
	domains []string
}

// Matcher finds, for any domain name, the protected brand it imitates. It
// is built once per brand set and is safe for concurrent use.
type Matcher struct {
	brands []brandInfo
	tokens []token
	// allow maps official and allowlisted domains to their brand; a name
	// equal to or under one of them never matches.
	allow *strTable[int32]
	// dels is the deletion neighbourhood of typo-able tokens (medium and
	// strong labels and names).
	dels *delIndex
	// dict maps a string to what it is: brand tokens (by text and by
	// skeleton) and lexicon words (health, lure, keyword, TLD), so that
	// the hot path needs one lookup per string.
	dict *strTable[*dictEntry]
	// building holds the dictionary while the matcher is built.
	building map[string]*dictEntry
	// ac finds brand tokens (patterns 0..len(tokens)-1) and lexicon words
	// (patterns len(tokens)..) inside labels.
	ac       *automaton
	maxToken int // length of the longest token
	// pool recycles the scratch state of Match calls.
	pool sync.Pool
}

// commonWords are brand labels that are ordinary words: a match on them
// alone is weak evidence ("health" of health.gov.au, "canada" of canada.ca).
var commonWords = []string{
	"health", "care", "sante", "salute", "salud", "sanidad", "canada", "gov",
	"admin", "public", "national", "medical", "medicine", "clinic", "hospital",
	"service", "services", "government", "state", "city", "info", "news",
	"mail", "web", "online", "portal", "help", "support",
}

// tldWords are top-level domains that attackers join into labels
// ("rivm-nl.com", "whoint.org") or that are common suffixes of brand names.
var tldWords = []string{
	"com", "net", "org", "info", "biz", "int", "gov", "edu", "eu", "nl", "be",
	"fr", "de", "es", "it", "uk", "ch", "at", "cz", "ie", "no", "se", "dk",
	"fi", "pl", "pt", "us", "ca", "au", "co", "io", "online", "site", "app",
}

// NewMatcher indexes a brand set. It fails if the set is empty or a brand
// has no usable token.
func NewMatcher(set *brand.Set) (*Matcher, error) {
	if set == nil || len(set.Brands) == 0 {
		return nil, fmt.Errorf("no brands to match against: give -brands FILE or -brand DOMAIN")
	}
	m := &Matcher{building: map[string]*dictEntry{}}
	allow := map[string]int32{}
	common := map[string]bool{}
	for _, w := range commonWords {
		common[w] = true
	}
	for _, w := range HealthWords {
		m.addLex(w, lexHealth)
		common[strings.ReplaceAll(w, "-", "")] = true
	}
	for _, w := range LureWords {
		m.addLex(w, lexLure)
		common[strings.ReplaceAll(w, "-", "")] = true
	}
	for _, w := range tldWords {
		m.addLex(w, lexTLD)
	}
	seenTok := map[string]bool{}
	for bi, b := range set.Brands {
		info := brandInfo{name: b.Name, keywords: map[string]bool{}}
		for _, k := range b.Keywords {
			k = strings.ReplaceAll(k, "-", "")
			info.keywords[k] = true
			m.addLex(k, lexKeyword)
		}
		add := func(text string, kind tokenKind) {
			orig := text
			text = strings.ReplaceAll(text, "-", "")
			if len(text) < 2 || !isASCIILowerLDH(text) || strings.ContainsAny(text, "._") {
				return
			}
			key := fmt.Sprint(bi, "/", text)
			if seenTok[key] {
				return
			}
			seenTok[key] = true
			st := strong
			switch {
			case len(text) <= 3 || common[text]:
				st = weak
			case len(text) == 4:
				st = medium
			}
			if kind != kindLabel && len(text) >= 5 {
				// Joined domains and spelled-out names are specific even
				// when built from a weak label ("whoint", "nhsuk").
				st = strong
			}
			m.tokens = append(m.tokens, token{brand: int32(bi), text: text, orig: orig, kind: kind, strength: st,
				word: common[text] || m.building[text] != nil && m.building[text].lex != 0})
		}
		for _, d := range append(append([]string(nil), b.Domains...), b.Allowlist...) {
			allow[d] = int32(bi)
		}
		for _, d := range b.Domains {
			info.domains = append(info.domains, d)
			suffix := publicSuffix(d)
			info.suffixes = append(info.suffixes, suffix)
			label := d
			if i := strings.IndexByte(d, '.'); i >= 0 {
				label = d[:i]
			}
			if strings.HasPrefix(label, "xn--") {
				// An IDN brand label is matched by its skeleton only.
				continue
			}
			add(label, kindLabel)
			add(strings.ReplaceAll(d, ".", ""), kindJoined)
		}
		for _, n := range b.Names {
			add(n, kindName)
		}
		m.brands = append(m.brands, info)
	}
	if len(m.tokens) == 0 {
		return nil, fmt.Errorf("no usable brand tokens: official domains must have an ASCII first label of two or more characters")
	}
	// The lexicon is complete: the automaton searches its words of three
	// letters and more. Two-letter words ("my", "id") would let almost any
	// label be cut into words; they count only as whole pieces.
	var lexWords []string
	for w, e := range m.building {
		if e.lex != 0 && len(w) >= 3 {
			lexWords = append(lexWords, w)
		}
	}
	slices.Sort(lexWords)
	patterns := make([]string, 0, len(m.tokens)+len(lexWords))
	var delTexts []string
	var delIDs []int32
	for i, t := range m.tokens {
		m.maxToken = max(m.maxToken, len(t.text))
		e := m.entryFor(t.text)
		e.toks = append(e.toks, int32(i))
		// Typos of joined domains are left out: short ones ("nhsuk") are
		// noisy and long ones are caught by the label they contain.
		if !t.word && len(t.text) >= 3 && (t.kind != kindJoined || len(t.text) >= 8) {
			delTexts = append(delTexts, t.text)
			delIDs = append(delIDs, int32(i))
		}
		// Tokens of three letters and more are searched inside labels.
		if len(t.text) >= 3 {
			patterns = append(patterns, t.text)
		} else {
			patterns = append(patterns, "")
		}
	}
	patterns = append(patterns, lexWords...)
	m.ac = newAutomaton(patterns)
	for i, t := range m.tokens {
		e := m.entryFor(Skeleton(t.text))
		e.skel = append(e.skel, int32(i))
	}
	m.dels = newDelIndex(delTexts, delIDs)
	m.dict, m.building = newStrTable(m.building), nil
	m.allow = newStrTable(allow)
	return m, nil
}

func (m *Matcher) addLex(w string, k lexKind) {
	w = strings.ReplaceAll(strings.ToLower(w), "-", "")
	if w == "" || !isASCIILowerLDH(w) || strings.ContainsAny(w, "._") {
		return
	}
	m.entryFor(w).lex |= k
}

// entryFor returns the dictionary entry of w, creating it; for building.
func (m *Matcher) entryFor(w string) *dictEntry {
	e := m.building[w]
	if e == nil {
		e = &dictEntry{}
		m.building[w] = e
	}
	return e
}
