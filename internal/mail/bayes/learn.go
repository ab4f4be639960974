package bayes

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/atomicfile"
)

// Bounds of what a site can teach the classifier.
const (
	// MaxLearned is the most messages a Learning holds.
	MaxLearned = 1 << 20
	// MaxLearningSize is the largest learning file LoadLearning reads.
	MaxLearningSize = 64 << 20
)

// learnMagic opens every learning file: the format's name and version.
const learnMagic = "WARDLEARN1\n"

// ErrLearning is returned (wrapped) by LoadLearning for a file that is not
// a valid learning file.
var ErrLearning = errors.New("bayes: not a valid learning file")

// ErrFull is returned by Learning.Learn when the learning holds MaxLearned
// messages or MaxModelTokens tokens already.
var ErrFull = errors.New("bayes: the learning is full")

// Digest identifies a message by its tokens: two messages with the same
// words are the same to the classifier, and are learned once.
type Digest [16]byte

// DigestOf returns the digest of a message's tokens, as Tokens gives them.
func DigestOf(tokens []string) Digest {
	h := sha256.New()
	for _, t := range tokens {
		h.Write([]byte(t))
		h.Write([]byte{0})
	}
	var d Digest
	copy(d[:], h.Sum(nil))
	return d
}

// Outcome says what Learning.Learn did with a message.
type Outcome int

const (
	// Learned: the message was new and is now counted.
	Learned Outcome = iota
	// Relearned: the message was counted as the other class and is now
	// counted as this one (an analyst corrected a verdict).
	Relearned
	// Known: the message was already counted as this class; nothing
	// changed.
	Known
	// Empty: the message has no tokens; there is nothing to learn.
	Empty
)

func (o Outcome) String() string {
	return [...]string{"learned", "relearned", "already known", "no words"}[o]
}

// Learning is what a site has taught the classifier: the messages its
// analysts judged spam (phishing, scams, bulk) or ham, counted the way a
// Trainer counts them, and which messages those were, so that a message is
// learned once and can be moved to the other class or forgotten. Learning
// goes on top of the built-in model (Model). The zero Learning is empty
// and ready. A Learning is not safe for concurrent use.
type Learning struct {
	spamDocs, hamDocs uint32
	counts            map[string]*[2]uint32
	seen              map[Digest]bool // true: spam
}

// Size returns the numbers of spam and ham messages learned and of
// distinct tokens they hold.
func (l *Learning) Size() (spam, ham, tokens int) {
	return int(l.spamDocs), int(l.hamDocs), len(l.counts)
}

// Learn counts a message, given by its tokens (Tokens), as spam or ham.
func (l *Learning) Learn(tokens []string, spam bool) (Outcome, error) {
	if len(tokens) == 0 {
		return Empty, nil
	}
	d := DigestOf(tokens)
	was, ok := l.seen[d]
	if ok && was == spam {
		return Known, nil
	}
	if !ok {
		if len(l.seen) >= MaxLearned {
			return Empty, fmt.Errorf("%w: %d messages", ErrFull, MaxLearned)
		}
		fresh := 0
		for _, t := range tokens {
			if l.counts[t] == nil {
				fresh++
			}
		}
		if len(l.counts)+fresh > MaxModelTokens {
			return Empty, fmt.Errorf("%w: %d distinct words", ErrFull, MaxModelTokens)
		}
	}
	if l.counts == nil {
		l.counts = map[string]*[2]uint32{}
		l.seen = map[Digest]bool{}
	}
	if ok {
		l.count(tokens, was, false)
	}
	l.count(tokens, spam, true)
	l.seen[d] = spam
	if ok {
		return Relearned, nil
	}
	return Learned, nil
}

// Forget takes a learned message out again and reports whether it was
// learned.
func (l *Learning) Forget(tokens []string) bool {
	d := DigestOf(tokens)
	was, ok := l.seen[d]
	if !ok {
		return false
	}
	l.count(tokens, was, false)
	delete(l.seen, d)
	return true
}

// count adds (or, with add false, takes away) one message of a class.
func (l *Learning) count(tokens []string, spam, add bool) {
	class := 1
	docs := &l.hamDocs
	if spam {
		class, docs = 0, &l.spamDocs
	}
	step := func(n *uint32) {
		if add {
			*n++
		} else if *n > 0 {
			*n--
		}
	}
	step(docs)
	for _, t := range tokens {
		c := l.counts[t]
		if c == nil {
			c = new([2]uint32)
			l.counts[t] = c
		}
		step(&c[class])
		if c[0] == 0 && c[1] == 0 {
			delete(l.counts, t)
		}
	}
}

// Model returns the classifier of base (the built-in model, or nil for
// none) with what was learned added: every token kept, since a site's
// reports are few and a word seen once in them already tells. With base
// nil, the learning needs messages of both classes.
func (l *Learning) Model(base *Model) (*Model, error) {
	var t Trainer
	if base != nil {
		t.AddModel(base)
	}
	t.spamDocs += l.spamDocs
	t.hamDocs += l.hamDocs
	if t.counts == nil {
		t.counts = make(map[string]*[2]uint32, len(l.counts))
	}
	for tok, c := range l.counts {
		tc := t.counts[tok]
		if tc == nil {
			tc = new([2]uint32)
			t.counts[tok] = tc
		}
		tc[0] += c[0]
		tc[1] += c[1]
	}
	return t.Model(TrainOptions{MinCount: 1, MaxTokens: MaxModelTokens})
}

