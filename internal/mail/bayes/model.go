package bayes

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strings"
)

//go:generate go run ./train -data ../../../../shared/data/mail/spamassassin_public_corpus -o model.bin

// builtin is the model trained by ./train on the SpamAssassin public
// corpus; README.md says how.
//
//go:embed model.bin
var builtin []byte

// Parameters of Robinson's combining, the values SpamBayes ships with.
const (
	// priorStrength (Robinson's s) is how many messages' worth of weight
	// the prior has against a word's own counts.
	priorStrength = 0.45
	// priorProb (Robinson's x) is the spam probability of a word seen in
	// no message.
	priorProb = 0.5
	// minDeviation is how far from 0.5 a word's probability must be for
	// the word to count.
	minDeviation = 0.1
	// MaxClues is the number of most telling words that decide.
	MaxClues = 150
)

// Bounds of a model file.
const (
	// MaxModelSize is the largest model file Load reads, in bytes.
	MaxModelSize = 8 << 20
	// MaxModelTokens is the most tokens a model file may hold.
	MaxModelTokens = 1 << 20
	// maxTokenLen is the longest token a model file may hold, in bytes
	// (MaxWord runes of up to 4 bytes, or a header token).
	maxTokenLen = 4 * MaxWord
)

// magic opens every model file: the format's name and version.
const magic = "WARDBAYES1\n"

// ErrModel is returned (wrapped) by Load for a file that is not a valid
// model.
var ErrModel = errors.New("bayes: not a valid model file")

// Model is a trained classifier. It is immutable and safe for concurrent
// use.
type Model struct {
	spamDocs, hamDocs uint32
	tokens            []string // sorted
	counts            [][2]uint32
	// index maps a token to its position in tokens; prob holds each
	// token's probability of spam (Robinson's f(w)).
	index map[string]int32
	prob  []float64
}

// newModel builds a model from sorted tokens and their counts of spam and
// ham messages out of spamDocs and hamDocs.
func newModel(spamDocs, hamDocs uint32, tokens []string, counts [][2]uint32) *Model {
	m := &Model{spamDocs: spamDocs, hamDocs: hamDocs, tokens: tokens, counts: counts,
		index: make(map[string]int32, len(tokens)), prob: make([]float64, len(tokens))}
	for i, t := range tokens {
		m.index[t] = int32(i)
		m.prob[i] = m.wordProb(counts[i][0], counts[i][1])
	}
	return m
}

// wordProb is Robinson's f(w): the share of spam among the messages that
// hold the word, each class weighed by its size, pulled toward priorProb
// when the word is rare.
func (m *Model) wordProb(spam, ham uint32) float64 {
	var b, g float64
	if m.spamDocs > 0 {
		b = float64(spam) / float64(m.spamDocs)
	}
	if m.hamDocs > 0 {
		g = float64(ham) / float64(m.hamDocs)
	}
	n := float64(spam) + float64(ham)
	if b+g == 0 {
		return priorProb
	}
	p := b / (b + g)
	return (priorStrength*priorProb + n*p) / (priorStrength + n)
}

// Default returns the built-in model (model.bin). It fails only when the
// embedded file is broken, which the tests catch.
func Default() (*Model, error) { return Load(builtin) }

// Load reads a model in the binary form that MarshalBinary writes. The
// error wraps ErrModel and says what is wrong.
func Load(b []byte) (*Model, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s; regenerate it with go generate ./internal/mail/bayes", ErrModel, fmt.Sprintf(format, args...))
	}
	r, problem := unframe(b, magic, MaxModelSize)
	if problem != "" {
		return nil, bad("%s", problem)
	}
	spamDocs, hamDocs, n := r.uvarint(), r.uvarint(), r.uvarint()
	if r.err != nil || spamDocs > math.MaxUint32 || hamDocs > math.MaxUint32 || n > MaxModelTokens {
		return nil, bad("bad counts in the header")
	}
	tokens := make([]string, 0, n)
	counts := make([][2]uint32, 0, n)
	problem = r.tokenCounts(n, func(i uint64, tok string, s, h uint64) string {
		if s > spamDocs || h > hamDocs {
			return fmt.Sprintf("token %d counts more messages than the model was trained on", i)
		}
		tokens = append(tokens, tok)
		counts = append(counts, [2]uint32{uint32(s), uint32(h)})
		return ""
	})
	if problem != "" {
		return nil, bad("%s", problem)
	}
	if len(r.b) != 0 {
		return nil, bad("%d bytes after the last token", len(r.b))
	}
	return newModel(uint32(spamDocs), uint32(hamDocs), tokens, counts), nil
}

// MarshalBinary returns the model's binary form: the magic line, the
// message counts, each token (sorted) with its spam and ham counts as
// uvarints, then a CRC-32 of all that. The same model gives the same
// bytes.
func (m *Model) MarshalBinary() ([]byte, error) {
	b := []byte(magic)
	b = binary.AppendUvarint(b, uint64(m.spamDocs))
	b = binary.AppendUvarint(b, uint64(m.hamDocs))
	b = binary.AppendUvarint(b, uint64(len(m.tokens)))
	for i, t := range m.tokens {
		b = appendTokenCounts(b, t, m.counts[i])
	}
	return frame(b), nil
}

