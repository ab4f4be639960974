package ct

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds on the signed notes ParseCheckpoint reads. A log's checkpoint is a
// few hundred bytes; the bounds only stop a hostile or broken server from
// making the parser do unbounded work.
const (
	// maxNoteSize bounds a whole note.
	maxNoteSize = 1 << 20
	// maxNoteSignatures bounds the number of signature lines. The signed-note
	// spec requires accepting at least 16.
	maxNoteSignatures = 100
	// maxNoteTextLine bounds each line of the note text (origin, size,
	// root hash).
	maxNoteTextLine = 1 << 10
	// maxNoteSignatureLine bounds each signature line. It is larger than
	// maxNoteTextLine because a witness may cosign with a post-quantum
	// algorithm: an ML-DSA-44 signature is 2,420 bytes, over 3 KiB in
	// base64, and the signed-note spec warns of signatures of nearly 5 kB.
	// Such a cosignature must not make the log's own checkpoint unreadable.
	maxNoteSignatureLine = 8 << 10
)

// noteSigTypeRFC6962 is the signed-note signature type identifier byte of an
// RFC6962NoteSignature (c2sp.org/signed-note, c2sp.org/static-ct-api).
const noteSigTypeRFC6962 = 0x05

// noteSignaturePrefix starts every signature line: an em dash (U+2014) and a
// space.
const noteSignaturePrefix = "\u2014 "

// noteKeyID is the signed-note key ID of a static-ct-api log's
// RFC6962NoteSignature: the first four bytes, big-endian, of
// SHA-256(key name || 0x0A || 0x05 || RFC 6962 log ID).
func noteKeyID(name string, logID [32]byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', noteSigTypeRFC6962})
	h.Write(logID[:])
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// ParseCheckpoint parses and verifies the checkpoint of a static-ct-api log
// (c2sp.org/static-ct-api): a signed note (c2sp.org/signed-note) whose text
// is a checkpoint (c2sp.org/tlog-checkpoint), signed by the log's key with an
// RFC6962NoteSignature.
//
// origin is the expected first line of the checkpoint and the key name of
// the log's signature; it must match exactly. For logs that follow the spec
// it is the submission URL without "https://" and without the trailing
// slash, which is what [Log.Origin] returns.
//
// Signature lines from other keys, such as witness cosignatures, are
// ignored. At least one signature by key is required, and every signature
// line with the log's key name and key ID must verify; otherwise the error
// wraps ErrBadSignature. A note over 1 MiB, with more than 100 signature
// lines, with a text line over 1 KiB or a signature line over 8 KiB, with
// extension lines (which static-ct-api forbids, as its signature does not
// cover them) or otherwise malformed is an error.
//
// The returned Timestamp is the one in the log's signature.
func ParseCheckpoint(note []byte, origin string, key *LogKey) (TreeHead, error) {
	if key == nil {
		return TreeHead{}, errors.New("checkpoint: no log key to verify with")
	}
	if origin == "" {
		return TreeHead{}, errors.New("checkpoint: empty expected origin")
	}
	text, sigLines, err := splitNote(note)
	if err != nil {
		return TreeHead{}, err
	}
	th, err := parseCheckpointText(text, origin)
	if err != nil {
		return TreeHead{}, err
	}

	wantID := noteKeyID(origin, key.ID)
	found := false
	for i, line := range sigLines {
		name, sig, err := parseSignatureLine(line)
		if err != nil {
			return TreeHead{}, fmt.Errorf("checkpoint: signature line %d: %w", i+1, err)
		}
		if name != origin || binary.BigEndian.Uint32(sig) != wantID {
			continue // another key: a witness, a key rotation, grease
		}
		// RFC6962NoteSignature: uint64 timestamp || DigitallySigned.
		body := sig[4:]
		if len(body) < 8 {
			return TreeHead{}, fmt.Errorf("checkpoint: log signature of %d bytes is truncated: %w", len(body), ErrBadSignature)
		}
		ms := binary.BigEndian.Uint64(body)
		if err := key.verifyTreeHead(ms, th.Size, th.Root, body[8:]); err != nil {
			return TreeHead{}, fmt.Errorf("checkpoint: signature line %d (%s %08x): %w", i+1, name, wantID, err)
		}
		if ms > math.MaxInt64 {
			return TreeHead{}, fmt.Errorf("checkpoint: signed timestamp %d is out of range", ms)
		}
		if !found {
			th.Timestamp = time.UnixMilli(int64(ms)).UTC()
			found = true
		}
	}
	if !found {
		return TreeHead{}, fmt.Errorf("checkpoint: no signature by the log key %s %08x among %d signature lines: %w", origin, wantID, len(sigLines), ErrBadSignature)
	}
	return th, nil
}

// splitNote checks the signed-note framing of note and returns its text
// (with its final newline) and its signature lines (without newlines).
func splitNote(note []byte) (text []byte, sigLines []string, err error) {
	if len(note) > maxNoteSize {
		return nil, nil, fmt.Errorf("checkpoint: note of %d bytes, limit %d", len(note), maxNoteSize)
	}
	if !utf8.Valid(note) {
		return nil, nil, errors.New("checkpoint: note is not valid UTF-8")
	}
	for i, c := range note {
		if c < 0x20 && c != '\n' {
			return nil, nil, fmt.Errorf("checkpoint: control character 0x%02x at byte %d", c, i)
		}
	}
	if len(note) == 0 || note[len(note)-1] != '\n' {
		return nil, nil, errors.New("checkpoint: note does not end in a newline")
	}
	// The text is separated from the signatures by the last blank line.
	i := bytes.LastIndex(note, []byte("\n\n"))
	if i < 0 {
		return nil, nil, errors.New("checkpoint: no blank line before the signatures")
	}
	text, sigs := note[:i+1], note[i+2:]
	if len(sigs) == 0 {
		return nil, nil, errors.New("checkpoint: no signature lines")
	}
	sigLines = strings.Split(string(sigs[:len(sigs)-1]), "\n")
	if len(sigLines) > maxNoteSignatures {
		return nil, nil, fmt.Errorf("checkpoint: %d signature lines, limit %d", len(sigLines), maxNoteSignatures)
	}
	return text, sigLines, nil
}

// parseSignatureLine parses "— <key name> <base64 signature>" and returns
// the key name and the decoded signature, which starts with the 4-byte key
// ID.
func parseSignatureLine(line string) (name string, sig []byte, err error) {
	if len(line) > maxNoteSignatureLine {
		return "", nil, fmt.Errorf("%d bytes long, limit %d", len(line), maxNoteSignatureLine)
	}
	rest, ok := strings.CutPrefix(line, noteSignaturePrefix)
	if !ok {
		return "", nil, errors.New("does not start with an em dash and a space")
	}
	name, b64, ok := strings.Cut(rest, " ")
	if !ok {
		return "", nil, errors.New("no space between key name and signature")
	}
	if name == "" {
		return "", nil, errors.New("empty key name")
	}
	if strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == '+' }) {
		return "", nil, fmt.Errorf("key name %q contains a space or a plus", name)
	}
	sig, err = base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", nil, errors.New("signature is not base64")
	}
	if len(sig) < 4 {
		return "", nil, fmt.Errorf("signature of %d bytes has no room for a key ID", len(sig))
	}
	return name, sig, nil
}