// MarshalBinary returns the learning's binary form: the magic line, the
// message counts, each token (sorted) with its spam and ham counts, each
// message's digest (sorted) with its class, then a CRC-32 of all that.
// The same learning gives the same bytes.
func (l *Learning) MarshalBinary() ([]byte, error) {
	b := []byte(learnMagic)
	b = binary.AppendUvarint(b, uint64(l.spamDocs))
	b = binary.AppendUvarint(b, uint64(l.hamDocs))
	toks := make([]string, 0, len(l.counts))
	for t := range l.counts {
		toks = append(toks, t)
	}
	slices.Sort(toks)
	b = binary.AppendUvarint(b, uint64(len(toks)))
	for _, t := range toks {
		b = appendTokenCounts(b, t, *l.counts[t])
	}
	ds := make([]Digest, 0, len(l.seen))
	for d := range l.seen {
		ds = append(ds, d)
	}
	slices.SortFunc(ds, func(a, b Digest) int { return strings.Compare(string(a[:]), string(b[:])) })
	b = binary.AppendUvarint(b, uint64(len(ds)))
	for _, d := range ds {
		b = append(b, d[:]...)
		if l.seen[d] {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return frame(b), nil
}

// LoadLearning reads a learning in the form MarshalBinary writes. The
// error wraps ErrLearning and says what is wrong.
func LoadLearning(b []byte) (*Learning, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s; restore it from a backup, or move it away and learn the messages again", ErrLearning, fmt.Sprintf(format, args...))
	}
	r, problem := unframe(b, learnMagic, MaxLearningSize)
	if problem != "" {
		return nil, bad("%s", problem)
	}
	spamDocs, hamDocs, n := r.uvarint(), r.uvarint(), r.uvarint()
	if r.err != nil || spamDocs > math.MaxUint32 || hamDocs > math.MaxUint32 || spamDocs+hamDocs > MaxLearned || n > MaxModelTokens {
		return nil, bad("bad counts in the header")
	}
	l := &Learning{spamDocs: uint32(spamDocs), hamDocs: uint32(hamDocs),
		counts: make(map[string]*[2]uint32, n), seen: map[Digest]bool{}}
	problem = r.tokenCounts(n, func(i uint64, tok string, s, h uint64) string {
		if s > spamDocs || h > hamDocs || s+h == 0 {
			return fmt.Sprintf("token %d has counts out of range", i)
		}
		l.counts[tok] = &[2]uint32{uint32(s), uint32(h)}
		return ""
	})
	if problem != "" {
		return nil, bad("%s", problem)
	}
	m := r.uvarint()
	if r.err != nil || m != spamDocs+hamDocs {
		return nil, bad("the message list does not match the message counts")
	}
	if uint64(len(r.b)) != m*17 {
		return nil, bad("the message list is %d bytes, want %d", len(r.b), m*17)
	}
	var spam uint64
	var last Digest
	for i := uint64(0); i < m; i++ {
		var d Digest
		copy(d[:], r.b[i*17:])
		c := r.b[i*17+16]
		if c > 1 {
			return nil, bad("message %d has class %d", i, c)
		}
		if i > 0 && string(last[:]) >= string(d[:]) {
			return nil, bad("message %d is out of order or repeated", i)
		}
		last = d
		l.seen[d] = c == 1
		if c == 1 {
			spam++
		}
	}
	if spam != spamDocs {
		return nil, bad("%d messages are marked spam but %d are counted", spam, spamDocs)
	}
	return l, nil
}

// ReadLearningFile reads a learning file written by WriteFile. A missing
// file is an empty learning: learning starts from nothing.
func ReadLearningFile(path string) (*Learning, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Learning{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the learning file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxLearningSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the learning file %s: %w", path, err)
	}
	l, err := LoadLearning(b)
	if err != nil {
		return nil, fmt.Errorf("the learning file %s: %w", path, err)
	}
	return l, nil
}

// WriteFile replaces the file at path with the learning, whole or not at
// all: a crash while writing leaves the old file.
func (l *Learning) WriteFile(path string) error {
	b, err := l.MarshalBinary()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, 0o600, b); err != nil {
		return fmt.Errorf("writing the learning file: %w", err)
	}
	return nil
}

// errLockBusy is what lockFile returns when the lock stays held.
var errLockBusy = errors.New("busy")

// ErrBusy is returned (wrapped) by UpdateLearningFile when another process
// keeps the learning file locked longer than the wait.
var ErrBusy = errors.New("bayes: the learning file is being written by another process")

// UpdateLearningFile changes the learning file at path under a lock
// (PATH.lock, flock(2)): it reads the file as it is now, lets update
// change the learning, and writes it back whole when update says it
// changed. Two writers (ward serve learning through its API, "ward mail
// learn" by hand) thus never lose each other's lessons. It waits up to
// wait for the lock, then gives ErrBusy. When update returns an error,
// what it changed so far is still written, and the error is returned.
func UpdateLearningFile(path string, wait time.Duration, update func(*Learning) (changed bool, err error)) (*Learning, error) {
	unlock, err := lockFile(path+".lock", wait)
	if errors.Is(err, errLockBusy) {
		return nil, fmt.Errorf("%w (%s.lock held for more than %v): try again when it is done", ErrBusy, path, wait)
	}
	if err != nil {
		return nil, fmt.Errorf("locking the learning file: %w", err)
	}
	defer unlock()
	l, err := ReadLearningFile(path)
	if err != nil {
		return nil, err
	}
	changed, uerr := update(l)
	if changed {
		if err := l.WriteFile(path); err != nil {
			return nil, err
		}
	}
	return l, uerr
}
