package lookalike

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AlertThreshold is the score at and above which a match is worth an
// analyst's attention; "ward match" prints only such matches by default.
// Scores run from 0 to 100; see docs/matching.md for how they are built.
const AlertThreshold = 60

// Technique names, as printed in "techniques".
const (
	TechTLDSwap       = "tld-swap"      // brand label under another TLD or SLD: rivm.com
	TechTLDJoined     = "tld-joined"    // official domain with the dot dropped: rivmnl.com, rivm-nl.com
	TechBrandName     = "brand-name"    // spelled-out name: worldhealthorganization.org
	TechHyphenation   = "hyphenation"   // hyphen inserted: amsterdam-umc.nl
	TechDotInsertion  = "dot-insertion" // dot inserted: amsterdam.umc.nl
	TechHomoglyph     = "homoglyph"     // ASCII look-alike characters: rlvm.nl, arnsterdamumc.nl
	TechIDNHomoglyph  = "idn-homoglyph" // Unicode confusables: whо.int with a Cyrillic о
	TechOmission      = "omission"      // a character left out: rvm.nl
	TechInsertion     = "insertion"     // a character added inside: riivm.nl is repetition, rivbm.nl insertion
	TechAddition      = "addition"      // a character added at the end: rivma.nl
	TechRepetition    = "repetition"    // a character doubled: rivvm.nl
	TechReplacement   = "replacement"   // a character replaced: rivn.nl
	TechTransposition = "transposition" // two neighbouring characters swapped: irvm.nl
	TechVowelSwap     = "vowel-swap"    // a vowel replaced by another: rivm → ravm
	TechBitsquatting  = "bitsquatting"  // one bit flipped in one character: rivm → rhvm
	TechCombosquat    = "combosquat"    // brand token with other words: rivm-coronatest.nl
	TechSubdomain     = "subdomain"     // brand in a subdomain of another domain: rivm.nl.verify-login.com
)

// Match is the verdict on one name that imitates a brand.
type Match struct {
	Input      string   `json:"input"`
	Domain     string   `json:"domain"`
	Unicode    string   `json:"unicode,omitempty"`
	Brand      string   `json:"brand"`
	Score      int      `json:"score"`
	Techniques []string `json:"techniques"`
	Reasons    []string `json:"reasons"`
}

// place says where in the name a brand token was found.
type place uint8

const (
	placeWhole  place = iota // the whole registrable label
	placePiece               // a hyphen-separated piece of the registrable label
	placeInside              // inside a piece, between lexicon words
	placeLoose               // inside a piece, next to unknown letters
	placeDot                 // across the dot before the registrable label
	placeSub                 // a subdomain label or a piece of one
	placeEmbed               // an official domain spelled out in the subdomains
)

// hit is one piece of evidence that a name imitates a brand.
type hit struct {
	tok   int32
	where place
	tech  string // the technique that turned the token into what was seen
	seen  string // what the name contains
	base  int
}

// labelParts is a name cut at its public suffix.
type labelParts struct {
	labels  []string // ASCII labels before the suffix; the last is the registrable label
	display []string // the same labels in Unicode
	suffix  string
	// registrable is the registrable domain: the last label and the suffix.
	registrable string
}

// Match reports whether the name in input (a domain, URL or email address)
// imitates a brand, and how. ok is false when it does not imitate any
// brand, including when it is an official or allowlisted domain. err is
// set when input is not a usable name; the reason is in the error.
func (m *Matcher) Match(input string) (res Match, ok bool, err error) {
	h, err := ParseHost(input)
	if err != nil {
		return Match{}, false, err
	}
	return m.matchHost(input, h)
}

// allowed reports whether name is, or is under, an official or
// allowlisted domain. Those are registrable domains or below, so the
// search stops at the registrable domain reg.
func (m *Matcher) allowed(reg, name string) bool {
	for {
		if _, ok := m.allow.get(name); ok {
			return true
		}
		if len(name) <= len(reg) {
			return false
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return false
		}
		name = name[i+1:]
	}
}

// split cuts a host at its public suffix. ok is false when the host is a
// public suffix itself.
func split(h Host, labelBuf, displayBuf []string) (labelParts, bool) {
	suffix := publicSuffix(h.ASCII)
	if len(suffix) >= len(h.ASCII) {
		return labelParts{}, false
	}
	rest := h.ASCII[:len(h.ASCII)-len(suffix)-1]
	p := labelParts{suffix: suffix, labels: labelBuf[:0]}
	for rest != "" {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			p.labels = append(p.labels, rest)
			break
		}
		p.labels = append(p.labels, rest[:i])
		rest = rest[i+1:]
	}
	if len(p.labels) > 0 {
		p.registrable = h.ASCII[len(h.ASCII)-len(suffix)-1-len(p.labels[len(p.labels)-1]):]
	}
	p.display = p.labels
	if h.IDN() {
		p.display = displayBuf[:0]
		u := h.Unicode
		for range p.labels {
			i := strings.IndexByte(u, '.')
			if i < 0 {
				p.display = append(p.display, u)
				u = ""
				continue
			}
			p.display = append(p.display, u[:i])
			u = u[i+1:]
		}
	}
	return p, true
}