// parseCheckpointText parses a checkpoint's note text (c2sp.org/tlog-checkpoint)
// whose origin must be origin. It returns the size and root; the timestamp
// comes from the signature.
func parseCheckpointText(text []byte, origin string) (TreeHead, error) {
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	for i, l := range lines {
		if len(l) > maxNoteTextLine {
			return TreeHead{}, fmt.Errorf("checkpoint: line %d is %d bytes long, limit %d", i+1, len(l), maxNoteTextLine)
		}
	}
	if len(lines) < 3 {
		return TreeHead{}, fmt.Errorf("checkpoint: %d lines of text, need origin, tree size and root hash", len(lines))
	}
	if lines[0] != origin {
		return TreeHead{}, fmt.Errorf("checkpoint: origin %q, want %q", lines[0], origin)
	}
	size, err := parseTreeSize(lines[1])
	if err != nil {
		return TreeHead{}, err
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != sha256.Size {
		return TreeHead{}, fmt.Errorf("checkpoint: root hash %q is not %d bytes in base64", lines[2], sha256.Size)
	}
	if ext := len(lines) - 3; ext > 0 {
		return TreeHead{}, fmt.Errorf("checkpoint: %d extension lines, but a static-ct-api checkpoint has none (its signature would not cover them)", ext)
	}
	th := TreeHead{Size: size}
	copy(th.Root[:], root)
	return th, nil
}

// parseTreeSize parses a decimal tree size with no sign and no leading
// zeroes.
func parseTreeSize(s string) (uint64, error) {
	bad := s == "" || (s[0] == '0' && s != "0") || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	n, err := strconv.ParseUint(s, 10, 64)
	if bad || err != nil {
		return 0, fmt.Errorf("checkpoint: tree size %q is not a decimal number below 2^64 without leading zeroes", s)
	}
	return n, nil
}
