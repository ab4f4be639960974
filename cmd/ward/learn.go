package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	stdmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ward-health/ward/internal/mail"
	"github.com/ward-health/ward/internal/mail/bayes"
)

const mailLearnUsage = `Usage: ward mail learn -db FILE -spam|-ham|-forget FILE|DIR|-...

Teaches the content classifier (the bayes_spam reason) your own mail: the
reports your analysts confirmed as phishing, scams or unwanted bulk mail
(-spam), and the reported mail that turned out to be fine (-ham). What is
learned goes on top of the built-in model, and "ward mail analyze -learned
FILE" uses it. A message is learned once: learning it again as the same
class changes nothing, learning it as the other class moves it (a corrected
verdict), and -forget takes it out. FILE is created when missing and is
replaced whole, so an interrupted run leaves the old file. The file is
locked (FILE.lock) while the command runs; ward serve, when it learns into
the same file, waits for it and reads the result.

Messages are read as by "ward mail analyze": .eml files, mbox files
message by message, directories recursively, "-" for stdin.

Flags:
    -db FILE    the learning file (created when missing)
    -spam       the messages are phishing, scams or bulk mail
    -ham        the messages are legitimate mail
    -forget     take the messages out of the learning

Example:
    ward mail learn -db learned.bin -spam confirmed/phishing/
    ward mail analyze -learned learned.bin reported/
`

func runMailLearn(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("mail learn")
	db := fs.String("db", "", "")
	spam := fs.Bool("spam", false, "")
	ham := fs.Bool("ham", false, "")
	forget := fs.Bool("forget", false, "")
	if err := parseFlags(e, fs, mailLearnUsage, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("give the learning file with -db FILE")
	}
	modes := 0
	for _, b := range []bool{*spam, *ham, *forget} {
		if b {
			modes++
		}
	}
	if modes != 1 {
		return usagef("give exactly one of -spam, -ham and -forget")
	}
	if fs.NArg() == 0 {
		return usagef("give a message file, a directory or - for stdin")
	}
	inputs, err := listMessages(fs.Args(), false)
	if err != nil {
		return err
	}
	var outcomes [4]int
	forgotten, unread, read := 0, 0, 0
	// The file stays locked while the messages are read, so that ward
	// serve, learning through its API meanwhile, waits instead of
	// writing over these lessons.
	l, err := bayes.UpdateLearningFile(*db, time.Minute, func(l *bayes.Learning) (bool, error) {
		var learnErr error
		readMessages(e, inputs, func(m message) bool {
			if learnErr = ctx.Err(); learnErr != nil {
				return false
			}
			read++
			if m.err != nil {
				fmt.Fprintf(e.stderr, "ward: error: %v\n", m.err)
				unread++
				return true
			}
			toks := bayes.Tokens(mail.ClassifierInput(ctx, m.raw))
			if *forget {
				if l.Forget(toks) {
					forgotten++
				}
				return true
			}
			o, err := l.Learn(toks, *spam)
			if err != nil {
				learnErr = fmt.Errorf("learning %s: %w; start a new learning file", m.name, err)
				return false
			}
			outcomes[o]++
			return true
		})
		changed := forgotten+outcomes[bayes.Learned]+outcomes[bayes.Relearned] > 0
		return changed, learnErr
	})
	if err != nil {
		return err
	}
	s, h, n := l.Size()
	if *forget {
		fmt.Fprintf(e.stderr, "ward: mail learn: %d forgotten, %d not in the learning", forgotten, read-unread-forgotten)
	} else {
		fmt.Fprintf(e.stderr, "ward: mail learn: %d learned, %d moved from the other class, %d already known, %d without words",
			outcomes[bayes.Learned], outcomes[bayes.Relearned], outcomes[bayes.Known], outcomes[bayes.Empty])
	}
	fmt.Fprintf(e.stderr, "; %s holds %d spam and %d ham messages (%d words)\n", *db, s, h, n)
	if unread > 0 {
		return fmt.Errorf("%d of %d messages could not be read", unread, read)
	}
	return nil
}

// learnedModel returns the built-in model with the learning file's
// messages added.
func learnedModel(path string) (*bayes.Model, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("-learned: %w", err)
	}
	l, err := bayes.ReadLearningFile(path)
	if err != nil {
		return nil, err
	}
	base, err := bayes.Default()
	if err != nil {
		return nil, err
	}
	m, err := l.Model(base)
	if err != nil {
		return nil, fmt.Errorf("the learning file %s: %w", path, err)
	}
	return m, nil
}

