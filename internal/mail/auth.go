package mail

import (
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-msgauth/authres"
	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/mail/finding"
)

// maxAuthHeaders bounds the Authentication-Results headers read.
const maxAuthHeaders = 20

// authState is what is known of the sender's authentication.
type authState struct {
	// known is true when some trusted result or DKIM verification ran.
	known bool
	// dkimAligned is true when a DKIM signature of the From domain's
	// organisational domain passed.
	dkimAligned bool
	// spfAligned is true when SPF passed for the From organisational domain.
	spfAligned bool
	// dmarc is the trusted DMARC result, if any ("pass", "fail", ...).
	dmarc string
}

// aligned reports whether two domains share an organisational domain
// (DMARC relaxed alignment).
func aligned(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	a, b = strings.ToLower(strings.TrimSuffix(a, ".")), strings.ToLower(strings.TrimSuffix(b, "."))
	if a == b {
		return true
	}
	ra, rb := lookalike.Registrable(a), lookalike.Registrable(b)
	return ra != "" && ra == rb
}

// trustedResults reads the Authentication-Results headers written by the
// configured trusted receivers and adds the failures to fs.
func (a *Analyzer) trustedResults(h message.Header, fromDomain string, st *authState, add func(finding.Finding)) {
	if len(a.trusted) == 0 {
		return
	}
	fields := h.FieldsByKey("Authentication-Results")
	var spfFail, dkimFail, dkimPass bool
	var failDetail string
	for n := 0; fields.Next() && n < maxAuthHeaders; n++ {
		id, results, err := authres.Parse(fields.Value())
		if err != nil || !a.trusted[strings.ToLower(id)] {
			continue
		}
		st.known = true
		for _, r := range results {
			switch r := r.(type) {
			case *authres.DMARCResult:
				st.dmarc = string(r.Value)
			case *authres.SPFResult:
				switch r.Value {
				case authres.ResultPass:
					d := r.From
					if i := strings.LastIndexByte(d, '@'); i >= 0 {
						d = d[i+1:]
					}
					if aligned(d, fromDomain) {
						st.spfAligned = true
					}
				case authres.ResultFail, authres.ResultHardFail:
					spfFail = true
				}
			case *authres.DKIMResult:
				switch r.Value {
				case authres.ResultPass:
					dkimPass = true
					if aligned(r.Domain, fromDomain) {
						st.dkimAligned = true
					}
				case authres.ResultFail, authres.ResultPermError:
					dkimFail = true
					failDetail = r.Domain
				}
			}
		}
	}
	if st.dmarc == "fail" {
		add(finding.Finding{Signal: sigAuthDMARCFail, Score: 40, Class: finding.Weak,
			Detail: fmt.Sprintf("your mail server found that the sender domain %s failed DMARC: the message is not authorised by it", fromDomain)})
	}
	if spfFail {
		add(finding.Finding{Signal: sigAuthSPFFail, Score: 15, Class: finding.Weak,
			Detail: "your mail server found that the sending server is not allowed to send for the envelope sender (SPF fail)"})
	}
	if dkimFail && !dkimPass {
		add(finding.Finding{Signal: sigAuthDKIMFail, Score: 10, Class: finding.Weak,
			Detail: fmt.Sprintf("your mail server found a broken DKIM signature (d=%s)", failDetail)})
	}
}

// verifyDKIM verifies the message's DKIM signatures with the configured
// resolver, at most MaxDKIMSignatures of them.
func (a *Analyzer) verifyDKIM(ctx context.Context, raw []byte, fromDomain string, st *authState, add func(finding.Finding)) {
	if a.resolver == nil {
		return
	}
	vs := verifyDKIMSignatures(ctx, raw, a.resolver, a.lim.MaxDKIMSignatures, a.now())
	if len(vs) == 0 {
		return
	}
	st.known = true
	var firstErr string
	pass := false
	for _, v := range vs {
		if v.err == nil {
			pass = true
			if aligned(v.domain, fromDomain) {
				st.dkimAligned = true
			}
			continue
		}
		if firstErr == "" {
			firstErr = fmt.Sprintf("d=%s: %v", v.domain, v.err)
		}
	}
	if !pass {
		add(finding.Finding{Signal: sigDKIMInvalid, Score: 15, Class: finding.Weak,
			Detail: "the DKIM signature does not verify: " + firstErr})
	}
}

// alignment adds dmarc_unaligned when authentication ran but nothing
// authenticated the From domain.
func alignment(st authState, fromDomain string, add func(finding.Finding)) {
	if !st.known || fromDomain == "" || st.dkimAligned || st.spfAligned || st.dmarc == "pass" || st.dmarc == "fail" {
		return
	}
	add(finding.Finding{Signal: sigDMARCUnalign, Score: 10, Class: finding.Weak,
		Detail: fmt.Sprintf("neither DKIM nor SPF authenticates the From domain %s", fromDomain)})
}
