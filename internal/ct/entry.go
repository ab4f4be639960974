package ct

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// Entry is one decoded log entry.
type Entry struct {
	// Index is the entry's leaf index in its log.
	Index uint64
	// Timestamp is the TimestampedEntry's timestamp (milliseconds since the
	// epoch), in UTC.
	Timestamp time.Time
	// Precert is true for a precert_entry, false for an x509_entry.
	Precert bool
	// Names are the DNS names of the certificate: dNSName SANs, then the
	// subject CNs that are DNS names, lower-cased, trailing dots dropped,
	// duplicates removed, in first-seen order, at most MaxNames.
	//
	// Invalid UTF-8 is replaced by U+FFFD. A SAN that is empty or holds a
	// space or a control character is left out. A CN counts as a DNS name
	// when it has a dot, only letters, digits, marks, '-', '_', '*' and
	// '.', and is not digits and dots only (an IPv4 address). Wildcards
	// ("*.example.com") are kept as they are.
	Names []string
	// Issuer is the issuer DN in RFC 4514 order and escaping, e.g.
	// "CN=R3,O=Let's Encrypt,C=US", at most MaxIssuerLen bytes.
	Issuer string
	// NotBefore and NotAfter are the validity bounds in UTC; zero when the
	// certificate's time cannot be read.
	NotBefore time.Time
	NotAfter  time.Time
	// SHA256 is the fingerprint of the certificate DER: the X.509
	// certificate, or for a precert entry the precertificate (from
	// extra_data or the tile leaf) when present, else the TBSCertificate.
	SHA256 [32]byte
	// TBSKey identifies the certificate across its precert and final forms
	// and across logs: SHA-256 of the DER TBSCertificate with the CT poison
	// (1.3.6.1.4.1.11129.2.4.3) and SCT list (1.3.6.1.4.1.11129.2.4.2)
	// extensions removed (and the extensions field dropped entirely if
	// nothing is left), re-encoded in DER with minimal lengths for the
	// headers it rebuilds (TBSCertificate, [3], Extensions).
	TBSKey [32]byte
	// LeafHash is the RFC 6962 Merkle leaf hash of the entry:
	// SHA-256(0x00 || MerkleTreeLeaf).
	LeafHash [32]byte
}

// MaxNames is the most names an Entry holds; longer lists are cut.
const MaxNames = 1000

// ErrMalformed is wrapped by every error about an entry or certificate that
// cannot be read.
var ErrMalformed = errors.New("malformed log entry")

// RFC 6962 constants.
const (
	entryTypeX509    = 0
	entryTypePrecert = 1
	issuerKeyHashLen = 32
	fingerprintLen   = 32
	maxTimestamp     = 1<<63 - 1
	extLeafIndex     = 0 // static-ct-api leaf_index extension
	leafIndexLen     = 5 // uint40
)

// timestampedEntry is a decoded RFC 6962 TimestampedEntry; slices point
// into the input.
type timestampedEntry struct {
	timestamp  uint64
	precert    bool
	signed     []byte // ASN.1Cert for x509_entry, TBSCertificate for precert_entry
	extensions []byte
}

// ParseRFC6962Entry decodes one get-entries item: leafInput is the
// MerkleTreeLeaf and extraData the extra_data, both base64-decoded.
// extra_data is read only for a precert entry, to fingerprint its
// precertificate; if it cannot be read, SHA256 is the TBSCertificate's hash
// and no error is returned. Errors wrap ErrMalformed.
func ParseRFC6962Entry(index uint64, leafInput, extraData []byte) (Entry, error) {
	if len(leafInput) < 2 {
		return Entry{}, malformed("leaf_input", fmt.Errorf("%d bytes, too short for a MerkleTreeLeaf", len(leafInput)))
	}
	if v := leafInput[0]; v != 0 {
		return Entry{}, malformed("leaf_input", fmt.Errorf("version %d, want 0 (v1)", v))
	}
	if t := leafInput[1]; t != 0 {
		return Entry{}, malformed("leaf_input", fmt.Errorf("leaf_type %d, want 0 (timestamped_entry)", t))
	}
	te, rest, err := readTimestampedEntry(leafInput[2:])
	if err != nil {
		return Entry{}, malformed("leaf_input", err)
	}
	if len(rest) != 0 {
		return Entry{}, malformed("leaf_input", fmt.Errorf("%d bytes after the TimestampedEntry", len(rest)))
	}
	var precert []byte
	if te.precert {
		precert = precertFromExtraData(extraData)
	}
	e, err := newEntry(index, &te, precert)
	if err != nil {
		return Entry{}, malformed("leaf_input", err)
	}
	e.LeafHash = hashPrefixed(nil, leafInput)
	return e, nil
}

