// Package attach examines mail attachments: real type by magic bytes,
// dangerous types and names, archives opened recursively within limits,
// encrypted archives, Office files, PDF, scripts and HTML.
//
// STUB: the API below is the contract; the implementation is being written.
package attach

import (
	"context"

	"github.com/ward-health/ward/internal/mail/finding"
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
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{MaxDepth: 4, MaxFiles: 1000, MaxFileSize: 64 << 20, MaxTotal: 256 << 20, MaxRatio: 200}
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
	Name     string            `json:"name"`
	Type     string            `json:"type"` // real type, e.g. "zip", "pe", "ole", "ooxml", "pdf", "vbs"
	Size     int64             `json:"size"`
	SHA256   string            `json:"sha256"`
	Findings []finding.Finding `json:"findings"`
	// Members are the files inside an archive or Office file.
	Members []Report `json:"members,omitempty"`
	// URLs are the links found inside (PDF URIs, remote templates,
	// download URLs in scripts), for indicator extraction.
	URLs []string `json:"-"`
	// Errors are structural problems met and stepped over.
	Errors []string `json:"errors,omitempty"`
	// Limit is non-empty when a limit stopped the analysis; it says which.
	Limit string `json:"-"`
}

// Analyze examines a. It never panics on hostile input and stops when ctx is
// done (the report then says so in Limit).
func Analyze(ctx context.Context, a Attachment, lim Limits) Report {
	return Report{Name: a.Name, Size: int64(len(a.Data))}
}
