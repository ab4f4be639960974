package lookalike

import "unicode/utf8"

// Punycode (RFC 3492) parameters for IDNA.
const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
)

// appendPunycode appends the ACE form ("xn--" and the punycode) of the
// label l, valid UTF-8 with at least one non-ASCII rune, to dst. It does
// no validation: the forward generator calls it only on labels it knows
// to be valid, which spares it a round trip through the idna package for
// each of the many homoglyph candidates.
func appendPunycode(dst, l []byte) []byte {
	var buf [64]rune
	runes := buf[:0]
	dst = append(dst, "xn--"...)
	basic := 0
	for i := 0; i < len(l); {
		c := rune(l[i])
		if c < utf8.RuneSelf {
			dst = append(dst, l[i])
			basic++
			i++
		} else {
			var size int
			c, size = utf8.DecodeRune(l[i:])
			i += size
		}
		runes = append(runes, c)
	}
	if basic > 0 {
		dst = append(dst, '-')
	}
	n, delta, bias := rune(pcInitialN), 0, pcInitialBias
	for h := basic; h < len(runes); {
		m := rune(utf8.MaxRune + 1)
		for _, c := range runes {
			if c >= n && c < m {
				m = c
			}
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, c := range runes {
			if c < n {
				delta++
			}
			if c != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := min(max(k-bias, pcTMin), pcTMax)
				if q < t {
					break
				}
				dst = append(dst, punyDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			dst = append(dst, punyDigit(q))
			bias = punyAdapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return dst
}

func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func punyAdapt(delta, points int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > (pcBase-pcTMin)*pcTMax/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
