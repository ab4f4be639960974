package office

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"

	"github.com/ward-health/ward/internal/mail/finding"
)

// xlmState collects what the BIFF and SpreadsheetML readers learn about
// Excel 4.0 macros; classifyXLM turns it into findings at the end.
type xlmState struct {
	sheets    []string // macro sheets, with their visibility
	hidden    []string // hidden or very hidden macro sheets
	autoOpen  []string // Auto_Open style names
	dangerous []string // dangerous functions or API names in formulas
}

// xlmDangerousPattern matches, in formula text, the XLM functions that
// run programs, call native code or write files, and the Windows API
// names that REGISTER/CALL droppers load.
var xlmDangerousPattern = regexp.MustCompile(`(?i)\b(?:EXEC|CALL|REGISTER|RUN|FOPEN|FWRITE|FWRITELN|EXECUTE)\s*\(` +
	`|\b(?:URLDownloadToFileA?|ShellExecuteA?|CreateThread|VirtualAlloc|WinExec|kernel32|urlmon|shell32)\b`)

// xlmFunctionNames are the BIFF function numbers (Ftab, [MS-XLS]
// 2.5.198.17) of the dangerous XLM functions.
var xlmFunctionNames = map[uint16]string{
	110: "EXEC",
	149: "REGISTER",
	150: "CALL",
}

// isAutoOpenName reports whether a defined name makes Excel run a macro
// when the workbook opens: Auto_Open, and any name that starts with it,
// which Excel honours too.
func isAutoOpenName(name string) bool {
	n := strings.ToLower(strings.TrimPrefix(name, "_xlnm."))
	return strings.HasPrefix(n, "auto_open") || strings.HasPrefix(n, "auto_activate")
}

func (x *xlmState) addDangerous(s string) {
	if len(x.dangerous) < maxKeywordHits {
		x.dangerous = appendOnce(x.dangerous, s)
	}
}

// classifyXLM turns the XLM facts into findings.
func (a *analyzer) classifyXLM() {
	x := &a.xlm
	if len(x.sheets) == 0 {
		return
	}
	a.add(SignalXLMMacro, finding.Weak, 30, "Excel 4.0 (XLM) macro sheet(s): %s", quoteList(x.sheets, 6))
	if len(x.hidden) > 0 {
		a.add(SignalXLMHidden, finding.Weak, 25, "XLM macro sheet(s) hidden from the reader: %s", quoteList(x.hidden, 6))
	}
	if len(x.autoOpen) > 0 {
		a.add(SignalXLMAutoOpen, finding.Weak, 20, "XLM macro runs by itself when the workbook opens (name %s)", quoteList(x.autoOpen, 3))
	}
	if len(x.dangerous) == 0 {
		return
	}
	if len(x.autoOpen) > 0 {
		a.add(SignalXLMAutoExec, finding.Malware, 90, "XLM macro %s runs by itself and uses %s", quoteList(x.autoOpen, 3), quoteList(x.dangerous, 6))
		return
	}
	a.add(SignalXLMDangerous, finding.Weak, 30, "XLM macro uses %s", quoteList(x.dangerous, 6))
}

// BIFF8 record types used here ([MS-XLS] 2.3).
const (
	biffFormula    = 0x0006
	biffBOF        = 0x0809
	biffLbl        = 0x0018
	biffFilePass   = 0x002F
	biffBoundSheet = 0x0085
)

// maxBIFFRecords bounds the records read from one workbook stream.
const maxBIFFRecords = 1 << 22

// biff walks the records of a BIFF8 Workbook stream (or a BIFF5 Book
// stream) for encryption, macro sheets, Auto_Open names and formulas.
func (a *analyzer) biff(b []byte) {
	n := 0
	biff5 := false
	for p := 0; p+4 <= len(b); {
		if n++; n > maxBIFFRecords {
			a.limit("workbook records after %d not read: limit %d records", maxBIFFRecords, maxBIFFRecords)
			return
		}
		if n%4096 == 0 && a.done() {
			return
		}
		typ := binary.LittleEndian.Uint16(b[p:])
		size := int(binary.LittleEndian.Uint16(b[p+2:]))
		if size > len(b)-p-4 {
			a.errorf("workbook record 0x%04x at byte %d declares %d bytes, only %d left", typ, p, size, len(b)-p-4)
			return
		}
		rec := b[p+4 : p+4+size]
		p += 4 + size
		switch typ {
		case biffBOF:
			if len(rec) >= 2 && p == 4+size {
				biff5 = binary.LittleEndian.Uint16(rec) < 0x0600
			}
		case biffFilePass:
			a.encrypted("Excel workbook encrypted with a password (FILEPASS record)")
			// What follows is encrypted: nothing more can be read.
			return
		case biffBoundSheet:
			a.boundSheet(rec, biff5)
		case biffLbl:
			a.biffName(rec, biff5)
		case biffFormula:
			if len(rec) > 22 {
				cce := int(binary.LittleEndian.Uint16(rec[20:]))
				a.xlmFormula(rec[22:min(22+cce, len(rec))])
			}
		}
	}
}

