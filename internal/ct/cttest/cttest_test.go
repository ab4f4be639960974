package cttest

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"testing"
)

// naive is RFC 6962's MTH, straight from its definition.
func naive(leaves [][32]byte) [32]byte {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := split(uint64(len(leaves)))
	return nodeHash(naive(leaves[:k]), naive(leaves[k:]))
}

func TestTreeAgreesWithDefinition(t *testing.T) {
	l := &Log{tree: make([][][32]byte, 1)}
	var hs [][32]byte
	for i := range 600 {
		h := leafHash([]byte{byte(i), byte(i >> 8)})
		hs = append(hs, h)
		l.appendHash(h)
		n := uint64(len(hs))
		if got, want := l.mth(0, n), naive(hs); got != want {
			t.Fatalf("size %d: root %x, want %x", n, got, want)
		}
		// The audit path of a leaf leads to the root.
		m := uint64(i * 7 % len(hs))
		if got := rootFromPath(m, n, hs[m], l.path(m, 0, n)); got != l.mth(0, n) {
			t.Fatalf("size %d leaf %d: path gives %x", n, m, got)
		}
	}
}

// rootFromPath recomputes a root from an audit path (RFC 9162 2.1.3.2).
func rootFromPath(m, n uint64, leaf [32]byte, path [][32]byte) [32]byte {
	fn, sn := m, n-1
	r := leaf
	for _, p := range path {
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn, sn = fn>>1, sn>>1
			}
		} else {
			r = nodeHash(r, p)
		}
		fn, sn = fn>>1, sn>>1
	}
	return r
}

func TestStaticTiles(t *testing.T) {
	l, err := New(Static)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.AddN(300, "com"); err != nil {
		t.Fatal(err)
	}
	l.Publish()
	for _, tc := range []struct {
		path string
		code int
	}{
		{"tile/data/000", 200},
		{"tile/data/001.p/44", 200},
		{"tile/data/001", 404},      // not full yet
		{"tile/data/001.p/43", 200}, // an earlier edge
		{"tile/data/001.p/45", 404}, // beyond the edge
		{"tile/0/000", 200},         // 256 leaf hashes
		{"tile/0/001.p/44", 200},    // the rest
		{"tile/1/000.p/1", 200},     // one level-8 hash
		{"tile/data/x001/000", 404}, // beyond the tree
		{"tile/data/0000", 404},     // malformed
		{"checkpoint", 200},
		{"grow", 0},
		{"tile/data/001.p/44", 404}, // deleted: the full tile exists
		{"tile/data/001", 200},
	} {
		if tc.path == "grow" {
			if err := l.AddN(300, "org"); err != nil {
				t.Fatal(err)
			}
			l.Publish()
			continue
		}
		resp, err := http.Get(l.URL() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.code)
		}
		if tc.path == "tile/0/001.p/44" && tc.code == 200 && len(b) != 44*32 {
			t.Errorf("%s: %d bytes, want %d", tc.path, len(b), 44*32)
		}
	}
}

func TestAddCert(t *testing.T) {
	l, err := New(Static)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	der, _, err := l.CA().Cert(7, []string{"made.example"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AddCert(der); err != nil {
		t.Fatal(err)
	}
	l.Publish()
	resp, err := http.Get(l.URL() + "tile/data/000.p/1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, der) || l.Size() != 1 {
		t.Errorf("the data tile does not carry the certificate (%d bytes, size %d)", len(b), l.Size())
	}
}
