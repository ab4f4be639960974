package lookalike

import "math/bits"

// strTable is a read-only string-keyed hash table for the hot path. It is
// built once and then only read, so it can be simpler and faster than a
// Go map: a bloom filter small enough to stay in the first-level cache
// answers most lookups (names mostly hold strings that are not brand
// tokens, lexicon words or public suffixes) without touching the slots,
// and the slots are probed linearly at a load factor of at most one half.
type strTable[V any] struct {
	slots     []strSlot[V]
	shift     uint // slot index: the top bits of the mixed hash
	bloom     []uint64
	bloomMask uint64
	n         int
}

type strSlot[V any] struct {
	h   uint64 // 0: empty; hashes are forced odd
	key string
	val V
}

// tableHash hashes a key eight bytes at a time with multiply-xorshift
// rounds; keys are short (labels, public suffixes), where this beats the
// runtime's hash behind its call overhead. Keys are attacker-chosen, but
// the table is read-only and sized by the brand set, so a collision can
// only lengthen a probe, never change a result. The result is odd: zero
// marks an empty slot.
func tableHash[T string | []byte](s T) uint64 {
	const m = 0x9e3779b97f4a7c15
	n := len(s)
	h := uint64(n) * m
	var w uint64
	switch {
	case n > 8:
		for i := 0; i+8 < n; i += 8 {
			h = (h ^ le64(s[i:])) * m
			h ^= h >> 29
		}
		w = le64(s[n-8:]) // overlaps the last full block; n is in h
	case n >= 4:
		w = le32(s) | le32(s[n-4:])<<32
	case n > 0:
		w = uint64(s[0])<<16 | uint64(s[n/2])<<8 | uint64(s[n-1])
	}
	h = (h ^ w) * m
	h ^= h >> 32
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 31
	return h | 1
}

func le64[T string | []byte](s T) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32[T string | []byte](s T) uint64 {
	_ = s[3]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

// newStrTable builds a table holding m.
func newStrTable[V any](m map[string]V) *strTable[V] {
	size := 16
	for size < 2*len(m) {
		size *= 2
	}
	bloomBits := 1 << 15
	for bloomBits < 16*len(m) {
		bloomBits *= 2
	}
	t := &strTable[V]{
		slots:     make([]strSlot[V], size),
		shift:     uint(64 - bits.TrailingZeros(uint(size))),
		bloom:     make([]uint64, bloomBits/64),
		bloomMask: uint64(bloomBits - 1),
		n:         len(m),
	}
	for k, v := range m {
		h := tableHash(k)
		b := h & t.bloomMask
		t.bloom[b/64] |= 1 << (b % 64)
		i := h >> t.shift
		for t.slots[i].h != 0 {
			i = (i + 1) & uint64(size-1)
		}
		t.slots[i] = strSlot[V]{h: h, key: k, val: v}
	}
	return t
}

// get returns the value stored under s.
func (t *strTable[V]) get(s string) (v V, ok bool) {
	h := tableHash(s)
	if b := h & t.bloomMask; t.bloom[b/64]&(1<<(b%64)) == 0 {
		return v, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := h >> t.shift; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.h == h && sl.key == s {
			return sl.val, true
		}
		if sl.h == 0 {
			return v, false
		}
	}
}

// getBytes is get for a key in a byte slice, without converting it.
func (t *strTable[V]) getBytes(b []byte) (v V, ok bool) {
	h := tableHash(b)
	if bi := h & t.bloomMask; t.bloom[bi/64]&(1<<(bi%64)) == 0 {
		return v, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := h >> t.shift; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.h == h && sl.key == string(b) {
			return sl.val, true
		}
		if sl.h == 0 {
			return v, false
		}
	}
}

// len returns the number of keys.
func (t *strTable[V]) len() int { return t.n }