// state is the scratch space of one Match call.
type state struct {
	m     *Matcher
	parts labelParts
	hits  []hit
	words []string // distinct lexicon words seen outside brand tokens
	skbuf [256]byte
	// Backing arrays for the slices above; states are pooled, so a match
	// allocates nothing until it explains a hit.
	lb, db  [16]string
	hitArr  [16]hit
	wordArr [8]string
}

func (m *Matcher) getState() *state {
	s, _ := m.pool.Get().(*state)
	if s == nil {
		s = new(state)
	}
	s.m = m
	s.hits = s.hitArr[:0]
	s.words = s.wordArr[:0]
	return s
}

func (m *Matcher) putState(s *state) {
	// Drop references to the input so the pool does not keep it alive.
	clear(s.lb[:min(len(s.parts.labels), len(s.lb))])
	clear(s.db[:min(len(s.parts.display), len(s.db))])
	clear(s.hitArr[:len(s.hits)])
	clear(s.wordArr[:len(s.words)])
	s.parts = labelParts{}
	m.pool.Put(s)
}

func (m *Matcher) matchHost(input string, h Host) (Match, bool, error) {
	s := m.getState()
	defer m.putState(s)
	parts, ok := split(h, s.lb[:], s.db[:])
	if !ok || len(parts.labels) == 0 || m.allowed(parts.registrable, h.ASCII) {
		return Match{}, false, nil
	}
	if len(parts.labels) > 16 {
		// Keep the registrable label and the 15 labels closest to it.
		parts.labels = parts.labels[len(parts.labels)-16:]
		parts.display = parts.display[len(parts.display)-16:]
	}
	s.parts = parts
	s.registrable()
	s.subdomains()
	if len(s.hits) == 0 {
		return Match{}, false, nil
	}
	res := s.verdict(input, h)
	return res, res.Brand != "", nil
}

// registrable examines the registrable label: whole, by hyphen-separated
// pieces, and inside pieces.
func (s *state) registrable() {
	n := len(s.parts.labels) - 1
	r, rd := s.parts.labels[n], s.parts.display[n]
	idn := r != rd
	var rbuf [64]byte
	rn := r
	if strings.IndexByte(r, '-') >= 0 && len(r) <= len(rbuf) {
		rn = string(appendNoHyphens(rbuf[:0], r))
	}
	// Whole label.
	found := false
	e := s.m.entry(rn)
	var toks []int32
	if e != nil {
		toks = e.toks
	}
	for _, ti := range toks {
		t := &s.m.tokens[ti]
		tech := TechTLDSwap
		switch {
		case t.kind == kindJoined:
			tech = TechTLDJoined
		case t.kind == kindName:
			tech = TechBrandName
		case r != t.orig:
			tech = TechHyphenation
		}
		s.add(hit{tok: ti, where: placeWhole, tech: tech, seen: r})
		found = true
	}
	if found {
		s.officialSuffixEmbedded()
	} else {
		found = s.lookalike(rd, rn, e, idn, placeWhole)
	}
	if !found && !idn {
		// Dot insertion before the TLD: erasmus.mc, mayo.clinic.
		sfx := s.parts.suffix
		if i := strings.IndexByte(sfx, '.'); i >= 0 {
			sfx = sfx[:i]
		}
		if len(rn)+len(sfx) <= len(rbuf) {
			j := append(append(rbuf[:0], rn...), sfx...)
			if e := s.m.entryBytes(j); e != nil {
				for _, ti := range e.toks {
					if s.m.tokens[ti].strength != weak {
						s.add(hit{tok: ti, where: placeDot, tech: TechDotInsertion, seen: r + "." + sfx})
						found = true
					}
				}
			}
		}
	}
	if found {
		return
	}
	if strings.IndexByte(rd, '-') < 0 {
		s.inside(rd)
		return
	}
	// Hyphen-separated pieces, and adjacent pairs of pieces joined.
	prev := ""
	for rest := rd; rest != ""; {
		var p string
		p, rest, _ = strings.Cut(rest, "-")
		if p == "" {
			continue
		}
		s.piece(p, placePiece)
		if prev != "" && len(prev)+len(p) <= len(rbuf) {
			j := append(append(rbuf[:0], prev...), p...)
			if e := s.m.entryBytes(j); e != nil {
				for _, ti := range e.toks {
					tech := TechHyphenation
					if s.m.tokens[ti].kind == kindJoined {
						tech = TechTLDJoined
					}
					s.add(hit{tok: ti, where: placePiece, tech: tech, seen: prev + "-" + p})
				}
			}
		}
		s.inside(p)
		prev = p
	}
	// Names spelled out with hyphens: world-health-organization-grant.
	if !s.tokenHit() && rn != r {
		s.inside(rn)
	}
}

