package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ward-health/ward/internal/lookalike"
)

const matchUsage = `Usage: ward match [flags] [NAME...]

Reads names (domains, URLs or email addresses: the host is taken), one per
line from -l FILE or stdin, or as arguments, and prints those that imitate a
protected brand, with the brand, a score from 0 to 100, the techniques and
the reasons. By default only matches scoring at least 60 (the alert
threshold) are printed.

Flags:
    -brands FILE     brands file (YAML or one domain per line); default: the
                     built-in health brand set (see "ward brands")
    -brand DOMAIN    protect DOMAIN too (repeatable)
    -l FILE          read names from FILE ("-" for stdin)
    -o FILE          write results to FILE instead of stdout
    -jsonl           one JSON object per line: {"input","domain","brand",
                     "score","techniques","reasons"}; bad input lines give
                     {"input","error"}
    -min-score N     print matches scoring at least N (default 60)
    -silent          print only the matched names; no summary on stderr

Examples:
    echo rivm-coronatest.nl | ward match -jsonl
    ward match -brands brands.yaml -l ct-names.txt -silent
    ward match -brand mijnziekenhuis.nl login.mijnziekenhuis-secure.com
`

func runMatch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("match")
	var bf brandFlags
	bf.register(fs)
	list := fs.String("l", "", "")
	out := fs.String("o", "", "")
	jsonl := fs.Bool("jsonl", false, "")
	minScore := fs.Int("min-score", lookalike.AlertThreshold, "")
	silent := fs.Bool("silent", false, "")
	if err := parseFlags(e, fs, matchUsage, args); err != nil {
		return err
	}
	if *minScore < 0 || *minScore > 100 {
		return usagef("-min-score %d is out of range: scores run from 0 to 100", *minScore)
	}
	if fs.NArg() > 0 && *list != "" {
		return usagef("give names either as arguments or with -l, not both")
	}
	set, err := bf.load()
	if err != nil {
		return err
	}
	m, err := lookalike.NewMatcher(set)
	if err != nil {
		return err
	}
	w, closeOut, err := openOutput(e, *out)
	if err != nil {
		return err
	}
	var st matchStats
	emit := func(input string) error {
		st.names++
		r, ok, err := m.Match(input)
		if err != nil {
			st.bad++
			if *jsonl {
				return writeJSON(w, struct {
					Input string `json:"input"`
					Error string `json:"error"`
				}{truncate(input, 256), err.Error()})
			}
			return nil
		}
		if !ok || r.Score < *minScore {
			return nil
		}
		st.matches++
		switch {
		case *jsonl:
			return writeJSON(w, r)
		case *silent:
			_, err := fmt.Fprintln(w, r.Domain)
			return err
		default:
			_, err := fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", r.Domain, r.Brand, r.Score,
				strings.Join(r.Techniques, ","), strings.Join(r.Reasons, "; "))
			return err
		}
	}
	if fs.NArg() > 0 {
		for _, a := range fs.Args() {
			if err := emit(a); err != nil {
				closeOut()
				return err
			}
		}
	} else if err := readNames(ctx, e, *list, &st, *jsonl, w, emit); err != nil {
		closeOut()
		return err
	}
	if err := closeOut(); err != nil {
		return err
	}
	if !*silent {
		fmt.Fprintf(e.stderr, "ward: match: %d names, %d matches at score >= %d, %d skipped as invalid\n",
			st.names, st.matches, *minScore, st.bad)
	}
	return nil
}

type matchStats struct{ names, matches, bad int }

// readNames feeds every line of the input to emit; comment and empty lines
// are skipped, over-long lines are counted as bad.
func readNames(ctx context.Context, e *env, path string, st *matchStats, jsonl bool, w io.Writer, emit func(string) error) error {
	r, closeIn, err := openInput(e, path)
	if err != nil {
		return err
	}
	defer closeIn()
	lr := newLineReader(r, lookalike.MaxInputLen)
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		b, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, errLineTooLong) {
			st.names++
			st.bad++
			if jsonl {
				if err := writeJSON(w, struct {
					Input string `json:"input"`
					Error string `json:"error"`
				}{"", fmt.Sprintf("line %d: longer than %d bytes, skipped", lr.line, lookalike.MaxInputLen)}); err != nil {
					return err
				}
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reading names: %w", err)
		}
		line := strings.TrimSpace(string(b))
		if line == "" || line[0] == '#' {
			continue
		}
		if err := emit(line); err != nil {
			return err
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// truncate shortens s to at most n bytes for display, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
