package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/mail"
)

const cleanMsg = "From: Jan <jan@example.org>\r\nSubject: agenda\r\n\r\nSee you at 10.\r\n"

const phishMsg = "From: \"WHO\" <who.relief@gmail.com>\r\nSubject: COVID-19 relief\r\nContent-Type: text/html\r\n\r\n" +
	"<form action=\"http://198.51.100.7/p\"><input type=password></form>\r\n"

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMailAnalyzeOrder checks that results come in input order whatever
// the number of workers.
func TestMailAnalyzeOrder(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 40; i++ {
		body := cleanMsg
		if i%3 == 0 {
			body = phishMsg
		}
		files[fmt.Sprintf("m%02d.eml", i)] = body
	}
	writeFiles(t, dir, files)
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb}
	if code := run(context.Background(), e, []string{"mail", "analyze", "-jsonl", "-t", "4", dir}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 40 {
		t.Fatalf("%d results, want 40", len(lines))
	}
	for i, l := range lines {
		var r struct{ File, Verdict string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(dir, fmt.Sprintf("m%02d.eml", i))
		if r.File != want {
			t.Fatalf("result %d is %s, want %s", i, r.File, want)
		}
		if wantV := map[bool]string{true: "phishing", false: "clean"}[i%3 == 0]; r.Verdict != wantV {
			t.Errorf("%s: %s, want %s", r.File, r.Verdict, wantV)
		}
	}
}

// TestMailEval checks the evaluation table and its target checks on a
// small data directory laid out like ../shared/data/mail.
func TestMailEval(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		// a.eml falls in the trained-on half, b.eml and c.eml in the
		// held-out half (bayes.HeldOut).
		"spamassassin_public_corpus/easy-ham-1/a.eml":            cleanMsg,
		"spamassassin_public_corpus/easy-ham-1/b.eml":            cleanMsg,
		"spamassassin_public_corpus/easy-ham-1/SOURCE.md":        "# not a message",
		"spamassassin_public_corpus/hard-ham-1/c.eml":            phishMsg,
		"phishing_pot_CC-BY-NC-4.0_EVALUATION-ONLY/x/p.eml":      phishMsg,
		"phishing_pot_CC-BY-NC-4.0_EVALUATION-ONLY/LICENSE.txt":  "licence",
		"spamassassin_testdata/spam_olevbmacro/macro.eml":        cleanMsg,
		"phishing_pot_CC-BY-NC-4.0_EVALUATION-ONLY/MANIFEST.tsv": "a\tb",
	})
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb}
	if code := run(context.Background(), e, []string{"mail", "eval", "-data", dir}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := out.String()
	for _, want := range []string{
		"easy-ham-1 held-out                     1         0        0          0      1",
		"easy-ham-1 TRAINED (contaminated)       1         0        0          0      1",
		"malicious+phishing 0 (target 0) PASS",
		"hard-ham-1 held-out                     1         0        1",
		"hard-ham-1 TRAINED (contaminated)       0",
		"malicious+phishing 1 (target 0) FAIL",
		"phishing_pot                            1         0        1          0      0       0  caught 100.0% (target >= 95%) PASS; without bayes_spam: caught 100.0%",
		"macro.eml",
		"phishing_pot, learned                   1         0        1          0      0",
		"hard-ham-1 held-out, learned            1         0        1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("eval output lacks %q:\n%s", want, got)
		}
	}
	if code := run(context.Background(), &env{stdout: &out, stderr: &errb}, []string{"mail", "eval", "-data", filepath.Join(dir, "none")}); code != 1 {
		t.Errorf("eval without data: exit %d, want 1", code)
	}
}

// TestMailAnalyzeUnreadable checks that a message that cannot be read is
// reported and the others are still analysed, with exit status 1.
func TestMailAnalyzeUnreadable(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.eml": cleanMsg, "c.eml": phishMsg})
	a, err := (&mailFlags{}).analyzer()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	var got []string
	err = analyzeAll(context.Background(), &env{stderr: &errb}, a,
		[]string{filepath.Join(dir, "a.eml"), filepath.Join(dir, "gone.eml"), filepath.Join(dir, "c.eml")}, 2,
		func(r mail.Result) error { got = append(got, filepath.Base(r.File)); return nil })
	if err == nil || !strings.Contains(err.Error(), "1 of 3 messages could not be read") {
		t.Errorf("error %v", err)
	}
	if strings.Join(got, ",") != "a.eml,c.eml" {
		t.Errorf("analysed %v", got)
	}
	if !strings.Contains(errb.String(), "gone.eml") {
		t.Errorf("stderr %q", errb.String())
	}
}
