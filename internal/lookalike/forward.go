package lookalike

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// The forward generator: from a brand's domain, the names an impersonator
// would register. "ward lookalikes" prints them and the sweep resolves them.
// For the fuzzers that dnstwist has, the output is a superset of dnstwist's
// (testdata/dnstwist holds the evidence); the rest are ward's own.

// Candidate is one generated look-alike of a brand's domain.
type Candidate struct {
	// Domain is the candidate in ASCII: lower case, IDN labels in punycode.
	Domain string `json:"domain"`
	// Unicode is the display form of Domain; equal to it when no label is
	// an IDN.
	Unicode string `json:"unicode"`
	// Brand is the domain imitated: the input, normalised to ASCII.
	Brand string `json:"brand"`
	// Fuzzer names the technique that made the candidate (FuzzerNames).
	Fuzzer string `json:"fuzzer"`
}

// GenerateOptions configures a Generator. The zero value runs every fuzzer
// with the built-in word lists and DefaultTLDs.
type GenerateOptions struct {
	// Dict holds extra words for the dictionary fuzzers, used together
	// with HealthWords and LureWords. A word is one domain label
	// ("coronatest", "sign-in"); upper case is folded. Nil adds none.
	Dict []string
	// TLDs lists the suffixes ("com", "co.uk") that tld-swap,
	// dictionary-tld and tld-joined put candidates under. Nil means
	// DefaultTLDs(); an empty non-nil slice means none.
	TLDs []string
	// AllIDN writes IDN candidates under every TLD. By default they are
	// written only where the registry accepts IDN labels in the script
	// (tldAllowsIDN); false is the default.
	AllIDN bool
	// Fuzzers names the fuzzers to run (FuzzerNames; "cyrillic" and
	// "various" are accepted as dnstwist's names). Nil or empty runs all.
	Fuzzers []string
}

// The fuzzers, in the order they run. When two fuzzers make the same name,
// the first one is credited.
type fuzzer uint8

const (
	// addition: a character appended to the label (rivma.nl), put in
	// front of it (arivm.nl), or added before a hyphen (ggda-test.nl).
	fAddition fuzzer = iota
	// bitsquatting: one bit of one character flipped, where the result is
	// still a-z, 0-9 or '-' (rivm → rhvm, bivm).
	fBitsquatting
	// homoglyph: one or two substitutions of look-alike characters: ASCII
	// (rn for m, l for i, 0 for o, vv for w, cl for d) and, where the
	// registry accepts IDN, Latin letters with diacritics or strokes
	// (rívm, ŕivm). Never mixes scripts in a label.
	fHomoglyph
	// script-swap: the whole label rewritten in Cyrillic or Greek letters
	// that look Latin (who → шһо, ԝһо); dnstwist's "cyrillic".
	fScriptSwap
	// hyphenation: a hyphen inserted (ri-vm.nl).
	fHyphenation
	// insertion: a key next to a character on a QWERTY, QWERTZ or AZERTY
	// keyboard typed before or after it (rivbm.nl).
	fInsertion
	// omission: one character left out (rvm.nl).
	fOmission
	// plural: "s" ("es" after s, x, z) added after a character from the
	// third on (rivms.nl, rivsm.nl).
	fPlural
	// repetition: a character doubled (rivvm.nl).
	fRepetition
	// replacement: a character replaced by a keyboard neighbour (rivn.nl).
	fReplacement
	// subdomain: a dot inserted, making a subdomain of a shorter name
	// (ri.vm.nl).
	fSubdomain
	// transposition: two neighbouring characters swapped (irvm.nl).
	fTransposition
	// vowel-swap: a vowel replaced by another (ravm.nl).
	fVowelSwap
	// dictionary: the label with a word after or before it, with or
	// without a hyphen (rivm-coronatest.nl, mijnrivm.nl), a hyphenated
	// part replaced by a word, and two words: label-health word-lure word
	// (rivm-vaccin-login.nl) and lure word-label-health word.
	fDictionary
	// tld-swap: the label under another suffix (rivm.com), or under the
	// last label of a multi-label suffix (bbc.co.uk → bbc.uk).
	fTLDSwap
	// tld-joined: the suffix joined to the label, under the same suffix,
	// .com or another TLD (rivmnl.nl, rivm-nl.com, bbcco.uk); part of
	// dnstwist's "various".
	fTLDJoined
	// subdomain-joined: the subdomain joined to the label (www.rivm.nl →
	// wwwrivm.nl, www-rivm.nl); the rest of dnstwist's "various".
	fSubdomainJoined
	// dictionary-tld: label-word and word-label under the other TLDs
	// (rivm-coronatest.com).
	fDictionaryTLD
	// typo-dictionary: a typo of the label (omission, transposition,
	// repetition, vowel swap or ASCII homoglyph) with a word
	// (rvm-coronatest.nl, login-rlvm.nl).
	fTypoDictionary

	numFuzzers
)

