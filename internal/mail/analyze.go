package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/emersion/go-message"
	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/mail/attach"
	"github.com/ward-health/ward/internal/mail/finding"
	"github.com/ward-health/ward/internal/mail/office"
)

// Bounds on what a result carries.
const (
	maxHeaderText = 512 // subject, from, message_id
	maxIOCs       = 500 // per indicator kind
	maxAddresses  = 20  // per address header
)

// collector gathers findings, one per signal: repeats of a signal only
// count toward "and N more" in the first one's detail.
type collector struct {
	fs    []finding.Finding
	index map[string]int
	more  map[string]int
}

func newCollector() *collector {
	return &collector{index: map[string]int{}, more: map[string]int{}}
}

func (c *collector) add(f finding.Finding) {
	if i, ok := c.index[f.Signal]; ok {
		c.more[f.Signal]++
		if f.Score > c.fs[i].Score || f.Class != finding.Weak && c.fs[i].Class == finding.Weak {
			c.fs[i] = f
		}
		return
	}
	c.index[f.Signal] = len(c.fs)
	c.fs = append(c.fs, f)
}

func (c *collector) findings() []finding.Finding {
	out := make([]finding.Finding, len(c.fs))
	copy(out, c.fs)
	for i := range out {
		if n := c.more[out[i].Signal]; n > 0 {
			out[i].Detail += fmt.Sprintf(" (and %d more)", n)
		}
	}
	return out
}

// iocList gathers indicators without duplicates, within maxIOCs.
type iocList struct {
	seen map[string]bool
	list []string
}

