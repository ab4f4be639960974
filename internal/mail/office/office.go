// Package office finds macros, auto-run code, remote templates, linked and
// embedded objects in Office files: OLE compound files (.doc, .xls, .ppt),
// OOXML packages (.docx, .docm, .xlsm, ...) and RTF.
//
// STUB: the API below is the contract; the implementation is being written.
package office

import (
	"context"

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

// Analyze examines data. It never panics on malformed input and stops when
// ctx is done.
func Analyze(ctx context.Context, data []byte, lim Limits) Report {
	return Report{}
}
