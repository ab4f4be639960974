package ct

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"testing"
)

// testLogKey is a log's private key for fake logs in tests. Its methods are
// safe to call from HTTP handler goroutines: they report problems with
// Errorf, never Fatal.
type testLogKey struct {
	tb     testing.TB
	signer crypto.Signer // *ecdsa.PrivateKey (P-256) or *rsa.PrivateKey
	pub    *LogKey
}

// newTestLogKey returns a fresh ECDSA P-256 log key.
func newTestLogKey(t testing.TB) *testLogKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return newTestLogKeyFrom(t, priv)
}

// newTestRSALogKey returns a fresh RSA-2048 log key.
func newTestRSALogKey(t testing.TB) *testLogKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return newTestLogKeyFrom(t, priv)
}

func newTestLogKeyFrom(t testing.TB, signer crypto.Signer) *testLogKey {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParseLogKey(base64.StdEncoding.EncodeToString(der))
	if err != nil {
		t.Fatal(err)
	}
	return &testLogKey{tb: t, signer: signer, pub: pub}
}

// public returns the log's public key.
func (k *testLogKey) public() *LogKey { return k.pub }

// publicB64 returns the public key as a log list lists it: base64 DER SPKI.
func (k *testLogKey) publicB64() string { return base64.StdEncoding.EncodeToString(k.pub.DER) }

// signSTH returns the DigitallySigned bytes of an RFC 6962 tree head
// signature over th: what get-sth serves, base64-decoded, as
// tree_head_signature. It returns nil (and fails the test) if signing fails.
func (k *testLogKey) signSTH(th TreeHead) []byte {
	var msg [2 + 8 + 8 + 32]byte
	msg[0], msg[1] = versionV1, signatureTreeHash
	binary.BigEndian.PutUint64(msg[2:], uint64(th.Timestamp.UnixMilli()))
	binary.BigEndian.PutUint64(msg[10:], th.Size)
	copy(msg[18:], th.Root[:])
	digest := sha256.Sum256(msg[:])
	sig, err := k.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		k.tb.Errorf("signing tree head: %v", err)
		return nil
	}
	sigAlg := byte(sigECDSA)
	if _, ok := k.signer.(*rsa.PrivateKey); ok {
		sigAlg = sigRSA
	}
	ds := []byte{hashSHA256, sigAlg, 0, 0}
	binary.BigEndian.PutUint16(ds[2:], uint16(len(sig)))
	return append(ds, sig...)
}

// noteSignature returns the base64 signature of a checkpoint signature line
// for th by the key named origin: key ID || timestamp || DigitallySigned.
func (k *testLogKey) noteSignature(origin string, th TreeHead) string {
	ds := k.signSTH(th)
	sig := binary.BigEndian.AppendUint32(nil, noteKeyID(origin, k.pub.ID))
	sig = binary.BigEndian.AppendUint64(sig, uint64(th.Timestamp.UnixMilli()))
	sig = append(sig, ds...)
	return base64.StdEncoding.EncodeToString(sig)
}

// checkpointText returns the note text of a checkpoint for th.
func checkpointText(origin string, th TreeHead) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, th.Size, base64.StdEncoding.EncodeToString(th.Root[:]))
}

// checkpoint returns th as a static-ct-api log serves it at
// <monitoring prefix>/checkpoint: a signed note with one signature line, by
// the log's key with key name origin.
func (k *testLogKey) checkpoint(origin string, th TreeHead) []byte {
	return []byte(checkpointText(origin, th) + "\n\u2014 " + origin + " " + k.noteSignature(origin, th) + "\n")
}
