package ct

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// A real get-sth response of Google's Argon2024 log, with the log's key.
// The signature verifies (it was checked with OpenSSL-backed Python too), so
// it pins the TreeHeadSignature layout to what logs really sign.
const (
	argon2024Key       = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHblsqctplMVc5ramA7vSuNxUQxcomQwGAVAdnWTAWUYr3MgDHQW0LagJ95lB7QT75Ve6JgT2EVLOFGU7L3YrwA=="
	argon2024Size      = 1267285836
	argon2024Timestamp = 1711642477482
	argon2024Root      = "SHySaYoaGIV5oCMANTytRfUjfzXb7wvO9xQiGkDJlfQ="
	argon2024Sig       = "BAMARzBFAiAQWbsL/MbJdeR4jk8xYKWDBDGHyDcntBim9Jr1BvwPnAIhAMedQo0YuBo+ajNd9xyVOMvhOdVAeJYgOhBLQn8rca94"
)

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("bad base64 in test: %v", err)
	}
	return b
}

func mustParseLogKey(t testing.TB, b64 string) *LogKey {
	t.Helper()
	k, err := ParseLogKey(b64)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func spkiB64(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func TestParseLogKey(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, b64, wantErr string
	}{
		{"P-256", argon2024Key, ""},
		{"RSA-2048", newTestRSALogKey(t).publicB64(), ""},
		{"not base64", "MFkw!!", "log key: not base64"},
		{"empty", "", "log key: empty"},
		{"not SPKI", base64.StdEncoding.EncodeToString([]byte("hello, world")), "log key: not a DER SubjectPublicKeyInfo"},
		{"trailing data", base64.StdEncoding.EncodeToString(append(mustB64(t, argon2024Key), 0)), "log key: not a DER SubjectPublicKeyInfo"},
		{"RSA-1024", spkiB64(t, &rsa1024.PublicKey), "log key: RSA key of 1024 bits, need at least 2048"},
		{"P-384", spkiB64(t, &p384.PublicKey), "log key: ECDSA key on P-384, need P-256"},
		{"Ed25519", spkiB64(t, edPub), "log key: Ed25519 key, but RFC 6962 logs sign with ECDSA P-256 or RSA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseLogKey(tc.b64)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("ParseLogKey error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			der := mustB64(t, tc.b64)
			if string(k.DER) != string(der) {
				t.Error("DER is not the decoded key")
			}
			if k.ID != sha256.Sum256(der) {
				t.Error("ID is not the SHA-256 of the DER")
			}
		})
	}
}

// The log ID of a real key is what the log list says it is.
func TestParseLogKeyID(t *testing.T) {
	// Google 'Argon2026h2' log, from the embedded list.
	k := mustParseLogKey(t, "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKjpni/66DIYrSlGK6Rf+e6F2c/28ZUvDJ79N81+gyimAESAyeNZ++TRgjHWg9TVQnKHTSU0T1TtqDupFnSQTIg==")
	if got, want := base64.StdEncoding.EncodeToString(k.ID[:]), "1219ENGn9XfCx+lf1wC/+YLJM1pl4dCzAXMXwMjFaXc="; got != want {
		t.Errorf("ID = %s, want %s", got, want)
	}
}

func TestVerifySTHRealLog(t *testing.T) {
	k := mustParseLogKey(t, argon2024Key)
	th := TreeHead{
		Size:      argon2024Size,
		Timestamp: time.UnixMilli(argon2024Timestamp),
		Root:      [32]byte(mustB64(t, argon2024Root)),
	}
	sig := mustB64(t, argon2024Sig)
	if err := k.VerifySTH(th, sig); err != nil {
		t.Fatalf("real Argon2024 STH: %v", err)
	}
	th.Size++
	if err := k.VerifySTH(th, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("real Argon2024 STH with size+1: %v, want ErrBadSignature", err)
	}
}

