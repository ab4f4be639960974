package lookalike

import (
	"strings"
	"sync"
	"unicode"
)

// glyphTables are the generated look-alike rows (glyphRows) arranged for
// the fuzzers. Built once, read-only afterwards.
type glyphTables struct {
	// ascii1[c] and all1[c] are the look-alikes of the character c: ASCII
	// only, and ASCII then Latin IDN letters.
	ascii1, all1 [128][]string
	// ascii2 and all2 are the look-alikes of two-character sequences
	// ("rn", "cl", "vv", "ae"), indexed keyIndex(c)*36 + keyIndex(d).
	ascii2, all2 [36 * 36][]string
	// cyrillic[c] and greek[c] are the best look-alikes of the letter c in
	// that script, for the script swap.
	cyrillic, greek [128][]string
	// script[c] is the script of c if c is a non-ASCII rune of the tables,
	// and 0 for every other rune of the Basic Multilingual Plane (all the
	// table's runes are there). Each rune of the tables is a letter valid
	// in IDNA2008 labels on its own.
	script [0x10000]idnScripts
}

var loadGlyphs = sync.OnceValue(func() *glyphTables {
	t := &glyphTables{}
	for _, row := range glyphRows {
		ascii := strings.Fields(row.ascii)
		idn := strings.Fields(row.idn)
		all := append(append([]string(nil), ascii...), idn...)
		cyr, grk := strings.Fields(row.cyrillic), strings.Fields(row.greek)
		for _, l := range [][]string{idn, cyr, grk} {
			for _, s := range l {
				for _, c := range s {
					if c < 0x10000 { // always, as genconfusables ensures
						t.script[c] = scriptOfRune(c)
					}
				}
			}
		}
		if len(row.key) == 1 {
			c := row.key[0]
			t.ascii1[c], t.all1[c], t.cyrillic[c], t.greek[c] = ascii, all, cyr, grk
		} else {
			i := keyIndex(row.key[0])*36 + keyIndex(row.key[1])
			t.ascii2[i], t.all2[i] = ascii, all
		}
	}
	return t
})

// scriptOfRune returns the script of a non-ASCII rune as the IDN policy
// sees it.
func scriptOfRune(c rune) idnScripts {
	switch {
	case unicode.Is(unicode.Latin, c):
		return idnLatin
	case unicode.Is(unicode.Cyrillic, c):
		return idnCyrillic
	case unicode.Is(unicode.Greek, c):
		return idnGreek
	case unicode.In(c, unicode.Mn, unicode.Me):
		return 0 // a combining mark takes its base letter's script
	}
	return idnOther
}
