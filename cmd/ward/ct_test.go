package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/ct"
	"github.com/ward-health/ward/internal/ct/cttest"
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

// lockedBuffer is an output the test reads while a command writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A log list with one badly described log: that log is left out with a
// warning, and the good one is followed and printed.
func TestCTTailLogList(t *testing.T) {
	l, err := cttest.New(cttest.Static)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.AddN(4, "com"); err != nil {
		t.Fatal(err)
	}
	if err := l.Add([]string{"rivm-coronatest.nl"}, true); err != nil {
		t.Fatal(err)
	}
	l.Publish()
	der, _ := base64.StdEncoding.DecodeString(l.Key())
	id := sha256.Sum256(der)
	usable := map[string]any{"usable": map[string]any{"timestamp": "2026-01-01T00:00:00Z"}}
	list, _ := json.Marshal(map[string]any{
		"version": "1.0", "log_list_timestamp": "2026-11-27T00:00:00Z",
		"operators": []any{map[string]any{
			"name": "Test",
			"logs": []any{map[string]any{"description": "Broken", "log_id": "AAAA", "key": "?", "url": "https://broken.example/", "mmd": 86400, "state": usable}},
			"tiled_logs": []any{map[string]any{"description": "Local static", "log_id": base64.StdEncoding.EncodeToString(id[:]),
				"key": l.Key(), "submission_url": l.URL(), "monitoring_url": l.URL(), "mmd": 60, "state": usable}},
		}},
	})
	path := filepath.Join(t.TempDir(), "list.json")
	if err := os.WriteFile(path, list, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb lockedBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, []string{"ct", "tail", "-log-list", path, "-from-start", "-poll", "100ms", "-metrics", "127.0.0.1:0"})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(out.String(), "\n") < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// The metrics say the same, at the address logged.
	_, url, _ := strings.Cut(errb.String(), `msg="serving metrics" url=`)
	url, _, _ = strings.Cut(url, "\n")
	want := fmt.Sprintf("ward_ct_entries_total{description=\"Local static\",log=%q} 5\n", l.URL())
	var metrics []byte
	for !bytes.Contains(metrics, []byte(want)) && time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("scraping %q: %v", url, err)
		}
		metrics, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		time.Sleep(10 * time.Millisecond)
	}
	if !bytes.Contains(metrics, []byte(want)) {
		t.Errorf("metrics lack %q:\n%s", want, metrics)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !strings.Contains(lines[4], `"names":["rivm-coronatest.nl"]`) || !strings.Contains(lines[4], `"precert":true`) {
		t.Fatalf("output:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), `leaving out a log the list describes badly`) || !strings.Contains(errb.String(), `(\"Broken\")`) {
		t.Errorf("stderr does not name the skipped log:\n%s", errb.String())
	}
}
