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
)

// campaign is a scam in words the built-in model has never seen, sent
// from a plain address: nothing but learning can tell it from mail.
func campaign(i int) string {
	return fmt.Sprintf("From: Zelvarin <news%d@zelvarin.example>\r\nSubject: Zelvarin %d\r\n\r\n"+
		"Zelvarin quarzomil vintrelo brastolex plumovex drevacol fendrilax glimmerox "+
		"tovarique selmandi orkelith pravonel kestrumil ulbenfor %s.\r\n", i, i, variant[i%len(variant)])
}

// variant makes each campaign message a different message (digits are
// not words to the classifier).
var variant = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"}

func mailCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), &env{stdout: &out, stderr: &errb}, append([]string{"mail"}, args...))
	return code, out.String(), errb.String()
}

func bayesReason(t *testing.T, jsonl string) (verdict string, found bool) {
	t.Helper()
	var r struct {
		Verdict string
		Reasons []struct{ Signal string }
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(jsonl)), &r); err != nil {
		t.Fatalf("%v: %q", err, jsonl)
	}
	for _, x := range r.Reasons {
		if x.Signal == "bayes_spam" {
			found = true
		}
	}
	return r.Verdict, found
}

// TestMailLearn checks the learning cycle: a campaign the built-in model
// does not know is clean; once analysts have taught ward a few of its
// messages, a new one is flagged; a correction moves a message to the
// other class; forget takes it out; and a damaged file is refused, not
// overwritten.
func TestMailLearn(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"fresh.eml": campaign(6)}
	for i := range 6 {
		files[fmt.Sprintf("confirmed/%d.eml", i)] = campaign(i)
	}
	writeFiles(t, dir, files)
	db := filepath.Join(dir, "learned.bin")
	fresh := filepath.Join(dir, "fresh.eml")

	code, out, errs := mailCmd(t, "analyze", "-jsonl", fresh)
	if v, found := bayesReason(t, out); code != 0 || v != "clean" || found {
		t.Fatalf("before learning: exit %d, verdict %s, bayes_spam %v: %s", code, v, found, errs)
	}
	code, _, errs = mailCmd(t, "learn", "-db", db, "-spam", filepath.Join(dir, "confirmed"))
	if code != 0 || !strings.Contains(errs, "6 learned, 0 moved from the other class, 0 already known") || !strings.Contains(errs, "holds 6 spam and 0 ham") {
		t.Fatalf("learn: exit %d: %s", code, errs)
	}
	code, out, errs = mailCmd(t, "analyze", "-jsonl", "-learned", db, fresh)
	if v, found := bayesReason(t, out); code != 0 || v != "suspicious" || !found {
		t.Fatalf("after learning: exit %d, verdict %s, bayes_spam %v: %s", code, v, found, errs)
	}

	one := filepath.Join(dir, "confirmed", "0.eml")
	if code, _, errs = mailCmd(t, "learn", "-db", db, "-spam", one); code != 0 || !strings.Contains(errs, "0 learned, 0 moved from the other class, 1 already known") {
		t.Fatalf("learning again: exit %d: %s", code, errs)
	}
	if code, _, errs = mailCmd(t, "learn", "-db", db, "-ham", one); code != 0 || !strings.Contains(errs, "1 moved from the other class") || !strings.Contains(errs, "holds 5 spam and 1 ham") {
		t.Fatalf("correcting: exit %d: %s", code, errs)
	}
	if code, _, errs = mailCmd(t, "learn", "-db", db, "-forget", one, fresh); code != 0 || !strings.Contains(errs, "1 forgotten, 1 not in the learning") || !strings.Contains(errs, "holds 5 spam and 0 ham") {
		t.Fatalf("forgetting: exit %d: %s", code, errs)
	}

	good, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte{}, good...)
	damaged[len(damaged)/2] ^= 0xff
	if err := os.WriteFile(db, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs = mailCmd(t, "learn", "-db", db, "-spam", one); code != 1 || !strings.Contains(errs, "checksum mismatch") {
		t.Fatalf("damaged file: exit %d: %s", code, errs)
	}
	if after, _ := os.ReadFile(db); !bytes.Equal(after, damaged) {
		t.Fatal("a damaged learning file was overwritten")
	}
	if code, _, errs = mailCmd(t, "analyze", "-learned", db, fresh); code != 1 || !strings.Contains(errs, "not a valid learning file") {
		t.Fatalf("analyze with a damaged file: exit %d: %s", code, errs)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"learn", "-spam", one}, "give the learning file with -db FILE"},
		{[]string{"learn", "-db", db, one}, "give exactly one of -spam, -ham and -forget"},
		{[]string{"learn", "-db", db, "-spam", "-ham", one}, "give exactly one of -spam, -ham and -forget"},
		{[]string{"learn", "-db", db, "-spam"}, "give a message file"},
		{[]string{"analyze", "-learned", db, "-no-bayes", one}, "contradict"},
		{[]string{"analyze", "-learned", filepath.Join(dir, "missing.bin"), one}, "-learned"},
	} {
		code, _, errs := mailCmd(t, c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, want an error with %q: %s", c.args, code, c.want, errs)
		}
	}
}
