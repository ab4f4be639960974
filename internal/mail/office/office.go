// Package office finds macros, auto-run code, remote templates, linked and
// embedded objects in Office files: OLE compound files (.doc, .xls, .ppt),
// OOXML packages (.docx, .docm, .xlsm, ...) and RTF.
//
// Analyze detects the container itself and never trusts a size, count or
// offset it reads: every read is bounded by Limits, every structural error
// is recorded in Report.Errors and the analysis goes on with the rest of the
// file. docs/mail-office.md lists the signals it emits.
package office

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/ward-health/ward/internal/mail/finding"
)

// Limits bound the work done on one file. Zero fields take the defaults
// from DefaultLimits.
type Limits struct {
	// MaxStream is the largest decompressed stream or package part read,
	// in bytes.
	MaxStream int64
	// MaxTotal is the total of decompressed bytes read from one file.
	MaxTotal int64
	// MaxModules is the number of VBA modules decoded.
	MaxModules int
	// MaxEmbedded is the number of embedded objects returned.
	MaxEmbedded int
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{MaxStream: 32 << 20, MaxTotal: 128 << 20, MaxModules: 512, MaxEmbedded: 64}
}

// withDefaults returns l with every zero or negative field replaced by its
// default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxStream <= 0 {
		l.MaxStream = d.MaxStream
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = d.MaxTotal
	}
	if l.MaxModules <= 0 {
		l.MaxModules = d.MaxModules
	}
	if l.MaxEmbedded <= 0 {
		l.MaxEmbedded = d.MaxEmbedded
	}
	return l
}

// Module is one decompressed VBA module.
type Module struct {
	Name string
	Code string
}

// Embedded is a file carried inside an Office file (an OLE Package object,
// an RTF \objdata, an OOXML embedding), returned so that the caller can
// analyse it in turn.
type Embedded struct {
	Name  string // file name when the container gives one
	Class string // OLE class or content type
	Data  []byte
}

// Report is what Analyze found.
type Report struct {
	// Format is "ole", "ooxml" or "rtf"; empty when data is not an
	// Office file.
	Format string
	// Encrypted is true for password-protected (encrypted) documents.
	Encrypted bool
	// Modules are the VBA modules, decompressed.
	Modules []Module
	// Findings are the signals, scored.
	Findings []finding.Finding
	// Embedded are the files found inside.
	Embedded []Embedded
	// URLs are the external targets found: remote templates, linked
	// objects, hyperlinks in macros.
	URLs []string
	// Errors are structural problems met and stepped over.
	Errors []string
	// Limit is non-empty when a limit stopped the analysis; it says which.
	Limit string
}

// Format names used in Report.Format.
const (
	FormatOLE   = "ole"
	FormatOOXML = "ooxml"
	FormatRTF   = "rtf"
)

// Bounds that are not worth a Limits field: they protect against hostile
// structure, not against large honest files.
const (
	maxNesting   = 3     // OLE inside OOXML inside OLE ...
	maxErrors    = 64    // Report.Errors entries kept
	maxFindings  = 256   // Report.Findings entries kept
	maxURLs      = 256   // Report.URLs entries kept
	maxURLLen    = 2048  // bytes of one URL kept
	maxZipParts  = 10000 // OOXML parts looked at
	maxOLEStream = 20000 // OLE directory entries looked at
)

var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// Analyze examines data. It never panics on malformed input and stops when
// ctx is done.
func Analyze(ctx context.Context, data []byte, lim Limits) Report {
	a := &analyzer{ctx: ctx, lim: lim.withDefaults(), seen: map[string]bool{}, urlSeen: map[string]bool{}}
	switch {
	case bytes.HasPrefix(data, oleMagic):
		a.rep.Format = FormatOLE
		a.ole(data, 0)
	case isOOXML(data):
		a.rep.Format = FormatOOXML
		a.ooxml(data, 0)
	case isRTF(data):
		a.rep.Format = FormatRTF
		a.rtf(data)
	default:
		return Report{}
	}
	if err := ctx.Err(); err != nil {
		a.limit("analysis stopped: %v", err)
	}
	a.classifyMacros()
	sort.SliceStable(a.rep.Findings, func(i, j int) bool { return a.rep.Findings[i].Score > a.rep.Findings[j].Score })
	return a.rep
}

// analyzer carries the state of one Analyze call.
type analyzer struct {
	ctx     context.Context
	lim     Limits
	rep     Report
	total   int64           // decompressed bytes read so far
	modules int             // VBA modules seen, decoded or not
	seen    map[string]bool // findings already added, by signal and detail
	urlSeen map[string]bool
	xlm     xlmState
}

// done reports whether the context is cancelled.
func (a *analyzer) done() bool { return a.ctx.Err() != nil }

// add records a finding once.
func (a *analyzer) add(signal string, class finding.Class, score int, format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	key := signal + "\x00" + detail
	if a.seen[key] || len(a.rep.Findings) >= maxFindings {
		return
	}
	a.seen[key] = true
	a.rep.Findings = append(a.rep.Findings, finding.Finding{Signal: signal, Detail: detail, Score: score, Class: class})
}

// errorf records a structural error and lets the analysis go on.
func (a *analyzer) errorf(format string, args ...any) {
	if len(a.rep.Errors) >= maxErrors {
		return
	}
	a.rep.Errors = append(a.rep.Errors, fmt.Sprintf(format, args...))
}

// limit records that a limit stopped part of the analysis. The first
// limit met is kept in Report.Limit; each distinct one adds a finding.
func (a *analyzer) limit(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if a.rep.Limit == "" {
		a.rep.Limit = msg
	}
	a.add(SignalLimit, finding.Limit, 0, "%s", msg)
}

// charge counts n decompressed bytes against MaxTotal; it reports false,
// and records the limit, when the total would be exceeded.
func (a *analyzer) charge(n int64, what string) bool {
	if a.total+n > a.lim.MaxTotal {
		a.limit("%s not read: limit %d decompressed bytes per file", what, a.lim.MaxTotal)
		return false
	}
	a.total += n
	return true
}

// addURL records an external target once.
func (a *analyzer) addURL(u string) {
	if len(u) > maxURLLen {
		u = u[:maxURLLen]
	}
	if u == "" || a.urlSeen[u] {
		return
	}
	if len(a.rep.URLs) >= maxURLs {
		return
	}
	a.urlSeen[u] = true
	a.rep.URLs = append(a.rep.URLs, u)
}

// embed returns an embedded file to the caller, within MaxEmbedded.
func (a *analyzer) embed(e Embedded) {
	if len(a.rep.Embedded) >= a.lim.MaxEmbedded {
		a.limit("embedded object %d (%q) not returned: limit %d embedded objects", len(a.rep.Embedded)+1, e.Name, a.lim.MaxEmbedded)
		return
	}
	a.rep.Embedded = append(a.rep.Embedded, e)
}

// isRTF reports whether data starts like an RTF document. Word accepts
// "{\rt" followed by anything, which droppers use ("{\rtx", "{\rt1").
func isRTF(data []byte) bool {
	return bytes.HasPrefix(data, []byte(`{\rt`))
}
