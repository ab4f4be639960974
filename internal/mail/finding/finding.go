// Package finding is what every mail analyzer reports: a named signal, the
// evidence for it, and how much it weighs toward the verdict.
package finding

// Finding is one signal found in a message or an attachment.
type Finding struct {
	// Signal is a stable snake_case name, e.g. "macro_autoexec_execute";
	// docs/mail.md lists them all.
	Signal string `json:"signal"`
	// Detail names the evidence in words a non-specialist understands,
	// e.g. `macro "Document_Open" runs "WScript.Shell"`.
	Detail string `json:"detail"`
	// Score is the number of points the signal adds toward the verdict.
	Score int `json:"score"`
	// Class says what the signal shows on its own.
	Class Class `json:"-"`
}

// Class says what a finding shows on its own, before it is combined with
// the others.
type Class uint8

const (
	// Weak findings count only in combination with others.
	Weak Class = iota
	// Malware findings show, on their own, that the message delivers
	// malware: an executable, an auto-run macro that executes or
	// downloads, a script dropper, HTML smuggling a payload.
	Malware
	// Phishing findings show, on their own, credential theft or
	// impersonation.
	Phishing
	// Limit findings say that an analysis limit was reached, so part of
	// the message was not examined.
	Limit
)
