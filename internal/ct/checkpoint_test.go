package ct

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Checkpoints that real static-ct-api logs served, with the logs' keys. The
// log signatures verify, which pins the key ID and the RFC6962NoteSignature
// layout to what logs really do. Both origins are the logs' submission
// prefixes; Willow's also carries a grease line and two lines with the log's
// key name but other key IDs, which must be ignored.
const (
	rome2024h1Origin     = "rome.ct.filippo.io/2024h1"
	rome2024h1Key        = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAXM8Ld9qn64g1zVFDh5FtgxS3zj5sqQDwYMs3wrBV3MCBiFhK/iRLxdKF4YsAcJaEglMlu4Lewvzxs0xO2uwEw=="
	rome2024h1Checkpoint = "rome.ct.filippo.io/2024h1\n" +
		"115474666\n" +
		"2q1K6aiIJR+F7TyhiWOghoWOjY0/3dVBLsBbAvB4xCw=\n" +
		"\n" +
		"— rome.ct.filippo.io/2024h1 ePSrrgAAAY5+gVlSBAMARzBFAiEAv8bOMzo3Ed/GbU9fzzJvaStX6i8xTsmEF+NqvpGhIO0CIEn1X+zzVEerdix64GEn97XCXObA2G5JQ8UDDqCKdG5m\n"

	willow2025h1bOrigin     = "willow.ct.letsencrypt.org/2025h1b"
	willow2025h1bKey        = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbNmWXyYsF2pohGOAiNELea6UL4/XioI3w6ChE5Udlos0HUqM7KOHIP9qBuWCVs6VAdtDXrvanmxKq52Whh2+2w=="
	willow2025h1bCheckpoint = "willow.ct.letsencrypt.org/2025h1b\n" +
		"1237717073\n" +
		"pT/KC9MSHoRK2rHkeyfTSXfxolR2ja4JqhdymK9pnlo=\n" +
		"\n" +
		"— grease.invalid 6PiRCcvuZmG719Q08yWtEVT7C6ncT1s8R1xtzvX/reoSPKtuXROhW7Se59Kiwa7i98c/AM8tH4EElmqOQnJcF4cxRlbI9FY=\n" +
		"— willow.ct.letsencrypt.org/2025h1b kgUpF33pGg==\n" +
		"— willow.ct.letsencrypt.org/2025h1b ilIWIZPYgLHq/TqbHb14ff7ydbJ3VTODZcRE5VVYXTc3RduKQdVTwHV+Uv6NAEq9qBmjeXXw5QePKXNfDK747p2VOgo=\n" +
		"— willow.ct.letsencrypt.org/2025h1b GYcbuAAAAZSU2PMJBAMASDBGAiEAhNc5t31Sx4HmBDN4bh366ApPb1Ag1S1zn1XN02ibJNYCIQCKGun1fU1tcgMpWPu3918Rk6OBuoSjt7wdBag1cKsQ+g==\n"
)

func TestParseCheckpointRealLogs(t *testing.T) {
	for _, tc := range []struct {
		name, origin, key, note string
		want                    TreeHead
	}{
		{"Rome2024h1", rome2024h1Origin, rome2024h1Key, rome2024h1Checkpoint, TreeHead{
			Size:      115474666,
			Timestamp: time.Date(2024, 3, 27, 6, 3, 10, 34e6, time.UTC),
			Root:      [32]byte(mustB64(t, "2q1K6aiIJR+F7TyhiWOghoWOjY0/3dVBLsBbAvB4xCw=")),
		}},
		{"Willow2025h1b", willow2025h1bOrigin, willow2025h1bKey, willow2025h1bCheckpoint, TreeHead{
			Size:      1237717073,
			Timestamp: time.Date(2025, 1, 23, 20, 27, 13, 545e6, time.UTC),
			Root:      [32]byte(mustB64(t, "pT/KC9MSHoRK2rHkeyfTSXfxolR2ja4JqhdymK9pnlo=")),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := mustParseLogKey(t, tc.key)
			got, err := ParseCheckpoint([]byte(tc.note), tc.origin, key)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ParseCheckpoint = %+v, want %+v", got, tc.want)
			}
			if got.Timestamp.Location() != time.UTC {
				t.Errorf("timestamp in %v, want UTC", got.Timestamp.Location())
			}
			// The same signature, as get-sth would serve it, verifies too.
			sig := mustB64(t, strings.Fields(tc.note[strings.LastIndex(tc.note, "\u2014"):])[2])
			if err := key.VerifySTH(got, sig[4+8:]); err != nil {
				t.Errorf("VerifySTH of the checkpoint's signature: %v", err)
			}
		})
	}
}