// boundSheet reads a BoundSheet8 record: stream position (4), visibility
// (low 2 bits), sheet type (1 = macro sheet), then the sheet name (in
// BIFF5 a byte count and 8-bit characters).
func (a *analyzer) boundSheet(rec []byte, biff5 bool) {
	if len(rec) < 8 {
		return
	}
	state, kind := rec[4]&0x03, rec[5]
	if kind != 0x01 {
		return
	}
	name := biffShortString(rec[6:])
	if biff5 {
		name = biffChars(rec[7:], int(rec[6]), false)
	}
	vis := "visible"
	switch state {
	case 1:
		vis = "hidden"
	case 2:
		vis = "very hidden"
	}
	x := &a.xlm
	if len(x.sheets) < maxKeywordHits {
		x.sheets = append(x.sheets, fmt.Sprintf("%s (%s)", name, vis))
		if state != 0 {
			x.hidden = append(x.hidden, fmt.Sprintf("%s (%s)", name, vis))
		}
	}
}

// biffShortString reads a ShortXLUnicodeString: a character count, a
// flag byte (bit 0: 16-bit characters) and the characters.
func biffShortString(b []byte) string {
	if len(b) < 2 {
		return ""
	}
	cch, wide := int(b[0]), b[1]&1 != 0
	return biffChars(b[2:], cch, wide)
}

func biffChars(b []byte, cch int, wide bool) string {
	if wide {
		return decodeUTF16(b[:min(2*cch, len(b)&^1)])
	}
	return decodeCodePage(b[:min(cch, len(b))], 1252)
}

// biffName reads a Lbl record for built-in Auto_Open names (fBuiltin set
// and name character 0x01) and for user names starting with Auto_Open.
// In BIFF5 the name has no flag byte and is always 8-bit.
func (a *analyzer) biffName(rec []byte, biff5 bool) {
	if len(rec) < 15 {
		return
	}
	flags := binary.LittleEndian.Uint16(rec)
	cch := int(rec[3])
	var name string
	if biff5 {
		name = biffChars(rec[14:], cch, false)
	} else {
		name = biffChars(rec[15:], cch, rec[14]&1 != 0)
	}
	if flags&0x0020 != 0 && name != "" {
		switch name[0] {
		case 0x01:
			name = "Auto_Open"
		case 0x0A:
			name = "Auto_Activate"
		default:
			return
		}
	}
	if isAutoOpenName(name) && len(a.xlm.autoOpen) < maxKeywordHits {
		a.xlm.autoOpen = appendOnce(a.xlm.autoOpen, name)
	}
}

// xlmFormula walks a BIFF8 parsed formula (rgce) for calls of dangerous
// functions and for string constants naming dangerous APIs. It stops at
// the first token it cannot size.
func (a *analyzer) xlmFormula(rgce []byte) {
	for p := 0; p < len(rgce); {
		ptg := rgce[p]
		p++
		base := ptg
		if ptg >= 0x20 {
			base = ptg&0x1F | 0x20 // strip the class bits
		}
		size := -1
		switch {
		case ptg >= 0x03 && ptg <= 0x16:
			size = 0
		case ptg == 0x01 || ptg == 0x02:
			size = 4
		case ptg == 0x17: // ptgStr
			if p+2 > len(rgce) {
				return
			}
			cch, wide := int(rgce[p]), rgce[p+1]&1 != 0
			s := biffChars(rgce[p+2:], cch, wide)
			for _, m := range xlmDangerousPattern.FindAllString(s, 4) {
				a.xlm.addDangerous(strings.TrimRight(m, "( "))
			}
			size = 2 + cch
			if wide {
				size = 2 + 2*cch
			}
		case ptg == 0x19: // ptgAttr
			if p+3 > len(rgce) {
				return
			}
			size = 3
			if rgce[p]&0x04 != 0 { // tAttrChoose: a jump table follows
				size += 2 * (int(binary.LittleEndian.Uint16(rgce[p+1:])) + 1)
			}
		case ptg == 0x1C || ptg == 0x1D:
			size = 1
		case ptg == 0x1E:
			size = 2
		case ptg == 0x1F:
			size = 8
		case base == 0x20:
			size = 7
		case base == 0x21: // ptgFunc
			if p+2 > len(rgce) {
				return
			}
			if name, ok := xlmFunctionNames[binary.LittleEndian.Uint16(rgce[p:])&0x7FFF]; ok {
				a.xlm.addDangerous(name)
			}
			size = 2
		case base == 0x22: // ptgFuncVar
			if p+3 > len(rgce) {
				return
			}
			if name, ok := xlmFunctionNames[binary.LittleEndian.Uint16(rgce[p+1:])&0x7FFF]; ok {
				a.xlm.addDangerous(name)
			}
			size = 3
		case base == 0x23, base == 0x24, base == 0x2A, base == 0x2C:
			size = 4
		case base == 0x25, base == 0x2B, base == 0x2D:
			size = 8
		case base == 0x26, base == 0x27, base == 0x28, base == 0x39, base == 0x3A, base == 0x3C:
			size = 6
		case base == 0x29:
			size = 2
		case base == 0x3B, base == 0x3D:
			size = 10
		}
		if size < 0 {
			return
		}
		p += size
	}
}

// spreadsheetMLFormulas scans the <f> formulas of an OOXML macro sheet.
func (a *analyzer) spreadsheetMLFormulas(text string) {
	for _, m := range xlmDangerousPattern.FindAllString(text, maxKeywordHits) {
		a.xlm.addDangerous(strings.ToUpper(strings.TrimRight(m, "( ")))
	}
	for _, u := range findURLs([]byte(text)) {
		a.addURL(u)
	}
}
