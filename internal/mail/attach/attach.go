// Package attach examines mail attachments: real type by magic bytes,
// dangerous types and names, archives opened recursively within limits,
// encrypted archives, Office files, PDF, scripts and HTML.
//
// Everything it reads is treated as hostile: every size, count, depth and
// loop is bounded by [Limits] or by a documented constant, nothing is
// written to disk, and the work stops when the context is done.
//
// A Report's Findings cover the file and everything inside it: the
// findings of a member are repeated in its parent with the member's path in
// the Detail, so a caller that reads only the top-level Findings misses
// nothing and must not add the Members' findings again. docs/mail-attachments.md
// lists every signal with its class and score.
package attach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/ward-health/ward/internal/mail/finding"
	"github.com/ward-health/ward/internal/mail/office"
)

// Limits bound the work done on one attachment and everything inside it.
// Zero fields take the defaults from DefaultLimits.
type Limits struct {
	// MaxDepth is the deepest archive nesting opened (an archive in an
	// archive is depth 2).
	MaxDepth int
	// MaxFiles is the number of archive members examined in total.
	MaxFiles int
	// MaxFileSize is the largest decompressed member, in bytes.
	MaxFileSize int64
	// MaxTotal is the total of decompressed bytes, in bytes.
	MaxTotal int64
	// MaxRatio is the largest decompressed/compressed ratio accepted for
	// a member before it is treated as a bomb.
	MaxRatio int64
	// MaxPictures is the number of pictures (image files, images inside
	// PDF documents) searched for QR codes. Negative: none.
	MaxPictures int
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{MaxDepth: 4, MaxFiles: 1000, MaxFileSize: 64 << 20, MaxTotal: 256 << 20, MaxRatio: 200, MaxPictures: 16}
}

// withDefaults returns lim with zero (or negative) fields replaced by the
// defaults.
func (lim Limits) withDefaults() Limits {
	d := DefaultLimits()
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = d.MaxDepth
	}
	if lim.MaxFiles <= 0 {
		lim.MaxFiles = d.MaxFiles
	}
	if lim.MaxFileSize <= 0 {
		lim.MaxFileSize = d.MaxFileSize
	}
	if lim.MaxTotal <= 0 {
		lim.MaxTotal = d.MaxTotal
	}
	if lim.MaxRatio <= 0 {
		lim.MaxRatio = d.MaxRatio
	}
	if lim.MaxPictures == 0 {
		lim.MaxPictures = d.MaxPictures
	}
	return lim
}

// Attachment is one file to examine.
type Attachment struct {
	Name         string // file name as the message gives it (may be hostile)
	DeclaredType string // MIME type the message declares, lower-case
	Data         []byte
	// Passwords are tried on encrypted archives (words found in the
	// message body).
	Passwords []string
}

// Report is what Analyze found in one attachment.
type Report struct {
	Name   string `json:"name"`
	Type   string `json:"type"` // real type, e.g. "zip", "pe", "ole", "ooxml", "pdf", "vbs"
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Findings are the signals found in this file and, with the member's
	// path at the start of the Detail, in every member inside it.
	Findings []finding.Finding `json:"findings"`
	// Members are the files inside an archive or Office file.
	Members []Report `json:"members,omitempty"`
	// URLs are the links found inside (PDF URIs, remote templates,
	// download URLs in scripts), for indicator extraction. They include
	// the URLs of the members, each once.
	URLs []string `json:"-"`
	// QRURLs are the URLs of URLs that came from QR codes in pictures.
	QRURLs []string `json:"-"`
	// Text is the text a reader sees in the file (today: the pages of a
	// PDF), members' included, at most 64 KiB: the message's lure and
	// content checks read it.
	Text string `json:"-"`
	// Errors are structural problems met and stepped over.
	Errors []string `json:"errors,omitempty"`
	// Limit is non-empty when a limit stopped the analysis; it says which.
	Limit string `json:"-"`
	// Pictures is the number of pictures searched for QR codes, members'
	// included.
	Pictures int `json:"-"`

	// own is the number of Findings that are this file's own (the first
	// ones); the rest come from members.
	own int
	// sub are the members' findings with their path relative to this
	// file, before they are rendered into Findings.
	sub []subFinding
	// urlSet holds URLs for de-duplication.
	urlSet map[string]bool
}