// tokenHit reports whether a hit on a token that is not an ordinary word
// was found.
func (s *state) tokenHit() bool {
	for _, h := range s.hits {
		if !s.m.tokens[h.tok].word {
			return true
		}
	}
	return false
}

// officialSuffixEmbedded upgrades a brand label under a private-registry
// suffix that starts with one of the brand's official suffixes (nhs.uk.com:
// the official domain spelled out) to a subdomain embedding. Government
// suffixes (cdc.gov.tw) are other countries' real institutions.
func (s *state) officialSuffixEmbedded() {
	for i := range s.hits {
		h := &s.hits[i]
		t := &s.m.tokens[h.tok]
		if h.where != placeWhole || h.tech != TechTLDSwap || t.kind != kindLabel {
			continue
		}
		for _, d := range s.m.brands[t.brand].domains {
			if rest, ok := strings.CutPrefix(d, t.text+"."); ok && strings.HasPrefix(s.parts.suffix, rest+".") && privateSuffix(s.parts.suffix) {
				h.where, h.tech, h.seen = placeEmbed, TechSubdomain, d
				break
			}
		}
	}
}

// appendNoHyphens appends s without its hyphens to dst.
func appendNoHyphens(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			dst = append(dst, s[i])
		}
	}
	return dst
}

// lookalike looks a whole label or piece up by skeleton and by edit
// distance. label is the display form; plain is ASCII without hyphens and
// known its dictionary entry (nil if none or not looked up).
func (s *state) lookalike(label, plain string, known *dictEntry, idn bool, where place) bool {
	src := plain // ASCII labels: plain is already the label without hyphens
	if !isASCII(label) {
		src = stripHyphens(label)
	}
	sk := AppendSkeleton(s.skbuf[:0], src)
	e := known
	if string(sk) != plain || known == nil {
		e = s.m.entryBytes(sk)
	}
	var skel []int32
	if e != nil {
		skel = e.skel
	}
	found := false
	for _, ti := range skel {
		tech := TechHomoglyph
		if idn || !isASCII(label) {
			tech = TechIDNHomoglyph
		}
		s.add(hit{tok: ti, where: where, tech: tech, seen: label})
		found = true
	}
	if found || idn || where == placeSub || len(plain) < 3 || len(plain) > 64 {
		return found
	}
	return s.typo(plain, where)
}

// typo finds tokens within one edit (Damerau) of c with the deletion
// neighbourhood index and names the typo class.
func (s *state) typo(c string, where place) bool {
	n := len(c)
	if n > 64 {
		return false
	}
	var pre [65]uint64
	for i := 0; i < n; i++ {
		pre[i+1] = pre[i]*hashP + uint64(c[i]) + 1
	}
	full := pre[n]
	found := false
	// c itself is a key: c is a token with one byte removed (omission).
	for _, e := range s.m.dels.get(full) {
		t := &s.m.tokens[e.tok]
		if t.strength == weak && where != placePiece {
			continue
		}
		if e.pos >= 0 && minusEqual(t.text, int(e.pos), c, -1) {
			s.add(hit{tok: e.tok, where: where, tech: TechOmission, seen: c})
			found = true
		}
	}
	for j := 0; j < n; j++ {
		p := hashPow[n-1-j]
		h := pre[j]*p + full - pre[j+1]*p
		for _, e := range s.m.dels.get(h) {
			t := &s.m.tokens[e.tok]
			if t.strength == weak && where != placePiece || !minusEqual(t.text, int(e.pos), c, j) {
				continue
			}
			var tech string
			switch {
			case e.pos < 0:
				tech = insertionClass(c, j)
			case int(e.pos) == j:
				tech = replacementClass(t.text[j], c[j])
			case isTransposition(t.text, c):
				tech = TechTransposition
			default:
				continue
			}
			if !s.has(e.tok, where) {
				s.add(hit{tok: e.tok, where: where, tech: tech, seen: c})
				found = true
			}
		}
	}
	return found
}

