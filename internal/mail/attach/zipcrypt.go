package attach

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// decrypt tries the empty password and the message's passwords on an
// encrypted zip member. It returns the decrypted (still compressed) bytes
// and the password that worked ("" for the empty one). Attempts are
// bounded per Analyze call by maxPasswordTries.
func (z *analyzer) decrypt(e *zipEntry, raw []byte) (plain []byte, password string, ok bool) {
	if e.flags&0x40 != 0 {
		return nil, "", false // PKWARE strong encryption: not supported
	}
	candidates := make([]string, 0, len(z.passwords)+1)
	candidates = append(candidates, "")
	for _, p := range z.passwords {
		if p != "" && len(p) <= 256 && !contains1(candidates, p) {
			candidates = append(candidates, p)
		}
	}
	for _, pw := range candidates {
		if z.tries >= maxPasswordTries || z.ctx.Err() != nil {
			return nil, "", false
		}
		z.tries++
		var out []byte
		if e.aes > 0 {
			out, ok = winzipAESDecrypt(raw, e.aes, []byte(pw))
		} else {
			check := byte(e.crc >> 24)
			if e.flags&8 != 0 {
				check = byte(e.modTime >> 8)
			}
			out, ok = zipCryptoDecrypt(raw, []byte(pw), check)
			ok = ok && plausible(e, out)
		}
		if ok {
			return out, pw, true
		}
	}
	return nil, "", false
}

// plausible tells a right ZipCrypto password from one of the 1 in 256
// wrong ones that pass the header check: the data must decompress and,
// when it is small enough to check cheaply, match its CRC-32.
func plausible(e *zipEntry, plain []byte) bool {
	const probe = 256 << 10
	unknownCRC := e.crc == 0 && e.flags&8 != 0
	switch e.method {
	case 0:
		return unknownCRC || crc32.ChecksumIEEE(plain) == e.crc
	case 8:
		fr := flate.NewReader(bytes.NewReader(plain))
		defer fr.Close()
		h := crc32.NewIEEE()
		n, err := io.Copy(h, io.LimitReader(fr, probe))
		if err != nil {
			return false
		}
		if n < probe && !unknownCRC {
			return h.Sum32() == e.crc
		}
		return true
	}
	return true
}

// zipCryptoKeys is the state of PKWARE's traditional encryption
// (APPNOTE 6.1): three 32-bit keys updated with every plaintext byte.
type zipCryptoKeys [3]uint32

func newZipCryptoKeys(password []byte) zipCryptoKeys {
	k := zipCryptoKeys{0x12345678, 0x23456789, 0x34567890}
	for _, c := range password {
		k.update(c)
	}
	return k
}

// crc32Byte advances a CRC-32 (IEEE, pre- and post-conditioning left to
// the caller, as APPNOTE's crc32(pval, char) is defined) by one byte.
func crc32Byte(crc uint32, b byte) uint32 {
	return crc32.IEEETable[byte(crc)^b] ^ crc>>8
}

func (k *zipCryptoKeys) update(c byte) {
	k[0] = crc32Byte(k[0], c)
	k[1] = (k[1]+k[0]&0xFF)*134775813 + 1
	k[2] = crc32Byte(k[2], byte(k[1]>>24))
}

// stream returns the next key-stream byte.
func (k *zipCryptoKeys) stream() byte {
	t := uint16(k[2] | 2)
	return byte((uint32(t) * uint32(t^1)) >> 8)
}

// zipCryptoDecrypt decrypts raw (the 12-byte encryption header and the
// data) with password. The last header byte must equal check (the high
// byte of the CRC, or of the modification time when sizes are in a data
// descriptor); one wrong password in 256 passes that test, so callers also
// check the CRC of the decompressed result.
func zipCryptoDecrypt(raw, password []byte, check byte) ([]byte, bool) {
	if len(raw) < 12 {
		return nil, false
	}
	k := newZipCryptoKeys(password)
	var hdr [12]byte
	for i := range hdr {
		c := raw[i] ^ k.stream()
		k.update(c)
		hdr[i] = c
	}
	if hdr[11] != check {
		return nil, false
	}
	out := make([]byte, len(raw)-12)
	for i, b := range raw[12:] {
		c := b ^ k.stream()
		k.update(c)
		out[i] = c
	}
	return out, true
}

// winzipAESDecrypt decrypts a WinZip AES (AE-1/AE-2) member: salt,
// 2-byte password verifier, AES-CTR data with a little-endian counter
// starting at 1, and a 10-byte HMAC-SHA1 of the encrypted data. Keys come
// from PBKDF2-HMAC-SHA1 with 1,000 iterations. It fails when the verifier
// or the authentication code does not match.
func winzipAESDecrypt(raw []byte, strength int, password []byte) ([]byte, bool) {
	var keyLen, saltLen int
	switch strength {
	case 1:
		keyLen, saltLen = 16, 8
	case 2:
		keyLen, saltLen = 24, 12
	case 3:
		keyLen, saltLen = 32, 16
	default:
		return nil, false
	}
	if len(raw) < saltLen+2+10 {
		return nil, false
	}
	salt := raw[:saltLen]
	verifier := raw[saltLen : saltLen+2]
	body := raw[saltLen+2 : len(raw)-10]
	auth := raw[len(raw)-10:]
	dk, err := pbkdf2.Key(sha1.New, string(password), salt, 1000, 2*keyLen+2)
	if err != nil {
		return nil, false
	}
	if subtle.ConstantTimeCompare(dk[2*keyLen:], verifier) != 1 {
		return nil, false
	}
	mac := hmac.New(sha1.New, dk[keyLen:2*keyLen])
	mac.Write(body)
	if subtle.ConstantTimeCompare(mac.Sum(nil)[:10], auth) != 1 {
		return nil, false
	}
	block, err := aes.NewCipher(dk[:keyLen])
	if err != nil {
		return nil, false
	}
	out := make([]byte, len(body))
	var ctr, ks [16]byte
	for i := 0; i < len(body); i += 16 {
		binary.LittleEndian.PutUint64(ctr[:8], uint64(i/16+1))
		block.Encrypt(ks[:], ctr[:])
		for j := i; j < min(i+16, len(body)); j++ {
			out[j] = body[j] ^ ks[j-i]
		}
	}
	return out, true
}
