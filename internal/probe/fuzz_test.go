package probe

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

func FuzzExtractContent(f *testing.F) {
	pages, _ := filepath.Glob("testdata/pages/*.html")
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "https://x.example/a/")
	}
	f.Add([]byte(`<form action="javascript:void(0)"><input type=password></form><script>location="//e.example"</script>`), "http://[::1]/")
	f.Add([]byte(`<meta http-equiv=refresh content="0;url=">`), "")
	ref := &Reference{Names: []string{"rivm", "é"}, Domains: []string{"rivm.nl"}}
	f.Fuzz(func(t *testing.T, page []byte, pageURL string) {
		c := ExtractContent(page, pageURL, ref)
		if len(c.Title) > maxTitle || len(c.TextSample) > maxTextSample || c.Tokens > maxTokens {
			t.Fatalf("bounds: title %d text %d tokens %d", len(c.Title), len(c.TextSample), c.Tokens)
		}
		if len(c.Forms) > maxForms || len(c.Downloads) > maxDownloads || len(c.Redirects) > maxPageRedirect {
			t.Fatalf("counts: %d forms %d downloads %d redirects", len(c.Forms), len(c.Downloads), len(c.Redirects))
		}
		if utf8.ValidString(string(page)) && !utf8.ValidString(c.TextSample) {
			t.Fatalf("text sample split a rune: %q", c.TextSample)
		}
		for _, d := range c.Downloads {
			if len(d.URL) > maxURLLen {
				t.Fatalf("download URL of %d bytes", len(d.URL))
			}
		}
	})
}

func FuzzParseSPF(f *testing.F) {
	for _, s := range []string{"v=spf1 -all", "v=spf1 ip4:192.0.2.0/24 include:x.example ~all", "v=spf1 redirect=x", "v=spf1 +", "v=spf1 =", "v=spf1 -"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rec string) {
		s := ParseSPF(rec)
		if s.Invalid != "" && s.AuthorisesSenders {
			t.Fatalf("invalid record %q authorises senders", rec)
		}
		if len(s.Mechanisms) > maxSPFTerms || len(s.Record) > maxTXTLen {
			t.Fatalf("bounds: %d mechanisms", len(s.Mechanisms))
		}
		if s.All == "-all" && len(s.Mechanisms) == 0 && s.Redirect == "" && s.AuthorisesSenders {
			t.Fatalf("%q: -all alone authorises senders", rec)
		}
	})
}

func FuzzParseDMARC(f *testing.F) {
	for _, s := range []string{"v=DMARC1; p=reject", "v=DMARC1;p=none;rua=mailto:a@b,mailto:c@d;pct=5", "v=DMARC1; =;;", "v=DMARC1; p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rec string) {
		d := ParseDMARC(rec)
		if d.Invalid == "" && !validDMARCPolicy(d.Policy) {
			t.Fatalf("%q: valid record with policy %q", rec, d.Policy)
		}
		if d.Percent < 0 || d.Percent > 100 || len(d.ReportURIs) > 16 {
			t.Fatalf("%q: pct %d, %d URIs", rec, d.Percent, len(d.ReportURIs))
		}
	})
}

func FuzzParseRDAP(f *testing.F) {
	f.Add([]byte(rdapBody(testTime)))
	f.Add([]byte(`{"entities":[{"roles":["abuse"],"vcardArray":["vcard",[["email",{},"text",5]]]}]}`))
	f.Add([]byte(`{"entities":[{"roles":["registrar"],"vcardArray":[1]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r RDAP
		_ = ParseRDAP(body, &r)
		if len(r.Registrar) > 256 || len(r.AbuseEmail) > 256 {
			t.Fatalf("unbounded fields")
		}
	})
}

func FuzzParseHostIP(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "[::ffff:127.0.0.1]", "1.2.3.4.5", "0x", "00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		a, ok := parseHostIP(host)
		if ok && !a.IsValid() {
			t.Fatalf("%q: ok with an invalid address", host)
		}
		_ = ClassifyAddr(a)
	})
}
