// Command train builds ward's built-in Bayes model from the SpamAssassin
// public corpus: spam-2 as spam, easy-ham-1 and hard-ham-1 as ham, each
// without its held-out half (bayes.HeldOut), which "ward mail eval" uses
// to measure the model on messages it never saw.
//
//	go run ./internal/mail/bayes/train -data DIR -o internal/mail/bayes/model.bin
//
// DIR is the corpus directory (holding spam-2, easy-ham-1, hard-ham-1).
// When DIR does not exist the command says so and leaves the model as it
// is, so that "go generate ./..." is a no-op where the data is absent (in
// CI). The same corpus always gives the same bytes; the file is rewritten
// only when they change.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ward-health/ward/internal/mail"
	"github.com/ward-health/ward/internal/mail/bayes"
)

const usage = `Usage: go run ./internal/mail/bayes/train -data DIR -o FILE [-min-count N] [-max-tokens N]

Trains the Bayes model on the SpamAssassin public corpus in DIR (spam-2 as
spam; easy-ham-1 and hard-ham-1 as ham), leaving out the held-out half of
each set, and writes it to FILE. Without DIR it does nothing.

Flags:
    -data DIR        corpus directory (required)
    -o FILE          model file to write (required)
    -min-count N     keep tokens seen in at least N training messages (default 2)
    -max-tokens N    keep the N most informative tokens (default 20000)

Example:
    go run ./internal/mail/bayes/train -data ../shared/data/mail/spamassassin_public_corpus -o internal/mail/bayes/model.bin
`

// maxMessage bounds a corpus file read, in bytes.
const maxMessage = 16 << 20

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "train: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fl := flag.NewFlagSet("train", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	data := fl.String("data", "", "")
	out := fl.String("o", "", "")
	var opt bayes.TrainOptions
	fl.IntVar(&opt.MinCount, "min-count", 2, "")
	fl.IntVar(&opt.MaxTokens, "max-tokens", 20000, "")
	if err := fl.Parse(args); err != nil {
		fmt.Fprint(stderr, usage)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *data == "" || *out == "" || fl.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("give -data DIR and -o FILE, and no other arguments")
	}
	if _, err := os.Stat(*data); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "train: %s does not exist; the model is left as it is\n", *data)
		return nil
	}
	b, stats, err := train(*data, opt)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(*out); err == nil && bytes.Equal(old, b) {
		fmt.Fprintf(stderr, "train: %s unchanged (%s)\n", *out, stats)
		return nil
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "train: wrote %s (%s)\n", *out, stats)
	return nil
}

// train reads the corpus and returns the model's bytes and a summary.
func train(dir string, opt bayes.TrainOptions) ([]byte, string, error) {
	var t bayes.Trainer
	n := map[string]int{}
	for _, set := range []struct {
		name string
		spam bool
	}{{"spam-2", true}, {"easy-ham-1", false}, {"hard-ham-1", false}} {
		files, err := corpusFiles(filepath.Join(dir, set.name))
		if err != nil {
			return nil, "", err
		}
		for _, f := range files {
			if bayes.HeldOut(f) {
				continue
			}
			raw, err := readBounded(f)
			if err != nil {
				return nil, "", err
			}
			t.Add(mail.ClassifierInput(context.Background(), raw), set.spam)
			n[set.name]++
		}
	}
	m, err := t.Model(opt)
	if err != nil {
		return nil, "", err
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, "", err
	}
	tokens, _, _ := m.Size()
	stats := fmt.Sprintf("trained on spam-2 %d, easy-ham-1 %d, hard-ham-1 %d messages; %d tokens, %d bytes, sha256 %x",
		n["spam-2"], n["easy-ham-1"], n["hard-ham-1"], tokens, len(b), sha256.Sum256(b))
	return b, stats, nil
}

// corpusFiles lists the .eml files of a corpus directory, sorted by name.
func corpusFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the corpus: %w (want spam-2, easy-ham-1 and hard-ham-1 under -data)", err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".eml") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no .eml files in %s", dir)
	}
	return out, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxMessage))
}
