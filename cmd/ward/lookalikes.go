package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/lookalike"
)

const lookalikesUsage = `Usage: ward lookalikes [flags] [DOMAIN...]

Prints the names an impersonator could register to imitate DOMAIN: typos,
look-alike characters, added words, other TLDs. One name a line, in ASCII
(punycode for internationalised names), or one JSON object a line with
-jsonl. Domains come from the arguments, or one a line from -l FILE or
stdin ("#" starts a comment). Flags go before the domains.

Flags:
    -l FILE          read domains from FILE ("-" for stdin)
    -o FILE          write the names to FILE instead of stdout
    -jsonl           one JSON object a line: {"domain","unicode","brand","fuzzer"}
    -unicode         print internationalised names in Unicode (rívm.com),
                     not punycode (xn--rvm-lma.com)
    -dict FILE       more words for the dictionary fuzzers, one a line; the
                     built-in health and lure words are always used
    -tld FILE        the suffixes to swap in, one a line ("com", "co.uk");
                     default: 36 common, national and abused TLDs
    -all-idn         internationalised look-alikes under every TLD; by
                     default only where the registry accepts them (not
                     under .nl, .uk, .int, .gov, for example)
    -fuzzers LIST    run only these fuzzers, comma-separated
    -silent          print the names only: no progress bar, no summary

Fuzzers (dnstwist's "cyrillic" and "various" are accepted too):
    addition          a character added at the end or start: rivma.nl
    bitsquatting      one bit flipped in one character: rhvm.nl
    homoglyph         look-alike characters, once or twice: rlvm.nl, rivrn.nl,
                      rívm.com
    script-swap       the whole label in Cyrillic or Greek: ԝһо.com
    hyphenation       a hyphen inserted: ri-vm.nl
    insertion         a keyboard neighbour typed too: rivbm.nl
    omission          a character left out: rvm.nl
    plural            an s added inside or at the end: rivms.nl
    repetition        a character doubled: rivvm.nl
    replacement       a keyboard neighbour typed instead (QWERTY, QWERTZ,
                      AZERTY): rivn.nl
    subdomain         a dot inserted: ri.vm.nl
    transposition     two characters swapped: irvm.nl
    vowel-swap        another vowel: ravm.nl
    dictionary        a word, or two, added: rivm-coronatest.nl,
                      mijnrivm.nl, rivm-vaccin-login.nl
    tld-swap          another TLD: rivm.com, bbc.uk
    tld-joined        the TLD joined to the name: rivmnl.com, rivm-nl.com
    subdomain-joined  the subdomain joined to the name: wwwrivm.nl
    dictionary-tld    a word added, under another TLD: rivm-login.com
    typo-dictionary   a typo and a word: rvm-coronatest.nl

A domain that cannot be read (not a registrable name) is reported on stderr
and skipped; the other domains are still done, and the exit status is 1.

Examples:
    ward lookalikes rivm.nl
    ward lookalikes -jsonl -fuzzers homoglyph,script-swap who.int
    ward lookalikes -all-idn -unicode -fuzzers homoglyph who.int
    ward lookalikes -l brands.txt -dict words.txt -tld tlds.txt -o names.txt
    echo amsterdamumc.nl | ward lookalikes -silent | wc -l
`