// The framing shared by model and learning files: a magic line first, a
// big-endian CRC-32 of everything before it last, and, between, tokens
// with their counts as uvarints.

// unframe checks b's size, magic line and checksum and returns a reader
// over what lies between them, or what is wrong.
func unframe(b []byte, magic string, maxSize int) (reader, string) {
	if len(b) > maxSize {
		return reader{}, fmt.Sprintf("%d bytes, over the %d-byte limit", len(b), maxSize)
	}
	if len(b) < len(magic)+4 || string(b[:len(magic)]) != magic {
		return reader{}, fmt.Sprintf("it does not start with %q", strings.TrimSpace(magic))
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return reader{}, "checksum mismatch (truncated or damaged)"
	}
	return reader{b: body[len(magic):]}, ""
}

// frame appends the checksum of b to b.
func frame(b []byte) []byte { return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b)) }

// appendTokenCounts appends a token and its spam and ham counts.
func appendTokenCounts(b []byte, tok string, c [2]uint32) []byte {
	b = binary.AppendUvarint(b, uint64(len(tok)))
	b = append(b, tok...)
	b = binary.AppendUvarint(b, uint64(c[0]))
	return binary.AppendUvarint(b, uint64(c[1]))
}

// tokenCounts reads n tokens with their counts, which must come in
// strictly increasing token order, and hands each to check; it returns
// the first problem, read or checked.
func (r *reader) tokenCounts(n uint64, check func(i uint64, tok string, spam, ham uint64) string) string {
	prev := ""
	for i := uint64(0); i < n; i++ {
		t := string(r.bytes(maxTokenLen))
		s, h := r.uvarint(), r.uvarint()
		if r.err != nil {
			return fmt.Sprintf("token %d: %v", i, r.err)
		}
		if i > 0 && prev >= t {
			return fmt.Sprintf("token %d is out of order or repeated", i)
		}
		prev = t
		if problem := check(i, t, s, h); problem != "" {
			return problem
		}
	}
	return ""
}

// Size returns the number of tokens the model knows and the numbers of
// spam and ham messages it was trained on.
func (m *Model) Size() (tokens, spam, ham int) {
	return len(m.tokens), int(m.spamDocs), int(m.hamDocs)
}

// Result is the classifier's judgement on one message.
type Result struct {
	// Spam is the probability that the message is spam, from 0 to 1;
	// 0.5 means the words say nothing either way.
	Spam float64
	// Clues is the number of tokens that decided (at most MaxClues).
	Clues int
}

// clue is one token's probability, with its place in the model for a
// deterministic order among equals.
type clue struct {
	dev, prob float64
	id        int32
}

// Classify returns the spam probability of m: the MaxClues tokens whose
// probability is furthest from 0.5 (at least minDeviation away) are
// combined by Fisher's method, once for the hypothesis "spam" and once for
// "ham", and the two are weighed against each other (Robinson's
// chi-square combining). Each distinct token counts once.
func (m *Model) Classify(msg Message) Result {
	var clues []clue
	seen := make(map[int32]struct{}, 64)
	addToken := func(id int32) {
		if _, dup := seen[id]; dup {
			return
		}
		seen[id] = struct{}{}
		p := m.prob[id]
		if d := math.Abs(p - 0.5); d >= minDeviation {
			clues = append(clues, clue{dev: d, prob: p, id: id})
		}
	}
	words(msg.Text, func(w []byte) bool {
		if id, ok := m.index[string(w)]; ok {
			addToken(id)
		}
		return true
	})
	for _, h := range headerTokens(msg) {
		if id, ok := m.index[h]; ok {
			addToken(id)
		}
	}
	if len(clues) > MaxClues {
		slices.SortFunc(clues, func(a, b clue) int {
			if a.dev != b.dev {
				if a.dev > b.dev {
					return -1
				}
				return 1
			}
			return int(a.id - b.id)
		})
		clues = clues[:MaxClues]
	}
	if len(clues) == 0 {
		return Result{Spam: 0.5}
	}
	var lnSpam, lnHam float64
	for _, c := range clues {
		lnHam += math.Log(c.prob)
		lnSpam += math.Log(1 - c.prob)
	}
	n := 2 * len(clues)
	// s is near 1 when many clues are near 1 (spam), h when many are
	// near 0 (ham).
	s := 1 - chi2Q(-2*lnSpam, n)
	h := 1 - chi2Q(-2*lnHam, n)
	p := (s - h + 1) / 2
	return Result{Spam: min(max(p, 0), 1), Clues: len(clues)}
}

// chi2Q returns the probability that a chi-square variable with v degrees
// of freedom (v even) exceeds x2: the series e^-m · Σ m^i/i! for
// i < v/2, m = x2/2.
func chi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	term := math.Exp(-m)
	sum := term
	for i := 1; i < v/2; i++ {
		term *= m / float64(i)
		sum += term
	}
	return min(sum, 1)
}

// reader reads the parts of a model file, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || n != binary.PutUvarint(make([]byte, binary.MaxVarintLen64), v) {
		r.err = errors.New("bad, padded or truncated number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(limit int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n == 0 || n > uint64(limit) || n > uint64(len(r.b)) {
		r.err = fmt.Errorf("token length %d out of range", n)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}