// piece examines one hyphen-separated piece of a label.
func (s *state) piece(p string, where place) bool {
	found := false
	e := s.m.entry(p)
	var toks []int32
	var lex lexKind
	if e != nil {
		toks, lex = e.toks, e.lex
	}
	for _, ti := range toks {
		tech := TechCombosquat
		if where == placeSub {
			tech = TechSubdomain
		}
		s.add(hit{tok: ti, where: where, tech: tech, seen: p})
		found = true
	}
	if found {
		return true
	}
	if lex != 0 && lex != lexTLD {
		s.word(p)
		return false
	}
	ascii := isASCII(p)
	if len(p) < 3 || where == placeSub && ascii {
		// ASCII look-alikes in subdomains are left out: weak evidence,
		// and hyphenated machine names would make them costly.
		return false
	}
	return s.lookalike(p, p, e, !ascii, where)
}

// inside searches a piece for brand tokens and lexicon words that are not
// separated by hyphens ("rivmcoronatest"), and for typos of a brand
// between lexicon words ("rvmcoronatest").
func (s *state) inside(p string) {
	if len(p) < 4 || len(p) > 63 {
		return
	}
	var buf [32]acHit
	hits := s.m.ac.scan(p, buf[:0])
	if len(hits) == 0 {
		return
	}
	nt := int32(len(s.m.tokens))
	// seg[i] reports whether p[i:] splits into lexicon words and digits.
	var segFrom, segTo [64]bool
	segFrom[len(p)] = true
	segTo[0] = true
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] >= '0' && p[i] <= '9' && segFrom[i+1] {
			segFrom[i] = true
			continue
		}
		for _, h := range hits {
			if h.p >= nt && h.start == i && segFrom[h.end] {
				segFrom[i] = true
				break
			}
		}
	}
	for i := 1; i <= len(p); i++ {
		if p[i-1] >= '0' && p[i-1] <= '9' && segTo[i-1] {
			segTo[i] = true
			continue
		}
		for _, h := range hits {
			if h.p >= nt && h.end == i && segTo[h.start] {
				segTo[i] = true
				break
			}
		}
	}
	if segFrom[0] {
		if e := s.m.entry(p); e == nil || e.lex == 0 {
			// The piece is lure and health words only ("testafspraak").
			s.wordsAround(p, hits, 0, 0)
		}
	}
	found := false
	for _, h := range hits {
		if h.p >= nt || (h.start == 0 && h.end == len(p)) {
			continue
		}
		where := placeLoose
		if segTo[h.start] && segFrom[h.end] {
			where = placeInside
		}
		s.add(hit{tok: h.p, where: where, tech: TechCombosquat, seen: p[h.start:h.end]})
		if where == placeInside {
			s.wordsAround(p, hits, h.start, h.end)
		}
		found = true
	}
	if found {
		return
	}
	// A typo or look-alike of a brand framed by lexicon words: try the
	// cores left when words are taken off either end.
	for i := 0; i < len(p); i++ {
		if !segTo[i] {
			continue
		}
		for j := len(p); j >= i+3; j-- {
			if !segFrom[j] || (i == 0 && j == len(p)) {
				continue
			}
			core := p[i:j]
			e := s.m.entry(core)
			if e != nil && e.lex != 0 {
				continue
			}
			before := len(s.hits)
			var toks []int32
			if e != nil {
				toks = e.toks
			}
			for _, ti := range toks {
				s.add(hit{tok: ti, where: placeInside, tech: TechCombosquat, seen: core})
			}
			if len(s.hits) == before {
				s.lookalike(core, core, e, !isASCII(core), placeInside)
			}
			if len(s.hits) > before {
				s.wordsAround(p, hits, i, j)
				return
			}
		}
	}
}

// wordsAround records the lexicon words of p outside [start, end).
func (s *state) wordsAround(p string, hits []acHit, start, end int) {
	nt := int32(len(s.m.tokens))
	for i, h := range hits {
		if h.p < nt || (h.start < end && h.end > start) || coveredBy(hits, i, nt) {
			continue
		}
		w := p[h.start:h.end]
		if _, lex := s.m.lookup(w); lex&^lexTLD != 0 {
			s.word(w)
		}
	}
}

// coveredBy reports whether lexicon hit i lies inside a longer lexicon
// hit ("corona" inside "coronatest"): words are counted once.
func coveredBy(hits []acHit, i int, nt int32) bool {
	h := hits[i]
	for j, o := range hits {
		if j != i && o.p >= nt && o.start <= h.start && o.end >= h.end && o.end-o.start > h.end-h.start {
			return true
		}
	}
	return false
}