var fuzzerNames = [numFuzzers]string{
	"addition", "bitsquatting", "homoglyph", "script-swap", "hyphenation",
	"insertion", "omission", "plural", "repetition", "replacement",
	"subdomain", "transposition", "vowel-swap", "dictionary", "tld-swap",
	"tld-joined", "subdomain-joined", "dictionary-tld", "typo-dictionary",
}

// fuzzerAliases are dnstwist's names for fuzzers ward names differently.
var fuzzerAliases = map[string][]fuzzer{
	"cyrillic": {fScriptSwap},
	"various":  {fTLDJoined, fSubdomainJoined, fTLDSwap},
}

// FuzzerNames returns the names of the fuzzers, in the order they run.
func FuzzerNames() []string { return slices.Clone(fuzzerNames[:]) }

// defaultTLDs are the suffixes tried by default: the common generic TLDs,
// the ccTLDs of the countries ward was built for, and TLDs that phishing
// campaigns favour because they are cheap or sound official.
var defaultTLDs = []string{
	"com", "net", "org", "info", "biz", "eu", "nl", "be", "de", "fr", "es",
	"it", "at", "ch", "uk", "co.uk", "us", "io", "co", "me", "app",
	"online", "site", "website", "xyz", "top", "icu", "live", "shop",
	"support", "help", "click", "link", "health", "care", "clinic",
}

// DefaultTLDs returns the suffixes used when GenerateOptions.TLDs is nil.
func DefaultTLDs() []string { return slices.Clone(defaultTLDs) }

// Generator makes look-alike candidates of domains. It is safe for
// concurrent use.
type Generator struct {
	words  []string // single-word dictionary: HealthWords, LureWords, Dict
	topics []string // first word of two-word combinations: HealthWords, Dict
	lures  []string // second word: LureWords
	tlds   []suffix
	com    suffix
	allIDN bool
	on     [numFuzzers]bool
	glyphs *glyphTables
}

// suffix is a public suffix in both forms, with its registry's IDN policy.
type suffix struct {
	ascii, unicode string
	tld            string     // last label, ASCII
	scripts        idnScripts // accepted in IDN labels under it
}

// NewGenerator checks opts and returns a Generator.
func NewGenerator(opts GenerateOptions) (*Generator, error) {
	g := &Generator{allIDN: opts.AllIDN, glyphs: loadGlyphs()}
	if len(opts.Fuzzers) == 0 {
		for i := range g.on {
			g.on[i] = true
		}
	}
	for _, name := range opts.Fuzzers {
		name = strings.ToLower(strings.TrimSpace(name))
		if i := slices.Index(fuzzerNames[:], name); i >= 0 {
			g.on[i] = true
			continue
		}
		fs, ok := fuzzerAliases[name]
		if !ok {
			return nil, fmt.Errorf("unknown fuzzer %q; the fuzzers are %s (and cyrillic, various as in dnstwist)",
				name, strings.Join(fuzzerNames[:], ", "))
		}
		for _, f := range fs {
			g.on[f] = true
		}
	}
	var err error
	if g.words, err = wordList(HealthWords, LureWords, opts.Dict); err != nil {
		return nil, err
	}
	if g.topics, err = wordList(HealthWords, opts.Dict); err != nil {
		return nil, err
	}
	if g.lures, err = wordList(LureWords); err != nil {
		return nil, err
	}
	tlds := opts.TLDs
	if tlds == nil {
		tlds = defaultTLDs
	}
	seen := map[string]bool{}
	for _, t := range tlds {
		s, err := newSuffix(t)
		if err != nil {
			return nil, fmt.Errorf("TLD %q: %w", t, err)
		}
		if !seen[s.ascii] {
			seen[s.ascii] = true
			g.tlds = append(g.tlds, s)
		}
	}
	g.com, _ = newSuffix("com")
	return g, nil
}

