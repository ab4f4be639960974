package probe

import (
	"fmt"
	"math/bits"
	"strconv"
)

// SimHash is a 64-bit SimHash fingerprint of a page. Pages that share most
// of their features have fingerprints that differ in few bits. It is
// written in JSON as 16 hex digits, since JSON numbers lose precision
// above 2^53.
type SimHash uint64

// MarshalText writes the fingerprint as 16 lower-case hex digits.
func (s SimHash) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%016x", uint64(s)), nil
}

// UnmarshalText reads 16 hex digits.
func (s *SimHash) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil {
		return fmt.Errorf("simhash %q: want 16 hex digits", b)
	}
	*s = SimHash(v)
	return nil
}

// Similarity returns 1 - hamming(s, o)/64: 1 for equal fingerprints,
// about 0.5 for unrelated pages, 0 for complementary ones.
func (s SimHash) Similarity(o SimHash) float64 {
	return 1 - float64(bits.OnesCount64(uint64(s^o)))/64
}

// simhasher accumulates weighted features into a SimHash. Each feature is
// a 64-bit hash; each of its bits votes +1 (set) or -1 (clear) on the
// matching counter; the fingerprint has a bit set where the vote is
// positive.
type simhasher struct {
	v [64]int32
	n int
}

func (s *simhasher) add(h uint64) {
	h = mix64(h)
	for i := range s.v {
		s.v[i] += int32(h>>i&1)*2 - 1
	}
	s.n++
}

func (s *simhasher) sum() SimHash {
	var out uint64
	for i, c := range s.v {
		if c > 0 {
			out |= 1 << i
		}
	}
	return SimHash(out)
}

// mix64 is the SplitMix64 finaliser: it spreads every input bit over the
// output, so that shingle hashes built by xor-and-multiply vote evenly.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// shingler hashes windows of k consecutive items (tags or words) into one
// feature each; salt keeps tag and word features apart.
type shingler struct {
	ring [4]uint64
	k, n int
	salt uint64
}

func (w *shingler) push(item uint64, out *simhasher) {
	w.ring[w.n%w.k] = item
	w.n++
	if w.n < w.k {
		return
	}
	h := w.salt
	for i := range w.k {
		h = (h ^ w.ring[(w.n+i)%w.k]) * fnvPrime
	}
	out.add(h)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// flush adds one feature for a sequence shorter than the window, so that
// tiny pages still have a fingerprint.
func (w *shingler) flush(out *simhasher) {
	if w.n == 0 || w.n >= w.k {
		return
	}
	h := w.salt
	for i := range w.n {
		h = (h ^ w.ring[i]) * fnvPrime
	}
	out.add(h)
}