// subdomains examines the labels left of the registrable label.
func (s *state) subdomains() {
	labels := s.parts.labels
	n := len(labels) - 1
	var buf [128]byte
	for i := 0; i < n; i++ {
		l := labels[i]
		if l == "www" || l == "*" || i == n-1 && s.ownTenant(l) {
			continue
		}
		toks, lex := s.m.lookup(l)
		if len(toks) > 0 {
			// An official domain spelled out: rivm.nl.verify-login.com.
			if !s.embedded(i, toks) {
				for _, ti := range toks {
					s.add(hit{tok: ti, where: placeSub, tech: TechSubdomain, seen: l})
				}
			}
			continue
		}
		if lex&^lexTLD != 0 {
			s.word(l)
			continue
		}
		if strings.IndexByte(l, '-') < 0 {
			if len(l) >= 3 && !isASCII(s.parts.display[i]) {
				s.lookalike(s.parts.display[i], l, nil, true, placeSub)
			}
			continue
		}
		if len(l) <= len(buf) {
			if e := s.m.entryBytes(appendNoHyphens(buf[:0], l)); e != nil {
				for _, ti := range e.toks {
					s.add(hit{tok: ti, where: placeSub, tech: TechHyphenation, seen: l})
				}
			}
		}
		for rest := s.parts.display[i]; rest != ""; {
			var p string
			p, rest, _ = strings.Cut(rest, "-")
			if p != "" {
				s.piece(p, placeSub)
			}
		}
	}
	// Dot insertion: amsterdam.umc.nl, ri.vm.nl.
	if n >= 1 && len(labels[n-1])+len(labels[n]) <= s.m.maxToken {
		j := appendNoHyphens(appendNoHyphens(buf[:0], labels[n-1]), labels[n])
		if e := s.m.entryBytes(j); e != nil {
			for _, ti := range e.toks {
				if s.m.tokens[ti].strength != weak {
					s.add(hit{tok: ti, where: placeDot, tech: TechDotInsertion, seen: labels[n-1] + "." + labels[n]})
				}
			}
		}
	}
}

// tenantHosts are multi-tenant services whose customers get a subdomain
// named after them (contoso.sharepoint.com, contoso.okta.com). Tenant names
// are first come, first served and organisations claim their own, so a
// tenant named exactly after a brand is taken to be the brand's.
var tenantHosts = map[string]bool{
	"sharepoint.com": true, "onmicrosoft.com": true, "okta.com": true,
	"oktapreview.com": true, "zoom.us": true, "webex.com": true,
	"service-now.com": true, "atlassian.net": true, "slack.com": true,
	"zendesk.com": true, "freshdesk.com": true, "box.com": true,
	"my.salesforce.com": true, "force.com": true, "workday.com": true,
	"myworkdayjobs.com": true, "smartsheet.com": true, "kaltura.com": true,
	"instructure.com": true, "qualtrics.com": true, "bamboohr.com": true,
}

// ownTenant reports whether label, directly under the registrable domain,
// is a tenant of a tenantHosts service named exactly after a brand token,
// with at most one of the service's own suffixes ("contoso-my" is
// SharePoint's OneDrive of tenant contoso).
func (s *state) ownTenant(label string) bool {
	if !tenantHosts[s.parts.registrable] {
		return false
	}
	for _, suf := range []string{"", "-my", "-admin", "-files", "-public"} {
		if base, ok := strings.CutSuffix(label, suf); ok {
			if toks, _ := s.m.lookup(stripHyphens(base)); len(toks) > 0 {
				return true
			}
		}
	}
	return false
}

// embedded reports whether labels[i:] start with an official domain of a
// brand whose label is labels[i] (toks are labels[i]'s tokens), and
// records the hit.
func (s *state) embedded(i int, toks []int32) bool {
	labels := s.parts.labels
	found := false
	for _, ti := range toks {
		t := &s.m.tokens[ti]
		if t.kind != kindLabel {
			continue
		}
		for _, d := range s.m.brands[t.brand].domains {
			if hasLabelPrefix(labels[i:], s.parts.suffix, d) {
				s.add(hit{tok: ti, where: placeEmbed, tech: TechSubdomain, seen: d})
				found = true
				break
			}
		}
	}
	return found
}

