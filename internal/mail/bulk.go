package mail

import (
	"fmt"
	"net/mail"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/mail/finding"
	"golang.org/x/net/publicsuffix"
)

// Signals of the way a message was made and sent: the marks that bulk
// fraud leaves (made-up Message-IDs, impossible dates, throw-away
// top-level domains, hidden filler text, image-only bodies) and a sender
// domain that belongs to a well-known organisation while the message
// bounces elsewhere.

// abusedTLDs are top-level domains where, in the yearly abuse reports of
// Spamhaus and Interisle, most registrations seen in spam and phishing
// are: cheap, bulk-registered, rarely used by organisations for mail.
var abusedTLDs = setOf(
	"top", "xyz", "shop", "click", "icu", "cfd", "sbs", "buzz", "rest", "lat", "bond", "cyou",
	"monster", "skin", "quest", "autos", "beauty", "hair", "makeup", "boats", "yachts", "mom",
	"tk", "ml", "ga", "cf", "gq", "loan", "win", "bid", "date", "stream", "download", "racing",
	"review", "trade", "party", "science", "accountant", "cricket", "faith", "men", "work", "cam",
	"pw", "zip", "mov", "gdn", "kim", "country", "rodeo", "surf",
)

// bounceServices are the bounce (Return-Path) domains of mailing
// services that send on behalf of organisations.
var bounceServices = setOf(
	"amazonses.com", "sendgrid.net", "mailgun.org", "mailgun.net", "sparkpostmail.com", "mcsv.net",
	"rsgsv.net", "mandrillapp.com", "exacttarget.com", "salesforce.com", "bounces.google.com",
	"google.com", "mktomail.com", "marketo.org", "hubspotemail.net", "hubspot.com", "cmail19.com",
	"cmail20.com", "createsend.com", "mailjet.com", "sendinblue.com", "brevo.com", "postmarkapp.com",
	"mtasv.net", "emarsys.net", "returnpath.net", "msgfocus.com", "eloqua.com", "mailchimp.com",
	"constantcontact.com", "rs6.net", "icpbounce.com", "pphosted.com", "messagelabs.com",
	"outlook.com", "protection.outlook.com", "onmicrosoft.com", "zendesk.com", "freshdesk.com",
)

// privateTLDs are names used inside networks, seen in honest Message-IDs
// written by mail programs on unnamed hosts.
var privateTLDs = setOf("localhost", "localdomain", "local", "lan", "internal", "home", "corp", "intranet", "domain", "invalid")

// messageIDSignal flags a Message-ID that no mail program writes: no "@",
// or a right-hand side under a top-level domain that does not exist
// (random letters).
func messageIDSignal(h message.Header, add func(finding.Finding)) {
	raw := strings.TrimSpace(h.Get("Message-Id"))
	if raw == "" {
		// Missing Message-IDs are added by the receiving server, or
		// not, depending on the server: no evidence either way.
		return
	}
	id := strings.Trim(raw, "<> \t")
	at := strings.LastIndexByte(id, '@')
	if at < 0 {
		add(finding.Finding{Signal: sigMessageIDBogus, Score: 10, Class: finding.Weak,
			Detail: fmt.Sprintf("the Message-ID %q has no domain part", truncate(raw, 80))})
		return
	}
	d := strings.ToLower(strings.Trim(id[at+1:], "[]."))
	if d == "" || strings.ContainsAny(d, " \t") {
		add(finding.Finding{Signal: sigMessageIDBogus, Score: 10, Class: finding.Weak,
			Detail: fmt.Sprintf("the Message-ID %q has no domain part", truncate(raw, 80))})
		return
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return
	}
	tld := d[strings.LastIndexByte(d, '.')+1:]
	if strings.Trim(tld, "0123456789") == "" || !isASCII(tld) {
		// A number (a version or an address) or an internationalised
		// name: not judged.
		return
	}
	if privateTLDs[tld] || !strings.Contains(d, ".") && privateTLDs[d] {
		return
	}
	if !strings.Contains(d, ".") {
		// A host name without a domain: mail programs on machines
		// without a configured domain write these.
		return
	}
	if !knownTLD(tld) {
		add(finding.Finding{Signal: sigMessageIDBogus, Score: 10, Class: finding.Weak,
			Detail: fmt.Sprintf("the Message-ID's domain %q ends in .%s, a top-level domain that does not exist", truncate(d, 80), truncate(tld, 20))})
	}
}

// knownTLD reports whether tld is a top-level domain of the public
// suffix list (ICANN or private sections).
func knownTLD(tld string) bool {
	if tld == "" || strings.Trim(tld, "0123456789") == "" {
		return false
	}
	s, icann := publicsuffix.PublicSuffix(tld)
	// For an unknown TLD the list's default rule "*" answers with the
	// label itself and icann false.
	return icann || s != tld
}

