package lookalike

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// readEval reads a testdata/eval file: one entry per line, # comments.
func readEval(t *testing.T, name string) [][]string {
	t.Helper()
	f, err := os.Open("testdata/eval/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if i := strings.Index(l, "#"); i >= 0 {
			l = l[:i]
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		out = append(out, strings.Split(strings.TrimSpace(l), "\t"))
	}
	return out
}

// TestEvalImitations holds the matcher to the recall target on the
// labelled imitations written independently of it: at least 95% detected
// at the alert threshold and attributed to the right brand.
func TestEvalImitations(t *testing.T) {
	m := healthMatcher(t)
	rows := readEval(t, "imitations.tsv")
	right := 0
	for _, r := range rows {
		res, ok, err := m.Match(r[0])
		if err == nil && ok && res.Score >= AlertThreshold && strings.EqualFold(res.Brand, r[1]) {
			right++
		} else {
			t.Logf("missed %s (%s, %s): %+v %v", r[0], r[1], r[2], res, err)
		}
	}
	if got := float64(right) / float64(len(rows)); got < 0.95 {
		t.Errorf("detected %d of %d imitations (%.1f%%), want at least 95%%", right, len(rows), 100*got)
	}
}

// TestEvalBenign checks that no legitimate name of the benign list alerts.
func TestEvalBenign(t *testing.T) {
	m := healthMatcher(t)
	for _, r := range readEval(t, "benign.txt") {
		if res, ok, _ := m.Match(r[0]); ok && res.Score >= AlertThreshold {
			t.Errorf("alert on benign %s: %+v", r[0], res)
		}
	}
}