// ParseTileLeaf decodes the first TileLeaf of a static-ct-api data tile and
// returns the rest of the tile. index is the leaf index of that entry; it
// must equal the leaf_index extension of the entry. Errors wrap
// ErrMalformed.
func ParseTileLeaf(index uint64, tile []byte) (e Entry, rest []byte, err error) {
	te, rest, err := readTimestampedEntry(tile)
	if err != nil {
		return Entry{}, nil, malformed("tile leaf", err)
	}
	teBytes := tile[:len(tile)-len(rest)]
	li, err := leafIndex(te.extensions)
	if err != nil {
		return Entry{}, nil, malformed("tile leaf", err)
	}
	if li != index {
		return Entry{}, nil, malformed("tile leaf", fmt.Errorf("leaf_index extension %d, want %d", li, index))
	}
	var precert []byte
	if te.precert {
		precert, rest, err = readOpaque24(rest, "pre_certificate")
		if err != nil {
			return Entry{}, nil, malformed("tile leaf", err)
		}
	}
	if len(rest) < 2 {
		return Entry{}, nil, malformed("tile leaf", errors.New("certificate_chain: truncated length"))
	}
	n := int(rest[0])<<8 | int(rest[1])
	rest = rest[2:]
	switch {
	case n > len(rest):
		return Entry{}, nil, malformed("tile leaf", fmt.Errorf("certificate_chain length %d exceeds the rest (%d bytes)", n, len(rest)))
	case n%fingerprintLen != 0:
		return Entry{}, nil, malformed("tile leaf", fmt.Errorf("certificate_chain length %d is not a multiple of %d", n, fingerprintLen))
	}
	rest = rest[n:]
	e, err = newEntry(index, &te, precert)
	if err != nil {
		return Entry{}, nil, malformed("tile leaf", err)
	}
	// MerkleTreeLeaf: version v1 (0), leaf_type timestamped_entry (0).
	e.LeafHash = hashPrefixed([]byte{0, 0}, teBytes)
	return e, rest, nil
}

// malformed wraps ErrMalformed with what was being read and the detail.
func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
}

// newEntry builds an Entry, all but its LeafHash, from a TimestampedEntry
// and, for a precert entry, the precertificate if known.
func newEntry(index uint64, te *timestampedEntry, precert []byte) (Entry, error) {
	info, tbs, key, err := decodeCert(te.signed, te.precert, true)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{
		Index:     index,
		Timestamp: time.UnixMilli(int64(te.timestamp)).UTC(),
		Precert:   te.precert,
		Names:     info.Names,
		Issuer:    info.Issuer,
		NotBefore: info.NotBefore,
		NotAfter:  info.NotAfter,
		TBSKey:    key,
	}
	switch {
	case !te.precert:
		e.SHA256 = sha256.Sum256(te.signed)
	case precert != nil:
		e.SHA256 = sha256.Sum256(precert)
	default:
		e.SHA256 = sha256.Sum256(tbs)
	}
	return e, nil
}