// wordList merges word lists, folding case and dropping repeats; a word
// that is not a valid domain label is an error. A word written in
// punycode ("xn--sant-epa") is used both as written, as dnstwist does, and
// in Unicode ("santé").
func wordList(lists ...[]string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(w string) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, l := range lists {
		for _, w := range l {
			w = strings.ToLower(strings.TrimSpace(w))
			a, err := idna.Lookup.ToASCII(w)
			if err == nil && !validLabel(a) {
				err = errors.New("not a single domain label")
			}
			if err != nil {
				return nil, fmt.Errorf("dictionary word %q: %w", w, err)
			}
			if a == w {
				add(w)
			}
			if u, err := idna.Lookup.ToUnicode(a); err == nil && u != a {
				add(u)
			}
		}
	}
	return out, nil
}

func newSuffix(s string) (suffix, error) {
	s = strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(s), "."), ".")
	a, err := idna.Lookup.ToASCII(s)
	if err != nil {
		return suffix{}, err
	}
	for l := range strings.SplitSeq(a, ".") {
		if !validLabel(l) {
			return suffix{}, errors.New("not a valid domain suffix")
		}
	}
	u, _ := idna.Lookup.ToUnicode(a)
	tld := a[strings.LastIndexByte(a, '.')+1:]
	return suffix{ascii: a, unicode: u, tld: tld, scripts: tldScripts(tld)}, nil
}

// Candidates returns the look-alikes of domain (a domain name, URL or
// email address; the host is taken). They are deduplicated, valid (LDH
// after punycode, labels of 1 to 63 octets, at most 253 in all, IDN labels
// valid under IDNA2008), exclude domain itself, and come in the same order
// on every call. The error reports a domain that is not a registrable
// name; nothing is generated until the sequence is ranged over.
func (g *Generator) Candidates(domain string) (iter.Seq[Candidate], error) {
	h, err := ParseHost(domain)
	if err != nil {
		return nil, err
	}
	sfx := publicSuffix(h.ASCII)
	if sfx == h.ASCII {
		// A public suffix that an organisation runs itself, such as
		// nhs.uk or gov.uk: its first label is what a squatter imitates.
		sfx = sfx[strings.IndexByte(sfx, '.')+1:]
	}
	rest := h.ASCII[:len(h.ASCII)-len(sfx)-1]
	labelASCII := rest[strings.LastIndexByte(rest, '.')+1:]
	for l := range strings.SplitSeq(rest, ".") {
		if !validLabel(l) {
			return nil, fmt.Errorf("%w: label %q is not letters, digits and hyphens", ErrInvalid, l)
		}
	}
	// The Unicode form has as many labels as the ASCII one.
	ulabels := strings.Split(h.Unicode, ".")
	nsfx := strings.Count(sfx, ".") + 1
	nsub := len(ulabels) - nsfx - 1
	own, err := newSuffix(sfx)
	if err != nil {
		return nil, fmt.Errorf("%w: suffix %q: %v", ErrInvalid, sfx, err)
	}
	r0 := run{
		g:      g,
		brand:  h.ASCII,
		brandU: h.Unicode,
		sub:    strings.TrimSuffix(rest[:len(rest)-len(labelASCII)], "."),
		subU:   strings.Join(ulabels[:nsub], "."),
		label:  ulabels[nsub],
		own:    own,
	}
	r0.brandIDN = !asciiOnly(r0.label)
	if r0.brandIDN {
		// The brand's own registry takes IDNs, whatever the table says.
		r0.own.scripts = idnAll | idnOther
	}
	return func(yield func(Candidate) bool) {
		r := r0
		r.yield = yield
		r.generate()
	}, nil
}

// run is the state of one Candidates iteration.
type run struct {
	g             *Generator
	brand, brandU string // the input in ASCII and in Unicode
	sub, subU     string // subdomain labels before the registrable label, or ""
	label         string // the registrable label, Unicode
	offs          []int  // byte offset of each rune of label, and len(label)
	own           suffix
	brandIDN      bool
	seen          map[string]struct{}
	yield         func(Candidate) bool
	done          bool
	// Buffers: r.v holds the variant being built, r.scratch the one mix
	// builds, r.out the ASCII domain and r.ubuf the Unicode one.
	v, scratch, out, ubuf []byte
}