func (l *iocList) add(s string) {
	if s == "" || len(l.list) >= maxIOCs {
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if !l.seen[s] {
		l.seen[s] = true
		l.list = append(l.list, s)
	}
}

func (l *iocList) sorted() []string {
	out := append([]string{}, l.list...)
	slices.Sort(out)
	return out
}

// Analyze judges one message. name is what the result's "file" says. It
// never panics and always returns a result: problems with the message are
// in Errors, bounds reached are reasons with the Limit class.
func (a *Analyzer) Analyze(ctx context.Context, name string, raw []byte) Result {
	ctx, cancel := context.WithTimeout(ctx, a.lim.Timeout)
	defer cancel()
	res := Result{File: name, Reasons: []finding.Finding{}, Attachments: []Attachment{}, Errors: []string{}}
	c := newCollector()
	lim := a.lim
	if int64(len(raw)) > lim.MaxSize {
		c.add(limitFinding(fmt.Sprintf("the message is %d bytes, over the %d-byte limit; it was not examined", len(raw), lim.MaxSize)))
		// Read only the header for the result's subject and sender.
		raw = raw[:min(len(raw), maxHeaderBytes)]
		lim.MaxParts = 1
	}
	p := parse(ctx, raw, lim)
	var iocs struct{ urls, domains, ips, emails, hashes iocList }

	var from address
	var rcpts []address
	var replyTo []address
	var returnPath address
	if p.headerOK {
		h := p.header
		res.Subject = truncate(headerText(h.Get("Subject")), maxHeaderText)
		res.MessageID = truncate(strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"), maxHeaderText)
		rawFrom := h.Get("From")
		froms := parseAddresses(rawFrom, maxAddresses)
		if len(froms) > 0 {
			from = froms[0]
		}
		headerSignals(h, froms, res.Subject, c.add)
		a.disguisedBrandSignal(froms, res.Subject, c.add)
		res.From = truncate(displayAddress(from, rawFrom), maxHeaderText)
		replyTo = parseAddresses(h.Get("Reply-To"), maxAddresses)
		if rps := parseAddresses(h.Get("Return-Path"), 1); len(rps) > 0 {
			returnPath = rps[0]
		}
		for _, ad := range append([]address{from, returnPath}, replyTo...) {
			if strings.Contains(ad.addr, "@") {
				iocs.emails.add(ad.addr)
			}
		}
		if from.domain != "" {
			iocs.domains.add(from.domain)
		}
		for _, k := range []string{"To", "Delivered-To", "X-Original-To"} {
			rcpts = append(rcpts, parseAddresses(h.Get(k), maxAddresses)...)
		}
		a.senderSignals(from, rcpts, replyTo, returnPath, c.add)
		messageIDSignal(h, c.add)
		dateSignal(h, c.add)
		senderTLDSignal(from, c.add)
		a.envelopeMismatch(h, from, returnPath, c.add)
		var st authState
		a.trustedResults(h, from.domain, &st, c.add)
		a.verifyDKIM(ctx, raw, from.domain, &st, c.add)
		alignment(st, from.domain, c.add)
	}

	// Links from the text and HTML bodies.
	var htmlTexts, dataPictures []string
	var hidden, visible, images, anchors, plainLetters int
	for _, t := range p.texts {
		if plainLetters < maxImageOnlyLetters {
			plainLetters += countLetters([]byte(truncate(t, 4096)))
		}
	}
	links, linksTruncated := plainTextLinks(p.texts, lim.MaxLinks)
	for _, doc := range p.htmls {
		s := scanHTML(doc, lim.MaxHTMLTokens, lim.MaxLinks-len(links))
		if s.truncated {
			if len(links)+len(s.links) >= lim.MaxLinks {
				linksTruncated = true
			} else {
				c.add(limitFinding(fmt.Sprintf("an HTML part has more than %d tokens; the rest was not examined", lim.MaxHTMLTokens)))
			}
		}
		if s.tokenTooLong {
			c.add(limitFinding("an HTML part has a tag or text run longer than 1 MiB; the rest of it was not examined"))
		}
		links = append(links, s.links...)
		if room := lim.MaxPictures - len(dataPictures); room > 0 {
			dataPictures = append(dataPictures, s.dataPictures[:min(room, len(s.dataPictures))]...)
		}
		hidden += s.hiddenLetters
		visible += s.visibleLetters
		images += s.images
		for _, l := range s.links {
			if l.where != "href" {
				continue
			}
			if li, ok := parseLink(l.url); ok && li.host != "" && !aligned(li.host, from.domain) {
				anchors++
			}
		}
		htmlTexts = append(htmlTexts, s.text.String())
		a.htmlSignals(s, from.domain, c.add)
	}
	if len(p.htmls) > 0 {
		bodyShapeSignals(hidden, visible, images, anchors, plainLetters, c.add)
	}
	if linksTruncated {
		c.add(limitFinding(fmt.Sprintf("more than %d links; the rest were not examined", lim.MaxLinks)))
	}
	body := messageText(res.Subject, p.texts, htmlTexts)

	// Attachments, with the passwords written in the body.
	pws := passwords(body)
	var attURLs, qrURLs []string
	var docText string                  // the text of the attached documents
	pictures := max(lim.MaxPictures, 0) // left to search for QR codes
	picturesNoted := false
	for _, ra := range p.attachments {
		if ctx.Err() != nil {
			c.add(limitFinding(fmt.Sprintf("the time limit of %v per message was reached before all attachments were examined", lim.Timeout)))
			break
		}
		// The pictures of all attachments share the message's budget.
		attLim := lim.Attach
		if attLim.MaxPictures == 0 {
			attLim.MaxPictures = attach.DefaultLimits().MaxPictures
		}
		if attLim.MaxPictures = min(attLim.MaxPictures, pictures); attLim.MaxPictures <= 0 {
			attLim.MaxPictures = -1
		}
		rep := attach.Analyze(ctx, attach.Attachment{Name: ra.name, DeclaredType: ra.ctype, Data: ra.data, Passwords: pws}, attLim)
		pictures -= rep.Pictures
		att := Attachment{Name: truncate(ra.name, 256), Type: rep.Type, Size: int64(len(ra.data)), SHA256: rep.SHA256, Findings: []finding.Finding{}}
		if att.SHA256 == "" {
			sum := sha256.Sum256(ra.data)
			att.SHA256 = hex.EncodeToString(sum[:])
		}
		if att.Type == "" {
			att.Type = ra.ctype
		}
		foldReport(&att, rep, &attURLs, &qrURLs, p, c)
		docText = appendDocText(docText, rep.Text)
		if attLim.MaxPictures < 0 && lim.MaxPictures > 0 && !picturesNoted && (rep.Type == "png" || rep.Type == "jpeg" || rep.Type == "gif" || rep.Type == "pdf") {
			picturesNoted = true
			p.errorf("the limit of %d pictures per message was reached; later pictures were not searched for QR codes", lim.MaxPictures)
		}
		iocs.hashes.add(att.SHA256)
		if a.iocs.matchHash(att.SHA256) {
			c.add(finding.Finding{Signal: sigIOCHash, Score: 100, Class: finding.Malware,
				Detail: fmt.Sprintf("the attachment %q is a known malicious file (sha256 %s)", truncate(ra.name, 80), att.SHA256)})
		}
		for _, f := range att.Findings {
			c.add(f)
		}
		if f, ok := disguisedMacro(att); ok {
			c.add(f)
		}
		res.Attachments = append(res.Attachments, att)
	}
	for _, u := range attURLs {
		if len(links) >= lim.MaxLinks {
			break
		}
		links = append(links, link{url: u, where: "attachment"})
	}
	qrURLs = append(qrURLs, a.dataPictureLinks(ctx, dataPictures, &pictures, c.add, p)...)
	for _, u := range qrURLs {
		if len(links) >= lim.MaxLinks {
			break
		}
		links = append(links, link{url: u, where: "qr"})
	}

	a.linkSignals(links, from.domain, rcpts, c.add, &iocs.urls, &iocs.domains, &iocs.ips)
	// What the documents say (the pages of PDF attachments) counts for the
	// lures and the content checks, as if it were in the body.
	checked := body
	if docText != "" {
		checked = body + "\n" + docText
	}
	for _, f := range lures(checked) {
		c.add(f)
	}
	contentSignals(checked, rcpts, c.add)
	if a.bayes != nil {
		a.bayesSignal(classifierInput(body, docText, from.domain, links), c.add)
	}
	for _, l := range p.limits {
		c.add(limitFinding(l))
	}

	res.Reasons = c.findings()
	res.Verdict, res.Score = Decide(res.Reasons)
	if lureOnly(res.Reasons) {
		// Say so rather than show points that were not counted.
		for i := range res.Reasons {
			if isLure(res.Reasons[i].Signal) {
				res.Reasons[i].Score = 0
				res.Reasons[i].Detail += "; alone this is not a warning sign"
			}
		}
	}
	var domains iocList
	for _, d := range iocs.domains.list {
		// Known-good domains are no indicators: they would end up in
		// block lists.
		if org := lookalike.Registrable(d); !freemail[org] && !shorteners[org] && !shorteners[d] && !a.isKnownGood(d) {
			domains.add(d)
		}
	}
	res.IOCs = IOCs{URLs: iocs.urls.sorted(), Domains: domains.sorted(), IPs: iocs.ips.sorted(),
		Emails: iocs.emails.sorted(), Hashes: iocs.hashes.sorted()}
	res.Errors = append(res.Errors, p.errors...)
	return res
}

// foldReport copies an attachment report's findings into att: attach
// already repeats the members' findings in the top-level report, with the
// member's path in the detail. URLs are gathered from the members too.
func foldReport(att *Attachment, rep attach.Report, urls, qrURLs *[]string, p *parsed, c *collector) {
	att.Findings = append(att.Findings, rep.Findings...)
	said := false
	for _, f := range rep.Findings {
		said = said || f.Class == finding.Limit
	}
	if rep.Limit != "" && !said {
		c.add(limitFinding(fmt.Sprintf("attachment %q: %s", truncate(att.Name, 80), rep.Limit)))
	}
	for _, e := range rep.Errors {
		p.errorf("attachment %q: %s", truncate(att.Name, 80), e)
	}
	var walk func(r attach.Report, depth int)
	walk = func(r attach.Report, depth int) {
		for _, u := range r.URLs {
			if !slices.Contains(r.QRURLs, u) {
				*urls = append(*urls, u)
			}
		}
		*qrURLs = append(*qrURLs, r.QRURLs...)
		if depth < 8 {
			for _, m := range r.Members {
				walk(m, depth+1)
			}
		}
	}
	walk(rep, 0)
}

// disguisedMacro reports an attachment that carries macros under a name
// that hides what it is (a macro workbook named photo.jpg, invoice.pdf.xlsm,
// a name with a right-to-left override): nobody disguises a harmless macro,
// so the disguise is itself the mark of malware delivery.
func disguisedMacro(att Attachment) (finding.Finding, bool) {
	var macro, disguise bool
	for _, f := range att.Findings {
		switch f.Signal {
		case office.SignalMacroPresent, office.SignalXLMMacro:
			macro = true
		case sigTypeExtMismatch, sigDoubleExtension, sigNameBidi:
			disguise = true
		}
	}
	if !macro || !disguise {
		return finding.Finding{}, false
	}
	return finding.Finding{Signal: sigDisguisedMacro, Score: 60, Class: finding.Malware,
		Detail: fmt.Sprintf("the attachment %q carries macros under a name that hides what it is", truncate(att.Name, 80))}, true
}

func limitFinding(what string) finding.Finding {
	return finding.Finding{Signal: sigLimit, Score: 0, Class: finding.Limit, Detail: "analysis limit reached: " + what}
}

func headerText(v string) string {
	return strings.TrimSpace(decodeWords(v))
}

// displayAddress renders a From address for people: "Name <addr>".
func displayAddress(a address, raw string) string {
	switch {
	case a.addr == "":
		return headerText(raw)
	case a.name == "":
		return a.addr
	}
	return a.name + " <" + a.addr + ">"
}

// smuggleRE finds the building blocks of HTML smuggling: a file built in
// the browser from data carried in the page, then offered for download.
var (
	smuggleBuild = regexp.MustCompile(`(?i)\bnew\s+Blob\s*\(|\batob\s*\(|Uint8Array|base64,|fromCharCode`)
	smuggleSave  = regexp.MustCompile(`(?i)msSaveOrOpenBlob|msSaveBlob|createObjectURL|\.download\s*=|download=|\.click\s*\(`)
)

// htmlSignals looks at the message's own HTML body.
func (a *Analyzer) htmlSignals(s *htmlScan, fromDomain string, add func(finding.Finding)) {
	for _, action := range s.passwordForms {
		where := "posting it back to the page"
		if action != "" {
			where = "posting it to " + truncate(action, 120)
		}
		add(finding.Finding{Signal: sigHTMLForm, Score: 60, Class: finding.Phishing,
			Detail: "the message itself contains a form that asks for a password, " + where})
	}
	for _, action := range s.forms {
		li, ok := parseLink(action)
		if ok && li.host != "" && !aligned(li.host, fromDomain) {
			add(finding.Finding{Signal: sigHTMLExtForm, Score: 5, Class: finding.Weak,
				Detail: "the message contains a form that sends what you type to " + li.host})
		}
	}
	if s.scriptCount > 0 {
		sc := s.scripts.String()
		if smuggleBuild.MatchString(sc) && smuggleSave.MatchString(sc) {
			add(finding.Finding{Signal: sigHTMLSmuggling, Score: 80, Class: finding.Malware,
				Detail: "a script in the message builds a file from data it carries and saves it (HTML smuggling)"})
		} else {
			add(finding.Finding{Signal: sigHTMLScript, Score: 10, Class: finding.Weak,
				Detail: "the message body contains a script"})
		}
	}
	if s.metaRefresh != "" {
		add(finding.Finding{Signal: sigHTMLMetaRefresh, Score: 15, Class: finding.Weak,
			Detail: "the message redirects by itself to " + truncate(s.metaRefresh, 120)})
	}
}

// linkSignals judges every link and gathers the indicators.
func (a *Analyzer) linkSignals(links []link, fromDomain string, rcpts []address, add func(finding.Finding), urls, domains, ips *iocList) {
	checked := map[string]bool{}
	for _, l := range links {
		li, ok := parseLink(l.url)
		if !ok {
			continue
		}
		switch li.scheme {
		case "javascript":
			add(finding.Finding{Signal: sigLinkJavascript, Score: 20, Class: finding.Weak,
				Detail: "a link runs a script (" + truncate(li.target, 60) + ")"})
			continue
		case "data":
			add(finding.Finding{Signal: sigLinkDataURL, Score: 25, Class: finding.Weak,
				Detail: "a link opens content carried in the link itself (" + truncate(li.target, 60) + ")"})
			continue
		}
		if li.ip || !a.isKnownGood(li.host) {
			urls.add(truncate(li.target, 2048))
		}
		if a.iocs.matchURL(li.target) || li.target != li.raw && a.iocs.matchURL(li.raw) {
			add(finding.Finding{Signal: sigIOCURL, Score: 80, Class: finding.Phishing,
				Detail: "a link is a known malicious URL: " + truncate(li.target, 200)})
		}
		if li.ip {
			ips.add(li.host)
			add(finding.Finding{Signal: sigLinkIP, Score: 20, Class: finding.Weak,
				Detail: "a link points to a bare IP address (" + li.host + ") instead of a name"})
			if a.iocs.matchIP(li.host) {
				add(finding.Finding{Signal: sigIOCIP, Score: 80, Class: finding.Phishing,
					Detail: "a link points to a known malicious IP address " + li.host})
			}
			continue
		}
		domains.add(li.host)
		if li.userinfo {
			add(finding.Finding{Signal: sigLinkUserinfo, Score: 25, Class: finding.Weak,
				Detail: "a link hides its real destination " + li.host + " behind a user@ prefix"})
		}
		if d := a.iocs.matchHost(li.host); d != "" {
			add(finding.Finding{Signal: sigIOCDomain, Score: 80, Class: finding.Phishing,
				Detail: "a link leads to the known malicious domain " + d})
		}
		org := lookalike.Registrable(li.host)
		if shorteners[li.host] || shorteners[org] {
			add(finding.Finding{Signal: sigLinkShortener, Score: 15, Class: finding.Weak,
				Detail: "a link goes through the URL shortener " + li.host + ", which hides where it leads"})
		}
		if !checked[li.host] {
			checked[li.host] = true
			if look, ok := homograph(li.host); ok {
				add(finding.Finding{Signal: sigLinkHomograph, Score: 35, Class: finding.Weak,
					Detail: fmt.Sprintf("a link's domain %s is written with look-alike characters to read as %s", li.host, look)})
			} else if mixedScript(li.host) {
				add(finding.Finding{Signal: sigLinkMixedScript, Score: 35, Class: finding.Weak,
					Detail: "a link's domain " + li.host + " mixes alphabets to look like another name"})
			} else if strings.Contains(li.host, "xn--") {
				add(finding.Finding{Signal: sigLinkPunycode, Score: 10, Class: finding.Weak,
					Detail: "a link's domain " + li.host + " uses international characters"})
			}
			if len(checked) <= 200 {
				a.lookalikeDomain(sigLookalikeLink, "link domain", li.host, add)
			}
			linkTLDSignal(li.host, fromDomain, add)
		}
		if underSet(li.host, freeHosting) {
			add(finding.Finding{Signal: sigLinkFreeHosting, Score: 20, Class: finding.Weak,
				Detail: "a link leads to " + li.host + ", a free hosting or form service where anyone can publish a page at once"})
		}
		if free := underSet(li.host, freeHosting); free || l.where == "qr" {
			// Personalised links are common in newsletters; on a free
			// hosting service, or behind a QR code, they are the mark of
			// a kit's log-in page.
			low := strings.ToLower(li.target)
			for _, r := range rcpts {
				if len(r.addr) > 5 && (strings.Contains(low, r.addr) || strings.Contains(low, strings.Replace(r.addr, "@", "%40", 1))) {
					what := fmt.Sprintf("a link to %s, a free hosting service,", li.host)
					if !free {
						what = fmt.Sprintf("a QR code's link to %s", li.host)
					}
					add(finding.Finding{Signal: sigLinkRecipient, Score: 20, Class: finding.Weak,
						Detail: fmt.Sprintf("%s carries your address %s, so the page can greet you by name", what, r.addr)})
					break
				}
			}
		}
		if l.where == "href" && !aligned(li.host, fromDomain) {
			if w := actionText(l.text); w != "" {
				add(finding.Finding{Signal: sigLinkAction, Score: 20, Class: finding.Weak,
					Detail: fmt.Sprintf("a link asks you to %q on %s, a site other than the sender's", w, li.host)})
			}
		}
		if shown := shownHost(l.text); shown != "" && l.where == "href" && !aligned(shown, li.host) {
			score := 20
			switch {
			case aligned(shown, fromDomain) && underSet(li.host, clickTrackers):
				// A newsletter's own links through its mailing service's
				// click counter: the usual case, not a trick.
				score = 0
			case aligned(li.host, fromDomain) && !a.isProtected(shown):
				// The link leads to the sender's own domain (its click
				// counter): the sender vouches for it.
				score = 0
			case aligned(shown, fromDomain):
				score = 10
			case a.isProtected(shown):
				score = 45
			}
			if score > 0 {
				add(finding.Finding{Signal: sigLinkTextMismatch, Score: score, Class: finding.Weak,
					Detail: fmt.Sprintf("a link shows %s but leads to %s", shown, li.host)})
			}
		}
	}
}

// plainTextLinks returns the links of the plain-text parts, at most
// maxLinks, and whether there were more.
func plainTextLinks(texts []string, maxLinks int) ([]link, bool) {
	var links []link
	for _, t := range texts {
		for _, u := range textURLs(t, maxLinks-len(links)+1) {
			if len(links) >= maxLinks {
				return links, true
			}
			links = append(links, link{url: u, where: "text"})
		}
	}
	return links, false
}

// lureOnly reports whether lure findings did not count because the other
// findings stayed below LureBoostMin.
func lureOnly(fs []finding.Finding) bool {
	other, lure := 0, false
	for _, f := range fs {
		if isLure(f.Signal) {
			lure = true
		} else {
			other += f.Score
		}
	}
	return lure && other < LureBoostMin
}

// isKnownGood reports whether domain belongs to a protected brand, the
// recipient's organisation or a commonly imitated organisation.
func (a *Analyzer) isKnownGood(domain string) bool { return underSet(domain, a.knownGood) }

// isProtected reports whether domain belongs to a protected brand or the
// recipient's own organisation.
func (a *Analyzer) isProtected(domain string) bool { return underSet(domain, a.protected) }

// underSet reports whether domain or one of its parents is in set.
func underSet(domain string, set map[string]bool) bool {
	for {
		if set[domain] {
			return true
		}
		i := strings.IndexByte(domain, '.')
		if i < 0 {
			return false
		}
		domain = domain[i+1:]
	}
}

// headerSignals looks at the shape of From and Subject: several or broken
// sender addresses, and the recipient's own address in the subject, which
// bulk phishing uses to look personal.
func headerSignals(h message.Header, froms []address, subject string, add func(finding.Finding)) {
	switch {
	case len(froms) > 1:
		add(finding.Finding{Signal: sigFromMalformed, Score: 15, Class: finding.Weak,
			Detail: fmt.Sprintf("the From header names %d senders", len(froms))})
	case len(froms) == 1 && (froms[0].lenient || !plausibleDomain(froms[0].domain)):
		add(finding.Finding{Signal: sigFromMalformed, Score: 15, Class: finding.Weak,
			Detail: "the From header is malformed: " + truncate(h.Get("From"), 80)})
	}
	if len(froms) > 0 && mixedScriptText(froms[0].name) {
		add(finding.Finding{Signal: sigDisplayNameMixedScript, Score: 35, Class: finding.Weak,
			Detail: fmt.Sprintf("the sender's name %q mixes alphabets to look like another name", truncate(froms[0].name, 80))})
	}
	if obfuscated(subject) || len(froms) > 0 && obfuscated(froms[0].name) {
		add(finding.Finding{Signal: sigObfuscatedText, Score: 25, Class: finding.Weak,
			Detail: "the subject or sender's name is written with invisible or look-alike characters to slip past filters"})
	}
	low := strings.ToLower(subject)
	var rcpts []address
	for _, k := range []string{"To", "Delivered-To", "X-Original-To"} {
		rcpts = append(rcpts, parseAddresses(h.Get(k), maxAddresses)...)
	}
	if len(froms) > 0 && froms[0].addr != "" {
		for _, to := range rcpts {
			if to.addr == froms[0].addr {
				add(finding.Finding{Signal: sigFromRecipient, Score: 10, Class: finding.Weak,
					Detail: "the mail claims to come from the recipient's own address " + to.addr})
				break
			}
		}
	}
	for _, to := range rcpts {
		local, _, ok := strings.Cut(to.addr, "@")
		if ok && len(local) >= 3 && strings.Contains(low, to.addr) {
			add(finding.Finding{Signal: sigSubjectRecipient, Score: 15, Class: finding.Weak,
				Detail: "the subject repeats the recipient's address " + to.addr + " to look personal"})
			break
		}
	}
}

// mixedScriptText reports whether a word of s mixes Latin letters with
// Cyrillic, Greek or Armenian ones ("Lеԁgеr" with Cyrillic е and ԁ).
func mixedScriptText(s string) bool {
	for _, word := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		var latin, other bool
		for _, r := range word {
			switch {
			case r < 0x250:
				latin = true
			case unicode.Is(unicode.Cyrillic, r), unicode.Is(unicode.Greek, r), unicode.Is(unicode.Armenian, r):
				other = true
			}
		}
		if latin && other {
			return true
		}
	}
	return false
}

// plausibleDomain reports whether d looks like a domain name that mail can
// come from: letters, digits, hyphens and dots, with a dot, no empty label.
func plausibleDomain(d string) bool {
	if d == "" || len(d) > 253 || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
		return false
	}
	for _, c := range d {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c >= 0x80) {
			return false
		}
	}
	return true
}

// obfuscated reports text with invisible characters (zero-width,
// variation selectors, tags) between letters, or letters taken from the
// mathematical alphanumeric block ("𝖤𝖣𝖤𝖪𝖠"), both used to dodge filters.
func obfuscated(s string) bool {
	for _, r := range s {
		if invisible(r) || r >= 0x1D400 && r <= 0x1D7FF {
			return true
		}
	}
	return false
}

// invisible reports zero-width, bidi-mark, soft-hyphen, tag and
// variation-selector characters.
func invisible(r rune) bool {
	return r >= 0x200B && r <= 0x200F || r >= 0x2060 && r <= 0x2064 || r == 0xFEFF || r == 0x034F || r == 0x00AD ||
		r >= 0xE0000 && r <= 0xE007F || r >= 0xE0100 && r <= 0xE01EF
}

// actionText returns the log-in or confirmation words a link's text uses,
// or "".
func actionText(text string) string {
	if text == "" || len(text) > 200 {
		return ""
	}
	low := strings.ToLower(text)
	for _, w := range actionWords {
		if containsWord(low, w, false) {
			return w
		}
	}
	return ""
}
