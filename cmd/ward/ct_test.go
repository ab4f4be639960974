package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/ct"
	"github.com/ward-health/ward/internal/lookalike"
)

func TestCTTailUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ct"}, "needs a subcommand: tail"},
		{[]string{"ct", "tail", "-log", "https://ct.example/x/"}, "1 -log but 0 -log-key"},
		{[]string{"ct", "tail", "-log", "https://ct.example/x/", "-log-key", "bm90IGEga2V5"}, "-log-key for https://ct.example/x/"},
		{[]string{"ct", "tail", "-log", "ftp://ct.example/x/", "-log-key", "x"}, "not an http(s) URL"},
		{[]string{"ct", "tail", "-from-start", "-from", "5"}, "at most one of -from-start"},
		{[]string{"ct", "tail", "-t", "0"}, "-t 0 is out of range"},
		{[]string{"ct", "tail", "-min-score", "101"}, "-min-score 101 is out of range"},
	} {
		var out, errb bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
		if code := run(context.Background(), e, tc.args); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", tc.args, code, errb.String())
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: stderr %q, want %q", tc.args, errb.String(), tc.want)
		}
	}
}

// With brands, only certificates with an imitating name are printed, with
// the best match's fields added to the certificate's.
func TestCTFormatWithBrands(t *testing.T) {
	var bf brandFlags
	set, err := bf.load()
	if err != nil {
		t.Fatal(err)
	}
	m, err := lookalike.NewMatcher(set)
	if err != nil {
		t.Fatal(err)
	}
	format := formatEvent(m, lookalike.AlertThreshold, false)
	if line := format(ct.Event{Log: "l", Index: 1, Names: []string{"www.example.com", "shop.example.org"}}); line != nil {
		t.Errorf("benign certificate printed: %s", line)
	}
	line := format(ct.Event{Log: "l", Index: 2, Names: []string{"mail.example.com", "rivm-coronatest.nl"}})
	var got struct {
		Log    string   `json:"log"`
		Index  int      `json:"index"`
		Names  []string `json:"names"`
		Domain string   `json:"domain"`
		Brand  string   `json:"brand"`
		Score  int      `json:"score"`
	}
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if got.Index != 2 || got.Brand != "RIVM" || got.Domain != "rivm-coronatest.nl" || got.Score < lookalike.AlertThreshold || len(got.Names) != 2 {
		t.Errorf("match line = %+v", got)
	}
	if s := string(formatEvent(m, 60, true)(ct.Event{Names: []string{"rivm-coronatest.nl"}})); s != "rivm-coronatest.nl\n" {
		t.Errorf("silent = %q", s)
	}
	if s := string(formatEvent(nil, 60, true)(ct.Event{Names: []string{"a.example", "b.example"}})); s != "a.example\nb.example\n" {
		t.Errorf("silent without brands = %q", s)
	}
}
