package ct

import (
	"errors"
	"fmt"
	"math/bits"
	"testing"
)

// mth is RFC 6962's Merkle tree hash, written as the RFC defines it.
func mth(leaves [][32]byte) [32]byte {
	switch n := len(leaves); n {
	case 0:
		return emptyRoot
	case 1:
		return leaves[0]
	default:
		k := 1 << (bits.Len(uint(n-1)) - 1)
		return nodeHash(mth(leaves[:k]), mth(leaves[k:]))
	}
}

func testLeaves(n int) [][32]byte {
	out := make([][32]byte, n)
	for i := range out {
		out[i] = leafHash(fmt.Appendf(nil, "leaf %d", i))
	}
	return out
}

// perfectOf answers subtree hashes from the leaves, as tiles would.
func perfectOf(leaves [][32]byte) perfectHash {
	return func(h uint8, i uint64) ([32]byte, error) {
		a, b := i<<h, (i+1)<<h
		if b > uint64(len(leaves)) {
			return [32]byte{}, fmt.Errorf("subtree %d/%d beyond %d leaves", h, i, len(leaves))
		}
		return mth(leaves[a:b]), nil
	}
}

func TestCompactRange(t *testing.T) {
	leaves := testLeaves(600)
	var c compactRange
	if c.root() != emptyRoot {
		t.Fatal("empty range: wrong root")
	}
	for i, l := range leaves {
		c.append(l)
		if want := mth(leaves[:i+1]); c.root() != want {
			t.Fatalf("size %d: root %x, want %x", i+1, c.root(), want)
		}
		if !c.valid() {
			t.Fatalf("size %d: %d hashes", i+1, len(c.hashes))
		}
		built, err := compactFrom(uint64(i+1), perfectOf(leaves))
		if err != nil || built.root() != c.root() {
			t.Fatalf("size %d: compactFrom = %x, %v", i+1, built.root(), err)
		}
	}
}

func TestInclusion(t *testing.T) {
	leaves := testLeaves(70)
	for n := 1; n <= len(leaves); n++ {
		root := mth(leaves[:n])
		for m := 0; m < n; m++ {
			path, err := inclusionPath(uint64(m), uint64(n), perfectOf(leaves))
			if err != nil {
				t.Fatal(err)
			}
			c, err := verifyInclusion(uint64(m), uint64(n), leaves[m], path, root)
			if err != nil {
				t.Fatalf("leaf %d of %d: %v", m, n, err)
			}
			if want := mth(leaves[:m]); c.root() != want || c.size != uint64(m) {
				t.Fatalf("leaf %d of %d: left siblings give root %x, want %x", m, n, c.root(), want)
			}
			// Any change is caught.
			if _, err := verifyInclusion(uint64(m), uint64(n), leaves[(m+1)%n], path, root); n > 1 && !errors.Is(err, ErrInconsistent) {
				t.Fatalf("leaf %d of %d: wrong leaf accepted", m, n)
			}
			if len(path) > 0 {
				bad := append([][32]byte(nil), path...)
				bad[len(bad)/2][3] ^= 1
				if _, err := verifyInclusion(uint64(m), uint64(n), leaves[m], bad, root); !errors.Is(err, ErrInconsistent) {
					t.Fatalf("leaf %d of %d: tampered path accepted", m, n)
				}
				if _, err := verifyInclusion(uint64(m), uint64(n), leaves[m], path[:len(path)-1], root); !errors.Is(err, ErrInconsistent) {
					t.Fatalf("leaf %d of %d: short path accepted", m, n)
				}
			}
		}
	}
	if _, err := verifyInclusion(5, 5, leaves[0], nil, emptyRoot); !errors.Is(err, ErrInconsistent) {
		t.Error("index beyond the tree accepted")
	}
}
