package mail

import (
	"strings"

	"github.com/ward-health/ward/internal/mail/finding"
	"github.com/ward-health/ward/internal/mail/office"
)

// Thresholds of the verdict policy; see Decide and docs/mail.md.
const (
	// SuspiciousThreshold is the total score at and above which a message
	// is at least suspicious.
	SuspiciousThreshold = 35
	// PhishingThreshold is the total score at and above which a message
	// that carries an impersonation or credential signal is phishing.
	PhishingThreshold = 70
	// LureBoostMin is the score that the other signals must reach before
	// lure vocabulary adds to it: a lure alone is not a reason.
	LureBoostMin = 10
	// MaxLureBoost caps what all lure signals together add.
	MaxLureBoost = 30
)

// impersonation lists the signals that show, or help show, that a message
// pretends to come from someone it does not: with a total score of at
// least PhishingThreshold, one of them makes the message phishing.
var impersonation = setOf(
	sigDisplayNameBrand, sigDisplayNameOwnOrg, sigDisplayNameAddress,
	sigLookalikeSender, sigLookalikeReplyTo, sigLookalikeReturnPath, sigLookalikeLink,
	sigAuthDMARCFail, sigReplyToFreemail, sigLinkTextMismatch, sigHTMLForm,
	sigLinkUserinfo, sigLinkMixedScript, sigFreemailRole, sigLinkAction, sigDisplayNameMixedScript, sigSenderFreeHosting, sigObfuscatedText,
	sigSenderHomograph, sigSenderBrandWord, sigLinkHomograph, sigLinkRecipient, sigBrandDisguised,
)

// autoRunSignals are attachment findings of a macro that starts by itself
// when the document is opened. In a document that arrives by mail from
// outside, that is how macro malware is delivered (which is why Office
// blocks macros in files from the internet by default): the message is
// malicious even when the macro's payload hides from the keyword scan.
var autoRunSignals = setOf(office.SignalMacroAutoExec, office.SignalXLMAutoOpen)

// reviewSignals are attachment findings that make a message at least
// suspicious on their own: active or hidden content that the analyzer
// cannot vouch for and that a security officer should see before anyone
// opens it (a macro, an encrypted document, a document that is little more
// than a link).
var reviewSignals = setOf(office.SignalMacroPresent, office.SignalXLMMacro, office.SignalEncrypted, office.SignalLinkLure)

// isLure reports whether a signal is lure vocabulary.
func isLure(signal string) bool { return strings.HasPrefix(signal, "lure_") }

// Decide applies the verdict policy to a message's findings and returns
// the verdict and the total score:
//
//   - the score is the sum of the findings' scores, where lure findings
//     (signal "lure_*") count only when the other findings reach
//     LureBoostMin, and at most MaxLureBoost together;
//   - any Malware-class finding, or an auto-run macro (autoRunSignals),
//     makes the message malicious;
//   - otherwise any Phishing-class finding, or a score of at least
//     PhishingThreshold with at least one impersonation signal, makes it
//     phishing;
//   - otherwise any Limit-class finding, any reviewSignals finding, or a
//     score of at least SuspiciousThreshold, makes it suspicious;
//   - otherwise it is clean.
func Decide(fs []finding.Finding) (Verdict, int) {
	var score, lure int
	var malware, phishing, limit, imp bool
	for _, f := range fs {
		if isLure(f.Signal) {
			lure += f.Score
			continue
		}
		score += f.Score
		switch f.Class {
		case finding.Malware:
			malware = true
		case finding.Phishing:
			phishing = true
		case finding.Limit:
			limit = true
		}
		if impersonation[f.Signal] {
			imp = true
		}
		if autoRunSignals[f.Signal] {
			malware = true
		}
		if reviewSignals[f.Signal] {
			limit = true
		}
	}
	if score >= LureBoostMin {
		score += min(lure, MaxLureBoost)
	}
	switch {
	case malware:
		return Malicious, score
	case phishing, score >= PhishingThreshold && imp:
		return Phishing, score
	case limit, score >= SuspiciousThreshold:
		return Suspicious, score
	}
	return Clean, score
}
