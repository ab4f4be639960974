package bayes

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	long := strings.Repeat("a", MaxWord)
	tests := []struct {
		name string
		msg  Message
		want []string
	}{
		{"lower-cased, distinct, sorted", Message{Text: "FREE money, free MONEY!"}, []string{"free", "money"}},
		{"short words dropped", Message{Text: "go to an inn"}, []string{"inn"}},
		{"longest word kept, longer dropped", Message{Text: long + " " + long + "b"}, []string{long}},
		{"digits only dropped, mixed kept", Message{Text: "call 0800 now 24x7 viagra100"}, []string{"24x7", "call", "now", "viagra100"}},
		{"punctuation splits", Message{Text: "e-mail: win@prize.example"}, []string{"example", "mail", "prize", "win"}},
		{"unicode letters lower-cased", Message{Text: "ÜBERWEISUNG Überweisung gültig"}, []string{"gültig", "überweisung"}},
		{"Cyrillic and Greek", Message{Text: "ПРИВЕТ мир ΚΑΛΗΜΕΡΑ"}, []string{"καλημερα", "мир", "привет"}},
		{"combining mark stays in the word", Message{Text: "cafe\u0301 bar"}, []string{"bar", "cafe\u0301"}},
		{"invalid UTF-8 splits words", Message{Text: "abc\xffdef"}, []string{"abc", "def"}},
		{"From TLD token", Message{Text: "hello", FromDomain: "Mail.Example.COM."}, []string{"h:tld:com", "hello"}},
		{"punycode TLD kept", Message{FromDomain: "x.xn--p1ai"}, []string{"h:tld:xn--p1ai"}},
		{"odd TLD dropped", Message{FromDomain: "x.c_m"}, nil},
		{"no domain, no TLD token", Message{Text: "hello", FromDomain: "localhost."}, []string{"h:tld:localhost", "hello"}},
		{"From and link sites", Message{FromSite: "Offers.Example", LinkSites: []string{"track.example.net", "example.org", "example.org"}},
			[]string{"h:from:offers.example", "h:url:example.org", "h:url:track.example.net"}},
		{"odd sites dropped", Message{FromSite: "nodot", LinkSites: []string{"a b.example", "x_y.example", strings.Repeat("a", 80) + ".example", ""}}, nil},
		{"empty", Message{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Tokens(tt.msg); !slices.Equal(got, tt.want) {
				t.Errorf("Tokens(%q, %q) = %q, want %q", tt.msg.Text, tt.msg.FromDomain, got, tt.want)
			}
		})
	}
}

// TestLinkSitesBounded checks that at most MaxLinkSites link domains
// are read.
func TestLinkSitesBounded(t *testing.T) {
	var sites []string
	for i := range 3 * MaxLinkSites {
		sites = append(sites, fmt.Sprintf("site%03d.example", i))
	}
	got := Tokens(Message{LinkSites: sites})
	if len(got) != MaxLinkSites || !slices.Contains(got, "h:url:site000.example") || slices.Contains(got, fmt.Sprintf("h:url:site%03d.example", MaxLinkSites)) {
		t.Fatalf("%d tokens: %q", len(got), got)
	}
}

// TestTokensBounded checks that a huge message yields at most MaxWords
// words and reads at most MaxText bytes.
func TestTokensBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 4*MaxText; i++ {
		b.WriteString("w")
		for j := i; j > 0; j /= 26 {
			b.WriteByte(byte('a' + j%26))
		}
		b.WriteString("xx ")
	}
	got := Tokens(Message{Text: b.String()})
	if len(got) > MaxWords {
		t.Errorf("%d tokens, want at most %d", len(got), MaxWords)
	}
	n := 0
	words(strings.Repeat("abcdefgh ", 2*MaxText/9), func([]byte) bool { n++; return true })
	if n > MaxText/9+1 {
		t.Errorf("read %d words from the first %d bytes", n, MaxText)
	}
}