func (r *run) generate() {
	r.seen = make(map[string]struct{}, r.estimate())
	r.seen[r.brandU] = struct{}{}
	for i := range r.label {
		r.offs = append(r.offs, i)
	}
	r.offs = append(r.offs, len(r.label))
	steps := [numFuzzers]func(){
		r.addition, r.bitsquatting, r.homoglyph, r.scriptSwap, r.hyphenation,
		r.insertion, r.omission, r.plural, r.repetition, r.replacement,
		r.subdomain, r.transposition, r.vowelSwap, r.dictionary, r.tldSwap,
		r.tldJoined, r.subdomainJoined, r.dictionaryTLD, r.typoDictionary,
	}
	for f, step := range steps {
		if r.g.on[f] && !r.done {
			step()
		}
	}
}

// estimate guesses how many candidates the run makes, to size the set of
// names seen once rather than grow it many times.
func (r *run) estimate() int {
	g, n := r.g, len(r.label)
	est := 256 + 64*n
	if g.on[fDictionary] {
		est += 4*len(g.words) + 2*len(g.topics)*len(g.lures)
	}
	if g.on[fDictionaryTLD] {
		est += 2 * len(g.words) * len(g.tlds)
	}
	if g.on[fTypoDictionary] {
		est += 2 * len(g.words) * 4 * n
	}
	if g.on[fHomoglyph] {
		est += 64 * n * n
	}
	return est
}

// n is the number of characters (runes) in the label.
func (r *run) n() int { return len(r.offs) - 1 }

// at returns the byte offset of character i of the label.
func (r *run) at(i int) int { return r.offs[i] }

// emit offers r.v, a variant of the label, under the brand's own suffix
// and subdomain.
func (r *run) emit(f fuzzer) { r.emitUnder(f, r.v, &r.own, true) }

// emitUnder validates the variant v (one or more labels, Unicode) put
// under suffix s and, if withSub, the brand's subdomain; and yields it
// unless it was yielded before.
func (r *run) emitUnder(f fuzzer, v []byte, s *suffix, withSub bool) {
	if r.done {
		return
	}
	// The Unicode form identifies the name. Duplicates, which are most of
	// the homoglyph fuzzer's second round, are dropped before any
	// conversion to punycode.
	u := r.ubuf[:0]
	if withSub && r.subU != "" {
		u = append(u, r.subU...)
		u = append(u, '.')
	}
	u = append(u, v...)
	u = append(u, '.')
	u = append(u, s.unicode...)
	r.ubuf = u
	if _, dup := r.seen[string(u)]; dup {
		return
	}
	b := r.out[:0]
	if withSub && r.sub != "" {
		b = append(b, r.sub...)
		b = append(b, '.')
	}
	var uni string // the Unicode form when it is not what u says
	if asciiBytes(v) {
		if !validLDH(v) {
			// A label joined from a punycode word ("xn--sant-epa" +
			// "rivm") is kept when it happens to be valid punycode,
			// as dnstwist keeps it.
			if !validACE(v) {
				return
			}
			var err error
			if uni, err = idna.Lookup.ToUnicode(string(u)); err != nil {
				return
			}
			if _, dup := r.seen[uni]; dup || !r.g.allIDN && r.scriptsOf([]byte(uni))&^s.scripts != 0 {
				return
			}
		}
		b = append(b, v...)
	} else {
		if !r.g.allIDN && r.scriptsOf(v)&^s.scripts != 0 {
			return
		}
		var ok bool
		if b, ok = r.appendASCII(b, v); !ok {
			return
		}
	}
	b = append(b, '.')
	b = append(b, s.ascii...)
	r.out = b
	if len(b) > 253 {
		return
	}
	if uni == "" {
		uni = string(u)
	}
	d := uni
	if string(b) != uni {
		d = string(b)
	}
	r.seen[uni] = struct{}{}
	if !r.yield(Candidate{Domain: d, Unicode: uni, Brand: r.brand, Fuzzer: fuzzerNames[f]}) {
		r.done = true
	}
}

