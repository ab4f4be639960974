package mail

import (
	"testing"

	"github.com/ward-health/ward/internal/mail/finding"
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
