package ct

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a minimal, tolerant DER reader for X.509 certificates: just
// enough to pull out the names, the issuer, the validity and the TBSKey of a
// certificate. crypto/x509 is not used because it rejects many certificates
// that real CAs issued and that CT logs hold (negative serials, bad strings,
// non-minimal lengths, odd times).
//
// The reader fails only when the outer structure cannot be read: the
// certificate and the TBSCertificate must be SEQUENCEs whose elements can
// all be delimited, and the TBSCertificate must have its six required
// fields. Everything inside a field is best effort: a field it cannot
// understand is left empty.

// CertInfo is what ward reads from a certificate.
type CertInfo struct {
	// Names are the DNS names: dNSName SANs, then the subject CNs that
	// look like DNS names, normalised as described on Entry.Names.
	Names []string
	// Issuer is the issuer DN as an RFC 4514 string, at most MaxIssuerLen
	// bytes; empty if the issuer cannot be read.
	Issuer string
	// NotBefore and NotAfter are the validity bounds in UTC; zero when
	// the time is missing or in a form that cannot be read.
	NotBefore, NotAfter time.Time
}

// MaxIssuerLen is the longest Issuer string, in bytes. Longer DNs are cut
// between two characters, never inside an escape.
const MaxIssuerLen = 1024

// ParseCertificateNames reads a DER certificate, or a DER TBSCertificate
// when tbsOnly is true, and returns its names, issuer and validity together
// with the TBSCertificate bytes (a sub-slice of der). The error wraps
// ErrMalformed.
func ParseCertificateNames(der []byte, tbsOnly bool) (CertInfo, []byte, error) {
	info, tbs, _, err := decodeCert(der, tbsOnly, false)
	if err != nil {
		return CertInfo{}, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return info, tbs, nil
}

// DER tags used below.
const (
	tagBoolean         = 0x01
	tagOctetString     = 0x04
	tagOID             = 0x06
	tagUTF8String      = 0x0c
	tagNumericString   = 0x12
	tagPrintableString = 0x13
	tagT61String       = 0x14
	tagIA5String       = 0x16
	tagUTCTime         = 0x17
	tagGeneralizedTime = 0x18
	tagVisibleString   = 0x1a
	tagUniversalString = 0x1c
	tagBMPString       = 0x1e
	tagSequence        = 0x30
	tagSet             = 0x31
	tagVersion         = 0xa0 // [0] EXPLICIT in TBSCertificate
	tagExtensions      = 0xa3 // [3] EXPLICIT in TBSCertificate
	tagDNSName         = 0x82 // [2] IMPLICIT IA5String in GeneralName
)

// Object identifiers, as the bytes of the OID's content.
var (
	oidSubjectAltName = []byte{0x55, 0x1d, 0x11}                                           // 2.5.29.17
	oidCTPoison       = []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03} // 1.3.6.1.4.1.11129.2.4.3
	oidCTSCTList      = []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02} // 1.3.6.1.4.1.11129.2.4.2
	oidCommonName     = []byte{0x55, 0x04, 0x03}                                           // 2.5.4.3
)

// attributeTypes are the RFC 4514 short names (plus SERIALNUMBER and
// POSTALCODE, as crypto/x509/pkix writes them); other types are written as
// dotted OIDs with a #hex value.
var attributeTypes = []struct {
	oid  string
	name string
}{
	{"\x55\x04\x03", "CN"},
	{"\x55\x04\x0a", "O"},
	{"\x55\x04\x0b", "OU"},
	{"\x55\x04\x06", "C"},
	{"\x55\x04\x07", "L"},
	{"\x55\x04\x08", "ST"},
	{"\x55\x04\x09", "STREET"},
	{"\x55\x04\x05", "SERIALNUMBER"},
	{"\x55\x04\x11", "POSTALCODE"},
	{"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", "DC"},
	{"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01", "UID"},
}

// Bounds on what one certificate may make the reader do.
const (
	maxRDNs = 64 // RDNs of the issuer written into Issuer (the last ones, which come first)
)

