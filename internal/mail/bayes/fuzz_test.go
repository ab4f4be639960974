package bayes

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTokens checks that the tokenizer never panics and keeps its
// promises on any text: at most MaxWords distinct words, each lower-case
// letters and digits of MinWord to MaxWord characters with a letter, or
// a header token.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"FREE money!!", "Überweisung gültig", "abc\xffdef", "cafe\u0301", strings.Repeat("x", 30)} {
		f.Add(s, "example.com")
	}
	if seeds, err := filepath.Glob(filepath.Join("testdata", "seed", "*")); err == nil {
		for _, p := range seeds {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b), "")
			}
		}
	}
	m := synthetic(f)
	f.Fuzz(func(t *testing.T, text, domain string) {
		toks := Tokens(Message{Text: text, FromDomain: domain})
		if len(toks) > MaxWords+1 {
			t.Fatalf("%d tokens", len(toks))
		}
		for _, tok := range toks {
			if strings.HasPrefix(tok, "h:tld:") {
				continue
			}
			n := utf8.RuneCountInString(tok)
			if n < MinWord || n > MaxWord || !utf8.ValidString(tok) || strings.ContainsAny(tok, " :.,") {
				t.Fatalf("bad token %q", tok)
			}
		}
		r := m.Classify(Message{Text: text, FromDomain: domain})
		if !(r.Spam >= 0 && r.Spam <= 1) || r.Clues > MaxClues {
			t.Fatalf("Classify = %+v", r)
		}
	})
}

// FuzzLoad checks that any bytes either load as a model that classifies
// without panicking or give ErrModel.
func FuzzLoad(f *testing.F) {
	good, err := synthetic(f).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[len(magic) : len(good)-4])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		// As given, and with a correct checksum so that the fuzzer
		// reaches the body's structure.
		fixed := binary.BigEndian.AppendUint32(append([]byte(magic), b...), crc32.ChecksumIEEE(append([]byte(magic), b...)))
		for _, in := range [][]byte{b, fixed} {
			m, err := Load(in)
			if err != nil {
				if !errors.Is(err, ErrModel) {
					t.Fatalf("error %v does not wrap ErrModel", err)
				}
				continue
			}
			r := m.Classify(Message{Text: "order now cheap money meeting notes"})
			if !(r.Spam >= 0 && r.Spam <= 1) {
				t.Fatalf("Classify = %+v", r)
			}
		}
	})
}