// hasLabelPrefix reports whether the labels, followed by suffix, begin with
// all the labels of domain d.
func hasLabelPrefix(labels []string, suffix, d string) bool {
	for _, l := range labels {
		if d == "" {
			return true
		}
		if !strings.HasPrefix(d, l) {
			return false
		}
		d = d[len(l):]
		if d == "" {
			return true
		}
		if d[0] != '.' {
			return false
		}
		d = d[1:]
		if !strings.Contains(d, ".") && len(labels) > 1 {
			// The official domain's last label may open a hyphenated
			// label: who.int-login.com, cdc.gov-covid19.info.
			next := labels[1]
			if next == d || strings.HasPrefix(next, d+"-") {
				return true
			}
		}
	}
	// The rest of d may continue into the public suffix ("who.int.xyz"
	// keeps "int" in the labels, but "rivm.nl.eu.com" not).
	return d != "" && (suffix == d || strings.HasPrefix(suffix, d+"."))
}

func (s *state) add(h hit) {
	if len(s.hits) >= len(s.hitArr) {
		return
	}
	s.hits = append(s.hits, h)
}

func (s *state) has(tok int32, where place) bool {
	for _, h := range s.hits {
		if h.tok == tok && h.where == where {
			return true
		}
	}
	return false
}

func (s *state) word(w string) {
	if len(s.words) >= len(s.wordArr) || slices.Contains(s.words, w) {
		return
	}
	s.words = append(s.words, w)
}

// insertionClass names the typo class of c, which has one extra byte at j.
func insertionClass(c string, j int) string {
	switch {
	case j > 0 && c[j] == c[j-1], j+1 < len(c) && c[j] == c[j+1]:
		return TechRepetition
	case j == len(c)-1:
		return TechAddition
	default:
		return TechInsertion
	}
}

// replacementClass names the typo class of brand byte a replaced by b.
func replacementClass(a, b byte) string {
	switch {
	case isVowel(a) && isVowel(b):
		return TechVowelSwap
	case isKeyboardNeighbour(a, b):
		return TechReplacement
	case bitsOne(a ^ b):
		return TechBitsquatting
	default:
		return TechReplacement
	}
}

func isTypoTech(t string) bool {
	switch t {
	case TechOmission, TechInsertion, TechAddition, TechRepetition, TechReplacement,
		TechTransposition, TechVowelSwap, TechBitsquatting:
		return true
	}
	return false
}

func isVowel(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }

func bitsOne(x byte) bool { return x != 0 && x&(x-1) == 0 }

// isTransposition reports whether c is t with two adjacent bytes swapped.
func isTransposition(t, c string) bool {
	if len(t) != len(c) {
		return false
	}
	i := 0
	for i < len(t) && t[i] == c[i] {
		i++
	}
	return i+1 < len(t) && t[i] == c[i+1] && t[i+1] == c[i] && t[i+2:] == c[i+2:]
}

