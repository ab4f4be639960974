package bayes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

func toks(text string) []string { return Tokens(Message{Text: text}) }

func TestLearnOutcomes(t *testing.T) {
	var l Learning
	phish := toks("verify your mailbox quota now or lose access")
	news := toks("minutes of the ward meeting on thursday")
	for _, c := range []struct {
		tokens []string
		spam   bool
		want   Outcome
	}{
		{phish, true, Learned},
		{phish, true, Known},
		{news, false, Learned},
		{news, true, Relearned},
		{news, false, Relearned},
		{nil, true, Empty},
	} {
		got, err := l.Learn(c.tokens, c.spam)
		if err != nil || got != c.want {
			t.Fatalf("Learn(%v, %v) = %v, %v; want %v", c.tokens, c.spam, got, err, c.want)
		}
	}
	if s, h, n := l.Size(); s != 1 || h != 1 || n != len(phish)+len(news) {
		t.Fatalf("Size = %d spam, %d ham, %d tokens", s, h, n)
	}
	if c := l.counts["mailbox"]; c == nil || *c != [2]uint32{1, 0} {
		t.Fatalf("mailbox counts %v", c)
	}
	if c := l.counts["minutes"]; c == nil || *c != [2]uint32{0, 1} {
		t.Fatalf("minutes counts %v, want only the ham count left after relearning", c)
	}
	if !l.Forget(news) || l.Forget(news) {
		t.Fatal("Forget: want true once, then false")
	}
	if s, h, n := l.Size(); s != 1 || h != 0 || n != len(phish) {
		t.Fatalf("after Forget: %d spam, %d ham, %d tokens", s, h, n)
	}
	if l.counts["minutes"] != nil {
		t.Fatal("a forgotten message's words are still counted")
	}
}