// Key IDs that real logs put in their checkpoints' signature lines.
func TestNoteKeyIDRealLogs(t *testing.T) {
	for _, tc := range []struct {
		name, logID string
		want        uint32
	}{
		{rome2024h1Origin, base64.StdEncoding.EncodeToString(mustParseLogKey(t, rome2024h1Key).ID[:]), 0x78f4abae},
		{willow2025h1bOrigin, base64.StdEncoding.EncodeToString(mustParseLogKey(t, willow2025h1bKey).ID[:]), 0x19871bb8},
		// Let's Encrypt 'Sycamore2026h1' (log ID from the embedded list),
		// whose checkpoints were signed as "— log.sycamore.ct.letsencrypt.org/2026h1 EEuevw...".
		{"log.sycamore.ct.letsencrypt.org/2026h1", "pcl4kl1XRheChw3YiWYLXFVki30AQPLsB2hR0YhpGfc=", 0x104b9ebf},
	} {
		if got := noteKeyID(tc.name, [32]byte(mustB64(t, tc.logID))); got != tc.want {
			t.Errorf("noteKeyID(%q) = %08x, want %08x", tc.name, got, tc.want)
		}
	}
}

const testOrigin = "log.example.com/2026h2"

func testTreeHead() TreeHead {
	return TreeHead{
		Size:      987654321,
		Timestamp: time.Date(2026, 11, 27, 8, 0, 0, 123e6, time.UTC),
		Root:      sha256.Sum256([]byte("a tree")),
	}
}

func TestParseCheckpoint(t *testing.T) {
	for _, keyType := range []string{"ECDSA", "RSA"} {
		t.Run(keyType, func(t *testing.T) {
			key := newTestLogKey(t)
			if keyType == "RSA" {
				key = newTestRSALogKey(t)
			}
			th := testTreeHead()
			got, err := ParseCheckpoint(key.checkpoint(testOrigin, th), testOrigin, key.public())
			if err != nil {
				t.Fatal(err)
			}
			if got != th {
				t.Errorf("ParseCheckpoint = %+v, want %+v", got, th)
			}
		})
	}
}

func TestParseCheckpointEmptyTree(t *testing.T) {
	key := newTestLogKey(t)
	th := TreeHead{Size: 0, Timestamp: time.UnixMilli(1).UTC(), Root: sha256.Sum256(nil)}
	got, err := ParseCheckpoint(key.checkpoint(testOrigin, th), testOrigin, key.public())
	if err != nil {
		t.Fatal(err)
	}
	if got != th {
		t.Errorf("ParseCheckpoint = %+v, want %+v", got, th)
	}
}

// sigLine returns a signature line for a key name and raw signature bytes.
func sigLine(name string, sig []byte) string {
	return "\u2014 " + name + " " + base64.StdEncoding.EncodeToString(sig) + "\n"
}

// withSigLines returns a signed note of text and the signature lines.
func withSigLines(text string, lines ...string) []byte {
	return []byte(text + "\n" + strings.Join(lines, ""))
}

