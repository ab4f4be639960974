// Command genconfusables writes zconfusables.go for package lookalike: the
// skeleton table (the UTS #39 confusables data adapted to domain labels)
// and the homoglyph and script-swap tables of the forward generator.
//
// It reads unicode/confusables.txt (Unicode's file, unchanged) and
// unicode/extra-lookalikes.txt (ward's additions) and is run by
// "go generate" in internal/lookalike:
//
//	go run ./internal/genconfusables -o zconfusables.go
//
// The skeleton of a string is computed by one step repeated until nothing
// changes: NFD; every code point replaced by its prototype (confusables.txt,
// the "fold" lines of the extras file, or, for a decorated Latin letter
// such as ƈ or ⱨ that neither lists, the plain letter its Unicode name
// gives); NFD again; combining marks dropped; lower case. Only code points
// that can appear in an IDNA label get a table entry; the generator checks
// that every table value is a fixed point, so Skeleton is idempotent.
//
// The forward tables list, for each key of one or two ASCII characters, the
// strings whose skeleton equals the key's skeleton and that may stand in a
// registrable label: ASCII, Latin letters with at most one combining mark
// (homoglyph), and Cyrillic or Greek letters without marks (script swap),
// all letters of the Basic Multilingual Plane in NFC and valid under
// IDNA2008 as golang.org/x/net/idna implements it, plus the "glyph" lines
// of the extras file. For the script swap only the best look-alikes of
// each letter are kept (see rank in render).
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/runenames"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("genconfusables: ")
	confPath := flag.String("confusables", "unicode/confusables.txt", "UTS #39 confusables file")
	extraPath := flag.String("extras", "unicode/extra-lookalikes.txt", "ward's extra look-alikes")
	out := flag.String("o", "zconfusables.go", "output Go file")
	flag.Parse()

	g := &gen{proto: map[rune]string{}, folds: map[rune]string{}, glyphs: map[string][]string{}}
	if err := g.readConfusables(*confPath); err != nil {
		log.Fatal(err)
	}
	if err := g.readExtras(*extraPath); err != nil {
		log.Fatal(err)
	}
	g.readNames()
	src, err := g.render()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

type gen struct {
	proto     map[rune]string     // confusables.txt: source → prototype
	folds     map[rune]string     // extras "fold" lines
	decorated map[rune]string     // decorated Latin letters → plain letter, from their names
	glyphs    map[string][]string // extras "glyph" lines: key → alternatives
}

func parseHex(s string) (rune, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 16, 32)
	if err != nil || v > unicode.MaxRune {
		return 0, fmt.Errorf("bad code point %q", s)
	}
	return rune(v), nil
}

func (g *gen) readConfusables(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimPrefix(line, "\ufeff")
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, ";")
		if len(fields) < 3 {
			return fmt.Errorf("%s:%d: want SOURCE ; TARGET ; TYPE", path, n)
		}
		src, err := parseHex(fields[0])
		if err != nil {
			return fmt.Errorf("%s:%d: %v", path, n, err)
		}
		var b strings.Builder
		for _, h := range strings.Fields(fields[1]) {
			r, err := parseHex(h)
			if err != nil {
				return fmt.Errorf("%s:%d: %v", path, n, err)
			}
			b.WriteRune(r)
		}
		g.proto[src] = b.String()
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(g.proto) < 5000 {
		return fmt.Errorf("%s: only %d entries; is it the UTS #39 confusables.txt?", path, len(g.proto))
	}
	return nil
}

// parseItem reads one item of the extras file: literal text, or U+XXXX
// code points joined with '+'.
func parseItem(s string) (string, error) {
	if !strings.HasPrefix(s, "U+") {
		return s, nil
	}
	var b strings.Builder
	for _, p := range strings.Split(s, "+U+") {
		r, err := parseHex(strings.TrimPrefix(p, "U+"))
		if err != nil {
			return "", err
		}
		b.WriteRune(r)
	}
	return b.String(), nil
}