func TestVerifySTH(t *testing.T) {
	th := TreeHead{
		Size:      123456789,
		Timestamp: time.Date(2026, 11, 27, 10, 11, 12, 345e6, time.UTC),
		Root:      sha256.Sum256([]byte("root")),
	}
	for _, keyType := range []string{"ECDSA", "RSA"} {
		t.Run(keyType, func(t *testing.T) {
			key, other := newTestLogKey(t), newTestLogKey(t)
			if keyType == "RSA" {
				key, other = newTestRSALogKey(t), newTestRSALogKey(t)
			}
			sig := key.signSTH(th)
			if err := key.public().VerifySTH(th, sig); err != nil {
				t.Fatalf("valid signature: %v", err)
			}
			// Sub-millisecond digits are not signed; they do not matter.
			withNanos := th
			withNanos.Timestamp = th.Timestamp.Add(999 * time.Microsecond)
			if err := key.public().VerifySTH(withNanos, sig); err != nil {
				t.Fatalf("valid signature, timestamp with microseconds: %v", err)
			}

			flip := func(b []byte, i int) []byte {
				b = append([]byte(nil), b...)
				b[i] ^= 1
				return b
			}
			rootFlipped, sizeUp, later, earlier := th, th, th, th
			rootFlipped.Root[31] ^= 0x80
			sizeUp.Size++
			later.Timestamp = th.Timestamp.Add(time.Millisecond)
			earlier.Timestamp = time.UnixMilli(-1)
			for _, bad := range []struct {
				name string
				key  *LogKey
				th   TreeHead
				sig  []byte
			}{
				{"root bit flipped", key.public(), rootFlipped, sig},
				{"size+1", key.public(), sizeUp, sig},
				{"timestamp+1ms", key.public(), later, sig},
				{"timestamp before 1970", key.public(), earlier, sig},
				{"wrong key", other.public(), th, sig},
				{"signature bit flipped", key.public(), th, flip(sig, len(sig)-1)},
				{"truncated by one byte", key.public(), th, sig[:len(sig)-1]},
				{"truncated to the header", key.public(), th, sig[:4]},
				{"truncated header", key.public(), th, sig[:3]},
				{"empty", key.public(), th, nil},
				{"trailing byte", key.public(), th, append(append([]byte(nil), sig...), 0)},
				{"hash alg SHA-384", key.public(), th, append([]byte{5}, sig[1:]...)},
				{"hash alg SHA-1", key.public(), th, append([]byte{2}, sig[1:]...)},
				{"sig alg swapped", key.public(), th, append([]byte{sig[0], sig[1] ^ sigRSA ^ sigECDSA}, sig[2:]...)},
				{"sig alg DSA", key.public(), th, append([]byte{sig[0], 2}, sig[2:]...)},
				{"length too long", key.public(), th, flip(sig, 3)},
				{"unparsed key", &LogKey{}, th, sig},
			} {
				t.Run(bad.name, func(t *testing.T) {
					if err := bad.key.VerifySTH(bad.th, bad.sig); !errors.Is(err, ErrBadSignature) {
						t.Fatalf("VerifySTH = %v, want ErrBadSignature", err)
					}
				})
			}
		})
	}
}

func TestVerifySTHErrorSaysWhy(t *testing.T) {
	key := newTestLogKey(t)
	th := TreeHead{Size: 1, Timestamp: time.UnixMilli(1)}
	sig := key.signSTH(th)
	sig[0] = 5
	err := key.public().VerifySTH(th, sig)
	if err == nil || !strings.Contains(err.Error(), "hash algorithm 5, want 4 (SHA-256)") {
		t.Fatalf("error = %v, want it to name the hash algorithm", err)
	}
}

func FuzzVerifySTH(f *testing.F) {
	f.Add(mustB64(f, argon2024Sig))
	f.Add([]byte{4, 3, 0, 0})
	f.Add([]byte{4, 1, 0xff, 0xff})
	ecKey := mustParseLogKey(f, argon2024Key)
	rsaKey := newTestRSALogKey(f).public()
	th := TreeHead{Size: argon2024Size, Timestamp: time.UnixMilli(argon2024Timestamp), Root: [32]byte(mustB64(f, argon2024Root))}
	f.Fuzz(func(t *testing.T, sig []byte) {
		ecErr := ecKey.VerifySTH(th, sig)
		if ecErr != nil && !errors.Is(ecErr, ErrBadSignature) {
			t.Fatalf("error does not wrap ErrBadSignature: %v", ecErr)
		}
		if err := rsaKey.VerifySTH(th, sig); err == nil {
			t.Fatal("random bytes verified as an RSA signature")
		} else if !errors.Is(err, ErrBadSignature) {
			t.Fatalf("error does not wrap ErrBadSignature: %v", err)
		}
	})
}