func TestParseCheckpointSignatures(t *testing.T) {
	key, other := newTestLogKey(t), newTestLogKey(t)
	th := testTreeHead()
	text := checkpointText(testOrigin, th)
	logLine := "\u2014 " + testOrigin + " " + key.noteSignature(testOrigin, th) + "\n"
	wantID := noteKeyID(testOrigin, key.public().ID)

	// Cosignature-like lines from keys that are not the log's.
	witness := sigLine("witness.example.org/w1", append([]byte{1, 2, 3, 4}, bytes.Repeat([]byte{7}, 72)...))
	// A post-quantum cosignature is several kilobytes long.
	pqWitness := sigLine("pq.witness.example", append([]byte{9, 9, 9, 9}, bytes.Repeat([]byte{7}, 2420+8)...))
	// The log's name with another key ID: a rotated key, or grease.
	sameName := sigLine(testOrigin, append([]byte{0, 0, 0, 0}, bytes.Repeat([]byte{7}, 80)...))
	// The log's key ID under another name.
	sameID := sigLine("other.example.com/log", append(bytesOfID(wantID), bytes.Repeat([]byte{7}, 80)...))
	// Another log key's valid signature over the same tree head.
	otherKey := "\u2014 " + testOrigin + " " + other.noteSignature(testOrigin, th) + "\n"

	// The log's signature over another tree head: right key, wrong data.
	wrongSize := th
	wrongSize.Size++
	badLog := "\u2014 " + testOrigin + " " + key.noteSignature(testOrigin, wrongSize) + "\n"
	// The log's key ID with a signature too short to hold a timestamp.
	shortLog := sigLine(testOrigin, append(bytesOfID(wantID), 1, 2, 3))
	// The log's signature with its timestamp changed.
	tsChanged := mustB64(t, strings.Fields(logLine)[2])
	tsChanged[4+7] ^= 1
	tsLog := sigLine(testOrigin, tsChanged)

	for _, tc := range []struct {
		name    string
		note    []byte
		bad     bool // wants ErrBadSignature
		wantErr string
	}{
		{name: "log only", note: withSigLines(text, logLine)},
		{name: "witness before", note: withSigLines(text, witness, logLine)},
		{name: "witnesses after", note: withSigLines(text, logLine, witness, pqWitness)},
		{name: "same name other ID ignored", note: withSigLines(text, sameName, logLine, sameName)},
		{name: "same ID other name ignored", note: withSigLines(text, sameID, logLine)},
		{name: "other log key ignored", note: withSigLines(text, otherKey, logLine)},
		{name: "log signature twice", note: withSigLines(text, logLine, logLine)},
		{name: "16 signatures", note: withSigLines(text, append(repeat(witness, 15), logLine)...)},
		{name: "100 signatures", note: withSigLines(text, append(repeat(witness, 99), logLine)...)},

		{name: "no log signature", note: withSigLines(text, witness, sameName, sameID, otherKey), bad: true, wantErr: "no signature by the log key"},
		{name: "log signature over other data", note: withSigLines(text, badLog), bad: true},
		{name: "bad log signature beside a good one", note: withSigLines(text, logLine, badLog), bad: true},
		{name: "bad log signature before a good one", note: withSigLines(text, badLog, logLine), bad: true},
		{name: "log signature truncated", note: withSigLines(text, shortLog, logLine), bad: true},
		{name: "log timestamp changed", note: withSigLines(text, tsLog), bad: true},
		{name: "101 signatures", note: withSigLines(text, append(repeat(witness, 100), logLine)...), wantErr: "101 signature lines, limit 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCheckpoint(tc.note, testOrigin, key.public())
			switch {
			case tc.bad && !errors.Is(err, ErrBadSignature):
				t.Fatalf("ParseCheckpoint error = %v, want ErrBadSignature", err)
			case !tc.bad && tc.wantErr == "" && err != nil:
				t.Fatalf("ParseCheckpoint: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("ParseCheckpoint error = %v, want one containing %q", err, tc.wantErr)
			case err == nil && got != th:
				t.Fatalf("ParseCheckpoint = %+v, want %+v", got, th)
			}
		})
	}
}

