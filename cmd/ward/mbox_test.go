package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const threeMbox = "From alice@example.org Mon Mar 16 09:12:01 2020\n" +
	"From: Alice <alice@example.org>\nSubject: one\n\nFirst body.\n>From the archive, escaped.\n>>From twice escaped.\n\n" +
	"From - Tue Jan  5 10:00:00 2021\r\n" +
	"From: Bob <bob@example.org>\r\nSubject: two\r\n\r\nSecond body.\r\nFrom the desk of the director (not after an empty line).\r\n\r\n" +
	"From here on, a body line after an empty line that is no postmark.\r\n\r\n" +
	"From carol@example.org Wed Feb 10 08:00:00 2021\n" +
	"From: Carol <carol@example.org>\nSubject: three\n\nThird body.\n"

func collect(t *testing.T, input string, limit int64) []message {
	t.Helper()
	var got []message
	readFrom(bufio.NewReader(strings.NewReader(input)), "box", limit, func(m message) bool {
		got = append(got, m)
		return true
	})
	return got
}

func TestReadMbox(t *testing.T) {
	got := collect(t, threeMbox, 1<<20)
	if len(got) != 3 {
		t.Fatalf("%d messages, want 3: %+v", len(got), got)
	}
	for i, want := range []string{"box#1", "box#2", "box#3"} {
		if got[i].name != want || got[i].err != nil {
			t.Errorf("message %d: %q %v", i, got[i].name, got[i].err)
		}
		if bytes.HasPrefix(got[i].raw, []byte("From ")) && !bytes.HasPrefix(got[i].raw, []byte("From: ")) {
			t.Errorf("message %d keeps its postmark line", i)
		}
	}
	if first := string(got[0].raw); !strings.Contains(first, "\nFrom the archive, escaped.\n") || !strings.Contains(first, "\n>From twice escaped.\n") {
		t.Errorf("escapes not undone:\n%s", first)
	}
	if second := string(got[1].raw); !strings.Contains(second, "From the desk") || !strings.Contains(second, "From here on") {
		t.Errorf("a body line was taken for a postmark:\n%s", second)
	}

	one := collect(t, "From alice@example.org Mon Mar 16 09:12:01 2020\nFrom: a@example.org\n\nonly\n", 1<<20)
	if len(one) != 1 || one[0].name != "box" || !strings.HasPrefix(string(one[0].raw), "From: a@example.org") {
		t.Errorf("one-message mbox: %+v", one)
	}
	plain := collect(t, "From: a@example.org\nSubject: x\n\nFrom Monday on, no mbox.\n", 1<<20)
	if len(plain) != 1 || plain[0].name != "box" || !strings.HasPrefix(string(plain[0].raw), "From: a@example.org") {
		t.Errorf("plain message: %+v", plain)
	}
	// Each message is cut at the limit; the next one is still read.
	cut := collect(t, threeMbox, 20)
	if len(cut) != 3 || len(cut[0].raw) != 20 || !strings.HasPrefix(string(cut[2].raw), "From: Carol") {
		t.Errorf("cut at 20 bytes: %+v", cut)
	}
}

// TestMailAnalyzeMbox checks that analyze and learn read an mbox file as
// its messages, from a file and from stdin.
func TestMailAnalyzeMbox(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"export.mbox": threeMbox})
	box := filepath.Join(dir, "export.mbox")
	code, out, errs := mailCmd(t, "analyze", "-jsonl", box)
	if code != 0 || !strings.Contains(errs, "3 messages") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct{ File, Subject string }
		json.Unmarshal([]byte(l), &r)
		names = append(names, r.File+" "+r.Subject)
	}
	if want := []string{box + "#1 one", box + "#2 two", box + "#3 three"}; strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("results %q, want %q", names, want)
	}
	var o, eb bytes.Buffer
	if code := run(context.Background(), &env{stdin: strings.NewReader(threeMbox), stdout: &o, stderr: &eb}, []string{"mail", "analyze", "-"}); code != 0 || !strings.Contains(eb.String(), "3 messages") {
		t.Errorf("stdin: exit %d: %s", code, eb.String())
	}
	if code, _, errs := mailCmd(t, "learn", "-db", filepath.Join(dir, "l.bin"), "-ham", box); code != 0 || !strings.Contains(errs, "3 learned") {
		t.Errorf("learn: exit %d: %s", code, errs)
	}
}