// TestLearningModel checks that learned reports move the classifier: a
// campaign's wording, unknown to the base model, scores as spam once a
// few of its messages are learned, and ham learned stays ham.
func TestLearningModel(t *testing.T) {
	base := synthetic(t)
	campaign := "zorvex keto fastburn capsules shipped discreetly zorvex"
	before := base.Classify(Message{Text: campaign + " today"}).Spam
	var l Learning
	for _, v := range []string{"one", "two", "three"} {
		if _, err := l.Learn(toks(campaign+" offer "+v), true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Learn(toks("quarterly pharmacy formulary update capsules"), false); err != nil {
		t.Fatal(err)
	}
	m, err := l.Model(base)
	if err != nil {
		t.Fatal(err)
	}
	after := m.Classify(Message{Text: campaign + " today"}).Spam
	if after < 0.9 || after <= before {
		t.Fatalf("campaign: p = %.3f before learning, %.3f after; want >= 0.9 after", before, after)
	}
	_, bs, bh := base.Size()
	if _, s, h := m.Size(); s != bs+3 || h != bh+1 {
		t.Fatalf("model trained on %d spam, %d ham; want %d, %d", s, h, bs+3, bh+1)
	}
	if _, err := (&Learning{}).Model(nil); err == nil {
		t.Fatal("an empty learning without a base made a model")
	}
}

func TestLearningRoundTrip(t *testing.T) {
	var l Learning
	for i, s := range []string{"reset your password here", "lunch menu for friday", "invoice attached please pay", "rota for the night shift"} {
		if _, err := l.Learn(toks(s), i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	b, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadLearning(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := back.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("a loaded learning marshals to other bytes")
	}
	if o, _ := back.Learn(toks("lunch menu for friday"), false); o != Known {
		t.Fatalf("a loaded learning forgot which messages it holds: %v", o)
	}
	empty, _ := (&Learning{}).MarshalBinary()
	if _, err := LoadLearning(empty); err != nil {
		t.Fatalf("empty learning: %v", err)
	}

	resum := func(body []byte) []byte {
		return binary.BigEndian.AppendUint32(body, crc32.ChecksumIEEE(body))
	}
	body := b[:len(b)-4]
	for name, in := range map[string][]byte{
		"truncated":       b[:len(b)-10],
		"flipped":         append(append([]byte{}, b[:20]...), append([]byte{b[20] ^ 1}, b[21:]...)...),
		"model file":      mustMarshal(t, synthetic(t)),
		"short digests":   resum(append([]byte{}, body[:len(body)-1]...)),
		"bad class":       resum(append(append([]byte{}, body[:len(body)-1]...), 7)),
		"empty":           nil,
		"over size limit": make([]byte, MaxLearningSize+1),
	} {
		if _, err := LoadLearning(in); !errors.Is(err, ErrLearning) {
			t.Errorf("%s: err = %v, want ErrLearning", name, err)
		}
	}
}

func mustMarshal(t *testing.T, m *Model) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzLoadLearning checks that any bytes either load as a learning that
// builds a model and marshals back to the same bytes, or give ErrLearning.
func FuzzLoadLearning(f *testing.F) {
	var l Learning
	l.Learn(toks("reset your password here"), true)
	l.Learn(toks("lunch menu for friday"), false)
	good, _ := l.MarshalBinary()
	f.Add(good)
	f.Add(good[len(learnMagic) : len(good)-4])
	base := synthetic(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		body := append([]byte(learnMagic), b...)
		fixed := binary.BigEndian.AppendUint32(body, crc32.ChecksumIEEE(body))
		for _, in := range [][]byte{b, fixed} {
			got, err := LoadLearning(in)
			if err != nil {
				if !errors.Is(err, ErrLearning) {
					t.Fatalf("error %v does not wrap ErrLearning", err)
				}
				continue
			}
			if _, err := got.Model(base); err != nil {
				t.Fatalf("Model: %v", err)
			}
			again, _ := got.MarshalBinary()
			if !bytes.Equal(again, in) {
				t.Fatal("loaded bytes marshal differently")
			}
		}
	})
}

// BenchmarkLearningModel measures what ward serve does after each
// message an analyst teaches: rebuild the classifier from the built-in
// model plus a learning of 5,000 messages (40 words each from a
// 50,000-word vocabulary).
func BenchmarkLearningModel(b *testing.B) {
	base, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	var l Learning
	x := uint64(1)
	for i := range 5000 {
		toks := make([]string, 0, 40)
		for range 40 {
			x = x*6364136223846793005 + 1442695040888963407
			toks = append(toks, fmt.Sprintf("w%05d", x>>33%50000))
		}
		slices.Sort(toks)
		toks = slices.Compact(toks)
		if _, err := l.Learn(toks, i%3 != 0); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := l.Model(base); err != nil {
			b.Fatal(err)
		}
	}
	_, _, words := l.Size()
	b.ReportMetric(float64(words), "words")
}

// TestUpdateLearningFile checks the locked read-change-write cycle: two
// writers at once lose no lesson, a held lock makes the other wait and
// then gives ErrBusy, and a change that changes nothing writes nothing.
func TestUpdateLearningFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.learn")
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				_, err := UpdateLearningFile(path, 10*time.Second, func(l *Learning) (bool, error) {
					o, err := l.Learn(toks(fmt.Sprintf("writer%c message%c", 'a'+w, 'a'+i)), true)
					return o == Learned, err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	l, err := ReadLearningFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, _, _ := l.Size(); s != 50 {
		t.Fatalf("%d lessons kept, want 50", s)
	}

	unlock, err := lockFile(path+".lock", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = UpdateLearningFile(path, 100*time.Millisecond, func(*Learning) (bool, error) { return true, nil })
	if runtime.GOOS != "windows" && !errors.Is(err, ErrBusy) {
		t.Errorf("with the lock held: %v, want ErrBusy", err)
	}
	unlock()
	before, _ := os.Stat(path)
	time.Sleep(10 * time.Millisecond)
	if _, err := UpdateLearningFile(path, time.Second, func(*Learning) (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(path); !after.ModTime().Equal(before.ModTime()) {
		t.Error("an update that changed nothing rewrote the file")
	}
}
