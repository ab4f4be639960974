package lookalike

// delIndex is the deletion-neighbourhood index: for every typo-able token,
// the token itself and each string left by deleting one of its bytes. A
// candidate c is within one edit (or one adjacent swap) of a token when c
// or c minus one byte is a key. Keys are stored as 64-bit polynomial hashes
// in an open-addressing table, so that a lookup of all len(c)+1 keys costs
// len(c)+1 probes and no allocation; entries are verified against the
// token text, so a hash collision cannot produce a false match.
type delIndex struct {
	slots   []delSlot
	mask    uint64
	entries []delEntry
	// bloom has one bit per hash (low bits) for a quick "not here" that
	// stays in cache: most probes are for strings that are not keys.
	bloom     []uint64
	bloomMask uint64
}

type delSlot struct {
	h        uint64
	start, n uint32 // entries[start:start+n]; n == 0 marks an empty slot
}

const hashP = 0x100000001b3

var hashPow = func() (p [65]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * hashP
	}
	return p
}()

func hashString(s string) uint64 {
	var h uint64
	for i := 0; i < len(s); i++ {
		h = h*hashP + uint64(s[i]) + 1
	}
	return h
}

// newDelIndex builds the index over the given token texts; token i is
// reported as delEntry{tok: ids[i]}.
func newDelIndex(texts []string, ids []int32) *delIndex {
	byHash := map[uint64][]delEntry{}
	var order []uint64
	add := func(h uint64, e delEntry) {
		if _, ok := byHash[h]; !ok {
			order = append(order, h)
		}
		byHash[h] = append(byHash[h], e)
	}
	for i, t := range texts {
		if len(t) > 64 {
			continue
		}
		add(hashString(t), delEntry{ids[i], -1})
		for p := 0; p < len(t); p++ {
			add(hashString(t[:p]+t[p+1:]), delEntry{ids[i], int16(p)})
		}
	}
	size := 16
	for size < 2*len(order) {
		size *= 2
	}
	d := &delIndex{slots: make([]delSlot, size), mask: uint64(size - 1)}
	bits := 1 << 16
	for bits < 16*len(order) {
		bits *= 2
	}
	d.bloom = make([]uint64, bits/64)
	d.bloomMask = uint64(bits - 1)
	for _, h := range order {
		b := (h >> 20) & d.bloomMask
		d.bloom[b/64] |= 1 << (b % 64)
	}
	for _, h := range order {
		es := byHash[h]
		i := h & d.mask
		for d.slots[i].n != 0 {
			i = (i + 1) & d.mask
		}
		d.slots[i] = delSlot{h: h, start: uint32(len(d.entries)), n: uint32(len(es))}
		d.entries = append(d.entries, es...)
	}
	return d
}

func (d *delIndex) get(h uint64) []delEntry {
	if b := (h >> 20) & d.bloomMask; d.bloom[b/64]&(1<<(b%64)) == 0 {
		return nil
	}
	i := h & d.mask
	for {
		s := &d.slots[i]
		if s.n == 0 {
			return nil
		}
		if s.h == h {
			return d.entries[s.start : s.start+s.n]
		}
		i = (i + 1) & d.mask
	}
}

// minusEqual reports whether a without its byte at i (none if i < 0)
// equals b without its byte at j (none if j < 0).
func minusEqual(a string, i int, b string, j int) bool {
	la, lb := len(a), len(b)
	if i >= 0 {
		la--
	}
	if j >= 0 {
		lb--
	}
	if la != lb {
		return false
	}
	x, y := 0, 0
	for x < len(a) && y < len(b) {
		if x == i {
			x++
			continue
		}
		if y == j {
			y++
			continue
		}
		if a[x] != b[y] {
			return false
		}
		x++
		y++
	}
	return true
}
