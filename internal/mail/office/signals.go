package office

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"unicode/utf16"
)

// Signals emitted by Analyze. docs/mail-office.md gives the class and
// score of each.
const (
	SignalMacroPresent       = "macro_present"
	SignalMacroAutoExec      = "macro_autoexec"
	SignalMacroAutoExecExec  = "macro_autoexec_execute"
	SignalMacroAutoExecWrite = "macro_autoexec_write"
	SignalMacroExecute       = "macro_execute"
	SignalMacroObfuscation   = "macro_obfuscation"
	SignalXLMMacro           = "xlm_macro"
	SignalXLMHidden          = "xlm_macro_hidden"
	SignalXLMAutoOpen        = "xlm_autoopen"
	SignalXLMDangerous       = "xlm_dangerous_function"
	SignalXLMAutoExec        = "xlm_autoexec_execute"
	SignalRemoteTemplate     = "office_remote_template"
	SignalExternalLink       = "office_external_link"
	SignalLinkLure           = "office_link_lure"
	SignalDDE                = "office_dde"
	SignalEncrypted          = "office_encrypted"
	SignalEmbeddedObject     = "office_embedded_object"
	SignalEmbeddedExecutable = "office_embedded_executable"
	SignalEquationEditor     = "office_equation_editor"
	SignalOLELink            = "office_ole_link"
	SignalRTFObject          = "rtf_object"
	SignalRTFOLE2Link        = "rtf_ole2link"
	SignalRTFEquationEditor  = "rtf_equation_editor"
	SignalLimit              = "office_limit"
)

// Bounds of the URL scan over one blob of text.
const (
	maxURLsFromOneBlob        = 32
	maxBytesScannedForURLText = 4 << 20
)

// urlPattern finds http(s) and ftp URLs and UNC paths in text.
var urlPattern = regexp.MustCompile(`(?i)(?:https?|ftp)://[a-z0-9\-._~%!$&'()*+,;=:@/?#\[\]]{3,}|\\\\[a-z0-9\-._]{2,}(?:@ssl)?(?:@\d+)?\\[^\s"'<>|]+`)

// findURLs returns the URLs found in b, read as bytes and as UTF-16LE.
func findURLs(b []byte) []string {
	if len(b) > maxBytesScannedForURLText {
		b = b[:maxBytesScannedForURLText]
	}
	var out []string
	seen := map[string]bool{}
	addAll := func(s string) {
		for _, m := range urlPattern.FindAllString(s, maxURLsFromOneBlob) {
			m = trimURL(m)
			if !seen[m] && len(out) < maxURLsFromOneBlob {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	addAll(string(b))
	if bytes.Contains(b, []byte{':', 0, '/', 0, '/', 0}) || bytes.Contains(b, []byte{'\\', 0, '\\', 0}) {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		addAll(string(utf16.Decode(u)))
		// UTF-16 that starts at an odd byte.
		if len(b) > 2 {
			u = u[:0]
			for i := 1; i+1 < len(b); i += 2 {
				u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
			}
			addAll(string(utf16.Decode(u)))
		}
	}
	return out
}

// trimURL drops punctuation that ends a sentence or a quoted string
// rather than the URL.
func trimURL(s string) string {
	for len(s) > 0 {
		switch s[len(s)-1] {
		case '.', ',', ')', ';', '\'', ']', '!', '?':
			s = s[:len(s)-1]
			continue
		}
		break
	}
	return s
}

// inflate decompresses zlib data, reading at most max bytes of output.
func inflate(b []byte, max int64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("zlib header: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, max))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return out, fmt.Errorf("zlib data: %w", err)
	}
	return out, nil
}