// readTimestampedEntry reads an RFC 6962 TimestampedEntry at the start of b.
func readTimestampedEntry(b []byte) (te timestampedEntry, rest []byte, err error) {
	if len(b) < 10 {
		return te, nil, fmt.Errorf("TimestampedEntry: %d bytes, too short", len(b))
	}
	te.timestamp = uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	if te.timestamp > maxTimestamp {
		return te, nil, fmt.Errorf("timestamp %d out of range", te.timestamp)
	}
	entryType := int(b[8])<<8 | int(b[9])
	b = b[10:]
	switch entryType {
	case entryTypeX509:
		te.signed, b, err = readOpaque24(b, "certificate")
	case entryTypePrecert:
		te.precert = true
		if len(b) < issuerKeyHashLen {
			return te, nil, fmt.Errorf("issuer_key_hash: %d bytes, want %d", len(b), issuerKeyHashLen)
		}
		te.signed, b, err = readOpaque24(b[issuerKeyHashLen:], "TBS")
	default:
		return te, nil, fmt.Errorf("entry_type %d, want 0 (x509_entry) or 1 (precert_entry)", entryType)
	}
	if err != nil {
		return te, nil, err
	}
	if len(b) < 2 {
		return te, nil, errors.New("extensions: truncated length")
	}
	n := int(b[0])<<8 | int(b[1])
	b = b[2:]
	if n > len(b) {
		return te, nil, fmt.Errorf("extensions length %d exceeds the rest (%d bytes)", n, len(b))
	}
	te.extensions = b[:n]
	return te, b[n:], nil
}

// readOpaque24 reads an opaque<1..2^24-1>.
func readOpaque24(b []byte, what string) (v, rest []byte, err error) {
	if len(b) < 3 {
		return nil, nil, fmt.Errorf("%s: truncated length", what)
	}
	n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	b = b[3:]
	switch {
	case n == 0:
		return nil, nil, fmt.Errorf("%s: length 0", what)
	case n > len(b):
		return nil, nil, fmt.Errorf("%s length %d exceeds the rest (%d bytes)", what, n, len(b))
	}
	return b[:n], b[n:], nil
}

// leafIndex reads the leaf_index extension from static-ct-api CtExtensions
// (the contents of the extensions vector). Other extension types are
// skipped; a missing or repeated leaf_index is an error.
func leafIndex(ext []byte) (uint64, error) {
	var idx uint64
	found := false
	for len(ext) > 0 {
		if len(ext) < 3 {
			return 0, errors.New("extensions: truncated extension")
		}
		typ := ext[0]
		n := int(ext[1])<<8 | int(ext[2])
		ext = ext[3:]
		if n > len(ext) {
			return 0, fmt.Errorf("extension %d: length %d exceeds the rest (%d bytes)", typ, n, len(ext))
		}
		data := ext[:n]
		ext = ext[n:]
		if typ != extLeafIndex {
			continue
		}
		if found {
			return 0, errors.New("extensions: leaf_index twice")
		}
		if len(data) != leafIndexLen {
			return 0, fmt.Errorf("leaf_index: %d bytes, want %d", len(data), leafIndexLen)
		}
		found = true
		for _, c := range data {
			idx = idx<<8 | uint64(c)
		}
	}
	if !found {
		return 0, errors.New("extensions: no leaf_index (not a static-ct-api log?)")
	}
	return idx, nil
}

// precertFromExtraData returns the pre_certificate of a PrecertChainEntry,
// or nil if extra_data does not start with one that is a DER SEQUENCE.
func precertFromExtraData(extra []byte) []byte {
	pre, _, err := readOpaque24(extra, "pre_certificate")
	if err != nil {
		return nil
	}
	if tag, _, rest, err := derRead(pre); err != nil || tag != tagSequence || len(rest) != 0 {
		return nil
	}
	return pre
}

// hashPrefixed returns SHA-256(0x00 || prefix || b), the Merkle leaf hash
// of the MerkleTreeLeaf prefix || b.
func hashPrefixed(prefix, b []byte) [32]byte {
	var stack [4096]byte
	buf := append(stack[:0], 0)
	buf = append(buf, prefix...)
	buf = append(buf, b...)
	return sha256.Sum256(buf)
}
