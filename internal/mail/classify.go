package mail

import (
	"context"
	"fmt"
	"strings"

	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/mail/attach"
	"github.com/ward-health/ward/internal/mail/bayes"
	"github.com/ward-health/ward/internal/mail/finding"
)

// SignalBayesSpam is the signal of wording that the Bayes classifier finds
// typical of bulk scam mail.
const SignalBayesSpam = "bayes_spam"

const sigBayesSpam = SignalBayesSpam

// Thresholds of the bayes_spam signal, on the classifier's spam
// probability. BayesThreshold was chosen on the held-out half of the
// SpamAssassin corpus (never on the phishing sample): see docs/mail.md.
const (
	// BayesThreshold is the spam probability at and above which the
	// message's wording is a reason (BayesScore points).
	BayesThreshold = 0.9
	// BayesSure is the spam probability at and above which the signal
	// weighs BayesSureScore, enough to make the message suspicious alone.
	BayesSure = 0.999
	// BayesScore and BayesSureScore are the signal's points below and
	// above BayesSure.
	BayesScore     = 20
	BayesSureScore = SuspiciousThreshold
	// BayesMinClues is the number of telling words (bayes.Result.Clues)
	// a message needs before its probability is believed: a short
	// message judged on a handful of words is left alone.
	BayesMinClues = 10
)

// maxDocText bounds the text of attached documents (PDF pages) that the
// lures and content checks read per message.
const maxDocText = 128 << 10

// messageText is the text that the lures, content signals, passwords and
// the classifier read: the subject, the plain-text parts, then the visible
// text of the HTML parts, in all at most about maxLureText bytes.
func messageText(subject string, texts, htmlTexts []string) string {
	var b strings.Builder
	b.WriteString(subject)
	b.WriteByte('\n')
	for _, parts := range [][]string{texts, htmlTexts} {
		for _, t := range parts {
			if b.Len() < maxLureText {
				b.WriteString(truncate(t, maxLureText-b.Len()))
				b.WriteByte('\n')
			}
		}
	}
	return b.String()
}

// classifierInput is what the classifier reads of a message: its text
// and then its documents' text (as much as bayes.MaxText holds), its From
// domain, and the registrable domains of its links.
func classifierInput(body, docText, fromDomain string, links []link) bayes.Message {
	if docText != "" {
		body += "\n" + docText
	}
	m := bayes.Message{Text: body, FromDomain: fromDomain, FromSite: lookalike.Registrable(fromDomain)}
	seen := map[string]bool{}
	for _, l := range links {
		if len(m.LinkSites) == bayes.MaxLinkSites {
			break
		}
		if l.where == "attachment" || l.where == "qr" {
			continue // not what the trainer reads (ClassifierInput)
		}
		li, ok := parseLink(l.url)
		if !ok || li.host == "" || li.ip {
			continue
		}
		if site := lookalike.Registrable(li.host); site != "" && !seen[site] {
			seen[site] = true
			m.LinkSites = append(m.LinkSites, site)
		}
	}
	return m
}

// ClassifierInput returns what the Bayes classifier reads of a raw
// message, exactly as Analyze gives it: the subject and decoded text
// (plain parts and the visible text of HTML parts) and the From domain.
// The trainer (internal/mail/bayes/train) uses
// it so that the model learns from the same text it later judges. Parsing
// is bounded by DefaultLimits.
func ClassifierInput(ctx context.Context, raw []byte) bayes.Message {
	lim := DefaultLimits()
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	if int64(len(raw)) > lim.MaxSize {
		raw = raw[:min(len(raw), maxHeaderBytes)]
		lim.MaxParts = 1
	}
	p := parse(ctx, raw, lim)
	var subject, fromDomain string
	if p.headerOK {
		subject = truncate(headerText(p.header.Get("Subject")), maxHeaderText)
		if froms := parseAddresses(p.header.Get("From"), maxAddresses); len(froms) > 0 {
			fromDomain = froms[0].domain
		}
	}
	var htmlTexts []string
	// The links as Analyze collects them, so that training and judging
	// see the same domains.
	links, _ := plainTextLinks(p.texts, lim.MaxLinks)
	for _, doc := range p.htmls {
		s := scanHTML(doc, lim.MaxHTMLTokens, lim.MaxLinks-len(links))
		htmlTexts = append(htmlTexts, s.text.String())
		links = append(links, s.links...)
	}
	body := messageText(subject, p.texts, htmlTexts)
	// The documents' text, as Analyze gathers it (pictures are not
	// searched: they add no text).
	var docText string
	attLim := lim.Attach
	attLim.MaxPictures = -1
	pws := passwords(body)
	for _, ra := range p.attachments {
		if ctx.Err() != nil {
			break
		}
		rep := attach.Analyze(ctx, attach.Attachment{Name: ra.name, DeclaredType: ra.ctype, Data: ra.data, Passwords: pws}, attLim)
		docText = appendDocText(docText, rep.Text)
	}
	return classifierInput(body, docText, fromDomain, links)
}

// appendDocText adds a document's text to what the checks read of a
// message's documents, up to maxDocText.
func appendDocText(all, text string) string {
	if text == "" || len(all) >= maxDocText {
		return all
	}
	return truncate(all+"\n"+text, maxDocText)
}

// bayesSignal reports wording that the classifier finds typical of bulk
// scam mail. It is Weak: with lures or brand signals it can add up to a
// phishing verdict only through the impersonation rule of Decide, never on
// its own.
func (a *Analyzer) bayesSignal(msg bayes.Message, add func(finding.Finding)) {
	r := a.bayes.Classify(msg)
	if r.Spam < BayesThreshold || r.Clues < BayesMinClues {
		return
	}
	score := BayesScore
	if r.Spam >= BayesSure {
		score = BayesSureScore
	}
	add(finding.Finding{Signal: sigBayesSpam, Score: score, Class: finding.Weak,
		Detail: fmt.Sprintf("the wording resembles bulk scam mail (p = %s)", probText(r.Spam))})
}

// probText prints a probability with three decimals, never rounding a
// value below 1 up to "1.000".
func probText(p float64) string {
	s := fmt.Sprintf("%.3f", p)
	if s == "1.000" && p < 1 {
		s = "0.999"
	}
	return s
}