func (g *gen) readExtras(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for n, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			return fmt.Errorf("%s:%d: want a kind, a key and at least one look-alike", path, n+1)
		}
		items := make([]string, len(f)-1)
		for i, s := range f[1:] {
			if items[i], err = parseItem(s); err != nil {
				return fmt.Errorf("%s:%d: %v", path, n+1, err)
			}
		}
		from, to := items[0], items[1:]
		switch f[0] {
		case "fold":
			r, size := utf8.DecodeRuneInString(from)
			if size != len(from) || len(to) != 1 {
				return fmt.Errorf("%s:%d: a fold maps one code point to one string", path, n+1)
			}
			if p, ok := g.proto[r]; ok {
				return fmt.Errorf("%s:%d: confusables.txt already maps %q to %q", path, n+1, from, p)
			}
			g.folds[r] = to[0]
		case "glyph":
			if !isKey(from) {
				return fmt.Errorf("%s:%d: a glyph key is one or two of a-z, 0-9", path, n+1)
			}
			for _, t := range to {
				if !labelChars(t) {
					return fmt.Errorf("%s:%d: %q cannot stand in an IDNA label", path, n+1, t)
				}
			}
			g.glyphs[from] = append(g.glyphs[from], to...)
		default:
			return fmt.Errorf("%s:%d: unknown kind %q (want fold or glyph)", path, n+1, f[0])
		}
	}
	return nil
}

// decoratedName matches the names of Latin letters drawn as a plain letter
// with a stroke, hook, tail, bar or the like, and of small capitals.
var decoratedName = regexp.MustCompile(`^LATIN (?:SMALL LETTER ([A-Z]) (?:WITH .*|BAR)|LETTER SMALL CAPITAL ([A-Z]))$`)

// readNames derives prototypes for decorated Latin letters that
// confusables.txt does not list and that do not decompose under NFD.
func (g *gen) readNames() {
	g.decorated = map[rune]string{}
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if !unicode.Is(unicode.Latin, r) || !nfdStable(r) {
			continue
		}
		if _, ok := g.proto[r]; ok {
			continue
		}
		m := decoratedName.FindStringSubmatch(runenames.Name(r))
		if m == nil {
			continue
		}
		g.decorated[r] = strings.ToLower(m[1] + m[2])
	}
}

func nfdStable(r rune) bool {
	s := string(r)
	return norm.NFD.String(s) == s
}

func isMark(r rune) bool { return unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) }

// step is one round of the skeleton transform.
func (g *gen) step(s string) string {
	var out strings.Builder
	for _, r := range g.direct(s) {
		out.WriteRune(unicode.ToLower(r))
	}
	return out.String()
}

// direct is one step of the skeleton transform without the lower-casing.
func (g *gen) direct(s string) string {
	var out strings.Builder
	for _, r := range g.oneStep(s) {
		if !isMark(r) {
			out.WriteRune(r)
		}
	}
	return out.String()
}

// oneStep maps each code point of s once through the data files,
// keeping combining marks: н gives ʜ, ћ gives h with a stroke overlay.
func (g *gen) oneStep(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case g.folds[r] != "":
			b.WriteString(g.folds[r])
		case g.proto[r] != "":
			b.WriteString(g.proto[r])
		case g.decorated[r] != "":
			b.WriteString(g.decorated[r])
		default:
			b.WriteRune(r)
		}
	}
	return norm.NFD.String(b.String())
}

var errNoFixpoint = errors.New("skeleton does not settle")

func (g *gen) skeleton(s string) (string, error) {
	for range 16 {
		t := g.step(s)
		if t == s {
			return s, nil
		}
		s = t
	}
	return "", fmt.Errorf("%w: %q", errNoFixpoint, s)
}

// validRune reports whether r may appear in a label under IDNA2008, as
// the Registration profile of x/net/idna checks it (alone, or after a
// Latin letter for runes that cannot begin a label).
func validRune(r rune) bool {
	if _, err := idna.Registration.ToASCII(string(r)); err == nil {
		return true
	}
	_, err := idna.Registration.ToASCII("x" + string(r))
	return err == nil
}

// labelChars reports whether every rune of s may appear in a label and
// s is in NFC.
func labelChars(s string) bool {
	if s == "" || norm.NFC.String(s) != s {
		return false
	}
	for _, r := range s {
		if !validRune(r) {
			return false
		}
	}
	return true
}