func stripHyphens(s string) string {
	if strings.IndexByte(s, '-') < 0 {
		return s
	}
	return strings.ReplaceAll(s, "-", "")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// scripts names the scripts of the letters in s, in order of appearance.
func scripts(s string) []string {
	var out []string
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		name := "Other"
		for n, t := range scriptTables {
			if unicode.Is(t, r) {
				name = n
				break
			}
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

var scriptTables = map[string]*unicode.RangeTable{
	"Latin": unicode.Latin, "Cyrillic": unicode.Cyrillic, "Greek": unicode.Greek,
	"Armenian": unicode.Armenian, "Cherokee": unicode.Cherokee, "Arabic": unicode.Arabic,
	"Hebrew": unicode.Hebrew, "Han": unicode.Han,
}

var riskyTLDs = map[string]bool{
	"xyz": true, "top": true, "online": true, "site": true, "live": true, "icu": true,
	"club": true, "buzz": true, "shop": true, "store": true, "tk": true, "ml": true,
	"ga": true, "cf": true, "gq": true, "work": true, "support": true, "info": true,
	"click": true, "link": true, "rest": true, "cyou": true, "sbs": true, "cfd": true,
	"space": true, "website": true, "fun": true, "monster": true, "vip": true,
}

// baseScore is the score of one hit before context bonuses.
func (s *state) baseScore(h *hit) int {
	t := &s.m.tokens[h.tok]
	st := t.strength
	pick := func(strongV, mediumV, weakV int) int {
		switch st {
		case strong:
			return strongV
		case medium:
			return mediumV
		}
		return weakV
	}
	if t.word && h.where != placeEmbed && !(h.where == placeWhole && (h.tech == TechTLDSwap || h.tech == TechHyphenation)) {
		return 0
	}
	typoScore := func() int {
		good := h.tech != TechReplacement && h.tech != TechInsertion || isKeyboardTypo(t.text, h.seen)
		switch {
		case st == medium:
			return cond(good, 50, 45)
		case len(t.text) == 5:
			return cond(good, 50, 45)
		case len(t.text) >= 8:
			return cond(good, 75, 65)
		}
		return cond(good, 70, 60)
	}
	isTypo := isTypoTech(h.tech)
	switch h.where {
	case placeWhole:
		switch {
		case h.tech == TechTLDSwap:
			return pick(80, 75, 35)
		case h.tech == TechTLDJoined:
			return pick(75, 75, 50)
		case h.tech == TechBrandName:
			return pick(85, 80, 50)
		case h.tech == TechHyphenation:
			return pick(80, 75, 45)
		case h.tech == TechIDNHomoglyph:
			return pick(90, 90, 85)
		case h.tech == TechHomoglyph:
			return pick(85, 80, 50)
		case isTypo:
			return typoScore()
		}
	case placePiece, placeInside:
		v := 0
		switch {
		case h.tech == TechIDNHomoglyph:
			v = 70
		case h.tech == TechHomoglyph:
			v = pick(60, 55, 35)
		case isTypo && h.where == placePiece:
			// A typo of a three-letter brand is only credible with lure
			// words around it (qgd-afspraak.nl): the word bonus carries it.
			v = pick(45, 35, 20)
		case isTypo:
			v = pick(45, 35, 0)
		case t.kind == kindName:
			v = 65
		default:
			v = pick(60, 55, 30)
		}
		if h.where == placeInside && v > 0 {
			v -= 5
		}
		return v
	case placeLoose:
		return pick(40, 30, 0)
	case placeDot:
		return pick(70, 65, 0)
	case placeSub:
		switch {
		case isTypo:
			return 0
		case h.tech == TechIDNHomoglyph:
			return 60
		case h.tech == TechHomoglyph:
			return pick(45, 40, 0)
		}
		return pick(50, 45, 20)
	case placeEmbed:
		// ukhsa.gov.uk outranks gov.uk when both are spelled out.
		return 80 + min(strings.Count(h.seen, "."), 5)
	}
	return 0
}

// isKeyboardTypo reports whether seen differs from t by a keyboard slip:
// a replacement or insertion of a key next to the intended one.
func isKeyboardTypo(t, seen string) bool {
	switch {
	case len(seen) == len(t):
		for i := 0; i < len(t); i++ {
			if t[i] != seen[i] {
				return isKeyboardNeighbour(t[i], seen[i])
			}
		}
	case len(seen) == len(t)+1:
		for j := 0; j < len(seen); j++ {
			if seen[:j]+seen[j+1:] == t {
				return j > 0 && isKeyboardNeighbour(seen[j-1], seen[j]) ||
					j+1 < len(seen) && isKeyboardNeighbour(seen[j+1], seen[j])
			}
		}
	}
	return false
}

func cond(c bool, a, b int) int {
	if c {
		return a
	}
	return b
}

// verdict scores the hits per brand, keeps the best brand and explains it.
func (s *state) verdict(input string, h Host) Match {
	type cand struct {
		score int
		hits  []int
	}
	best, bestBrand := -1, int32(-1)
	var bestHits []int
	var th *hit
	bonusWords := func(b int32, st strength) (int, []string) {
		per := 15
		if st == weak {
			per = 30
		}
		n, kw := 0, false
		var why []string
		for _, w := range s.words {
			if s.isTokenOf(w, b) {
				continue
			}
			if n < 2 {
				n++
			}
			if s.m.brands[b].keywords[w] {
				kw = true
			}
		}
		bonus := n * per
		if st == weak && isTypoTech(th.tech) && !s.healthWord(b) {
			// qgd-afspraak.nl, yes; news-cdn.site, no.
			bonus = 0
		}
		if n > 0 {
			why = append(why, fmt.Sprintf("next to lure or health words %s", quoteList(s.words)))
		}
		if kw {
			bonus += 10
		}
		return bonus, why
	}
	scores := map[int32]*cand{}
	for i := range s.hits {
		hh := &s.hits[i]
		hh.base = s.baseScore(hh)
		if hh.base == 0 {
			continue
		}
		b := s.m.tokens[hh.tok].brand
		c := scores[b]
		if c == nil {
			c = &cand{}
			scores[b] = c
		}
		c.hits = append(c.hits, i)
		if hh.base > c.score {
			c.score = hh.base
		}
	}
	var bestWhy []string
	for b, c := range scores {
		// The strongest hit carries the score; context adds to it.
		top := c.hits[0]
		for _, i := range c.hits {
			if s.hits[i].base > s.hits[top].base {
				top = i
			}
		}
		th = &s.hits[top]
		st := s.m.tokens[th.tok].strength
		score := th.base
		var why []string
		if th.tech != TechTLDSwap && th.where != placeEmbed {
			bonus, w := bonusWords(b, st)
			if th.where == placeWhole || th.where == placeDot {
				bonus = min(bonus, 15)
				if st == medium && isTypoTech(th.tech) {
					// One edit from four letters is often another word;
					// lure words in the subdomains do not make it a brand.
					bonus = 0
				}
			}
			score += bonus
			why = append(why, w...)
		}
		if th.tech != TechTLDSwap && th.where != placeSub && slices.Contains(s.m.brands[b].suffixes, s.parts.suffix) {
			score += 10
			why = append(why, fmt.Sprintf("under the brand's own suffix .%s", s.parts.suffix))
		}
		if riskyTLDs[s.parts.suffix] {
			score += 5
			why = append(why, fmt.Sprintf(".%s is a TLD favoured by phishing", s.parts.suffix))
		}
		score = min(score, 100)
		if score > best || score == best && b < bestBrand {
			best, bestBrand, bestHits, bestWhy = score, b, c.hits, why
		}
	}
	if bestBrand < 0 {
		return Match{Input: input, Domain: h.ASCII}
	}
	// Strongest evidence first.
	slices.SortStableFunc(bestHits, func(a, b int) int { return s.hits[b].base - s.hits[a].base })
	res := Match{Input: input, Domain: h.ASCII, Brand: s.m.brands[bestBrand].name, Score: best}
	if h.IDN() {
		res.Unicode = h.Unicode
	}
	for _, i := range bestHits {
		hh := &s.hits[i]
		if !slices.Contains(res.Techniques, hh.tech) {
			res.Techniques = append(res.Techniques, hh.tech)
		}
		if hh.where != placeWhole && hh.tech != TechCombosquat && hh.tech != TechSubdomain &&
			!slices.Contains(res.Techniques, TechCombosquat) && (hh.where == placePiece || hh.where == placeInside || hh.where == placeLoose) {
			res.Techniques = append(res.Techniques, TechCombosquat)
		}
		res.Reasons = append(res.Reasons, s.explain(hh))
	}
	res.Reasons = append(res.Reasons, bestWhy...)
	return res
}

// healthWord reports whether a health word or a keyword of brand b was
// seen.
func (s *state) healthWord(b int32) bool {
	for _, w := range s.words {
		if _, lex := s.m.lookup(w); lex&lexHealth != 0 || s.m.brands[b].keywords[w] {
			return true
		}
	}
	return false
}

// isTokenOf reports whether w is a token of brand b (so not context).
func (s *state) isTokenOf(w string, b int32) bool {
	toks, _ := s.m.lookup(w)
	for _, ti := range toks {
		if s.m.tokens[ti].brand == b {
			return true
		}
	}
	return false
}

func (s *state) explain(h *hit) string {
	t := &s.m.tokens[h.tok]
	what := fmt.Sprintf("%q", t.text)
	switch t.kind {
	case kindJoined:
		what = fmt.Sprintf("%q (official domain without its dots)", t.text)
	case kindName:
		what = fmt.Sprintf("%q (a name of the brand)", t.text)
	}
	where := map[place]string{
		placeWhole: "as the registrable label", placePiece: "as a hyphen-separated word",
		placeInside: "joined to lure or health words", placeLoose: "inside a longer word",
		placeDot: "split by a dot", placeSub: "in a subdomain", placeEmbed: "in a subdomain",
	}[h.where]
	if h.where == placeEmbed {
		return fmt.Sprintf("official domain %s spelled out in the subdomains", h.seen)
	}
	switch h.tech {
	case TechTLDSwap:
		return fmt.Sprintf("brand label %s under .%s, not an official suffix", what, s.parts.suffix)
	case TechIDNHomoglyph:
		sc := scripts(h.seen)
		mixed := ""
		if len(sc) > 1 {
			mixed = ", mixing scripts " + strings.Join(sc, "+")
		} else if len(sc) == 1 && sc[0] != "Latin" {
			mixed = ", all in " + sc[0] + " script"
		}
		return fmt.Sprintf("%q is a Unicode look-alike of brand token %s %s%s", h.seen, what, where, mixed)
	case TechHomoglyph:
		return fmt.Sprintf("%q looks like brand token %s %s (look-alike characters)", h.seen, what, where)
	}
	if isTypoTech(h.tech) {
		return fmt.Sprintf("%q is a typo (%s) of brand token %s %s", h.seen, h.tech, what, where)
	}
	switch h.tech {
	case TechHyphenation:
		return fmt.Sprintf("%q is brand token %s with a hyphen inserted", h.seen, what)
	case TechDotInsertion:
		return fmt.Sprintf("%q is brand token %s with a dot inserted", h.seen, what)
	}
	return fmt.Sprintf("brand token %s %s", what, where)
}

func quoteList(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, ", ")
}
