package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAnalyzeHam analyses the SpamAssassin easy-ham-1 corpus when
// ../shared/data is present and reports messages per second on one core
// (run with -cpu 1).
func BenchmarkAnalyzeHam(b *testing.B) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "mail", "spamassassin_public_corpus", "easy-ham-1")
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) == 0 {
		b.Skip("no easy-ham-1 corpus under ../shared/data/mail")
	}
	var msgs [][]byte
	var total int64
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
		total += int64(len(raw))
	}
	a := newTestAnalyzer(b, Config{})
	ctx := context.Background()
	b.SetBytes(total / int64(len(msgs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Analyze(ctx, "m", msgs[i%len(msgs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// bigMessage builds a message of about size bytes: an HTML body with many
// links and base64 attachments of random (incompressible) data.
func bigMessage(size int) []byte {
	var buf bytes.Buffer
	buf.WriteString("From: \"Radiology\" <pacs@example-hospital.org>\r\nTo: staff@example-hospital.org\r\n" +
		"Subject: Scans for review\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BIG\"\r\n\r\n")
	buf.WriteString("--BIG\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&buf, "<p>Series %d: <a href=\"https://pacs.example-hospital.org/s/%d\">view</a></p>\r\n", i, i)
	}
	buf.WriteString("</body></html>\r\n")
	rng := rand.New(rand.NewPCG(1, 2))
	chunk := make([]byte, 3<<20)
	for n := 0; buf.Len() < size; n++ {
		for i := range chunk {
			chunk[i] = byte(rng.Uint32())
		}
		fmt.Fprintf(&buf, "--BIG\r\nContent-Type: application/octet-stream; name=\"scan%d.dcm\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", n)
		enc := base64.StdEncoding.EncodeToString(chunk)
		for len(enc) > 76 {
			buf.WriteString(enc[:76])
			buf.WriteString("\r\n")
			enc = enc[76:]
		}
		buf.WriteString(enc + "\r\n")
	}
	buf.WriteString("--BIG--\r\n")
	return buf.Bytes()
}

// BenchmarkAnalyze25MB analyses a generated 25 MB message with
// attachments; the target is under 2 s per message.
func BenchmarkAnalyze25MB(b *testing.B) {
	raw := bigMessage(25 << 20)
	a := newTestAnalyzer(b, Config{})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := a.Analyze(context.Background(), "big", raw)
		if r.Verdict != Clean && r.Verdict != Suspicious {
			b.Fatalf("verdict %s: %v", r.Verdict, r.Reasons)
		}
	}
}

// TestBigMessageNoLimit checks that a 25 MB message with attachments is
// analysed within the default size limits, not cut short.
func TestBigMessageNoLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	// No time limit: this test is about the size limits, and the race
	// detector makes the analysis many times slower.
	r := newTestAnalyzer(t, Config{Limits: Limits{Timeout: time.Hour}}).Analyze(context.Background(), "big", bigMessage(25<<20))
	for _, f := range r.Reasons {
		if f.Signal == sigLimit {
			t.Errorf("limit reached on a 25 MB message: %s", f.Detail)
		}
	}
	if len(r.Attachments) < 5 {
		t.Errorf("%d attachments", len(r.Attachments))
	}
}

// TestWriteBigMessage writes the 25 MB benchmark message to $WARD_BIG_MESSAGE
// for measuring "ward mail analyze" with /usr/bin/time -v.
func TestWriteBigMessage(t *testing.T) {
	p := os.Getenv("WARD_BIG_MESSAGE")
	if p == "" {
		t.Skip("set WARD_BIG_MESSAGE=FILE to write the 25 MB benchmark message")
	}
	if err := os.WriteFile(p, bigMessage(25<<20), 0o644); err != nil {
		t.Fatal(err)
	}
}