func isKey(s string) bool {
	if len(s) < 1 || len(s) > 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func marks(s string) int {
	n := 0
	for _, r := range norm.NFD.String(s) {
		if isMark(r) {
			n++
		}
	}
	return n
}

type script int

const (
	scriptASCII script = iota
	scriptLatin
	scriptCyrillic
	scriptGreek
	scriptOther
)

func scriptOf(s string) script {
	sc := scriptASCII
	for _, r := range s {
		var t script
		switch {
		case r < utf8.RuneSelf:
			continue
		case unicode.Is(unicode.Latin, r):
			t = scriptLatin
		case unicode.Is(unicode.Cyrillic, r):
			t = scriptCyrillic
		case unicode.Is(unicode.Greek, r):
			t = scriptGreek
		default:
			return scriptOther
		}
		if sc != scriptASCII && sc != t {
			return scriptOther
		}
		sc = t
	}
	return sc
}

// row is one key of the forward tables with its alternatives by script.
type row struct {
	key                      string
	ascii, idn, cyril, greek []string
}

func (g *gen) render() ([]byte, error) {
	// Skeleton tables.
	var ascii [128]string
	for c := range 128 {
		sk, err := g.skeleton(string(rune(c)))
		if err != nil {
			return nil, err
		}
		ascii[c] = sk
	}
	type entry struct {
		r  rune
		sk string
	}
	var entries []entry
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF || !nfdStable(r) || isMark(r) {
			continue
		}
		sk, err := g.skeleton(string(r))
		if err != nil {
			return nil, err
		}
		if sk != string(r) && validRune(r) {
			entries = append(entries, entry{r, sk})
		}
	}
	inTable := map[rune]bool{}
	for _, e := range entries {
		inTable[e.r] = true
	}
	// Every rune of every value must be left alone by the runtime
	// transform, or Skeleton would not be idempotent.
	fixed := func(s string) error {
		for _, r := range s {
			switch {
			case r < utf8.RuneSelf && ascii[r] != string(r):
				return fmt.Errorf("skeleton value %q has %q, which maps to %q", s, r, ascii[r])
			case inTable[r] || isMark(r) || !nfdStable(r):
				return fmt.Errorf("skeleton value %q has %q, which is not a fixed point", s, r)
			}
		}
		return nil
	}
	for _, v := range ascii {
		if err := fixed(v); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		if err := fixed(e.sk); err != nil {
			return nil, err
		}
	}

	// Forward tables: group candidate units by skeleton.
	class := map[string][]string{}
	addUnit := func(u string) error {
		sk, err := g.skeleton(u)
		if err != nil {
			return err
		}
		if len(sk) <= 2 && isKey(sk) {
			class[sk] = append(class[sk], u)
		}
		return nil
	}
	for c := byte('0'); c <= 'z'; c++ {
		if !isAlnum(c) {
			continue
		}
		if err := addUnit(string(c)); err != nil {
			return nil, err
		}
		for d := byte('0'); d <= 'z'; d++ {
			if isAlnum(d) {
				if err := addUnit(string([]byte{c, d})); err != nil {
					return nil, err
				}
			}
		}
	}
	// Look-alikes are letters of the Basic Multilingual Plane: the
	// supplementary planes hold phonetic and historic letters that no
	// registry's IDN table offers.
	for r := rune(0x80); r <= 0xFFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF || !unicode.IsLetter(r) {
			continue
		}
		s := string(r)
		sc := scriptOf(s)
		if sc == scriptOther || norm.NFC.String(s) != s || !validRune(r) {
			continue
		}
		if n := marks(s); n > 1 || n > 0 && sc != scriptLatin {
			continue
		}
		if err := addUnit(s); err != nil {
			return nil, err
		}
	}
	rows := map[string]*row{}
	get := func(k string) *row {
		if rows[k] == nil {
			rows[k] = &row{key: k}
		}
		return rows[k]
	}
	place := func(r *row, alt string) error {
		if alt == r.key {
			return nil
		}
		switch scriptOf(alt) {
		case scriptASCII:
			r.ascii = append(r.ascii, alt)
		case scriptLatin:
			r.idn = append(r.idn, alt)
		case scriptCyrillic:
			r.cyril = append(r.cyril, alt)
		case scriptGreek:
			r.greek = append(r.greek, alt)
		default:
			return fmt.Errorf("look-alike %q of %q mixes scripts", alt, r.key)
		}
		return nil
	}
	// canonical reports whether a two-character ASCII string is its own
	// skeleton: "rn" and "cl" are, "ci" (skeleton "cl") is not and would
	// only repeat what single substitutions give.
	canonical := func(s string) bool {
		sk, _ := g.skeleton(s)
		return len(s) != 2 || s[0] >= utf8.RuneSelf || sk == s
	}
	for _, members := range class {
		for _, k := range members {
			if !isKey(k) || !canonical(k) {
				continue
			}
			for _, alt := range members {
				// A two-character key only takes single characters:
				// two-character alternatives are two substitutions.
				if len(k) == 2 && utf8.RuneCountInString(alt) != 1 || !canonical(alt) {
					continue
				}
				if err := place(get(k), alt); err != nil {
					return nil, err
				}
			}
		}
	}
	for k, alts := range g.glyphs {
		for _, alt := range alts {
			if err := place(get(k), alt); err != nil {
				return nil, err
			}
		}
	}
	// Order the look-alikes of a key best first: those that confusables.txt
	// or the extras file map straight to the key (һ for h) before those
	// that reach it only through upper case or a second step (н, whose
	// prototype is H); then fewer marks first. The script-swap fuzzer
	// builds its first candidate from the best look-alike of each letter.
	rank := func(key, alt string) int {
		one := g.oneStep(alt)
		switch sk, _ := g.skeleton(one); {
		case slices.Contains(g.glyphs[key], alt) || one == key:
			return 0
		case sk == key && marks(one) == 0:
			return 1 // through a capital or small capital: н → ʜ
		}
		return 2
	}
	var keys []string
	for k, r := range rows {
		for _, l := range []*[]string{&r.ascii, &r.idn, &r.cyril, &r.greek} {
			slices.SortFunc(*l, func(a, b string) int {
				return cmp.Or(cmp.Compare(rank(k, a), rank(k, b)), cmp.Compare(marks(a), marks(b)),
					cmp.Compare(len(a), len(b)), strings.Compare(a, b))
			})
			*l = slices.Compact(*l)
		}
		// A script swap rewrites every letter, so it takes only the best
		// look-alikes of each: all those of the best rank.
		for _, l := range []*[]string{&r.cyril, &r.greek} {
			if len(*l) > 0 {
				best := rank(k, (*l)[0])
				*l = slices.DeleteFunc(*l, func(a string) bool { return rank(k, a) != best })
			}
		}
		if len(r.ascii)+len(r.idn)+len(r.cyril)+len(r.greek) > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) })

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by genconfusables from unicode/confusables.txt and unicode/extra-lookalikes.txt. DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "package lookalike\n\n")
	fmt.Fprintf(&b, "// skelASCII is the skeleton of each ASCII character.\nvar skelASCII = [128]string{")
	for c, s := range ascii {
		if c%8 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%q, ", s)
	}
	fmt.Fprintf(&b, "\n}\n\n")
	fmt.Fprintf(&b, "// skelKeys lists, in order, the non-ASCII code points valid in IDNA labels\n")
	fmt.Fprintf(&b, "// whose skeleton is not themselves; skelVals[i] is the skeleton of skelKeys[i].\n")
	fmt.Fprintf(&b, "var skelKeys = [%d]rune{", len(entries))
	for i, e := range entries {
		if i%10 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%#04x, ", e.r)
	}
	fmt.Fprintf(&b, "\n}\n\nvar skelVals = [%d]string{", len(entries))
	for i, e := range entries {
		if i%10 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%+q, ", e.sk)
	}
	fmt.Fprintf(&b, "\n}\n\n")
	fmt.Fprintf(&b, "// glyphRows lists the look-alikes of each ASCII key of one or two characters,\n")
	fmt.Fprintf(&b, "// separated by spaces: ASCII, Latin (IDN), Cyrillic and Greek.\n")
	fmt.Fprintf(&b, "var glyphRows = [%d]glyphRow{\n", len(keys))
	for _, k := range keys {
		r := rows[k]
		fmt.Fprintf(&b, "{%q, %q, %q, %q, %q},\n", k, strings.Join(r.ascii, " "), strings.Join(r.idn, " "),
			strings.Join(r.cyril, " "), strings.Join(r.greek, " "))
	}
	fmt.Fprintf(&b, "}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting output: %v", err)
	}
	return src, nil
}