// subFinding is a member's finding held with the member's path.
type subFinding struct {
	path string
	f    finding.Finding
}

// Bounds that Limits do not cover, all per Analyze call.
const (
	// maxPasswordTries bounds the password attempts on encrypted zip
	// members (each WinZip AES attempt costs a 1,000-round PBKDF2).
	maxPasswordTries = 256
	// maxURLs bounds the URLs kept in one report.
	maxURLs = 1000
	// maxErrors bounds the errors kept in one report.
	maxErrors = 100
	// maxSubPerSignal bounds how often one signal from members is
	// repeated in a parent report; the rest are counted in Errors.
	maxSubPerSignal = 10
	// maxNameLen bounds the length of a member name kept in a report.
	maxNameLen = 512
)

// Analyze examines a. It never panics on hostile input and stops when ctx is
// done (the report then says so in Limit).
func Analyze(ctx context.Context, a Attachment, lim Limits) Report {
	z := &analyzer{ctx: ctx, lim: lim.withDefaults(), passwords: a.Passwords}
	r := z.file(a.Name, a.DeclaredType, a.Data, 0, "")
	r.Limit = z.limit
	r.Pictures = z.pictures
	r.sub, r.urlSet = nil, nil
	return r
}

// analyzer holds the budget shared by one attachment and all its members.
type analyzer struct {
	ctx       context.Context
	lim       Limits
	passwords []string
	files     int   // archive members examined
	total     int64 // decompressed bytes
	tries     int   // password attempts
	pictures  int   // pictures searched for QR codes
	// picturesNoted: the errors say that pictures were left unsearched.
	picturesNoted bool
	limit         string
	// officeFn analyses Office files; nil means office.Analyze. Tests set
	// it to check how embedded objects are handled.
	officeFn func(context.Context, []byte, office.Limits) office.Report
}