// synthetic returns a model trained on a few spam-like and ham-like
// sentences.
func synthetic(t testing.TB) *Model {
	t.Helper()
	spam := []string{
		"Lose weight fast with our miracle pills, order now and save",
		"Cheap loans approved today, no credit check, order now",
		"Claim your prize money now, you are our lucky winner",
		"Miracle investment doubles your money, act now, limited offer",
		"Lonely singles near you want to meet, click now for free",
		"Urgent business proposal: transfer of fund, your share is money",
	}
	ham := []string{
		"The ward round starts at nine, please bring the patient notes",
		"Minutes of the infection control meeting are attached for review",
		"Could you review the patch for the build script before Friday",
		"The radiology rota for next week is on the intranet page",
		"Lunch meeting moved to the small room on the second floor",
		"Please review the minutes and the rota for the patient ward",
	}
	var tr Trainer
	for _, s := range spam {
		tr.Add(Message{Text: s, FromDomain: "offers.example.top"}, true)
	}
	for _, s := range ham {
		tr.Add(Message{Text: s, FromDomain: "hospital.example.nl"}, false)
	}
	m, err := tr.Model(TrainOptions{MinCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClassify(t *testing.T) {
	m := synthetic(t)
	tests := []struct {
		name     string
		msg      Message
		min, max float64
	}{
		{"spam wording", Message{Text: "Order now: miracle pills and cheap loans, claim your money", FromDomain: "x.example.top"}, 0.99, 1},
		{"ham wording", Message{Text: "Please review the patient notes before the ward round meeting", FromDomain: "hospital.example.nl"}, 0, 0.01},
		{"unknown words say nothing", Message{Text: "zebra quantum harmonica"}, 0.5, 0.5},
		{"mixed is unsure", Message{Text: "order now miracle pills; please review the patient notes ward round"}, 0.2, 0.8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.Classify(tt.msg)
			if r.Spam < tt.min || r.Spam > tt.max || math.IsNaN(r.Spam) {
				t.Errorf("Classify(%q).Spam = %v, want %v..%v (clues %d)", tt.msg.Text, r.Spam, tt.min, tt.max, r.Clues)
			}
			if again := m.Classify(tt.msg); again != r {
				t.Errorf("Classify is not deterministic: %v then %v", r, again)
			}
		})
	}
}

// TestWordProb checks Robinson's f(w) on known counts.
func TestWordProb(t *testing.T) {
	m := &Model{spamDocs: 10, hamDocs: 30}
	tests := []struct {
		spam, ham uint32
		want      float64
	}{
		{0, 0, 0.5},
		{10, 0, (0.45*0.5 + 10) / 10.45},
		{0, 30, (0.45 * 0.5) / 30.45},
		{5, 15, (0.45*0.5 + 20*0.5) / 20.45}, // same share of each class: 0.5
		{1, 0, (0.45*0.5 + 1) / 1.45},
	}
	for _, tt := range tests {
		if got := m.wordProb(tt.spam, tt.ham); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("wordProb(%d, %d) = %v, want %v", tt.spam, tt.ham, got, tt.want)
		}
	}
}

func TestChi2Q(t *testing.T) {
	tests := []struct {
		x2   float64
		v    int
		want float64
	}{
		{0, 2, 1},
		{2, 2, math.Exp(-1)},
		{4, 4, math.Exp(-2) * 3},
		{1e6, 300, 0},
	}
	for _, tt := range tests {
		if got := chi2Q(tt.x2, tt.v); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("chi2Q(%v, %d) = %v, want %v", tt.x2, tt.v, got, tt.want)
		}
	}
}