func asciiBytes(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// idnOther marks a script outside idnAll; only -all-idn or an IDN brand's
// own registry lets it through.
const idnOther idnScripts = 1 << 7

// scriptsOf returns the scripts of the non-ASCII letters of v.
func (r *run) scriptsOf(v []byte) idnScripts {
	var sc idnScripts
	for i := 0; i < len(v); {
		if v[i] < utf8.RuneSelf {
			i++
			continue
		}
		c, size := utf8.DecodeRune(v[i:])
		i += size
		if c < 0x10000 && r.g.glyphs.script[c] != 0 {
			sc |= r.g.glyphs.script[c]
		} else {
			sc |= scriptOfRune(c)
		}
	}
	return sc
}

// appendASCII appends the ASCII form of v's labels to b, or reports that
// one of them is not a valid label.
func (r *run) appendASCII(b []byte, v []byte) ([]byte, bool) {
	for first := true; len(v) > 0 || first; first = false {
		l := v
		if i := bytesIndexByte(v, '.'); i >= 0 {
			l, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if !first {
			b = append(b, '.')
		}
		ascii := true
		fast := !r.brandIDN
		for i := 0; i < len(l); {
			if l[i] < utf8.RuneSelf {
				i++
				continue
			}
			ascii = false
			c, size := utf8.DecodeRune(l[i:])
			i += size
			if c >= 0x10000 || r.g.glyphs.script[c] == 0 {
				fast = false
			}
		}
		switch {
		case ascii:
			if !validLDH(l) {
				return b, false
			}
			b = append(b, l...)
		case fast:
			// Only ASCII and the look-alike letters of the generated
			// tables, each valid in IDNA2008 on its own, NFC, left to
			// right, no joiners: the label is valid if its hyphens are.
			if l[0] == '-' || l[len(l)-1] == '-' || len(l) >= 4 && l[2] == '-' && l[3] == '-' {
				return b, false
			}
			n := len(b)
			b = appendPunycode(b, l)
			if len(b)-n > 63 {
				return b, false
			}
		default:
			a, err := idna.Registration.ToASCII(string(l))
			if err != nil || strings.Contains(a, ".") {
				return b, false
			}
			b = append(b, a...)
		}
	}
	return b, true
}

func bytesIndexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// validLDH reports whether b is one or more dot-separated labels of a-z,
// 0-9 and '-', each 1 to 63 long, not starting or ending with a hyphen
// and without hyphens in the third and fourth places (reserved for
// punycode and future encodings).
func validLDH(b []byte) bool {
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) {
			c := b[i]
			if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' {
				continue
			}
			if c != '.' {
				return false
			}
		}
		n := i - start
		if n == 0 || n > 63 || b[start] == '-' || b[i-1] == '-' || n >= 4 && b[start+2] == '-' && b[start+3] == '-' {
			return false
		}
		start = i + 1
	}
	return true
}

// validLabel reports whether a is one ASCII label: letters, digits and
// hyphens, 1 to 63 long, no hyphen first or last, and hyphens in the third
// and fourth places only in a punycode label ("xn--").
func validLabel(a string) bool {
	if len(a) > 63 {
		return false
	}
	if rest, ok := strings.CutPrefix(a, "xn--"); ok {
		// The punycode part may hold hyphens anywhere but at the end.
		return rest != "" && rest[len(rest)-1] != '-' &&
			strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
	}
	return a != "" && strings.IndexByte(a, '.') < 0 && validLDH([]byte(a))
}

func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// validACE reports whether v, ASCII labels some of which start with
// "xn--", is valid under IDNA2008 as it stands.
func validACE(v []byte) bool {
	if len(v) < 4 || !strings.Contains(string(v), "xn--") {
		return false
	}
	s := string(v)
	u, err := idna.Lookup.ToUnicode(s)
	if err != nil {
		return false
	}
	a, err := idna.Registration.ToASCII(u)
	return err == nil && a == s
}

const alnum = "0123456789abcdefghijklmnopqrstuvwxyz"

func (r *run) addition() {
	L := r.label
	for i := 0; i < len(alnum); i++ {
		r.v = append(append(r.v[:0], L...), alnum[i])
		r.emit(fAddition)
	}
	for i := 0; i < len(alnum); i++ {
		r.v = append(append(r.v[:0], alnum[i]), L...)
		r.emit(fAddition)
	}
	for j := 0; j < len(L); j++ {
		if L[j] != '-' || j == 0 {
			continue
		}
		for i := 0; i < len(alnum); i++ {
			r.v = append(append(append(r.v[:0], L[:j]...), alnum[i]), L[j:]...)
			r.emit(fAddition)
		}
	}
}

// isLDHRune reports whether c is a-z, 0-9 or '-'.
func isLDHRune(c rune) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' }

