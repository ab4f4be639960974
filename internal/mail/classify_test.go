package mail

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/mail/bayes"
	"github.com/ward-health/ward/internal/mail/finding"
)

// scamModel trains a small model: bulk-scam sentences against hospital
// sentences.
func scamModel(t testing.TB) *bayes.Model {
	t.Helper()
	spam := []string{
		"Lose weight fast with our miracle pills, order now and save big today",
		"Cheap loans approved today, no credit check needed, order now",
		"Claim your prize money now, you are our lucky winner this week",
		"Miracle investment doubles your money, act now, limited offer only",
		"Lonely singles near you want to meet tonight, click now for free",
		"Urgent business proposal: transfer of the fund, your share is money",
		"Lowest insurance rates guaranteed, save money now, limited offer",
		"Enlarge your results with our herbal pills, discreet shipping, order now",
	}
	ham := []string{
		"The ward round starts at nine, please bring the patient notes",
		"Minutes of the infection control meeting are attached for review",
		"Could you review the patch for the build script before Friday",
		"The radiology rota for next week is on the intranet page",
		"Lunch meeting moved to the small room on the second floor",
		"Please review the minutes and the rota for the patient ward",
		"The pharmacy needs the signed forms for the night shift by Monday",
		"Theatre schedule changes: the second list starts after lunch",
	}
	var tr bayes.Trainer
	for _, s := range spam {
		tr.Add(bayes.Message{Text: s}, true)
	}
	for _, s := range ham {
		tr.Add(bayes.Message{Text: s}, false)
	}
	m, err := tr.Model(bayes.TrainOptions{MinCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBayesSignal(t *testing.T) {
	m := scamModel(t)
	hdr := []string{"From: Offers <deals@offers-today.example>", "To: staff@hospital.example", "Subject: Limited offer"}
	scam := msg(hdr, "Order now: miracle pills, cheap loans and insurance, claim your prize money, "+
		"act now, limited offer for lucky winners, save big today, click now for free shipping")
	html := msg(append(hdr[:3:3], "MIME-Version: 1.0", "Content-Type: text/html"),
		"<html><body><p>Order now: miracle pills, cheap <b>loans</b> and insurance,</p><p>claim your prize money, "+
			"act now, limited offer for lucky winners, save big today, click now for free shipping</p></body></html>")
	short := msg(hdr, "Order now, cheap pills")
	work := msg([]string{"From: Ward 5 <ward5@hospital.example>", "To: staff@hospital.example", "Subject: Rota"},
		"Please review the patient notes and the rota before the ward round meeting on Monday; the minutes are attached")
	tests := []struct {
		name    string
		cfg     Config
		raw     []byte
		score   int
		verdict Verdict
	}{
		{"scam wording alone is suspicious", Config{Bayes: m}, scam, BayesSureScore, Suspicious},
		{"HTML text is read", Config{Bayes: m}, html, BayesSureScore, Suspicious},
		{"NoBayes turns it off", Config{Bayes: m, NoBayes: true}, scam, 0, Clean},
		{"too few words to judge", Config{Bayes: m}, short, 0, Clean},
		{"work mail is left alone", Config{Bayes: m}, work, 0, Clean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAnalyzer(t, tt.cfg)
			r := a.Analyze(context.Background(), "m.eml", tt.raw)
			var got *finding.Finding
			for i := range r.Reasons {
				if r.Reasons[i].Signal == SignalBayesSpam {
					got = &r.Reasons[i]
				}
			}
			switch {
			case tt.score == 0 && got != nil:
				t.Errorf("unexpected %+v", *got)
			case tt.score != 0 && got == nil:
				t.Errorf("no bayes_spam; reasons %+v (p = %v)", r.Reasons, m.Classify(ClassifierInput(context.Background(), tt.raw)))
			case got != nil:
				if got.Score != tt.score || got.Class != finding.Weak || !strings.HasPrefix(got.Detail, "the wording resembles bulk scam mail (p = 0.9") {
					t.Errorf("got %+v", *got)
				}
				// Analyze judges the text that ClassifierInput gives the
				// trainer.
				p := m.Classify(ClassifierInput(context.Background(), tt.raw)).Spam
				if want := "(p = " + probText(p) + ")"; !strings.HasSuffix(got.Detail, want) {
					t.Errorf("detail %q, want it to end in %q", got.Detail, want)
				}
			}
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s; reasons %+v", r.Verdict, tt.verdict, r.Reasons)
			}
		})
	}
}

// TestBayesNeverPhishingAlone checks the policy: the Bayes signal is not
// an impersonation signal, so with lures and other weak signs it reaches
// suspicious, and phishing only with an impersonation signal.
func TestBayesNeverPhishingAlone(t *testing.T) {
	bayesF := finding.Finding{Signal: sigBayesSpam, Score: BayesSureScore, Class: finding.Weak}
	tests := []struct {
		name string
		fs   []finding.Finding
		want Verdict
	}{
		{"alone", []finding.Finding{bayesF}, Suspicious},
		{"with lures and weak signs", []finding.Finding{bayesF,
			{Signal: sigLurePrize, Score: 10}, {Signal: sigLurePayment, Score: 10}, {Signal: sigLureAccount, Score: 10},
			{Signal: sigLinkShortener, Score: 15}, {Signal: sigSenderAbusedTLD, Score: 10}}, Suspicious},
		{"with a brand in the sender's name", []finding.Finding{bayesF,
			{Signal: sigDisplayNameBrand, Score: 40}}, Phishing},
	}
	for _, tt := range tests {
		if got, _ := Decide(tt.fs); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestProbText(t *testing.T) {
	for p, want := range map[float64]string{0.9: "0.900", 0.99949: "0.999", 0.99999: "0.999", 1: "1.000"} {
		if got := probText(p); got != want {
			t.Errorf("probText(%v) = %q, want %q", p, got, want)
		}
	}
}

// TestBuiltinModel checks that the zero Config loads the built-in model.
func TestBuiltinModel(t *testing.T) {
	a := newTestAnalyzer(t, Config{})
	if a.bayes == nil {
		t.Fatal("the zero Config has no Bayes model")
	}
}

// TestWithBayes checks that a learned model swapped in is used, and that
// it cannot turn on a classifier the analyzer was built without.
func TestWithBayes(t *testing.T) {
	m := scamModel(t)
	scam := msg([]string{"From: Offers <deals@offers-today.example>", "Subject: Limited offer"},
		"Order now: miracle pills, cheap loans and insurance, claim your prize money, "+
			"act now, limited offer for lucky winners, save big today, click now for free shipping")
	plain, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	off, err := NewAnalyzer(Config{NoBayes: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		a    *Analyzer
		want bool
	}{
		{"swapped in", plain.WithBayes(m), true},
		{"nil keeps the model", plain.WithBayes(m).WithBayes(nil), true},
		{"NoBayes stays off", off.WithBayes(m), false},
	} {
		r := c.a.Analyze(context.Background(), "scam.eml", scam)
		got := false
		for _, f := range r.Reasons {
			if f.Signal == SignalBayesSpam && f.Score == BayesSureScore {
				got = true
			}
		}
		if got != c.want {
			t.Errorf("%s: sure bayes_spam %v, want %v (%v)", c.name, got, c.want, r.Reasons)
		}
	}
}

// TestClassifierInputSites checks that the classifier reads the From
// address's registrable domain and those of the links in the text and the
// HTML, as Analyze collects them, and not a link inside an attachment.
func TestClassifierInputSites(t *testing.T) {
	raw := []byte("From: Offers <news@mail.offers.example>\r\nSubject: deals\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nSee https://shop.example.com/x and http://198.51.100.4/y\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<a href=\"https://click.tracker.example.net/z\">more</a>\r\n" +
		"--b\r\nContent-Type: text/plain; name=\"links.txt\"\r\nContent-Disposition: attachment; filename=\"links.txt\"\r\n\r\nhttps://inside.attached.example/\r\n" +
		"--b--\r\n")
	m := ClassifierInput(context.Background(), raw)
	if m.FromSite != "offers.example" {
		t.Errorf("FromSite = %q", m.FromSite)
	}
	if want := []string{"example.com", "example.net"}; !slices.Equal(m.LinkSites, want) {
		t.Errorf("LinkSites = %q, want %q", m.LinkSites, want)
	}
}