// TestTrainDeterministic trains twice on the same messages, in another
// order the second time, and wants the same bytes; the bytes load back to
// the same judgements.
func TestTrainDeterministic(t *testing.T) {
	msgs := []struct {
		text string
		spam bool
	}{
		{"cheap pills order now", true}, {"win money now", true}, {"money back offer now", true},
		{"meeting minutes attached", false}, {"patient notes for the ward", false}, {"the ward meeting moved", false},
	}
	train := func(reverse bool) []byte {
		var tr Trainer
		for i := range msgs {
			if reverse {
				i = len(msgs) - 1 - i
			}
			tr.Add(Message{Text: msgs[i].text}, msgs[i].spam)
		}
		m, err := tr.Model(TrainOptions{MinCount: 1, MaxTokens: 8})
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := train(false), train(true)
	if !bytes.Equal(a, b) {
		t.Fatalf("two trainings on the same messages differ:\n%x\n%x", a, b)
	}
	m, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	if n, spam, ham := m.Size(); n != 8 || spam != 3 || ham != 3 {
		t.Errorf("Size() = %d tokens, %d spam, %d ham; want 8, 3, 3", n, spam, ham)
	}
	again, err := m.MarshalBinary()
	if err != nil || !bytes.Equal(again, a) {
		t.Errorf("load and marshal changed the bytes (%v)", err)
	}
	if p := m.Classify(Message{Text: "cheap money now"}).Spam; p < 0.9 {
		t.Errorf("loaded model: spam probability %v, want >= 0.9", p)
	}
}

func TestTrainErrors(t *testing.T) {
	var tr Trainer
	tr.Add(Message{Text: "only spam here"}, true)
	if _, err := tr.Model(TrainOptions{}); err == nil {
		t.Error("a model without ham: no error")
	}
	tr.Add(Message{Text: "and ham here"}, false)
	if _, err := tr.Model(TrainOptions{MaxTokens: -1}); err == nil {
		t.Error("MaxTokens -1: no error")
	}
}

// TestDefault checks that the built-in model loads and is what the
// README says: under 1 MB, trained on both classes, thousands of tokens.
func TestDefault(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	n, spam, ham := m.Size()
	if n < 1000 || spam < 100 || ham < 100 {
		t.Errorf("built-in model: %d tokens, %d spam and %d ham messages; want a trained model", n, spam, ham)
	}
	if len(builtin) >= 1<<20 {
		t.Errorf("model.bin is %d bytes, want under 1 MB", len(builtin))
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("go generate")) {
		t.Error("README.md does not say how to regenerate the model")
	}
}

func TestLoadRejects(t *testing.T) {
	good, err := synthetic(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	flip := bytes.Clone(good)
	flip[len(magic)+3] ^= 1
	tests := map[string][]byte{
		"empty":     nil,
		"no magic":  []byte("hello world, not a model"),
		"truncated": good[:len(good)-9],
		"bit flip":  flip,
		"too big":   make([]byte, MaxModelSize+1),
	}
	for name, b := range tests {
		if _, err := Load(b); !errors.Is(err, ErrModel) {
			t.Errorf("%s: error %v, want ErrModel", name, err)
		}
	}
}

func TestHeldOut(t *testing.T) {
	// The split depends on the base name only, and splits about evenly.
	if HeldOut("a/b/x.eml") != HeldOut(filepath.Join("other", "x.eml")) {
		t.Error("HeldOut depends on the directory")
	}
	held := 0
	for i := range 1000 {
		if HeldOut(strings.Repeat("m", i%7) + string(rune('a'+i%26)) + strings.Repeat("z", i/26) + ".eml") {
			held++
		}
	}
	if held < 400 || held > 600 {
		t.Errorf("%d of 1000 names held out, want about half", held)
	}
}

func BenchmarkClassify(b *testing.B) {
	m, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	msg := Message{Text: strings.Repeat("Dear friend, this is a limited offer to refinance your mortgage at the lowest rate. ", 40), FromDomain: "x.example.com"}
	b.SetBytes(int64(len(msg.Text)))
	b.ReportAllocs()
	for b.Loop() {
		m.Classify(msg)
	}
}
