package office

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ward-health/ward/internal/mail/finding"
)

// The keyword sets follow the decision of oletools' mraptor: a macro is
// suspicious when it runs by itself (AutoExec) and either writes to disk
// or executes something. The sets are written here from the VBA, Word,
// Excel and ActiveX documentation of the events and calls concerned.
//
// Two deliberate departures from mraptor: the bare keywords "Call" and
// "Run" are not counted as execution, because "Call MySub" and
// "Application.Run" are everyday VBA in benign workbooks; ".Run" on any
// other object (WshShell.Run) is. Full-line comments are ignored.
var (
	// autoExecPattern matches procedures that Office runs without the
	// reader asking: document and workbook events, legacy Auto macros,
	// and ActiveX control events that fire on display (_Layout,
	// _Painted, _GotFocus ...), used to start code without a macro
	// prompt naming Document_Open.
	autoExecPattern = regexp.MustCompile(`(?i)\b(?:` +
		`auto_?(?:open|close|exec|exit|new)|auto_ope` +
		`|document_?(?:open|close|new|change|beforeclose)|newdocument` +
		`|workbook_(?:open|activate|close|beforeclose|deactivate)` +
		`|\w+_(?:painted|painting|gotfocus|lostfocus|mousehover|layout|click|change|resize` +
		`|beforenavigate2|beforescriptexecute|documentcomplete|downloadbegin|downloadcomplete` +
		`|filedownload|navigatecomplete2|navigateerror|progresschange|propertychange` +
		`|setsecurelockicon|statustextchange|titlechange|mousemove|mouseenter|mouseleave|onconnecting)` +
		`)\b`)

	// writePattern matches code that writes or changes files.
	writePattern = regexp.MustCompile(`(?i)\b(?:FileCopy|CopyFile|Kill|CreateTextFile|VirtualAlloc|RtlMoveMemory` +
		`|URLDownloadToFileA?|AltStartupPath|WriteProcessMemory|ADODB\.Stream|WriteText|SaveToFile` +
		`|SaveAs|SaveAsRTF|FileSaveAs|MkDir|RmDir|SaveSetting|SetAttr)\b` +
		`|\bOpen\b[^\n]+\bFor\s+(?:Write|Append|Binary|Output|Random)\b` +
		`|\b(?:Print|Put)\s*#`)

	// executePattern matches code that starts programs, loads native
	// code or reaches COM objects that do.
	executePattern = regexp.MustCompile(`(?i)\b(?:Shell|CreateObject|GetObject|SendKeys|MacScript|FollowHyperlink` +
		`|CreateThread|ShellExecuteA?|ShellExecuteEx|ExecuteExcel4Macro|SetTimer|CallByName` +
		`|WScript\.Shell|Shell\.Application|PowerShell|mshta|cmd\.exe|wscript|cscript|rundll32|regsvr32|certutil|bitsadmin)\b` +
		`|\b\w+\.(?:Run|Exec|ShellExecute)\b` +
		`|\bDeclare\b[^\n]+\bLib\b`)

	chrPattern       = regexp.MustCompile(`(?i)\bChr[WB]?\$?\s*\(`)
	strReversePat    = regexp.MustCompile(`(?i)\bStrReverse\b`)
	base64LiteralPat = regexp.MustCompile(`"[A-Za-z0-9+/]{100,}={0,2}"`)
	hexLiteralPat    = regexp.MustCompile(`"[0-9A-Fa-f]{100,}"`)
	environPat       = regexp.MustCompile(`(?i)\bEnviron\$?\s*\(\s*"(?:temp|tmp|appdata|localappdata|userprofile|public|programdata|allusersprofile)"`)
)

// chrThreshold is the number of Chr() calls that makes a module look
// like it assembles strings to hide them.
const chrThreshold = 20

// maxKeywordHits bounds the keywords collected for one finding.
const maxKeywordHits = 64

// macroFacts is what the keyword scan found in all modules together.
type macroFacts struct {
	autoExec []string // AutoExec procedure names, in order of appearance
	write    []string
	execute  []string
	hints    []string
}