var (
	errTruncated  = errors.New("truncated")
	errIndefinite = errors.New("indefinite length")
	errLongLength = errors.New("length of more than 4 bytes")
)

// derRead splits the first TLV off b: its first tag byte, its contents and
// what follows it. High tag numbers (0x1f) are read and skipped; the
// returned tag is then the first byte. Long-form lengths of up to 4 bytes
// are read, non-minimal ones included; indefinite lengths are refused.
func derRead(b []byte) (tag byte, body, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errTruncated
	}
	tag = b[0]
	i := 1
	if tag&0x1f == 0x1f {
		// High tag number: base-128 digits, the last without bit 8.
		for n := 0; ; n++ {
			if i >= len(b) || n == 4 {
				return 0, nil, nil, errTruncated
			}
			c := b[i]
			i++
			if c&0x80 == 0 {
				break
			}
		}
		if i >= len(b) {
			return 0, nil, nil, errTruncated
		}
	}
	n := int(b[i])
	i++
	if n&0x80 != 0 {
		k := n & 0x7f
		switch {
		case k == 0:
			return 0, nil, nil, errIndefinite
		case k > 4:
			return 0, nil, nil, errLongLength
		case i+k > len(b):
			return 0, nil, nil, errTruncated
		}
		var l uint64
		for _, c := range b[i : i+k] {
			l = l<<8 | uint64(c)
		}
		i += k
		if l > uint64(len(b)-i) {
			return 0, nil, nil, fmt.Errorf("length %d exceeds the rest (%d bytes)", l, len(b)-i)
		}
		n = int(l)
	}
	if n > len(b)-i {
		return 0, nil, nil, fmt.Errorf("length %d exceeds the rest (%d bytes)", n, len(b)-i)
	}
	return tag, b[i : i+n], b[i+n:], nil
}

