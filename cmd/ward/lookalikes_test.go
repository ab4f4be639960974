package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/lookalike"
)

// runWard runs one ward command line in-process.
func runWard(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	code = run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func TestLookalikesJSONL(t *testing.T) {
	code, out, stderr := runWard(t, "", "lookalikes", "-jsonl", "rivm.nl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	type cand struct {
		Domain, Unicode, Brand, Fuzzer string
	}
	got := map[string]cand{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var c cand
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if c.Brand != "rivm.nl" || c.Domain == "" || c.Unicode == "" || c.Fuzzer == "" {
			t.Fatalf("incomplete: %q", line)
		}
		got[c.Domain] = c
	}
	for domain, fuzzer := range map[string]string{
		"rivrn.nl": "homoglyph", "rlvm.nl": "homoglyph", "rvm.nl": "omission", "irvm.nl": "transposition",
		"rivm-coronatest.nl": "dictionary", "rivm.com": "tld-swap", "rivm-nl.com": "tld-joined",
	} {
		if got[domain].Fuzzer != fuzzer {
			t.Errorf("%s: got %+v, want fuzzer %s", domain, got[domain], fuzzer)
		}
	}
	if !strings.Contains(out, `{"domain":"rivrn.nl","unicode":"rivrn.nl","brand":"rivm.nl","fuzzer":"homoglyph"}`+"\n") {
		t.Errorf("rivrn.nl line not as documented")
	}
	if !strings.HasPrefix(stderr, "ward: lookalikes: ") || !strings.Contains(stderr, "names for 1 domain in") {
		t.Errorf("summary: %q", stderr)
	}
}

func TestLookalikesUnicode(t *testing.T) {
	args := []string{"lookalikes", "-silent", "-all-idn", "-fuzzers", "script-swap", "who.int"}
	_, out, _ := runWard(t, "", append(args[:1:1], append([]string{"-unicode"}, args[1:]...)...)...)
	if !strings.Contains(out, "ԝһо.int\n") { // Cyrillic we, shha, o
		t.Errorf("-unicode: no Cyrillic form in %q", out)
	}
	_, out, _ = runWard(t, "", args...)
	if !strings.Contains(out, "xn--") || strings.Contains(out, "ԝ") {
		t.Errorf("without -unicode: %q", out)
	}
	// .int takes no IDN: nothing without -all-idn.
	if _, out, _ := runWard(t, "", "lookalikes", "-silent", "-fuzzers", "script-swap", "who.int"); out != "" {
		t.Errorf("IDN under .int without -all-idn: %q", out)
	}
}

func TestLookalikesBadDomain(t *testing.T) {
	code, out, stderr := runWard(t, "", "lookalikes", "-fuzzers", "omission", "bad..nl", "ggd.nl")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr, `ward: error: lookalikes: "bad..nl": not a valid domain name`) ||
		!strings.Contains(stderr, "ward: hint: ") || !strings.Contains(stderr, "1 domain skipped") {
		t.Errorf("stderr: %q", stderr)
	}
	if out != "gd.nl\ngg.nl\n" { // omissions of ggd.nl, deduplicated

		t.Errorf("the good domain: %q", out)
	}
	if code, _, stderr := runWard(t, "", "lookalikes", "localhost"); code != 1 || !strings.Contains(stderr, "a single label") {
		t.Errorf("localhost: exit %d, %q", code, stderr)
	}
}

func TestLookalikesInputOutputFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	list := write("brands.txt", "# brands\nrivm.nl\n\n  ggd.nl  # comment\n")
	dict := write("words.txt", "ziekenhuisportaal\n# more later\n")
	tlds := write("tlds.txt", "xyz\n")
	outFile := filepath.Join(dir, "out.txt")
	code, out, stderr := runWard(t, "", "lookalikes", "-silent", "-l", list, "-o", outFile,
		"-dict", dict, "-tld", tlds, "-fuzzers", "dictionary,tld-swap")
	if code != 0 || out != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	names := "\n" + string(b)
	for _, want := range []string{"rivm-ziekenhuisportaal.nl", "ggdziekenhuisportaal.nl", "rivm.xyz", "ggd.xyz", "rivm-coronatest.nl"} {
		if !strings.Contains(names, "\n"+want+"\n") {
			t.Errorf("%s missing", want)
		}
	}
	if strings.Contains(names, "\nrivm.com\n") {
		t.Errorf("-tld did not replace the default TLDs")
	}
	// Stdin when there are neither arguments nor -l.
	_, out, _ = runWard(t, "rivm.nl\n", "lookalikes", "-silent", "-fuzzers", "omission")
	if out != "ivm.nl\nrvm.nl\nrim.nl\nriv.nl\n" {
		t.Errorf("from stdin: %q", out)
	}
}

func TestLookalikesUsage(t *testing.T) {
	code, out, _ := runWard(t, "", "lookalikes", "-h")
	if code != 0 || !strings.HasPrefix(out, "Usage: ward lookalikes") {
		t.Fatalf("exit %d: %q", code, out)
	}
	for _, name := range lookalike.FuzzerNames() {
		if !strings.Contains(out, "\n    "+name+" ") {
			t.Errorf("fuzzer %s not described in the usage text", name)
		}
	}
	for _, args := range [][]string{
		{"lookalikes", "-fuzzers", "typosquat", "rivm.nl"},
		{"lookalikes", "-nosuchflag"},
		{"lookalikes", "-l", "x.txt", "rivm.nl"},
	} {
		if code, _, stderr := runWard(t, "", args...); code != 2 || !strings.Contains(stderr, "ward: hint: run \"ward lookalikes -h\"") {
			t.Errorf("%q: exit %d, %q", args, code, stderr)
		}
	}
	if code, _, stderr := runWard(t, "", "lookalikes", "-dict", "/nonexistent/words.txt", "rivm.nl"); code != 1 || !strings.Contains(stderr, "reading -dict") {
		t.Errorf("missing -dict file: exit %d, %q", code, stderr)
	}
}

func TestLookalikesProgress(t *testing.T) {
	var b bytes.Buffer
	p := newLookalikeProgress(&env{stderr: &b}, 4, true)
	p.update(1, 10) // too early: jobs under a second get no bar
	if b.Len() != 0 {
		t.Errorf("bar drawn at once: %q", b.String())
	}
	p.start = p.start.Add(-2 * time.Second)
	p.last = p.start
	p.update(2, 123456)
	if !strings.Contains(b.String(), "2/4 domains, 123456 names") || !strings.HasPrefix(b.String(), "\r[===============") {
		t.Errorf("bar: %q", b.String())
	}
	p.done()
	if !strings.HasSuffix(b.String(), "\r\033[K") {
		t.Errorf("bar not cleared: %q", b.String())
	}
	off := newLookalikeProgress(&env{stderr: &b}, 4, false)
	off.start = off.start.Add(-time.Hour)
	b.Reset()
	off.update(1, 1)
	if b.Len() != 0 {
		t.Errorf("bar drawn when off: %q", b.String())
	}
}
