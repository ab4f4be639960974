package mail

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/mail/finding"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/messages/*.eml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b--\r\n"))
	f.Add([]byte(""))
}

// FuzzAnalyze checks that no message makes the analyzer panic, hang or
// return an unknown verdict.
func FuzzAnalyze(f *testing.F) {
	addSeeds(f)
	a, err := NewAnalyzer(Config{Limits: Limits{MaxParts: 50, MaxDepth: 6, MaxLinks: 100, MaxHTMLTokens: 5000, Timeout: 5 * time.Second}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := a.Analyze(context.Background(), "f", raw)
		if r.Verdict.Rank() < 0 {
			t.Fatalf("verdict %q", r.Verdict)
		}
		if r.Reasons == nil || r.Attachments == nil || r.Errors == nil {
			t.Fatal("nil slice in result (JSON would print null)")
		}
	})
}

// staticKeys answers every key look-up with one record.
type staticKeys string

func (s staticKeys) LookupTXT(context.Context, string) ([]string, error) {
	return []string{string(s)}, nil
}

// FuzzDKIM checks that hostile signatures and key records never panic the
// verifier.
func FuzzDKIM(f *testing.F) {
	rfc, err := os.ReadFile("testdata/dkim/rfc6376-example.eml")
	if err != nil {
		f.Fatal(err)
	}
	key, err := os.ReadFile("testdata/dkim/brisbane._domainkey.example.com.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rfc, string(key))
	f.Add([]byte("DKIM-Signature: v=1; a=ed25519-sha256; d=x; s=y; h=from; bh=; b=\r\nFrom: a\r\n\r\n"), "k=ed25519; p="+base64.StdEncoding.EncodeToString(make([]byte, 32)))
	f.Add([]byte("DKIM-Signature: v=1; a=rsa-sha1; c=relaxed; l=99999; x=1; d=x; s=y; h=from:from; bh=AA==; b=AA==\r\nFrom: a\r\n\r\n"), "p=AA==")
	f.Fuzz(func(t *testing.T, raw []byte, rec string) {
		vs := verifyDKIMSignatures(context.Background(), raw, staticKeys(rec), 5, time.Unix(0, 0))
		if len(vs) > 5 {
			t.Fatalf("%d results, limit 5", len(vs))
		}
	})
}

// FuzzTNEF checks that no winmail.dat stream makes the reader panic or
// return more files than allowed.
func FuzzTNEF(f *testing.F) {
	f.Add([]byte("\x78\x9f\x3e\x22\x01\x00\x02\x10\x80\x01\x00\x05\x00\x00\x00a.vbs\x00\x00\x02\x0f\x80\x06\x00\x02\x00\x00\x00hi\x00\x00"))
	f.Add([]byte("\x78\x9f\x3e\x22\x01\x00\x02\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, _ := tnefFiles(data, 3)
		if len(files) > 3 {
			t.Fatalf("%d files, limit 3", len(files))
		}
	})
}

// FuzzContent feeds arbitrary text to the content signals, whose wallet
// checks decode base58 and bech32.
func FuzzContent(f *testing.F) {
	f.Add("Hello j@x.example, send BTC to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 or bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
	f.Add("wallet 0x52908400098527886e0f7030069857d2e4169ee7 ihr konto wurde gesperrt")
	f.Add("bc11111111111111")
	f.Fuzz(func(t *testing.T, text string) {
		n := 0
		contentSignals(text, []address{{addr: "j@x.example"}}, func(finding.Finding) { n++ })
		if n > 5 {
			t.Fatalf("%d content findings, at most 5 kinds exist", n)
		}
	})
}