// file examines one file at the given nesting depth (the number of
// containers around it); path is its container path, for messages.
func (z *analyzer) file(name, declared string, data []byte, depth int, path string) Report {
	name = clip(name, maxNameLen)
	sum := sha256.Sum256(data)
	r := Report{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	if z.stopped(&r) {
		r.own = len(r.Findings)
		return r
	}
	here := joinPath(path, name)
	k := sniff(name, data)
	var zd zipDir
	if k.typ == "zip" {
		zd = readZipDir(data, max(z.lim.MaxFiles-z.files, 0)+1)
		k.typ = zipSubtype(zd.entries, data)
	}
	r.Type = k.typ
	z.checkName(&r, name, depth > 0)
	z.checkType(&r, name, declared, k, depth > 0)
	switch {
	case k.typ == "zip" || k.typ == "ooxml" || k.typ == "jar" || k.typ == "apk" || k.typ == "odf" || k.typ == "appx":
		z.zip(&r, data, zd, depth, here)
	case k.typ == "ole" || k.typ == "rtf":
		z.office(&r, data, depth, here)
	case k.typ == "gzip" || k.typ == "bzip2":
		z.compressed(&r, name, k.typ, data, depth, here)
	case k.typ == "tar":
		z.tar(&r, data, depth, here)
	case k.typ == "iso":
		z.iso(&r, data, depth, here)
	case k.typ == "rar":
		z.rar(&r, data, depth, here)
	case k.typ == "cab":
		z.cab(&r, data, depth, here)
	case k.typ == "7z" || k.typ == "xz" || k.typ == "zstd" || k.typ == "udf" ||
		k.typ == "vhd" || k.typ == "vhdx" || k.typ == "dmg" || k.typ == "chm" || k.typ == "msi":
		add(&r, "archive_not_opened", finding.Weak, 1, fmt.Sprintf("%s container not opened: its contents were not examined", k.typ))
	case k.typ == "one":
		z.onenote(&r, data, depth, here)
	case k.typ == "pdf":
		z.pdf(&r, data, depth, here)
	case k.typ == "png" || k.typ == "jpeg" || k.typ == "gif":
		z.picture(&r, here, data, nil)
	case k.text:
		z.text(&r, k, data, depth, here)
	}
	z.finish(&r)
	return r
}

// stopped reports whether the context is done, recording it once.
func (z *analyzer) stopped(r *Report) bool {
	if err := z.ctx.Err(); err != nil {
		z.hit(r, "limit_time", fmt.Sprintf("analysis stopped before the end: %v", err))
		return true
	}
	return false
}

// hit records that a limit was reached: a Limit-class finding in r and the
// first such message in the top-level Report.Limit. A limit already
// recorded in r is not repeated.
func (z *analyzer) hit(r *Report, signal, detail string) {
	for _, f := range r.Findings {
		if f.Signal == signal && f.Detail == detail {
			return
		}
	}
	score := 2
	if signal == "archive_bomb" {
		score = 4
	}
	add(r, signal, finding.Limit, score, detail)
	if r.Limit == "" {
		r.Limit = detail
	}
	if z.limit == "" {
		z.limit = detail
	}
}

// member examines data found inside r (at r's depth+1 nesting) and adds it
// to r.Members, counting it against MaxFiles. It reports false when the
// file budget is spent and the caller should stop adding members.
func (z *analyzer) member(r *Report, name, declared string, data []byte, depth int, here string) bool {
	if z.files >= z.lim.MaxFiles {
		z.hit(r, "limit_files", fmt.Sprintf("file count limit %d reached in %s; later members were not examined", z.lim.MaxFiles, here))
		return false
	}
	z.files++
	m := z.file(name, declared, data, depth+1, here)
	z.adopt(r, m)
	return z.ctx.Err() == nil
}

// listed adds a member known only by name (from an archive that is not
// opened): its name is checked, its content is not.
func (z *analyzer) listed(r *Report, name string, size int64, here string) bool {
	if z.files >= z.lim.MaxFiles {
		z.hit(r, "limit_files", fmt.Sprintf("file count limit %d reached in %s; later members were not examined", z.lim.MaxFiles, here))
		return false
	}
	z.files++
	name = clip(name, maxNameLen)
	m := Report{Name: name, Size: size}
	z.checkName(&m, name, true)
	k := kind{typ: ""}
	z.checkType(&m, name, "", k, true)
	z.finish(&m)
	z.adopt(r, m)
	return true
}

// adopt appends member m to r, carrying its findings, URLs and errors up.
func (z *analyzer) adopt(r *Report, m Report) {
	for _, f := range m.Findings[:m.own] {
		r.sub = append(r.sub, subFinding{path: m.Name, f: f})
	}
	for _, s := range m.sub {
		r.sub = append(r.sub, subFinding{path: m.Name + "/" + s.path, f: s.f})
	}
	for _, u := range m.URLs {
		addURL(r, u)
	}
	if m.Text != "" && len(r.Text) < pdfMaxText {
		r.Text = clip(r.Text+"\n"+m.Text, pdfMaxText)
	}
	for _, u := range m.QRURLs {
		if len(r.QRURLs) < maxURLs && !slices.Contains(r.QRURLs, u) {
			r.QRURLs = append(r.QRURLs, u)
		}
	}
	for _, e := range m.Errors {
		addError(r, m.Name+": "+e)
	}
	if r.Limit == "" && m.Limit != "" {
		r.Limit = m.Limit
	}
	m.sub, m.urlSet = nil, nil
	r.Members = append(r.Members, m)
}

// finish renders the members' findings after r's own, in member order,
// repeating one signal at most maxSubPerSignal times (Limit findings are
// always kept).
func (z *analyzer) finish(r *Report) {
	r.own = len(r.Findings)
	seen := map[string]int{}
	dropped := 0
	for _, s := range r.sub {
		f := s.f
		seen[f.Signal]++
		if seen[f.Signal] > maxSubPerSignal && f.Class != finding.Limit {
			dropped++
			continue
		}
		f.Detail = fmt.Sprintf("in %q: %s", s.path, f.Detail)
		r.Findings = append(r.Findings, f)
	}
	if dropped > 0 {
		addError(r, fmt.Sprintf("%d further member findings of signals already listed %d times are not repeated", dropped, maxSubPerSignal))
	}
}

// add appends a finding to r.
func add(r *Report, signal string, class finding.Class, score int, detail string) {
	r.Findings = append(r.Findings, finding.Finding{Signal: signal, Detail: detail, Score: score, Class: class})
}

// has reports whether r has an own finding with the signal.
func has(r *Report, signal string) bool {
	for _, f := range r.Findings {
		if f.Signal == signal {
			return true
		}
	}
	return false
}

// addURL adds u to r.URLs once, up to maxURLs.
func addURL(r *Report, u string) {
	if u == "" || len(r.URLs) >= maxURLs || r.urlSet[u] {
		return
	}
	if r.urlSet == nil {
		r.urlSet = map[string]bool{}
	}
	r.urlSet[u] = true
	r.URLs = append(r.URLs, u)
}

// addError adds a structural problem to r, up to maxErrors.
func addError(r *Report, e string) {
	if len(r.Errors) < maxErrors {
		r.Errors = append(r.Errors, clip(e, 300))
	}
}

// joinPath joins a container path and a member name for messages.
func joinPath(path, name string) string {
	if name == "" {
		name = "(unnamed)"
	}
	if path == "" {
		return name
	}
	return path + "/" + name
}

// clip shortens s to at most n bytes, on a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

// readBudget returns how many decompressed bytes a member may produce: the
// smallest of MaxFileSize, what is left of MaxTotal and, when compressed is
// positive, MaxRatio times compressed (but never below 4 MiB, so that small
// highly compressible files are not called bombs).
func (z *analyzer) readBudget(compressed int64) (n int64, why string) {
	n, why = z.lim.MaxFileSize, "size"
	if left := z.lim.MaxTotal - z.total; left < n {
		n, why = max(left, 0), "total"
	}
	if compressed > 0 {
		r := compressed * z.lim.MaxRatio
		if compressed > (1<<62)/z.lim.MaxRatio {
			r = 1 << 62
		}
		r = max(r, 4<<20)
		if r < n {
			n, why = r, "ratio"
		}
	}
	return n, why
}

// overBudget records the limit named by why (from readBudget) being
// reached while reading member name.
func (z *analyzer) overBudget(r *Report, why, here, name string, n int64) {
	at := joinPath(here, name)
	switch why {
	case "ratio":
		z.hit(r, "archive_bomb", fmt.Sprintf("%s expands more than %d times its compressed size (a decompression bomb); reading stopped at %d bytes", at, z.lim.MaxRatio, n))
	case "total":
		z.hit(r, "limit_total", fmt.Sprintf("total decompressed size limit %d bytes reached at %s; the rest was not examined", z.lim.MaxTotal, at))
	default:
		z.hit(r, "limit_size", fmt.Sprintf("file size limit %d bytes reached at %s; only its first %d bytes were examined", z.lim.MaxFileSize, at, n))
	}
}

// canOpen reports whether a container at depth (the containers around it)
// may be opened, recording the depth limit otherwise.
func (z *analyzer) canOpen(r *Report, depth int, here string) bool {
	if depth+1 > z.lim.MaxDepth {
		z.hit(r, "limit_depth", fmt.Sprintf("archive depth limit %d reached in %s; it was not opened", z.lim.MaxDepth, here))
		return false
	}
	return true
}

// lower returns an ASCII-lower-cased copy of s.
func lower(s string) string { return strings.ToLower(s) }
