package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ward-health/ward/internal/lookalike"
)

const evalUsage = `Usage: ward eval [-data DIR] [-imitations FILE] [-brands FILE] [-v]

Measures the look-alike matcher at the alert threshold (or -min-score):
  - benign: the share of popular real domains flagged (Umbrella top 100k,
    Tranco top 10k), target at most 0.1%;
  - imitations: the share of a labelled set of brand imitations detected,
    and attributed to the right brand, target at least 95%;
  - phishing: the share of real COVID-19 phishing domains and PhishTank URLs
    that imitate a protected brand (most imitate no health brand, so this
    is context, not recall).
Data come from DIR (default ../shared/data); missing files are reported and
skipped.

Flags:
    -data DIR         public data directory (default ../shared/data)
    -imitations FILE  labelled imitations, TSV name<TAB>brand<TAB>technique
                      (default internal/lookalike/testdata/eval/imitations.tsv)
    -brands FILE      brands file; default: the built-in health brand set
    -min-score N      threshold (default 60)
    -v                list flagged benign names and missed imitations

Example:
    ward eval -v
`

func runEval(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("eval")
	var bf brandFlags
	bf.register(fs)
	data := fs.String("data", "../shared/data", "")
	imit := fs.String("imitations", "internal/lookalike/testdata/eval/imitations.tsv", "")
	minScore := fs.Int("min-score", lookalike.AlertThreshold, "")
	verbose := fs.Bool("v", false, "")
	if err := parseFlags(e, fs, evalUsage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	set, err := bf.load()
	if err != nil {
		return err
	}
	m, err := lookalike.NewMatcher(set)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	measured := 0
	for _, name := range []string{"umbrella-top-100k.txt", "tranco-top-10k.txt"} {
		path := filepath.Join(*data, "domains", "benign", name)
		names, err := readList(path)
		if err != nil {
			fmt.Fprintf(e.stderr, "ward: eval: skipping benign list: %v\n", err)
			continue
		}
		measured++
		var flagged []string
		for i, n := range names {
			if i&4095 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if r, ok, _ := m.Match(n); ok && r.Score >= *minScore {
				flagged = append(flagged, fmt.Sprintf("%s\t%s\t%d\t%s", n, r.Brand, r.Score, strings.Join(r.Techniques, ",")))
			}
		}
		fmt.Fprintf(w, "benign\t%s\t%d names\tflagged %d (%.3f%%)\ttarget <= 0.1%%\n", name, len(names), len(flagged), pct(len(flagged), len(names)))
		if *verbose {
			for _, f := range flagged {
				fmt.Fprintf(w, "  flagged\t%s\n", f)
			}
		}
	}
	if rows, err := readImitations(*imit); err != nil {
		fmt.Fprintf(e.stderr, "ward: eval: skipping imitations: %v\n", err)
	} else {
		measured++
		detected, right := 0, 0
		var missed []string
		for _, r := range rows {
			res, ok, err := m.Match(r.name)
			switch {
			case err != nil:
				missed = append(missed, fmt.Sprintf("%s\t%s\t%s\terror: %v", r.name, r.brand, r.technique, err))
			case !ok || res.Score < *minScore:
				missed = append(missed, fmt.Sprintf("%s\t%s\t%s\tscore %d %s", r.name, r.brand, r.technique, res.Score, res.Brand))
			default:
				detected++
				if strings.EqualFold(res.Brand, r.brand) {
					right++
				} else {
					missed = append(missed, fmt.Sprintf("%s\t%s\t%s\twrong brand %s (%d)", r.name, r.brand, r.technique, res.Brand, res.Score))
				}
			}
		}
		fmt.Fprintf(w, "imitations\t%s\t%d names\tdetected %d (%.1f%%), right brand %d (%.1f%%)\ttarget >= 95%%\n",
			filepath.Base(*imit), len(rows), detected, pct(detected, len(rows)), right, pct(right, len(rows)))
		if *verbose {
			for _, s := range missed {
				fmt.Fprintf(w, "  missed\t%s\n", s)
			}
		}
	}
	covid := filepath.Join(*data, "domains", "phishing", "covid-phish-domains-list_mitchellkrogza.txt")
	if names, err := readList(covid); err != nil {
		fmt.Fprintf(e.stderr, "ward: eval: skipping COVID phishing list: %v\n", err)
	} else {
		measured++
		hits := matchedList(m, names, *minScore)
		fmt.Fprintf(w, "phishing\t%s\t%d names\timitate a protected brand: %d (%.1f%%)\n", filepath.Base(covid), len(names), len(hits), pct(len(hits), len(names)))
		if *verbose {
			for _, h := range hits {
				fmt.Fprintf(w, "  matched\t%s\n", h)
			}
		}
	}
	pt := filepath.Join(*data, "domains", "phishing", "phishtank-verified-online-2021-03-14.csv")
	if urls, err := readPhishTank(pt); err != nil {
		fmt.Fprintf(e.stderr, "ward: eval: skipping PhishTank: %v\n", err)
	} else {
		measured++
		hits := matchedList(m, urls, *minScore)
		fmt.Fprintf(w, "phishing\t%s\t%d urls\timitate a protected brand: %d (%.2f%%)\n", filepath.Base(pt), len(urls), len(hits), pct(len(hits), len(urls)))
		if *verbose {
			for _, h := range hits {
				fmt.Fprintf(w, "  matched\t%s\n", h)
			}
		}
	}
	if measured == 0 {
		return fmt.Errorf("nothing to evaluate: no data under %s and no imitations file", *data)
	}
	return nil
}

func matchedList(m *lookalike.Matcher, names []string, minScore int) []string {
	var out []string
	for _, n := range names {
		if r, ok, _ := m.Match(n); ok && r.Score >= minScore {
			out = append(out, fmt.Sprintf("%s\t%s\t%d\t%s", n, r.Brand, r.Score, strings.Join(r.Techniques, ",")))
		}
	}
	return out
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// readList reads one name per line, skipping blanks and # comments.
func readList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	lr := newLineReader(f, lookalike.MaxInputLen)
	for {
		b, err := lr.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if errors.Is(err, errLineTooLong) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		s := string(b)
		if i := strings.Index(s, "#"); i >= 0 {
			s = s[:i]
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
}

type imitation struct{ name, brand, technique string }

func readImitations(path string) ([]imitation, error) {
	lines, err := readList(path)
	if err != nil {
		return nil, err
	}
	var out []imitation
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) < 2 {
			return nil, fmt.Errorf("%s: entry %d: want name<TAB>brand<TAB>technique, got %q", path, i+1, l)
		}
		r := imitation{name: strings.TrimSpace(f[0]), brand: strings.TrimSpace(f[1])}
		if len(f) > 2 {
			r.technique = strings.TrimSpace(f[2])
		}
		out = append(out, r)
	}
	return out, nil
}

func readPhishTank(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var out []string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) == 0 || rec[0] == "url" {
			continue
		}
		out = append(out, rec[0])
	}
}