func bytesOfID(id uint32) []byte {
	return []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestParseCheckpointOrigin(t *testing.T) {
	key := newTestLogKey(t)
	th := testTreeHead()
	note := key.checkpoint(testOrigin, th)
	for _, origin := range []string{
		"log.example.com/2026h1",
		"log.example.com/2026h2/",
		"https://log.example.com/2026h2",
		"LOG.example.com/2026h2",
		"log.example.com",
	} {
		_, err := ParseCheckpoint(note, origin, key.public())
		want := fmt.Sprintf("checkpoint: origin %q, want %q", testOrigin, origin)
		if err == nil || err.Error() != want {
			t.Errorf("origin %q: error = %v, want %q", origin, err, want)
		}
	}
	if _, err := ParseCheckpoint(note, "", key.public()); err == nil {
		t.Error("empty origin accepted")
	}
	if _, err := ParseCheckpoint(note, testOrigin, nil); err == nil {
		t.Error("nil key accepted")
	}
	// A checkpoint signed under another name does not verify under ours,
	// even when its first line is changed to our origin.
	renamed := key.checkpoint("log.example.com/2026h1", th)
	renamed = bytes.Replace(renamed, []byte("log.example.com/2026h1\n"), []byte(testOrigin+"\n"), 1)
	if _, err := ParseCheckpoint(renamed, testOrigin, key.public()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("checkpoint signed under another key name: error = %v, want ErrBadSignature", err)
	}
}

func TestParseCheckpointMalformed(t *testing.T) {
	key := newTestLogKey(t)
	th := testTreeHead()
	good := string(key.checkpoint(testOrigin, th))
	text := checkpointText(testOrigin, th)
	logLine := good[len(text)+1:]
	root := base64.StdEncoding.EncodeToString(th.Root[:])
	withText := func(size, root string, extra ...string) string {
		lines := append([]string{testOrigin, size, root}, extra...)
		return strings.Join(lines, "\n") + "\n\n" + logLine
	}

	for _, tc := range []struct {
		name, note, wantErr string
	}{
		{"empty", "", "does not end in a newline"},
		{"no final newline", strings.TrimSuffix(good, "\n"), "does not end in a newline"},
		{"no blank line", strings.Replace(good, "\n\n", "\n", 1), "no blank line"},
		{"no signature lines", text + "\n", "no signature lines"},
		{"blank line at the end", good + "\n", "no signature lines"},
		{"CRLF", strings.ReplaceAll(good, "\n", "\r\n"), "control character 0x0d"},
		{"tab", strings.Replace(good, testOrigin, testOrigin+"\t", 1), "control character 0x09"},
		{"NUL", strings.Replace(good, testOrigin, testOrigin+"\x00", 1), "control character 0x00"},
		{"invalid UTF-8", strings.Replace(good, testOrigin, testOrigin+"\xff", 1), "not valid UTF-8"},
		{"two lines of text", testOrigin + "\n5\n\n" + logLine, "2 lines of text"},
		{"empty origin", "\n5\n" + root + "\n\n" + logLine, "checkpoint: origin \"\""},
		{"size with leading zero", withText("0987654321", root), "tree size \"0987654321\""},
		{"size with plus", withText("+987654321", root), "tree size \"+987654321\""},
		{"negative size", withText("-1", root), "tree size \"-1\""},
		{"empty size", withText("", root), "tree size \"\""},
		{"size 2^64", withText("18446744073709551616", root), "tree size"},
		{"size in hex", withText("0x10", root), "tree size"},
		{"size with space", withText("987654321 ", root), "tree size"},
		{"root 31 bytes", withText("987654321", base64.StdEncoding.EncodeToString(th.Root[:31])), "root hash"},
		{"root 33 bytes", withText("987654321", base64.StdEncoding.EncodeToString(append(th.Root[:], 0))), "root hash"},
		{"root not base64", withText("987654321", strings.Repeat("!", 44)), "root hash"},
		{"root unpadded", withText("987654321", strings.TrimRight(root, "=")), "root hash"},
		{"root URL-safe base64", withText("987654321", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))), "root hash"},
		{"extension line", withText("987654321", root, "extension"), "1 extension lines"},
		{"empty extension line", strings.Replace(good, "\n\n", "\n\n\n", 1), "1 extension lines"},
		{"text line over 1 KiB", withText("987654321", root, strings.Repeat("x", 1025)), "line 4 is 1025 bytes long, limit 1024"},
		{"origin over 1 KiB", strings.Repeat("x", 1025) + "\n5\n" + root + "\n\n" + logLine, "line 1 is 1025 bytes long"},
		{"ASCII dashes", text + "\n-- " + testOrigin + " AAAAAA==\n", "does not start with an em dash"},
		{"em dash without space", text + "\n\u2014" + testOrigin + " AAAAAA==\n", "does not start with an em dash"},
		{"no signature after name", text + "\n\u2014 " + testOrigin + "\n", "no space between"},
		{"empty key name", text + "\n\u2014  AAAAAA==\n", "empty key name"},
		{"plus in key name", text + "\n\u2014 a+b AAAAAA==\n", "contains a space or a plus"},
		{"no-break space in key name", text + "\n\u2014 a\u00a0b AAAAAA==\n", "contains a space or a plus"},
		{"signature not base64", text + "\n\u2014 " + testOrigin + " !!!!\n", "not base64"},
		{"two spaces before signature", text + "\n\u2014 " + testOrigin + "  AAAAAA==\n", "not base64"},
		{"signature of 3 bytes", text + "\n\u2014 " + testOrigin + " AAAA\n", "no room for a key ID"},
		{"malformed witness line", text + "\n" + logLine + "garbage\n", "signature line 2: does not start with an em dash"},
		{"signature line over 8 KiB", text + "\n" + logLine + sigLine("w.example", make([]byte, 6200)), "signature line 2: 8282 bytes long, limit 8192"},
		{"note over 1 MiB", text + "\n" + logLine + strings.Repeat(sigLine("w.example", make([]byte, 16)), 1<<20/36), "limit 1048576"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCheckpoint([]byte(tc.note), testOrigin, key.public())
			if err == nil {
				t.Fatal("malformed checkpoint accepted")
			}
			if errors.Is(err, ErrBadSignature) {
				t.Errorf("malformed checkpoint reported as a bad signature: %v", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %q, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// fuzzLogKey returns a log key that is the same in every fuzzing process,
// so that seed checkpoints signed with it stay valid in fuzz workers.
func fuzzLogKey(f *testing.F) *testLogKey {
	f.Helper()
	scalar := sha256.Sum256([]byte("ward internal/ct FuzzParseCheckpoint"))
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	if err != nil {
		f.Fatal(err)
	}
	return newTestLogKeyFrom(f, priv)
}

func FuzzParseCheckpoint(f *testing.F) {
	test := fuzzLogKey(f)
	th := testTreeHead()
	logs := []struct {
		origin string
		key    *LogKey
	}{
		{rome2024h1Origin, mustParseLogKey(f, rome2024h1Key)},
		{willow2025h1bOrigin, mustParseLogKey(f, willow2025h1bKey)},
		{testOrigin, test.public()},
	}
	f.Add([]byte(rome2024h1Checkpoint))
	f.Add([]byte(willow2025h1bCheckpoint))
	f.Add(test.checkpoint(testOrigin, th))
	f.Add(append(test.checkpoint(testOrigin, th), sigLine("witness.example", make([]byte, 76))...))
	f.Add([]byte(checkpointText(testOrigin, th) + "ext\n\n\u2014 " + testOrigin + " AAAAAA==\n"))
	f.Add([]byte("\n\n\u2014 a AAAAAA==\n"))
	f.Fuzz(func(t *testing.T, note []byte) {
		for _, l := range logs {
			got, err := ParseCheckpoint(note, l.origin, l.key)
			if err != nil {
				continue
			}
			// Whatever was accepted has the expected origin, a size and
			// root as written, and a signature line by the log.
			want := fmt.Sprintf("%s\n%d\n%s\n\n", l.origin, got.Size, base64.StdEncoding.EncodeToString(got.Root[:]))
			if !bytes.HasPrefix(note, []byte(want)) {
				t.Fatalf("accepted a note that does not start with %q", want)
			}
			if !bytes.Contains(note, []byte("\n\u2014 "+l.origin+" ")) {
				t.Fatal("accepted a note without a signature line by the log")
			}
			if got.Timestamp.Location() != time.UTC || got.Timestamp.Nanosecond()%1e6 != 0 {
				t.Fatalf("timestamp %v is not whole milliseconds in UTC", got.Timestamp)
			}
		}
	})
}