// appendDERHeader appends a minimal DER tag and length.
func appendDERHeader(dst []byte, tag byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, tag, byte(n))
	case n <= 0xff:
		return append(dst, tag, 0x81, byte(n))
	case n <= 0xffff:
		return append(dst, tag, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		return append(dst, tag, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(dst, tag, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// derHeaderLen is the length of a minimal DER header for n content bytes.
func derHeaderLen(n int) int {
	switch {
	case n < 0x80:
		return 2
	case n <= 0xff:
		return 3
	case n <= 0xffff:
		return 4
	case n <= 0xffffff:
		return 5
	default:
		return 6
	}
}

// certFields are the parts of a TBSCertificate the reader looks at. Slices
// point into the input.
type certFields struct {
	tbs      []byte // the whole TBSCertificate TLV
	tbsBody  []byte // its contents
	issuer   []byte // contents of the issuer Name SEQUENCE, nil if not a SEQUENCE
	validity []byte // contents of the Validity SEQUENCE, nil if not a SEQUENCE
	subject  []byte // contents of the subject Name SEQUENCE, nil if not a SEQUENCE
	// The [3] extensions element spans tbsBody[extStart:extEnd] (both 0 when
	// absent); exts is the contents of the SEQUENCE inside it, nil when
	// that SEQUENCE cannot be read.
	extStart, extEnd int
	exts             []byte
}

// splitCert delimits the TBSCertificate of a certificate (or takes der as
// the TBSCertificate) and its fields.
func splitCert(der []byte, tbsOnly bool) (certFields, error) {
	var f certFields
	tbs := der
	if !tbsOnly {
		tag, body, _, err := derRead(der)
		if err != nil {
			return f, fmt.Errorf("certificate: %v", err)
		}
		if tag != tagSequence {
			return f, fmt.Errorf("certificate: tag %#02x, want SEQUENCE", tag)
		}
		tbs = body
	}
	tag, body, rest, err := derRead(tbs)
	if err != nil {
		return f, fmt.Errorf("TBSCertificate: %v", err)
	}
	if tag != tagSequence {
		return f, fmt.Errorf("TBSCertificate: tag %#02x, want SEQUENCE", tag)
	}
	f.tbs = tbs[:len(tbs)-len(rest)]
	f.tbsBody = body

	// version, serialNumber, signature, issuer, validity, subject,
	// subjectPublicKeyInfo, then optional [1], [2], [3].
	field := 0
	for b := body; len(b) > 0; {
		tag, fb, rest, err := derRead(b)
		if err != nil {
			return f, fmt.Errorf("TBSCertificate field %d: %v", field, err)
		}
		start := len(body) - len(b)
		b = rest
		if field == 0 && tag == tagVersion {
			continue
		}
		switch field {
		case 2:
			if tag == tagSequence {
				f.issuer = fb
			}
		case 3:
			if tag == tagSequence {
				f.validity = fb
			}
		case 4:
			if tag == tagSequence {
				f.subject = fb
			}
		}
		if field >= 6 && tag == tagExtensions && f.extEnd == 0 {
			f.extStart, f.extEnd = start, len(body)-len(b)
			if t, eb, _, err := derRead(fb); err == nil && t == tagSequence {
				f.exts = eb // never nil, even when empty
			}
		}
		field++
	}
	if field < 6 {
		return f, fmt.Errorf("TBSCertificate has %d fields, want at least 6", field)
	}
	return f, nil
}

// decodeCert reads a certificate (or TBSCertificate) and builds its
// CertInfo, its TBS bytes and, if wantKey, its TBSKey. All strings of the
// CertInfo share one allocation.
func decodeCert(der []byte, tbsOnly, wantKey bool) (info CertInfo, tbs []byte, key [32]byte, err error) {
	f, err := splitCert(der, tbsOnly)
	if err != nil {
		return info, nil, key, err
	}
	if f.validity != nil {
		info.NotBefore, info.NotAfter = parseValidity(f.validity)
	}

	var arenaBuf [768]byte
	var spanBuf [32]span
	var scratchBuf [256]byte
	ns := nameSet{arena: arenaBuf[:0], spans: spanBuf[:0]}

	if f.exts != nil {
		ns = ns.addSANs(f.exts)
	}
	if f.subject != nil {
		ns = ns.addCNs(f.subject, scratchBuf[:0])
	}
	issuerStart := len(ns.arena)
	if f.issuer != nil {
		ns.arena = appendIssuer(ns.arena, f.issuer, scratchBuf[:0])
	}

	if len(ns.arena) > 0 {
		s := string(ns.arena)
		if len(ns.spans) > 0 {
			info.Names = make([]string, len(ns.spans))
			for i, sp := range ns.spans {
				info.Names[i] = s[sp.start:sp.end]
			}
		}
		info.Issuer = s[issuerStart:]
	}
	if wantKey {
		key = tbsKey(&f)
	}
	return info, f.tbs, key, nil
}

// tbsKey hashes the TBSCertificate with the CT poison and SCT list
// extensions removed, the [3] element dropped if no extension is left, and
// the headers it rebuilds in minimal DER.
func tbsKey(f *certFields) [32]byte {
	pre := f.tbsBody[:f.extStart]
	post := f.tbsBody[f.extEnd:]
	var keep int // bytes of the extensions kept
	var dropped bool
	if f.exts != nil {
		for b := f.exts; len(b) > 0; {
			_, _, rest, err := derRead(b)
			if err != nil {
				// Cannot delimit the extensions: keep them all.
				keep, dropped = len(f.exts), false
				break
			}
			if isCTExtension(b[:len(b)-len(rest)]) {
				dropped = true
			} else {
				keep += len(b) - len(rest)
			}
			b = rest
		}
	}

	var stack [4096]byte
	var buf []byte
	if f.extEnd == 0 || f.exts == nil {
		// No extensions, or unreadable ones: only the outer header is
		// rebuilt.
		buf = appendDERHeader(stack[:0], tagSequence, len(f.tbsBody))
		buf = append(buf, f.tbsBody...)
		return sha256.Sum256(buf)
	}
	extBlock := 0
	seqLen := derHeaderLen(keep) + keep
	if keep > 0 {
		extBlock = derHeaderLen(seqLen) + seqLen
	}
	content := len(pre) + extBlock + len(post)
	buf = appendDERHeader(stack[:0], tagSequence, content)
	buf = append(buf, pre...)
	if keep > 0 {
		buf = appendDERHeader(buf, tagExtensions, seqLen)
		buf = appendDERHeader(buf, tagSequence, keep)
		if !dropped {
			buf = append(buf, f.exts...)
		} else {
			for b := f.exts; len(b) > 0; {
				_, _, rest, _ := derRead(b) // delimited above
				if ext := b[:len(b)-len(rest)]; !isCTExtension(ext) {
					buf = append(buf, ext...)
				}
				b = rest
			}
		}
	}
	buf = append(buf, post...)
	return sha256.Sum256(buf)
}

// isCTExtension reports whether the Extension TLV ext is the CT poison or
// the SCT list.
func isCTExtension(ext []byte) bool {
	tag, body, _, err := derRead(ext)
	if err != nil || tag != tagSequence {
		return false
	}
	tag, oid, _, err := derRead(body)
	if err != nil || tag != tagOID {
		return false
	}
	return string(oid) == string(oidCTPoison) || string(oid) == string(oidCTSCTList)
}

// span is a name's place in a nameSet's arena.
type span struct{ start, end int }

// nameSet collects normalised, de-duplicated names into one byte arena.
type nameSet struct {
	arena []byte
	spans []span
	seen  map[string]struct{} // built once there are too many names for a linear scan
}

// seenLinearMax is the number of names up to which duplicates are found by
// comparing with every earlier name.
const seenLinearMax = 32

// add normalises raw (see appendName), and keeps it unless it was seen
// before. It reports false once MaxNames names are held.
//
// nameSet is passed by value and returned, rather than by pointer, so that
// escape analysis can keep the caller's arena on the stack.
func (ns nameSet) add(raw []byte, cn bool) (nameSet, bool) {
	if len(ns.spans) >= MaxNames {
		return ns, false
	}
	start := len(ns.arena)
	var ok bool
	ns.arena, ok = appendName(ns.arena, raw, cn)
	if !ok {
		return ns, true
	}
	name := ns.arena[start:]
	if ns.seen != nil {
		if _, dup := ns.seen[string(name)]; dup {
			ns.arena = ns.arena[:start]
			return ns, true
		}
		ns.seen[string(name)] = struct{}{}
	} else {
		for _, sp := range ns.spans {
			if string(ns.arena[sp.start:sp.end]) == string(name) {
				ns.arena = ns.arena[:start]
				return ns, true
			}
		}
		if len(ns.spans) == seenLinearMax {
			ns.seen = make(map[string]struct{}, 2*seenLinearMax)
			for _, sp := range ns.spans {
				ns.seen[string(ns.arena[sp.start:sp.end])] = struct{}{}
			}
			ns.seen[string(name)] = struct{}{}
		}
	}
	ns.spans = append(ns.spans, span{start, len(ns.arena)})
	return ns, len(ns.spans) < MaxNames
}

// addSANs adds the dNSNames of every subjectAltName extension in exts, the
// contents of the Extensions SEQUENCE.
func (ns nameSet) addSANs(exts []byte) nameSet {
	for b := exts; len(b) > 0; {
		_, ext, rest, err := derRead(b)
		if err != nil {
			return ns
		}
		b = rest
		tag, oid, ext, err := derRead(ext)
		if err != nil || tag != tagOID || string(oid) != string(oidSubjectAltName) {
			continue
		}
		tag, val, ext, err := derRead(ext)
		if err == nil && tag == tagBoolean { // critical
			tag, val, _, err = derRead(ext)
		}
		if err != nil || tag != tagOctetString {
			continue
		}
		tag, gns, _, err := derRead(val)
		if err != nil || tag != tagSequence {
			continue
		}
		for len(gns) > 0 {
			tag, gn, rest, err := derRead(gns)
			if err != nil {
				break
			}
			gns = rest
			if tag == tagDNSName {
				var more bool
				if ns, more = ns.add(gn, false); !more {
					return ns
				}
			}
		}
	}
	return ns
}

// addCNs adds the subject common names that look like DNS names. scratch is
// a buffer for decoding the strings.
func (ns nameSet) addCNs(subject, scratch []byte) nameSet {
	for b := subject; len(b) > 0; {
		_, rdn, rest, err := derRead(b)
		if err != nil {
			return ns
		}
		b = rest
		for len(rdn) > 0 {
			_, atv, rest, err := derRead(rdn)
			if err != nil {
				break
			}
			rdn = rest
			tag, oid, atv, err := derRead(atv)
			if err != nil || tag != tagOID || string(oid) != string(oidCommonName) {
				continue
			}
			tag, val, _, err := derRead(atv)
			if err != nil {
				continue
			}
			s, ok := appendString(scratch[:0], tag, val)
			if ok {
				var more bool
				if ns, more = ns.add(s, true); !more {
					return ns
				}
			}
		}
	}
	return ns
}

// appendName appends the normalised form of a DNS name to dst: invalid
// UTF-8 replaced by U+FFFD, lower-cased, trailing dots dropped. It reports
// false, leaving dst as it was, for a name that is empty or holds a space or
// a control character. For a subject CN (cn true) it also requires a DNS
// name shape: letters, digits, marks, '-', '_', '*' and at least one '.',
// and not digits and dots only (an IPv4 address).
func appendName(dst, raw []byte, cn bool) ([]byte, bool) {
	start := len(dst)
	for i := 0; i < len(raw); {
		c := raw[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c <= ' ' || c == 0x7f:
				return dst[:start], false
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case cn && !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '*'):
				return dst[:start], false
			}
			dst = append(dst, c)
			continue
		}
		r, size := utf8.DecodeRune(raw[i:])
		i += size
		r = unicode.ToLower(r)
		if cn && !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) {
			return dst[:start], false
		}
		dst = utf8.AppendRune(dst, r)
	}
	for len(dst) > start && dst[len(dst)-1] == '.' {
		dst = dst[:len(dst)-1]
	}
	name := dst[start:]
	if len(name) == 0 {
		return dst, false
	}
	if cn {
		dot, ipLike := false, true
		for _, c := range name {
			if c == '.' {
				dot = true
			} else if c < '0' || c > '9' {
				ipLike = false
			}
		}
		if !dot || ipLike {
			return dst[:start], false
		}
	}
	return dst, true
}