func (r *run) bitsquatting() {
	L := r.label
	for i := 0; i < r.n(); i++ {
		c, _ := utf8.DecodeRuneInString(L[r.at(i):])
		for bit := 0; bit < 8; bit++ {
			if b := c ^ 1<<bit; isLDHRune(b) {
				r.v = append(append(append(r.v[:0], L[:r.at(i)]...), byte(b)), L[r.at(i+1):]...)
				r.emit(fBitsquatting)
			}
		}
	}
}

// homoglyph runs two rounds of substitutions, as dnstwist does with its
// smaller tables: in each round, one character, or two equal neighbouring
// characters alike, or a two-character sequence (rn, cl, vv, ae), is
// replaced by a look-alike. Every string of the first round is a candidate
// and the start of the second.
func (r *run) homoglyph() {
	t := r.g.glyphs
	one, two := &t.ascii1, &t.ascii2
	if r.g.allIDN || r.own.scripts&idnLatin != 0 {
		one, two = &t.all1, &t.all2
	}
	type step struct {
		s    string
		from int // where the substitution began
	}
	var round1 []step
	seen1 := map[string]struct{}{}
	r.mix(r.label, 0, one, two, func(v []byte, at int) {
		if _, ok := seen1[string(v)]; ok {
			return
		}
		s := string(v)
		seen1[s] = struct{}{}
		round1 = append(round1, step{s, at})
		r.emitUnder(fHomoglyph, v, &r.own, true)
	})
	emit := func(v []byte, _ int) { r.emitUnder(fHomoglyph, v, &r.own, true) }
	for _, st := range round1 {
		if r.done {
			return
		}
		// A second substitution wholly before the first one gives what
		// the two give in the other order, which another string of the
		// first round covers: skip it.
		r.mix(st.s, st.from, one, two, emit)
	}
}

// mix calls fn with each one-step substitution of s that ends at or after
// byte from, and the byte where it begins. The slice passed to fn is
// reused.
func (r *run) mix(s string, from int, one *[128][]string, two *[36 * 36][]string, fn func([]byte, int)) {
	for i := max(from-1, 0); i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			continue
		}
		if i >= from {
			for _, a := range one[c] {
				r.scratch = append(append(append(r.scratch[:0], s[:i]...), a...), s[i+1:]...)
				fn(r.scratch, i)
			}
		}
		if i+1 >= len(s) {
			continue
		}
		d := s[i+1]
		if d == c {
			for _, a := range one[c] {
				r.scratch = append(append(append(append(r.scratch[:0], s[:i]...), a...), a...), s[i+2:]...)
				fn(r.scratch, i)
			}
		}
		if x, y := keyIndex(c), keyIndex(d); x >= 0 && y >= 0 {
			for _, a := range two[x*36+y] {
				r.scratch = append(append(append(r.scratch[:0], s[:i]...), a...), s[i+2:]...)
				fn(r.scratch, i)
			}
		}
	}
}

// maxScriptSwaps bounds the script-swap candidates of one label per script.
const maxScriptSwaps = 64

// scriptSwap writes the whole label in Cyrillic, then in Greek, where every
// letter has a look-alike in that script; digits and hyphens stay. When
// some letters have several look-alikes, every combination is tried, up to
// maxScriptSwaps.
func (r *run) scriptSwap() {
	if r.brandIDN {
		return
	}
	L := r.label
	for _, sc := range []struct {
		alts *[128][]string
		id   idnScripts
	}{{&r.g.glyphs.cyrillic, idnCyrillic}, {&r.g.glyphs.greek, idnGreek}} {
		if !r.g.allIDN && r.own.scripts&sc.id == 0 {
			continue
		}
		choices := make([][]string, len(L))
		letters := 0
		for i := 0; i < len(L); i++ {
			c := L[i]
			if c == '-' || '0' <= c && c <= '9' {
				choices[i] = []string{L[i : i+1]}
				continue
			}
			if len(sc.alts[c]) == 0 {
				letters = -1
				break
			}
			choices[i] = sc.alts[c]
			letters++
		}
		if letters <= 0 {
			continue
		}
		pick := make([]int, len(L))
		for range maxScriptSwaps {
			r.v = r.v[:0]
			for i, p := range pick {
				r.v = append(r.v, choices[i][p]...)
			}
			r.emit(fScriptSwap)
			// Next combination, odometer style, last position fastest.
			i := len(pick) - 1
			for ; i >= 0; i-- {
				if pick[i]++; pick[i] < len(choices[i]) {
					break
				}
				pick[i] = 0
			}
			if i < 0 {
				break
			}
		}
	}
}