func runLookalikes(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("lookalikes")
	list := fs.String("l", "", "")
	out := fs.String("o", "", "")
	jsonl := fs.Bool("jsonl", false, "")
	uni := fs.Bool("unicode", false, "")
	dictFile := fs.String("dict", "", "")
	tldFile := fs.String("tld", "", "")
	allIDN := fs.Bool("all-idn", false, "")
	fuzzers := fs.String("fuzzers", "", "")
	silent := fs.Bool("silent", false, "")
	if err := parseFlags(e, fs, lookalikesUsage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 && *list != "" {
		return usagef("give domains either as arguments or with -l, not both")
	}
	opts := lookalike.GenerateOptions{AllIDN: *allIDN}
	if *fuzzers != "" {
		opts.Fuzzers = strings.Split(*fuzzers, ",")
	}
	var err error
	if *dictFile != "" {
		if opts.Dict, err = readLookalikeFile(*dictFile); err != nil {
			return fmt.Errorf("reading -dict: %w", err)
		}
	}
	if *tldFile != "" {
		if opts.TLDs, err = readLookalikeFile(*tldFile); err != nil {
			return fmt.Errorf("reading -tld: %w", err)
		}
		if opts.TLDs == nil {
			opts.TLDs = []string{} // an empty file means no other TLDs
		}
	}
	g, err := lookalike.NewGenerator(opts)
	if err != nil {
		if *fuzzers != "" && strings.Contains(err.Error(), "fuzzer") {
			return usagef("-fuzzers: %v", err)
		}
		return err
	}
	domains := fs.Args()
	if len(domains) == 0 {
		if domains, err = readLookalikeDomains(e, *list); err != nil {
			return err
		}
	}
	w, closeOut, err := openOutput(e, *out)
	if err != nil {
		return err
	}
	p := newLookalikeProgress(e, len(domains), e.stderrTTY && !*silent)
	var names, bad int
	var buf []byte
	for i, d := range domains {
		seq, err := g.Candidates(d)
		if err != nil {
			bad++
			fmt.Fprintf(e.stderr, "ward: error: lookalikes: %q: %v\n", truncate(d, 256), err)
			if bad == 1 {
				fmt.Fprintf(e.stderr, "ward: hint: give registrable domain names such as rivm.nl or www.ggd.nl\n")
			}
			continue
		}
		for c := range seq {
			switch {
			case *jsonl:
				buf = appendCandidateJSON(buf[:0], c)
			case *uni:
				buf = append(append(buf[:0], c.Unicode...), '\n')
			default:
				buf = append(append(buf[:0], c.Domain...), '\n')
			}
			if _, err := w.Write(buf); err != nil {
				p.done()
				closeOut()
				return fmt.Errorf("writing names: %w", err)
			}
			if names++; names&0x3fff == 0 {
				if ctx.Err() != nil {
					p.done()
					closeOut()
					return ctx.Err()
				}
				p.update(i, names)
			}
		}
		p.update(i+1, names)
	}
	p.done()
	if err := closeOut(); err != nil {
		return err
	}
	if !*silent {
		fmt.Fprintf(e.stderr, "ward: lookalikes: %d names for %s in %s",
			names, lookalikesCount(len(domains)-bad, "domain"), time.Since(p.start).Round(time.Millisecond))
		if bad > 0 {
			fmt.Fprintf(e.stderr, "; %s skipped", lookalikesCount(bad, "domain"))
		}
		fmt.Fprintln(e.stderr)
	}
	if bad > 0 {
		return errSilentExit
	}
	return nil
}

// lookalikesCount returns "1 domain" or "2 domains".
func lookalikesCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// readLookalikeDomains reads the domain list of -l, or stdin: one a line, blank
// lines and "#" comments skipped.
func readLookalikeDomains(e *env, path string) ([]string, error) {
	r, closeIn, err := openInput(e, path)
	if err != nil {
		return nil, err
	}
	defer closeIn()
	return readLookalikeLines(r, "domains")
}

// readLookalikeFile reads a -dict or -tld file.
func readLookalikeFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLookalikeLines(f, path)
}

func readLookalikeLines(r io.Reader, what string) ([]string, error) {
	var out []string
	lr := newLineReader(r, lookalike.MaxInputLen)
	for {
		b, err := lr.next()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case errors.Is(err, errLineTooLong):
			return nil, fmt.Errorf("%s: line %d longer than %d bytes", what, lr.line, lookalike.MaxInputLen)
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", what, err)
		}
		line, _, _ := strings.Cut(string(b), "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
}

// appendCandidateJSON appends c as one JSON line. The fields are domain
// names and fuzzer names, which need no escaping but for the odd byte
// that appendJSONField handles.
func appendCandidateJSON(b []byte, c lookalike.Candidate) []byte {
	b = append(b, `{"domain":`...)
	b = appendJSONField(b, c.Domain)
	b = append(b, `,"unicode":`...)
	b = appendJSONField(b, c.Unicode)
	b = append(b, `,"brand":`...)
	b = appendJSONField(b, c.Brand)
	b = append(b, `,"fuzzer":`...)
	b = appendJSONField(b, c.Fuzzer)
	return append(b, "}\n"...)
}

func appendJSONField(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// lookalikeProgress draws a progress bar on a terminal's stderr for jobs that take
// more than a second; nothing otherwise.
type lookalikeProgress struct {
	w     io.Writer
	on    bool
	total int
	start time.Time
	last  time.Time
	drawn bool
}

func newLookalikeProgress(e *env, total int, on bool) *lookalikeProgress {
	now := time.Now()
	return &lookalikeProgress{w: e.stderr, on: on, total: total, start: now, last: now}
}

func (p *lookalikeProgress) update(domains, names int) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < time.Second || now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	fill := width * domains / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d domains, %d names", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		domains, p.total, names)
	p.drawn = true
}

// done clears the bar.
func (p *lookalikeProgress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