// appendString appends the UTF-8 form of a DER string value with the given
// tag; invalid encodings become U+FFFD. It reports false for a tag that is
// not a string type.
func appendString(dst []byte, tag byte, b []byte) ([]byte, bool) {
	switch tag {
	case tagUTF8String, tagPrintableString, tagIA5String, tagVisibleString, tagNumericString:
		if utf8.Valid(b) {
			return append(dst, b...), true
		}
		for len(b) > 0 {
			r, size := utf8.DecodeRune(b)
			dst = utf8.AppendRune(dst, r)
			b = b[size:]
		}
		return dst, true
	case tagT61String: // treated as Latin-1, as most CAs meant it
		for _, c := range b {
			dst = utf8.AppendRune(dst, rune(c))
		}
		return dst, true
	case tagBMPString: // UTF-16BE
		for len(b) >= 2 {
			r := rune(b[0])<<8 | rune(b[1])
			b = b[2:]
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if len(b) >= 2 {
					r2 = rune(b[0])<<8 | rune(b[1])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					b = b[2:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		}
		if len(b) == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
		return dst, true
	case tagUniversalString: // UTF-32BE
		for len(b) >= 4 {
			r := rune(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
			b = b[4:]
			dst = utf8.AppendRune(dst, r) // AppendRune writes U+FFFD for invalid runes
		}
		if len(b) > 0 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
		return dst, true
	}
	return dst, false
}

// appendIssuer appends the RFC 4514 string of a Name (the contents of its
// SEQUENCE) to dst: RDNs last first, separated by ',', the attributes of a
// multi-valued RDN joined by '+', at most MaxIssuerLen bytes. Unreadable
// RDNs and attributes are skipped.
func appendIssuer(dst, name, scratch []byte) []byte {
	// Keep the last maxRDNs RDNs, in a ring; they are written last first.
	var rdns [maxRDNs][]byte
	n := 0
	for b := name; len(b) > 0; {
		tag, rdn, rest, err := derRead(b)
		if err != nil {
			break
		}
		b = rest
		if tag == tagSet {
			rdns[n%maxRDNs] = rdn
			n++
		}
	}
	w := dnWriter{dst: dst, start: len(dst)}
	first := true
	for i := n - 1; i >= 0 && i >= n-maxRDNs && !w.full; i-- {
		firstATV := true
		for rdn := rdns[i%maxRDNs]; len(rdn) > 0 && !w.full; {
			_, atv, rest, err := derRead(rdn)
			if err != nil {
				break
			}
			rdn = rest
			tag, oid, atv, err := derRead(atv)
			if err != nil || tag != tagOID {
				continue
			}
			vtag, val, vrest, err := derRead(atv)
			if err != nil {
				continue
			}
			tlv := atv[:len(atv)-len(vrest)]
			typeName := attributeName(oid)
			mark := len(w.dst) // where to cut back to if the attribute is dropped
			switch {
			case first:
			case firstATV:
				w = w.unit(",")
			default:
				w = w.unit("+")
			}
			if typeName != "" {
				w = w.unit(typeName)
			} else {
				var ok bool
				if w, ok = w.oid(oid); !ok {
					w.dst = w.dst[:mark]
					continue
				}
			}
			w = w.unit("=")
			if w.full {
				w.dst = w.dst[:mark]
				break
			}
			s, ok := []byte(nil), false
			if typeName != "" {
				s, ok = appendString(scratch[:0], vtag, val)
			}
			valueStart := len(w.dst)
			if ok {
				w = w.escaped(s)
			} else {
				w = w.hex(tlv)
			}
			if w.full && len(w.dst) == valueStart {
				// Not one character of the value fits: no "CN=" at the end.
				w.dst = w.dst[:mark]
				break
			}
			first, firstATV = false, false
		}
	}
	return w.dst
}

// attributeName returns the RFC 4514 short name of an attribute type, or
// "" if it has none.
func attributeName(oid []byte) string {
	for _, t := range attributeTypes {
		if t.oid == string(oid) {
			return t.name
		}
	}
	return ""
}

// dnWriter appends the pieces of an RFC 4514 string, refusing any piece
// that would take the string past MaxIssuerLen. Its methods take and return
// it by value so that escape analysis can keep the caller's buffer on the
// stack.
type dnWriter struct {
	dst   []byte
	start int
	full  bool
}

func (w *dnWriter) fits(n int) bool {
	if w.full || len(w.dst)-w.start+n > MaxIssuerLen {
		w.full = true
		return false
	}
	return true
}

func (w dnWriter) unit(s string) dnWriter {
	if w.fits(len(s)) {
		w.dst = append(w.dst, s...)
	}
	return w
}

const hexDigits = "0123456789abcdef"

// escaped writes an attribute value (valid UTF-8) with the RFC 4514
// escapes; control characters are written as \XX.
func (w dnWriter) escaped(v []byte) dnWriter {
	for i := 0; i < len(v) && !w.full; {
		c := v[i]
		if c >= utf8.RuneSelf {
			_, size := utf8.DecodeRune(v[i:])
			if w.fits(size) {
				w.dst = append(w.dst, v[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\',
			c == ' ' && (i == 0 || i == len(v)-1),
			c == '#' && i == 0:
			if w.fits(2) {
				w.dst = append(w.dst, '\\', c)
			}
		case c < ' ' || c == 0x7f:
			if w.fits(3) {
				w.dst = append(w.dst, '\\', hexDigits[c>>4], hexDigits[c&0xf])
			}
		default:
			if w.fits(1) {
				w.dst = append(w.dst, c)
			}
		}
		i++
	}
	return w
}

// hex writes a value as '#' and the hex of its DER encoding (RFC 4514
// section 2.4), cut at a whole byte if too long.
func (w dnWriter) hex(tlv []byte) dnWriter {
	if !w.fits(1) {
		return w
	}
	w.dst = append(w.dst, '#')
	for _, c := range tlv {
		if !w.fits(2) {
			return w
		}
		w.dst = append(w.dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return w
}

// oid writes an OID in dotted-decimal form. It reports false, writing
// nothing, for an OID that is empty, badly encoded or has an arc larger
// than 64 bits.
func (w dnWriter) oid(oid []byte) (dnWriter, bool) {
	var tmp [24]byte
	mark := len(w.dst)
	first := true
	var v uint64
	for i, c := range oid {
		if v > 1<<56 || (v == 0 && c == 0x80) {
			w.dst = w.dst[:mark]
			return w, false
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 != 0 {
			if i == len(oid)-1 {
				w.dst = w.dst[:mark]
				return w, false
			}
			continue
		}
		var s []byte
		if first {
			a, b := uint64(2), v-80
			if v < 80 {
				a, b = v/40, v%40
			}
			s = appendUint(tmp[:0], a)
			s = append(s, '.')
			s = appendUint(s, b)
			first = false
		} else {
			s = appendUint(append(tmp[:0], '.'), v)
		}
		if !w.fits(len(s)) {
			w.dst = w.dst[:mark]
			return w, false
		}
		w.dst = append(w.dst, s...)
		v = 0
	}
	if first {
		return w, false
	}
	return w, true
}

// appendUint appends the decimal form of v.
func appendUint(dst []byte, v uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// parseValidity reads the two times of a Validity (the contents of its
// SEQUENCE). A time that cannot be read is zero.
func parseValidity(b []byte) (notBefore, notAfter time.Time) {
	tag, v, rest, err := derRead(b)
	if err != nil {
		return
	}
	notBefore = parseTime(tag, v)
	tag, v, _, err = derRead(rest)
	if err != nil {
		return
	}
	notAfter = parseTime(tag, v)
	return
}

// parseTime reads a UTCTime (YYMMDDhhmm[ss]) or GeneralizedTime
// (YYYYMMDDhhmm[ss[.fff]]) followed by Z, +hhmm, -hhmm or nothing (taken
// as UTC). Anything else, or an impossible date, gives the zero time.
func parseTime(tag byte, s []byte) time.Time {
	var year int
	switch tag {
	case tagUTCTime:
		yy, ok := digits(s, 2)
		if !ok {
			return time.Time{}
		}
		year, s = 1900+yy, s[2:]
		if yy < 50 {
			year += 100
		}
	case tagGeneralizedTime:
		y, ok := digits(s, 4)
		if !ok {
			return time.Time{}
		}
		year, s = y, s[4:]
	default:
		return time.Time{}
	}
	var f [4]int // month, day, hour, minute
	for i := range f {
		v, ok := digits(s, 2)
		if !ok {
			return time.Time{}
		}
		f[i], s = v, s[2:]
	}
	sec, nsec := 0, 0
	if v, ok := digits(s, 2); ok {
		sec, s = v, s[2:]
		if tag == tagGeneralizedTime && len(s) > 1 && (s[0] == '.' || s[0] == ',') {
			s = s[1:]
			n, scale := 0, int(time.Second)
			for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
				if scale > 1 {
					scale /= 10
					n += int(s[0]-'0') * scale
				}
				s = s[1:]
			}
			nsec = n
		}
	}
	month, day, hour, minute := f[0], f[1], f[2], f[3]
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}
	}
	offset := 0
	switch {
	case len(s) == 0:
	case len(s) == 1 && s[0] == 'Z':
	case len(s) == 5 && (s[0] == '+' || s[0] == '-'):
		hh, ok1 := digits(s[1:], 2)
		mm, ok2 := digits(s[3:], 2)
		if !ok1 || !ok2 || hh > 23 || mm > 59 {
			return time.Time{}
		}
		offset = (hh*60 + mm) * 60
		if s[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second)
}

// digits reads n decimal digits at the start of s.
func digits(s []byte, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for _, c := range s[:n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