func (r *run) hyphenation() {
	L := r.label
	for i := 1; i < r.n(); i++ {
		r.v = append(append(append(r.v[:0], L[:r.at(i)]...), '-'), L[r.at(i):]...)
		r.emit(fHyphenation)
	}
}

func (r *run) insertion() {
	L := r.label
	for i := 0; i < r.n(); i++ {
		c := L[r.at(i)]
		if c >= utf8.RuneSelf {
			continue
		}
		nb := keyboardNeighbourList[c]
		for j := 0; j < len(nb); j++ {
			r.v = append(append(append(r.v[:0], L[:r.at(i)]...), nb[j]), L[r.at(i):]...)
			r.emit(fInsertion)
			r.v = append(append(append(r.v[:0], L[:r.at(i+1)]...), nb[j]), L[r.at(i+1):]...)
			r.emit(fInsertion)
		}
	}
}

func (r *run) omission() {
	L := r.label
	for i := 0; i < r.n(); i++ {
		r.v = append(append(r.v[:0], L[:r.at(i)]...), L[r.at(i+1):]...)
		r.emit(fOmission)
	}
}

func (r *run) plural() {
	L := r.label
	for i := 2; i < r.n(); i++ {
		s := "s"
		if c := L[r.at(i)]; c == 's' || c == 'x' || c == 'z' {
			s = "es"
		}
		r.v = append(append(append(r.v[:0], L[:r.at(i+1)]...), s...), L[r.at(i+1):]...)
		r.emit(fPlural)
	}
}

func (r *run) repetition() {
	L := r.label
	for i := 0; i < r.n(); i++ {
		r.v = append(append(r.v[:0], L[:r.at(i+1)]...), L[r.at(i):]...)
		r.emit(fRepetition)
	}
}

func (r *run) replacement() {
	L := r.label
	for i := 0; i < r.n(); i++ {
		c := L[r.at(i)]
		if c >= utf8.RuneSelf {
			continue
		}
		nb := keyboardNeighbourList[c]
		for j := 0; j < len(nb); j++ {
			r.v = append(append(append(r.v[:0], L[:r.at(i)]...), nb[j]), L[r.at(i+1):]...)
			r.emit(fReplacement)
		}
	}
}

func (r *run) subdomain() {
	L := r.label
	for i := 1; i < r.n(); i++ {
		if L[r.at(i)] == '-' || L[r.at(i-1)] == '-' {
			continue
		}
		r.v = append(append(append(r.v[:0], L[:r.at(i)]...), '.'), L[r.at(i):]...)
		r.emit(fSubdomain)
	}
}

func (r *run) transposition() {
	L := r.label
	for i := 0; i+1 < r.n(); i++ {
		r.v = append(append(append(append(r.v[:0], L[:r.at(i)]...), L[r.at(i+1):r.at(i+2)]...),
			L[r.at(i):r.at(i+1)]...), L[r.at(i+2):]...)
		r.emit(fTransposition)
	}
}

const vowels = "aeiou"

func (r *run) vowelSwap() {
	L := r.label
	for i := 0; i < r.n(); i++ {
		if strings.IndexByte(vowels, L[r.at(i)]) < 0 {
			continue
		}
		for j := 0; j < len(vowels); j++ {
			r.v = append(append(append(r.v[:0], L[:r.at(i)]...), vowels[j]), L[r.at(i+1):]...)
			r.emit(fVowelSwap)
		}
	}
}

// join sets r.v to the parts joined.
func (r *run) join(parts ...string) []byte {
	r.v = r.v[:0]
	for _, p := range parts {
		r.v = append(r.v, p...)
	}
	return r.v
}

func (r *run) dictionary() {
	L := r.label
	for _, w := range r.g.words {
		if r.done {
			return
		}
		if strings.HasPrefix(L, w) && strings.HasSuffix(L, w) {
			continue
		}
		r.join(L, "-", w)
		r.emit(fDictionary)
		r.join(L, w)
		r.emit(fDictionary)
		r.join(w, "-", L)
		r.emit(fDictionary)
		r.join(w, L)
		r.emit(fDictionary)
	}
	if i, j := strings.IndexByte(L, '-'), strings.LastIndexByte(L, '-'); i >= 0 {
		for _, w := range r.g.words {
			r.join(L[:j+1], w)
			r.emit(fDictionary)
			r.join(w, L[i:])
			r.emit(fDictionary)
		}
	}
	for _, t := range r.g.topics {
		if r.done {
			return
		}
		for _, l := range r.g.lures {
			r.join(L, "-", t, "-", l)
			r.emit(fDictionary)
			r.join(l, "-", L, "-", t)
			r.emit(fDictionary)
		}
	}
}