// evalLearning measures learning from reports the way a report mailbox
// would use it: the phishing sample in date order, each message judged by
// the built-in model plus every earlier message of the sample learned as
// spam (an analyst confirmed it), then learned itself. The held-out ham
// halves are then judged by the model that learned the whole sample, the
// worst case for false alarms. No model built here is written anywhere.
func evalLearning(ctx context.Context, e *env, w io.Writer, a *mail.Analyzer, workers int, data string, verbose bool) error {
	dir := filepath.Join(data, "phishing_pot_CC-BY-NC-4.0_EVALUATION-ONLY")
	inputs, err := listMessages([]string{dir}, true)
	if err != nil {
		return nil // the corpus is absent: the rows above said so
	}
	type msg struct {
		path string
		raw  []byte
		date time.Time
	}
	msgs := make([]msg, 0, len(inputs))
	for _, in := range inputs {
		raw, err := readMessage(e, in)
		if err != nil {
			return err
		}
		m := msg{path: in, raw: raw}
		if h, err := stdmail.ReadMessage(bytes.NewReader(raw)); err == nil {
			m.date, _ = h.Header.Date()
		}
		msgs = append(msgs, m)
	}
	// Undated messages keep their place in file order, first.
	slices.SortStableFunc(msgs, func(x, y msg) int { return x.date.Compare(y.date) })
	base, err := bayes.Default()
	if err != nil {
		return err
	}
	var l bayes.Learning
	model := base
	var counts [2]map[mail.Verdict]int
	counts[0], counts[1] = map[mail.Verdict]int{}, map[mail.Verdict]int{}
	var notes []string
	start := time.Now()
	for i, m := range msgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := a.WithBayes(model).Analyze(ctx, m.path, m.raw)
		counts[i*2/len(msgs)][r.Verdict]++
		if verbose && r.Verdict == mail.Clean {
			rel, _ := filepath.Rel(dir, m.path)
			notes = append(notes, fmt.Sprintf("  %s\t%s\t%d\t%s", rel, r.Verdict, r.Score, reasonList(r)))
		}
		if _, err := l.Learn(bayes.Tokens(mail.ClassifierInput(ctx, m.raw)), true); err != nil {
			return err
		}
		if model, err = l.Model(base); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	half := [2]int{len(msgs) / 2, len(msgs) - len(msgs)/2}
	caught := func(h int) int { return half[h] - counts[h][mail.Clean] }
	n := len(msgs)
	all := map[mail.Verdict]int{}
	for _, c := range counts {
		for v, k := range c {
			all[v] += k
		}
	}
	fmt.Fprintf(w, "\nlearning from reports: the phishing sample in date order, each message judged by the built-in model plus\n"+
		"every earlier message learned as spam, then learned (%d messages, %.1f s with a model rebuilt after each)\n", n, elapsed.Seconds())
	halves := ""
	if n >= 2 {
		halves = fmt.Sprintf("; earlier half %.1f%%, later half %.1f%%", pct(caught(0), half[0]), pct(caught(1), half[1]))
	}
	fmt.Fprintf(w, "%-34s %6d %9d %8d %10d %6d %7s  caught %.1f%% (target >= 95%%) %s%s\n",
		"phishing_pot, learned", n, all[mail.Malicious], all[mail.Phishing], all[mail.Suspicious], all[mail.Clean], "",
		pct(n-all[mail.Clean], n), passFail(pct(n-all[mail.Clean], n) >= 95), halves)
	slices.Sort(notes)
	for _, s := range notes {
		fmt.Fprintln(w, s)
	}
	learned := a.WithBayes(model)
	const sa = "spamassassin_public_corpus/"
	for _, set := range []string{"easy-ham-1", "hard-ham-1"} {
		hdir := filepath.Join(data, sa+set)
		files, err := listMessages([]string{hdir}, true)
		if err != nil {
			continue
		}
		var held []string
		for _, f := range files {
			if bayes.HeldOut(f) {
				held = append(held, f)
			}
		}
		c := evalCorpus{name: set, dir: sa + set, kind: "ham"}
		if err := evalRow(ctx, e, w, learned, workers, c, set+" held-out, learned", hdir, held, verbose); err != nil {
			return err
		}
	}
	return nil
}
