package dnsfeed

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"

	"github.com/miekg/dns"
)

// TSIG (RFC 8945). Requests are verified with miekg/dns's TsigVerify over
// keyring; responses are signed here over their packed bytes, so that a
// transfer's cached messages are signed without being packed again.

// fudge is the permitted clock difference in seconds (RFC 8945 advises 300).
const fudge = 300

// errBadAlg: the request names a known key with another algorithm.
var errBadAlg = errors.New("dnsfeed: TSIG algorithm does not match the key")

// keyring looks keys up by name for miekg/dns; it implements
// dns.TsigProvider, checking that the algorithm is the key's.
type keyring map[string]*key

var _ dns.TsigProvider = keyring(nil)

func (kr keyring) lookup(t *dns.TSIG) (*key, error) {
	k, ok := kr[dns.CanonicalName(t.Hdr.Name)]
	if !ok {
		return nil, dns.ErrSecret
	}
	if dns.CanonicalName(t.Algorithm) != k.alg {
		return nil, errBadAlg
	}
	return k, nil
}

// Generate computes the MAC of msg with t's key.
func (kr keyring) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	k, err := kr.lookup(t)
	if err != nil {
		return nil, err
	}
	return k.mac(msg), nil
}

// Verify checks t's MAC over msg. A truncated MAC fails.
func (kr keyring) Verify(msg []byte, t *dns.TSIG) error {
	k, err := kr.lookup(t)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(got, k.mac(msg)) {
		return dns.ErrSig
	}
	return nil
}

func (k *key) hash() func() hash.Hash {
	switch k.alg {
	case dns.HmacSHA512:
		return sha512.New
	case dns.HmacSHA1:
		return sha1.New
	}
	return sha256.New
}

func (k *key) mac(data ...[]byte) []byte {
	h := hmac.New(k.hash(), k.secret)
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

// tsigCode maps a verification error to a TSIG error code, or 0 when the
// message is malformed rather than badly signed.
func tsigCode(err error) uint16 {
	switch {
	case errors.Is(err, dns.ErrSecret), errors.Is(err, errBadAlg), errors.Is(err, dns.ErrKeyAlg):
		return dns.RcodeBadKey
	case errors.Is(err, dns.ErrSig):
		return dns.RcodeBadSig
	case errors.Is(err, dns.ErrTime):
		return dns.RcodeBadTime
	}
	return 0
}

// signer signs the messages of one response stream: the first with the
// request's MAC and all the TSIG variables, the next ones with the
// previous MAC and the timers only (RFC 8945 section 5.3.1).
type signer struct {
	key      *key
	prevMAC  []byte // the request's MAC, then each message's
	first    bool
	now      uint64 // Time Signed, seconds since 1970
	tsigErr  uint16
	other    []byte
	timeSent uint64 // Time Signed to use when the server's is not (BADTIME)
}

// sign appends a TSIG record to msg, a packed message whose ARCOUNT does
// not count it yet, and returns the result.
func (s *signer) sign(msg []byte) ([]byte, error) {
	if len(msg) < 12 {
		return nil, errors.New("dnsfeed: message too short to sign")
	}
	signed := s.now
	if s.timeSent != 0 {
		signed = s.timeSent
	}
	var vars []byte
	prev := make([]byte, 2, 2+len(s.prevMAC))
	binary.BigEndian.PutUint16(prev, uint16(len(s.prevMAC)))
	prev = append(prev, s.prevMAC...)
	if s.first {
		vars = make([]byte, 0, 2*255+16+len(s.other))
		vars = appendName(vars, s.key.name)
		vars = binary.BigEndian.AppendUint16(vars, dns.ClassANY)
		vars = binary.BigEndian.AppendUint32(vars, 0)
		vars = appendName(vars, s.key.alg)
		vars = appendUint48(vars, signed)
		vars = binary.BigEndian.AppendUint16(vars, fudge)
		vars = binary.BigEndian.AppendUint16(vars, s.tsigErr)
		vars = binary.BigEndian.AppendUint16(vars, uint16(len(s.other)))
		vars = append(vars, s.other...)
	} else {
		vars = appendUint48(make([]byte, 0, 8), signed)
		vars = binary.BigEndian.AppendUint16(vars, fudge)
	}
	var mac []byte
	if len(s.prevMAC) > 0 {
		mac = s.key.mac(prev, msg, vars)
	} else {
		mac = s.key.mac(msg, vars)
	}
	t := &dns.TSIG{
		Hdr:        dns.RR_Header{Name: s.key.name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm:  s.key.alg,
		TimeSigned: signed,
		Fudge:      fudge,
		MACSize:    uint16(len(mac)),
		MAC:        hex.EncodeToString(mac),
		OrigId:     binary.BigEndian.Uint16(msg),
		Error:      s.tsigErr,
		OtherLen:   uint16(len(s.other)),
		OtherData:  hex.EncodeToString(s.other),
	}
	out := make([]byte, len(msg)+dns.Len(t))
	copy(out, msg)
	end, err := dns.PackRR(t, out, len(msg), nil, false)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(out[10:], binary.BigEndian.Uint16(msg[10:])+1)
	s.prevMAC = mac
	s.first = false
	return out[:end], nil
}

// appendName appends a canonical domain name in uncompressed wire form.
func appendName(b []byte, name string) []byte {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.CanonicalName(name), buf, 0, nil, false)
	if err != nil {
		return b
	}
	return append(b, buf[:n]...)
}

func appendUint48(b []byte, v uint64) []byte {
	return append(b, byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