func (r *run) tldSwap() {
	for i := range r.g.tlds {
		if s := &r.g.tlds[i]; s.ascii != r.own.ascii {
			r.emitUnder(fTLDSwap, []byte(r.label), s, true)
		}
	}
	if i := strings.LastIndexByte(r.own.ascii, '.'); i >= 0 {
		s, err := newSuffix(r.own.ascii[i+1:])
		if err == nil {
			r.emitUnder(fTLDSwap, []byte(r.label), &s, true)
		}
	}
}

func (r *run) tldJoined() {
	L, own := r.label, r.own.ascii
	if i := strings.IndexByte(own, '.'); i >= 0 {
		// bbc.co.uk → bbcco.uk
		if s, err := newSuffix(own[i+1:]); err == nil {
			r.emitUnder(fTLDJoined, r.join(L, r.own.unicode[:strings.IndexByte(r.own.unicode, '.')]), &s, true)
		}
	}
	plain := strings.ReplaceAll(r.own.unicode, ".", "")
	dashed := strings.ReplaceAll(r.own.unicode, ".", "-")
	under := []*suffix{&r.own, &r.g.com}
	for i := range r.g.tlds {
		under = append(under, &r.g.tlds[i])
	}
	for _, s := range under {
		r.emitUnder(fTLDJoined, r.join(L, plain), s, true)
		r.emitUnder(fTLDJoined, r.join(L, "-", dashed), s, true)
	}
}

func (r *run) subdomainJoined() {
	if r.sub == "" {
		return
	}
	L, sub := r.label, r.subU
	for _, v := range []string{
		sub + L,
		strings.ReplaceAll(sub, ".", "") + L,
		sub + "-" + L,
		strings.ReplaceAll(sub, ".", "-") + "-" + L,
	} {
		r.emitUnder(fSubdomainJoined, []byte(v), &r.own, false)
	}
}

func (r *run) dictionaryTLD() {
	L := r.label
	for i := range r.g.tlds {
		s := &r.g.tlds[i]
		if s.ascii == r.own.ascii {
			continue
		}
		for _, w := range r.g.words {
			if r.done {
				return
			}
			r.emitUnder(fDictionaryTLD, r.join(L, "-", w), s, true)
			r.emitUnder(fDictionaryTLD, r.join(w, "-", L), s, true)
		}
	}
}

// typos returns the label's omissions, transpositions, repetitions, vowel
// swaps and one-step ASCII homoglyphs, without repeats.
func (r *run) typos() []string {
	L := r.label
	var out []string
	seen := map[string]bool{L: true}
	add := func(v []byte, _ int) {
		if !seen[string(v)] {
			s := string(v)
			seen[s] = true
			out = append(out, s)
		}
	}
	for i := 0; i < r.n(); i++ {
		add(append(append(r.v[:0], L[:r.at(i)]...), L[r.at(i+1):]...), 0)
		add(append(append(r.v[:0], L[:r.at(i+1)]...), L[r.at(i):]...), 0)
		if i+1 < r.n() {
			add(append(append(append(append(r.v[:0], L[:r.at(i)]...), L[r.at(i+1):r.at(i+2)]...),
				L[r.at(i):r.at(i+1)]...), L[r.at(i+2):]...), 0)
		}
		if strings.IndexByte(vowels, L[r.at(i)]) >= 0 {
			for j := 0; j < len(vowels); j++ {
				add(append(append(append(r.v[:0], L[:r.at(i)]...), vowels[j]), L[r.at(i+1):]...), 0)
			}
		}
	}
	r.mix(L, 0, &r.g.glyphs.ascii1, &r.g.glyphs.ascii2, add)
	return out
}

func (r *run) typoDictionary() {
	for _, t := range r.typos() {
		for _, w := range r.g.words {
			if r.done {
				return
			}
			r.emitUnder(fTypoDictionary, r.join(t, "-", w), &r.own, true)
			r.emitUnder(fTypoDictionary, r.join(w, "-", t), &r.own, true)
		}
	}
}