// stripComments drops full-line comments (' and Rem), which would
// otherwise trip keywords in benign code that merely talks about them.
func stripComments(code string) string {
	var sb strings.Builder
	sb.Grow(len(code))
	for line := range strings.Lines(code) {
		t := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(t, "'") || len(t) >= 4 && strings.EqualFold(t[:4], "rem ") {
			sb.WriteString("\n")
			continue
		}
		sb.WriteString(line)
	}
	return sb.String()
}

// uniqueMatches returns the distinct matches of re in s, compared
// without case, in order of first appearance.
func uniqueMatches(re *regexp.Regexp, s string, into []string) []string {
	for _, m := range re.FindAllString(s, maxKeywordHits) {
		m = strings.TrimSpace(m)
		if len(m) > 60 {
			m = m[:60] + "..."
		}
		dup := false
		for _, x := range into {
			if strings.EqualFold(x, m) {
				dup = true
				break
			}
		}
		if !dup && len(into) < maxKeywordHits {
			into = append(into, m)
		}
	}
	return into
}

// scanMacros runs the keyword sets over the modules.
func scanMacros(mods []Module) macroFacts {
	var f macroFacts
	chr := 0
	for _, m := range mods {
		code := stripComments(m.Code)
		f.autoExec = uniqueMatches(autoExecPattern, code, f.autoExec)
		f.write = uniqueMatches(writePattern, code, f.write)
		f.execute = uniqueMatches(executePattern, code, f.execute)
		// Application.Run starts another macro, not a program.
		f.execute = slices.DeleteFunc(f.execute, func(s string) bool {
			return strings.HasPrefix(strings.ToLower(s), "application.")
		})
		chr += len(chrPattern.FindAllStringIndex(code, -1))
		if strReversePat.MatchString(code) {
			f.hints = appendOnce(f.hints, "StrReverse")
		}
		if base64LiteralPat.MatchString(code) {
			f.hints = appendOnce(f.hints, "long base64 string")
		}
		if hexLiteralPat.MatchString(code) {
			f.hints = appendOnce(f.hints, "long hex string")
		}
		if m := environPat.FindString(code); m != "" {
			f.hints = appendOnce(f.hints, m+")")
		}
	}
	if chr >= chrThreshold {
		f.hints = append(f.hints, fmt.Sprintf("%d Chr() calls", chr))
	}
	return f
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// quoteList renders names as "a", "b" and "c", at most n of them.
func quoteList(names []string, n int) string {
	q := make([]string, 0, min(len(names), n))
	for i, s := range names {
		if i == n {
			q = append(q, fmt.Sprintf("%d more", len(names)-n))
			break
		}
		q = append(q, fmt.Sprintf("%q", s))
	}
	return strings.Join(q, ", ")
}

// classifyMacros turns the modules and the XLM facts into findings.
func (a *analyzer) classifyMacros() {
	a.classifyXLM()
	if len(a.rep.Modules) == 0 {
		return
	}
	names := make([]string, 0, len(a.rep.Modules))
	for _, m := range a.rep.Modules {
		names = append(names, m.Name)
	}
	a.add(SignalMacroPresent, finding.Weak, 10, "VBA macros in %d module(s): %s", len(names), quoteList(names, 8))
	for _, m := range a.rep.Modules {
		for _, u := range findURLs([]byte(m.Code)) {
			a.addURL(u)
		}
	}
	f := scanMacros(a.rep.Modules)
	if len(f.hints) > 0 {
		sort.Strings(f.hints)
		a.add(SignalMacroObfuscation, finding.Weak, 15, "macro code hides what it does: %s", strings.Join(f.hints, ", "))
	}
	if len(f.autoExec) == 0 {
		if len(f.execute) > 0 {
			a.add(SignalMacroExecute, finding.Weak, 25, "macro can run programs (%s) but does not start by itself", quoteList(f.execute, 6))
		}
		return
	}
	auto := quoteList(f.autoExec, 3)
	a.add(SignalMacroAutoExec, finding.Weak, 20, "macro %s runs by itself when the document is opened or shown", auto)
	if len(f.execute) > 0 {
		a.add(SignalMacroAutoExecExec, finding.Malware, 90, "macro %s runs by itself and runs programs: %s", auto, quoteList(f.execute, 6))
	}
	if len(f.write) > 0 {
		a.add(SignalMacroAutoExecWrite, finding.Malware, 70, "macro %s runs by itself and writes files: %s", auto, quoteList(f.write, 6))
	}
}
