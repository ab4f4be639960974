package ct

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
)

// The Merkle tree of RFC 6962 §2.1 (RFC 9162 §2.1): leaves are hashed with
// a 0x00 prefix, interior nodes with 0x01.

// ErrInconsistent reports a log whose entries or proofs do not hash to the
// tree heads it signed: a forked, rewritten or broken log.
var ErrInconsistent = errors.New("log is inconsistent with its signed tree head")

// emptyRoot is the hash of the empty tree.
var emptyRoot = sha256.Sum256(nil)

func leafHash(leaf []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(leaf)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func nodeHash(l, r [32]byte) [32]byte {
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

// compactRange holds the roots of the perfect subtrees that cover the
// leaves [0, size), largest first: one per set bit of size. It is all a
// follower needs to keep to check that the next entries, appended to what
// it has seen, hash to the log's next signed root.
type compactRange struct {
	size   uint64
	hashes [][32]byte
}

// append adds the next leaf's hash.
func (c *compactRange) append(h [32]byte) {
	for s := c.size; s&1 == 1; s >>= 1 {
		h = nodeHash(c.hashes[len(c.hashes)-1], h)
		c.hashes = c.hashes[:len(c.hashes)-1]
	}
	c.hashes = append(c.hashes, h)
	c.size++
}

// root returns the Merkle tree hash of the leaves [0, size).
func (c *compactRange) root() [32]byte {
	if len(c.hashes) == 0 {
		return emptyRoot
	}
	r := c.hashes[len(c.hashes)-1]
	for i := len(c.hashes) - 2; i >= 0; i-- {
		r = nodeHash(c.hashes[i], r)
	}
	return r
}

func (c *compactRange) clone() compactRange {
	return compactRange{size: c.size, hashes: append([][32]byte(nil), c.hashes...)}
}

func (c *compactRange) valid() bool {
	return len(c.hashes) == bits.OnesCount64(c.size)
}

// verifyInclusion checks an RFC 9162 §2.1.3.2 inclusion proof of the leaf
// hash at index in the tree of the given size and root, and returns the
// compact range of the leaves [0, index): the proof's left siblings are
// exactly those subtrees.
func verifyInclusion(index, size uint64, leaf [32]byte, proof [][32]byte, root [32]byte) (compactRange, error) {
	if index >= size {
		return compactRange{}, fmt.Errorf("%w: inclusion proof for index %d in a tree of %d", ErrInconsistent, index, size)
	}
	fn, sn := index, size-1
	r := leaf
	var left [][32]byte
	for _, p := range proof {
		if sn == 0 {
			return compactRange{}, fmt.Errorf("%w: inclusion proof for index %d in tree %d is too long", ErrInconsistent, index, size)
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			left = append(left, p)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 || r != root {
		return compactRange{}, fmt.Errorf("%w: inclusion proof for index %d does not lead to the root of tree %d", ErrInconsistent, index, size)
	}
	c := compactRange{size: index}
	for i := len(left) - 1; i >= 0; i-- {
		c.hashes = append(c.hashes, left[i])
	}
	if !c.valid() {
		return compactRange{}, fmt.Errorf("%w: inclusion proof for index %d has %d left siblings", ErrInconsistent, index, len(left))
	}
	return c, nil
}

// perfectHash returns the hash of the perfect subtree of the given height
// and index: the leaves [index<<height, (index+1)<<height).
type perfectHash func(height uint8, index uint64) ([32]byte, error)

// rangeHash returns MTH(D[a:b]) for a range that RFC 6962's recursion
// produces: a is a multiple of the largest power of two below b-a.
func rangeHash(a, b uint64, perfect perfectHash) ([32]byte, error) {
	n := b - a
	if n&(n-1) == 0 {
		h := uint8(bits.TrailingZeros64(n))
		return perfect(h, a>>h)
	}
	k := uint64(1) << (63 - bits.LeadingZeros64(n-1))
	l, err := rangeHash(a, a+k, perfect)
	if err != nil {
		return l, err
	}
	r, err := rangeHash(a+k, b, perfect)
	if err != nil {
		return r, err
	}
	return nodeHash(l, r), nil
}

// inclusionPath builds the RFC 6962 §2.1.1 audit path of leaf m in the tree
// of size n from subtree hashes.
func inclusionPath(m, n uint64, perfect perfectHash) ([][32]byte, error) {
	var path [][32]byte
	var walk func(m, a, b uint64) error
	walk = func(m, a, b uint64) error {
		if b-a <= 1 {
			return nil
		}
		k := uint64(1) << (63 - bits.LeadingZeros64(b-a-1))
		if m < k {
			if err := walk(m, a, a+k); err != nil {
				return err
			}
			h, err := rangeHash(a+k, b, perfect)
			path = append(path, h)
			return err
		}
		if err := walk(m-k, a+k, b); err != nil {
			return err
		}
		h, err := rangeHash(a, a+k, perfect)
		path = append(path, h)
		return err
	}
	return path, walk(m, 0, n)
}

// compactFrom builds the compact range of [0, size) from subtree hashes.
func compactFrom(size uint64, perfect perfectHash) (compactRange, error) {
	c := compactRange{size: size}
	start := uint64(0)
	for h := 63; h >= 0; h-- {
		if size&(1<<h) == 0 {
			continue
		}
		x, err := perfect(uint8(h), start>>h)
		if err != nil {
			return compactRange{}, err
		}
		c.hashes = append(c.hashes, x)
		start += 1 << h
	}
	return c, nil
}