// dateSignal flags a Date header that is unreadable, or more
// than a day after the time the receiving server wrote in the newest
// Received header: bulk senders write made-up dates.
func dateSignal(h message.Header, add func(finding.Finding)) {
	v := strings.TrimSpace(h.Get("Date"))
	if v == "" {
		// Receiving servers add a missing Date, or not: no evidence.
		return
	}
	d, err := mail.ParseDate(v)
	if err != nil {
		add(finding.Finding{Signal: sigDateBogus, Score: 5, Class: finding.Weak,
			Detail: fmt.Sprintf("the Date header %q cannot be read", truncate(v, 60))})
		return
	}
	rcv := h.Get("Received")
	i := strings.LastIndexByte(rcv, ';')
	if i < 0 {
		return
	}
	r, err := mail.ParseDate(strings.TrimSpace(rcv[i+1:]))
	if err != nil {
		return
	}
	if d.Sub(r) > 24*time.Hour {
		add(finding.Finding{Signal: sigDateBogus, Score: 10, Class: finding.Weak,
			Detail: fmt.Sprintf("the message is dated %s, %s after it was received", d.UTC().Format(time.RFC3339), d.Sub(r).Round(time.Hour))})
	}
}

// abusedTLD returns the top-level domain of domain when it is one of
// abusedTLDs, or "".
func abusedTLD(domain string) string {
	tld := domain[strings.LastIndexByte(domain, '.')+1:]
	if abusedTLDs[tld] {
		return tld
	}
	return ""
}

// envelopeMismatch flags mail whose From is the domain of a protected or
// commonly imitated organisation (costco.com, paypal.com, rivm.nl) while
// its bounce address (Return-Path) belongs to an unrelated domain that is
// not a mailing service: such organisations' mail bounces to themselves
// or to the service that sends for them, so the From is forged.
//
// Free mail senders and mailing lists are left out: list servers rewrite
// the bounce address of their members' mail.
func (a *Analyzer) envelopeMismatch(h message.Header, from, returnPath address, add func(finding.Finding)) {
	if from.domain == "" || returnPath.domain == "" || !a.isKnownGood(from.domain) || aligned(returnPath.domain, from.domain) ||
		freemail[lookalike.Registrable(from.domain)] || h.Get("List-Id") != "" || h.Get("List-Post") != "" || h.Get("Mailing-List") != "" {
		return
	}
	rp := returnPath.domain
	if underSet(rp, bounceServices) || underSet(rp, clickTrackers) || a.isKnownGood(rp) || reservedDomain(rp) {
		return
	}
	add(finding.Finding{Signal: sigEnvelopeMismatch, Score: 25, Class: finding.Weak,
		Detail: fmt.Sprintf("the mail claims to come from %s, but it bounces to %s, which is neither that organisation nor a mailing service", from.domain, rp)})
}

// bodyShapeSignals looks at the shape of the HTML: much text hidden from
// the reader (filler to fool filters), or a body that is only pictures
// and a link to another site than the sender's (nothing for a filter to
// read). anchors counts the links to other sites.
func bodyShapeSignals(hidden, visible, images, anchors, plainLetters int, add func(finding.Finding)) {
	if hidden >= minHiddenLetters {
		add(finding.Finding{Signal: sigHiddenText, Score: 15, Class: finding.Weak,
			Detail: fmt.Sprintf("the message hides %d letters of text from the reader (invisible by style), filler meant for filters", hidden)})
	}
	if images > 0 && anchors > 0 && visible < maxImageOnlyLetters && plainLetters < maxImageOnlyLetters {
		add(finding.Finding{Signal: sigImageOnly, Score: 15, Class: finding.Weak,
			Detail: fmt.Sprintf("the message is pictures and a link, with %d letters of text: nothing for a filter or a reader to check", visible)})
	}
}

// Bounds of the body-shape signals.
const (
	// minHiddenLetters of hidden text make hidden_text: preheaders (the
	// hidden summary line of newsletters) stay below.
	minHiddenLetters = 300
	// maxImageOnlyLetters: an HTML body with fewer letters is image-only.
	maxImageOnlyLetters = 60
)

// senderTLDSignal flags a sender domain under an abused top-level domain.
func senderTLDSignal(from address, add func(finding.Finding)) {
	if from.domain == "" {
		return
	}
	if tld := abusedTLD(from.domain); tld != "" {
		add(finding.Finding{Signal: sigSenderAbusedTLD, Score: 10, Class: finding.Weak,
			Detail: fmt.Sprintf("the sender's domain %s is under .%s, a top-level domain that spam and phishing use most", from.domain, tld)})
	}
}

// linkTLDSignal flags a link host under an abused top-level domain that
// is not the sender's own.
func linkTLDSignal(host, fromDomain string, add func(finding.Finding)) {
	if tld := abusedTLD(host); tld != "" && lookalike.Registrable(host) != lookalike.Registrable(fromDomain) {
		add(finding.Finding{Signal: sigLinkAbusedTLD, Score: 10, Class: finding.Weak,
			Detail: fmt.Sprintf("a link leads to %s, under .%s, a top-level domain that spam and phishing use most", host, tld)})
	}
}

// reservedDomain reports the names RFC 2606 and RFC 6761 reserve for
// examples and tests (example.com, *.example, *.test, *.invalid): no real
// mail bounces there; they appear in anonymised and test messages.
func reservedDomain(d string) bool {
	org := lookalike.Registrable(d)
	if org == "example.com" || org == "example.net" || org == "example.org" {
		return true
	}
	tld := d[strings.LastIndexByte(d, '.')+1:]
	return tld == "example" || tld == "test" || tld == "invalid" || tld == "localhost"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
