package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestMatchHostileInput feeds a 10 MB line, binary junk and invalid names
// between two real imitations: the junk is reported, both imitations are
// still found.
func TestMatchHostileInput(t *testing.T) {
	in := "rivm-coronatest.nl\n" + strings.Repeat("a", 10<<20) + "\n\x00\xff\xfe junk\nxn--zz--.com\n" +
		strings.Repeat("a", 70) + ".com\nwhо.int\n"
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(in), stdout: &out, stderr: &errb}
	if code := run(context.Background(), e, []string{"match", "-jsonl"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d output lines, want 6:\n%s", len(lines), out.String())
	}
	for i, want := range []string{`"brand":"RIVM"`, `longer than 4096 bytes`, `not valid UTF-8`, `starts or ends with a hyphen`, `longer than 63 octets`, `"brand":"WHO"`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s, want %s", i+1, lines[i], want)
		}
	}
	if !strings.Contains(errb.String(), "6 names, 2 matches at score >= 60, 4 skipped as invalid") {
		t.Errorf("summary: %s", errb.String())
	}
}
