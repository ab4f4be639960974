package lookalike

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

//go:generate go run ./internal/genconfusables -confusables unicode/confusables.txt -extras unicode/extra-lookalikes.txt -o zconfusables.go

// Skeleton returns the skeleton of s: two strings that look alike have the
// same skeleton. It is the skeleton of Unicode's UTS #39 adapted to domain
// labels: s is decomposed (NFD); each code point is replaced by its
// prototype from confusables.txt, or from ward's extra look-alikes, or, for
// a decorated Latin letter that neither lists (ƈ, ⱨ), by the plain letter;
// combining marks are dropped; the result is lower-cased; and all of this
// is repeated until nothing changes. So é and e, а (Cyrillic) and a, 0 and
// o, l, 1, I and i, m and rn, w and vv, d and cl all fold together:
//
//	Skeleton("rivm") == Skeleton("rlvm") == "rlvrn"
//	Skeleton("whо") == Skeleton("who") // Cyrillic о
//
// Skeleton is meant for labels as IDNA leaves them (lower case, NFC):
// code points that cannot appear in an IDNA label keep their own shape
// (apart from NFD and the dropping of combining marks). It is idempotent:
// Skeleton(Skeleton(s)) == Skeleton(s). Invalid UTF-8 becomes U+FFFD.
// The tables are generated from unicode/confusables.txt and
// unicode/extra-lookalikes.txt; see internal/genconfusables.
func Skeleton(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || skelByte[c] != c {
			return string(AppendSkeleton(make([]byte, 0, len(s)+8), s))
		}
	}
	return s
}

// AppendSkeleton appends the skeleton of s to dst and returns the extended
// buffer. For ASCII input it allocates nothing beyond growing dst.
func AppendSkeleton(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			// NFD never composes, so the ASCII prefix done so far is
			// final and the rest can be decomposed on its own.
			return appendSkeletonSlow(dst, s[i:])
		}
		if b := skelByte[c]; b != 0 {
			dst = append(dst, b)
		} else {
			dst = append(dst, skelASCII[c]...)
		}
	}
	return dst
}

func appendSkeletonSlow(dst []byte, s string) []byte {
	var it norm.Iter
	it.InitString(norm.NFD, s)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, n := utf8.DecodeRune(seg)
			seg = seg[n:]
			switch {
			case r < utf8.RuneSelf:
				dst = append(dst, skelASCII[r]...)
			case unicode.In(r, unicode.Mn, unicode.Me):
				// Combining marks (diacritics) are dropped.
			default:
				if i, ok := slices.BinarySearch(skelKeys[:], r); ok {
					dst = append(dst, skelVals[i]...)
				} else {
					dst = utf8.AppendRune(dst, r)
				}
			}
		}
	}
	return dst
}

// skelByte[c] is the skeleton of the ASCII character c when that is one
// byte, and 0 when it is longer (m → rn) or c is not ASCII.
var skelByte = func() (t [256]byte) {
	for c, s := range skelASCII {
		if len(s) == 1 {
			t[c] = s[0]
		}
	}
	return t
}()

// glyphRow is one row of the generated look-alike table glyphRows: the
// look-alikes of key, separated by spaces, by kind.
type glyphRow struct {
	key      string // one or two of a-z, 0-9
	ascii    string // ASCII look-alikes: "rn" for "m", "l 1" for "i"
	idn      string // Latin letters: "á à â" for "a"
	cyrillic string // Cyrillic letters without marks: "а" for "a"
	greek    string // Greek letters without marks: "α" for "a"
}
