package probe

import (
	"encoding/base64"
	"encoding/binary"
	"math/bits"
)

// murmur3x86_32 is MurmurHash3's x86 32-bit variant (Austin Appleby's
// public-domain design): 4-byte little-endian blocks mixed into the state,
// a tail of up to 3 bytes, then the length and a final avalanche.
func murmur3x86_32(data []byte, seed uint32) uint32 {
	const (
		c1 = 0xcc9e2d51
		c2 = 0x1b873593
	)
	h := seed
	n := len(data)
	i := 0
	for ; i+4 <= n; i += 4 {
		k := binary.LittleEndian.Uint32(data[i:])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	var k uint32
	switch n - i {
	case 3:
		k ^= uint32(data[i+2]) << 16
		fallthrough
	case 2:
		k ^= uint32(data[i+1]) << 8
		fallthrough
	case 1:
		k ^= uint32(data[i])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
	}
	h ^= uint32(n)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// FaviconHash returns the favicon hash Shodan indexes as
// http.favicon.hash: MurmurHash3 x86 32-bit (seed 0), as a signed
// integer, of the icon's bytes in base64 with a line break after every 76
// characters and at the end (the MIME layout Python's base64.encodebytes
// writes).
func FaviconHash(icon []byte) int32 {
	enc := base64.StdEncoding.EncodeToString(icon)
	buf := make([]byte, 0, len(enc)+len(enc)/76+1)
	for len(enc) > 76 {
		buf = append(buf, enc[:76]...)
		buf = append(buf, '\n')
		enc = enc[76:]
	}
	if len(enc) > 0 {
		buf = append(buf, enc...)
		buf = append(buf, '\n')
	}
	return int32(murmur3x86_32(buf, 0))
}
