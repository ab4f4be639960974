package mail

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ward-health/ward/internal/mail/finding"
	"github.com/ward-health/ward/internal/mail/office"
)

func f(signal string, score int, class finding.Class) finding.Finding {
	return finding.Finding{Signal: signal, Detail: signal, Score: score, Class: class}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name  string
		fs    []finding.Finding
		want  Verdict
		score int
	}{
		{"nothing", nil, Clean, 0},
		{"weak signals below the line", []finding.Finding{f(sigReplyToDiffers, 10, finding.Weak), f(sigLinkShortener, 15, finding.Weak)}, Clean, 25},
		{"weak signals add up to suspicious", []finding.Finding{f(sigLinkIP, 20, finding.Weak), f(sigLinkShortener, 15, finding.Weak)}, Suspicious, 35},
		{"a lure alone counts for nothing", []finding.Finding{f(sigLureCovid, 10, finding.Weak), f(sigLureVaccine, 10, finding.Weak), f(sigLureAccount, 10, finding.Weak)}, Clean, 0},
		{"lures boost other signals", []finding.Finding{f(sigLinkIP, 20, finding.Weak), f(sigLureCovid, 10, finding.Weak), f(sigLureDonation, 10, finding.Weak)}, Suspicious, 40},
		{"lure boost is capped", []finding.Finding{f(sigLinkIP, 20, finding.Weak), f(sigLureCovid, 10, finding.Weak), f(sigLureDonation, 10, finding.Weak),
			f(sigLurePayment, 10, finding.Weak), f(sigLureAccount, 10, finding.Weak)}, Suspicious, 50},
		{"malware wins", []finding.Finding{f("vbs_dropper", 100, finding.Malware), f(sigHTMLForm, 60, finding.Phishing)}, Malicious, 160},
		{"a phishing-class finding alone", []finding.Finding{f(sigHTMLForm, 60, finding.Phishing)}, Phishing, 60},
		{"high score with impersonation", []finding.Finding{f(sigDisplayNameBrand, 45, finding.Weak), f(sigReplyToFreemail, 25, finding.Weak)}, Phishing, 70},
		{"high score without impersonation stays suspicious", []finding.Finding{f(sigLinkIP, 20, finding.Weak), f(sigLinkDataURL, 25, finding.Weak), f(sigHTMLScript, 10, finding.Weak), f(sigLinkJavascript, 20, finding.Weak)}, Suspicious, 75},
		{"impersonation plus lures crosses the phishing line", []finding.Finding{f(sigDisplayNameBrand, 45, finding.Weak), f(sigLinkShortener, 15, finding.Weak), f(sigLureCovid, 10, finding.Weak)}, Phishing, 70},
		{"a limit alone is suspicious", []finding.Finding{f(sigLimit, 0, finding.Limit)}, Suspicious, 0},
		{"a limit does not hide malware", []finding.Finding{f(sigLimit, 0, finding.Limit), f("exe", 100, finding.Malware)}, Malicious, 100},
		{"a mailed auto-run macro is malicious", []finding.Finding{f(office.SignalMacroAutoExec, 20, finding.Weak), f(office.SignalMacroPresent, 10, finding.Weak)}, Malicious, 30},
		{"an XLM auto-open is malicious", []finding.Finding{f(office.SignalXLMAutoOpen, 20, finding.Weak)}, Malicious, 20},
		{"a macro alone is worth a look", []finding.Finding{f(office.SignalMacroPresent, 10, finding.Weak)}, Suspicious, 10},
		{"an encrypted document is worth a look", []finding.Finding{f(office.SignalEncrypted, 20, finding.Weak)}, Suspicious, 20},
		{"a document that is only a link is worth a look", []finding.Finding{f(office.SignalLinkLure, 15, finding.Weak)}, Suspicious, 15},
		{"an external link in a workbook alone is not", []finding.Finding{f(office.SignalExternalLink, 15, finding.Weak)}, Clean, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, score := Decide(tt.fs)
			if got != tt.want || score != tt.score {
				t.Errorf("Decide = %s, %d; want %s, %d", got, score, tt.want, tt.score)
			}
		})
	}
}

func TestParseVerdict(t *testing.T) {
	for _, s := range []string{"malicious", "Phishing", " suspicious ", "clean"} {
		if _, err := ParseVerdict(s); err != nil {
			t.Errorf("ParseVerdict(%q): %v", s, err)
		}
	}
	if _, err := ParseVerdict("bad"); err == nil {
		t.Error("ParseVerdict(bad) = nil error")
	}
	if !(Malicious.Rank() > Phishing.Rank() && Phishing.Rank() > Suspicious.Rank() && Suspicious.Rank() > Clean.Rank()) {
		t.Error("verdict ranks are out of order")
	}
}

func TestDisguisedMacro(t *testing.T) {
	tests := []struct {
		name string
		fs   []finding.Finding
		want bool
	}{
		{"macro workbook named .jpg", []finding.Finding{f(sigTypeExtMismatch, 4, finding.Weak), f(office.SignalMacroPresent, 10, finding.Weak)}, true},
		{"XLM sheet behind a double extension", []finding.Finding{f(sigDoubleExtension, 5, finding.Weak), f(office.SignalXLMMacro, 30, finding.Weak)}, true},
		{"macro named right-to-left", []finding.Finding{f(sigNameBidi, 6, finding.Weak), f(office.SignalMacroPresent, 10, finding.Weak)}, true},
		{"macro under its own name", []finding.Finding{f(office.SignalMacroPresent, 10, finding.Weak)}, false},
		{"renamed picture without macro", []finding.Finding{f(sigTypeExtMismatch, 4, finding.Weak)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := disguisedMacro(Attachment{Name: "x", Findings: tt.fs})
			if ok != tt.want {
				t.Fatalf("disguisedMacro = %v, want %v", ok, tt.want)
			}
			if ok && got.Class != finding.Malware {
				t.Errorf("class = %v, want Malware", got.Class)
			}
		})
	}
}

// TestOLEVBMacroSamples checks SpamAssassin's OLEVBMacro test messages
// (Apache-2.0, in the shared data set) against what their names say.
func TestOLEVBMacroSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "mail", "spamassassin_testdata", "spam_olevbmacro")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	want := map[string][2]Verdict{ // lowest and highest verdict allowed
		"macro.eml":        {Suspicious, Malicious},
		"malicemacro.eml":  {Malicious, Malicious},
		"renamedmacro.eml": {Malicious, Malicious}, // the disguise is hostile
		"zippwmacro.eml":   {Suspicious, Malicious},
		"encrypted.eml":    {Suspicious, Suspicious},
		"target_uri.eml":   {Suspicious, Malicious},
		"nomacro.eml":      {Clean, Clean},
		"goodcsv.eml":      {Clean, Clean},
	}
	a, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			r := a.Analyze(context.Background(), name, raw)
			if r.Verdict.Rank() < w[0].Rank() || r.Verdict.Rank() > w[1].Rank() {
				t.Errorf("verdict %s, want %s to %s; reasons %+v", r.Verdict, w[0], w[1], r.Reasons)
			}
		})
	}
}
