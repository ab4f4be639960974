package mail

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/ward-health/ward/internal/mail/finding"
)

// disguisedBrandSignal reports a brand's name written with ASCII
// look-alikes in the subject or the sender's name: "PayPaI" with a capital
// I for the l, "Micr0soft" with a zero, "Arnazon" with r and n for the m.
// Filters that look for the name miss it and readers see the name;
// legitimate mail has no reason to write its own name that way.
func (a *Analyzer) disguisedBrandSignal(froms []address, subject string, add func(finding.Finding)) {
	where := []struct{ what, text string }{{"subject", subject}}
	if len(froms) > 0 {
		where = append(where, struct{ what, text string }{"sender's name", froms[0].name})
	}
	for _, w := range where {
		if brand, written, ok := a.disguisedBrand(w.text); ok {
			add(finding.Finding{Signal: sigBrandDisguised, Score: 40, Class: finding.Weak,
				Detail: fmt.Sprintf("the %s writes %s as %q, with look-alike letters, to slip past filters", w.what, brand, written)})
			return
		}
	}
}

// maxDisguiseText bounds the text searched for disguised brand names.
const maxDisguiseText = 1024

// disguisedBrand returns the first brand name (of one word, at least four
// letters) that a word of text spells only once its look-alike letters
// are read as the letters they imitate.
func (a *Analyzer) disguisedBrand(text string) (brand, written string, ok bool) {
	text = truncate(text, maxDisguiseText)
	for _, word := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(word) < 4 || len(word) > 40 {
			continue
		}
		low := strings.ToLower(word)
		for _, folded := range unDisguise(word) {
			if folded == low {
				continue
			}
			for _, bn := range a.names {
				if !bn.exact && len(bn.text) >= 4 && folded == bn.text && isWordOfLetters(bn.text) {
					return bn.brand, word, true
				}
			}
		}
	}
	return "", "", false
}

// unDisguise returns the readings of a word with its look-alike letters
// replaced, lower-cased: a capital I inside a word that has small
// letters is an l, 1 is an l, 0 is an o, and (in a second reading) rn is
// an m and vv a w.
func unDisguise(word string) []string {
	hasLower := strings.IndexFunc(word, unicode.IsLower) >= 0
	var b strings.Builder
	for i, r := range word {
		switch {
		case r == 'I' && i > 0 && hasLower:
			b.WriteByte('l')
		case r == '1':
			b.WriteByte('l')
		case r == '0':
			b.WriteByte('o')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	one := b.String()
	two := strings.NewReplacer("rn", "m", "vv", "w").Replace(one)
	if two == one {
		return []string{one}
	}
	return []string{one, two}
}

// isWordOfLetters reports whether s is one word of letters.
func isWordOfLetters(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) < 0
}
