package ct

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrBadSignature is wrapped by every signature verification failure: a
// signature that does not verify, a malformed or truncated signature, a
// signature made with an algorithm the key cannot make, and a checkpoint
// without a signature by the log's key.
var ErrBadSignature = errors.New("bad signature")

// minRSABits is the smallest RSA modulus accepted for a log key.
const minRSABits = 2048

// LogKey is a log's public key. It is immutable once parsed; share it freely.
type LogKey struct {
	// ID is the RFC 6962 log ID: the SHA-256 of DER.
	ID [32]byte
	// DER is the DER-encoded SubjectPublicKeyInfo.
	DER []byte

	// pub is an *ecdsa.PublicKey on P-256 or an *rsa.PublicKey of at
	// least minRSABits bits.
	pub crypto.PublicKey
}

// ParseLogKey parses a log public key as log lists publish it: the standard
// base64 encoding of a DER SubjectPublicKeyInfo. RFC 6962 allows ECDSA on
// NIST P-256 and RSA; RSA keys must have at least 2048 bits. Ed25519 keys are
// refused, as RFC 6962 tree heads cannot be signed with them.
func ParseLogKey(b64 string) (*LogKey, error) {
	k, err := parseLogKey(b64)
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	return k, nil
}

// parseLogKey is ParseLogKey without the "log key: " prefix on errors, for
// callers that name the key their own way.
func parseLogKey(b64 string) (*LogKey, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(der) == 0 {
		return nil, errors.New("empty")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a DER SubjectPublicKeyInfo")
	}
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ECDSA key on %s, need P-256", pub.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits, need at least %d", bits, minRSABits)
		}
	case ed25519.PublicKey:
		return nil, errors.New("Ed25519 key, but RFC 6962 logs sign with ECDSA P-256 or RSA")
	default:
		return nil, fmt.Errorf("unsupported key type %T, need ECDSA P-256 or RSA", pub)
	}
	k := &LogKey{ID: sha256.Sum256(der), DER: der, pub: pub}
	return k, nil
}

// TreeHead is a verified tree head of a log.
type TreeHead struct {
	// Size is the number of entries in the tree.
	Size uint64
	// Timestamp is when the log signed the tree head, with millisecond
	// precision, in UTC.
	Timestamp time.Time
	// Root is the RFC 6962 Merkle tree hash of the first Size entries.
	Root [32]byte
}

// TLS HashAlgorithm and SignatureAlgorithm values (RFC 5246, section 7.4.1.4.1)
// that RFC 6962 logs use in DigitallySigned structs.
const (
	hashSHA256 = 4
	sigRSA     = 1
	sigECDSA   = 3
)

// RFC 6962 section 3.2 enum values used in a TreeHeadSignature.
const (
	versionV1         = 0
	signatureTreeHash = 1
)

// VerifySTH verifies the signature of an RFC 6962 get-sth response. sig is
// the base64-decoded tree_head_signature: a TLS DigitallySigned struct (hash
// algorithm byte, signature algorithm byte, 16-bit length, signature) over
// the TreeHeadSignature of th. The hash algorithm must be SHA-256 and the
// signature algorithm must match the key. Every failure wraps
// ErrBadSignature.
func (k *LogKey) VerifySTH(th TreeHead, sig []byte) error {
	ms := th.Timestamp.UnixMilli()
	if ms < 0 {
		return fmt.Errorf("tree head timestamp %v is before 1970: %w", th.Timestamp, ErrBadSignature)
	}
	return k.verifyTreeHead(uint64(ms), th.Size, th.Root, sig)
}

// verifyTreeHead verifies ds, a TLS DigitallySigned struct, as k's signature
// over the RFC 6962 TreeHeadSignature of a tree of the given size and root at
// timestamp ms (milliseconds since the Unix epoch).
func (k *LogKey) verifyTreeHead(ms, size uint64, root [32]byte, ds []byte) error {
	if len(ds) < 4 {
		return fmt.Errorf("tree head signature of %d bytes is truncated: %w", len(ds), ErrBadSignature)
	}
	hashAlg, sigAlg, n := ds[0], ds[1], int(binary.BigEndian.Uint16(ds[2:4]))
	sig := ds[4:]
	if hashAlg != hashSHA256 {
		return fmt.Errorf("tree head signature: hash algorithm %d, want %d (SHA-256): %w", hashAlg, hashSHA256, ErrBadSignature)
	}
	if len(sig) != n {
		return fmt.Errorf("tree head signature: length field says %d bytes, %d follow: %w", n, len(sig), ErrBadSignature)
	}

	var msg [2 + 8 + 8 + 32]byte
	msg[0] = versionV1
	msg[1] = signatureTreeHash
	binary.BigEndian.PutUint64(msg[2:], ms)
	binary.BigEndian.PutUint64(msg[10:], size)
	copy(msg[18:], root[:])
	digest := sha256.Sum256(msg[:])

	switch pub := k.pub.(type) {
	case *ecdsa.PublicKey:
		if sigAlg != sigECDSA {
			return fmt.Errorf("tree head signature: signature algorithm %d, but the log key is ECDSA (%d): %w", sigAlg, sigECDSA, ErrBadSignature)
		}
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			return fmt.Errorf("tree head signature: ECDSA verification failed: %w", ErrBadSignature)
		}
	case *rsa.PublicKey:
		if sigAlg != sigRSA {
			return fmt.Errorf("tree head signature: signature algorithm %d, but the log key is RSA (%d): %w", sigAlg, sigRSA, ErrBadSignature)
		}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			return fmt.Errorf("tree head signature: RSA verification failed: %w", ErrBadSignature)
		}
	default:
		// Only a LogKey not made by ParseLogKey gets here.
		return fmt.Errorf("tree head signature: log key not parsed with ParseLogKey: %w", ErrBadSignature)
	}
	return nil
}
