package attach

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/ward-health/ward/internal/mail/finding"
)

// danger says how risky a file type is when it arrives by mail.
type danger struct {
	class finding.Class
	score int
	what  string // words for a non-specialist
}

// dangerousExt maps lower-case extensions to the risk of receiving them.
// Malware: Windows runs them on a double click (executables, scripts,
// shortcuts, installers, help files with script, registry files).
// Weak: containers and shortcuts that are abused to carry those past
// filters, but that also have rare honest uses.
var dangerousExt = map[string]danger{
	"exe": {finding.Malware, 10, "Windows program"}, "dll": {finding.Malware, 10, "Windows library"},
	"scr": {finding.Malware, 10, "Windows screen saver program"}, "com": {finding.Malware, 10, "DOS/Windows program"},
	"pif": {finding.Malware, 10, "program information file (runs a program)"}, "cpl": {finding.Malware, 10, "Control Panel program"},
	"xll": {finding.Malware, 10, "Excel add-in program"}, "msi": {finding.Malware, 10, "Windows installer"},
	"msp": {finding.Malware, 10, "Windows installer patch"}, "jar": {finding.Malware, 10, "Java program"},
	"lnk": {finding.Malware, 10, "Windows shortcut (runs a command)"}, "chm": {finding.Malware, 10, "compiled help file (can run script)"},
	"vbs": {finding.Malware, 10, "VBScript"}, "vbe": {finding.Malware, 10, "encoded VBScript"}, "vb": {finding.Malware, 10, "VBScript"},
	"js": {finding.Malware, 10, "JScript (runs outside the browser)"}, "jse": {finding.Malware, 10, "encoded JScript"},
	"wsf": {finding.Malware, 10, "Windows Script File"}, "wsh": {finding.Malware, 10, "Windows Script Host settings"},
	"ws": {finding.Malware, 10, "Windows Script"}, "hta": {finding.Malware, 10, "HTML application (runs with full rights)"},
	"ps1": {finding.Malware, 10, "PowerShell script"}, "psm1": {finding.Malware, 10, "PowerShell module"},
	"bat": {finding.Malware, 10, "batch script"}, "cmd": {finding.Malware, 10, "batch script"},
	"reg": {finding.Malware, 10, "registry file (changes Windows settings)"}, "scf": {finding.Malware, 10, "Windows Explorer command file"},
	"appx": {finding.Malware, 10, "Windows app package"}, "msix": {finding.Malware, 10, "Windows app package"},
	"appxbundle": {finding.Malware, 10, "Windows app package"}, "msixbundle": {finding.Malware, 10, "Windows app package"},
	"appinstaller": {finding.Malware, 10, "Windows app installer"}, "settingcontent-ms": {finding.Malware, 10, "Windows settings shortcut (runs a command)"},
	"application": {finding.Malware, 10, "ClickOnce application"}, "msc": {finding.Malware, 10, "management console file (runs commands)"},
	"gadget": {finding.Malware, 10, "Windows gadget"}, "sct": {finding.Malware, 10, "Windows scriptlet"}, "wsc": {finding.Malware, 10, "Windows script component"},
	"iso": {finding.Weak, 6, "disk image (hides its files from mail filters)"}, "img": {finding.Weak, 6, "disk image (hides its files from mail filters)"},
	"vhd": {finding.Weak, 6, "virtual disk (hides its files from mail filters)"}, "vhdx": {finding.Weak, 6, "virtual disk (hides its files from mail filters)"},
	"udf": {finding.Weak, 6, "disk image"}, "dmg": {finding.Weak, 5, "macOS disk image"},
	"one": {finding.Weak, 5, "OneNote notebook (can carry clickable programs)"}, "onepkg": {finding.Weak, 5, "OneNote package"},
	"url": {finding.Weak, 5, "Internet shortcut"}, "website": {finding.Weak, 5, "pinned website shortcut"},
	"iqy": {finding.Weak, 6, "Excel web query (fetches remote content)"}, "slk": {finding.Weak, 4, "SYLK spreadsheet (can run commands)"},
	"library-ms": {finding.Weak, 5, "Windows library (points at remote folders)"}, "search-ms": {finding.Weak, 5, "Windows search shortcut"},
	"apk": {finding.Weak, 4, "Android app"}, "sh": {finding.Weak, 3, "shell script"},
}

// executableTypes are the sniffed types of native programs.
var executableTypes = map[string]string{
	"pe": "Windows program (PE)", "elf": "Linux program (ELF)", "macho": "macOS program (Mach-O)", "msdos": "DOS program (MZ)",
}

// scriptTypes are the sniffed types of scripts that Windows runs.
var scriptTypes = map[string]bool{
	"vbs": true, "vbe": true, "js": true, "jse": true, "wsf": true, "wsh": true, "hta": true,
	"ps1": true, "psm1": true, "bat": true, "cmd": true, "vb": true, "ws": true,
}

// extTypes maps extensions to the sniffed types their content may have.
// An extension missing here is not compared.
var extTypes = map[string][]string{
	"pdf": {"pdf"}, "doc": {"ole", "rtf", "html", "xml", "ooxml"}, "dot": {"ole", "rtf"}, "xls": {"ole", "html", "xml", "text", "ooxml"},
	"ppt": {"ole"}, "docx": {"ooxml", "ole"}, "docm": {"ooxml", "ole"}, "dotm": {"ooxml", "ole"}, "xlsx": {"ooxml", "ole"}, "xlsm": {"ooxml", "ole"}, "xlsb": {"ooxml", "ole"},
	"pptx": {"ooxml", "ole"}, "pptm": {"ooxml", "ole"}, "rtf": {"rtf"}, "odt": {"odf", "zip"}, "ods": {"odf", "zip"}, "odp": {"odf", "zip"},
	"zip": {"zip", "ooxml", "jar", "odf", "apk", "appx"}, "rar": {"rar"}, "7z": {"7z"}, "gz": {"gzip"}, "tgz": {"gzip"},
	"bz2": {"bzip2"}, "xz": {"xz"}, "zst": {"zstd"}, "cab": {"cab"}, "tar": {"tar"}, "iso": {"iso", "udf"}, "img": {"iso", "udf", "data"},
	"vhd": {"vhd"}, "vhdx": {"vhdx"}, "lnk": {"lnk"}, "chm": {"chm"}, "msi": {"msi"}, "one": {"one"}, "jar": {"jar", "zip"},
	"png": {"png"}, "jpg": {"jpeg"}, "jpeg": {"jpeg"}, "gif": {"gif"}, "webp": {"webp"}, "bmp": {"bmp"}, "ico": {"ico", "png"},
	"exe": {"pe", "msdos"}, "dll": {"pe"}, "scr": {"pe"}, "cpl": {"pe"}, "xll": {"pe"},
	"txt": {"text", "html", "xml"}, "csv": {"text"}, "htm": {"html", "text", "svg", "xml"}, "html": {"html", "text", "svg", "xml"},
	"svg": {"svg", "xml", "html"}, "hta": {"hta", "html"}, "wsf": {"wsf", "xml"}, "settingcontent-ms": {"settingcontent-ms", "xml"},
	"url": {"url"}, "scf": {"scf"}, "reg": {"reg"}, "iqy": {"iqy"}, "slk": {"slk"}, "appx": {"appx", "zip"}, "msix": {"appx", "zip"},
	"apk": {"apk", "zip"},
}

// documentExt are extensions of the documents that double extensions
// pretend to be.
var documentExt = map[string]bool{
	"pdf": true, "doc": true, "docx": true, "xls": true, "xlsx": true, "ppt": true, "pptx": true, "rtf": true,
	"txt": true, "jpg": true, "jpeg": true, "png": true, "gif": true, "csv": true, "htm": true, "html": true,
	"zip": true, "rar": true, "odt": true, "ods": true, "mp3": true, "mp4": true, "wav": true, "eml": true, "msg": true,
}

// mimeTypes maps declared MIME types to the sniffed types they may carry.
// An unlisted or generic declared type is not compared.
var mimeTypes = map[string][]string{
	"application/pdf":          {"pdf"},
	"application/msword":       {"ole", "rtf", "ooxml", "html", "xml"},
	"application/vnd.ms-excel": {"ole", "ooxml", "html", "xml", "text"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   {"ooxml", "ole"},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {"ooxml", "ole"},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {"ooxml", "ole"},
	"application/zip":              {"zip", "ooxml", "jar", "odf", "apk", "appx"},
	"application/x-zip-compressed": {"zip", "ooxml", "jar", "odf", "apk", "appx"},
	"application/rtf":              {"rtf"},
	"text/rtf":                     {"rtf"},
	"image/png":                    {"png"},
	"image/jpeg":                   {"jpeg"},
	"image/gif":                    {"gif"},
	"image/webp":                   {"webp"},
	"text/plain":                   {"text", "html", "xml", "vbs", "js", "ps1", "bat", "cmd", "sh", "url", "reg", "csv"},
	"text/csv":                     {"text"},
	"application/x-rar-compressed": {"rar"},
	"application/vnd.rar":          {"rar"},
	"application/x-7z-compressed":  {"7z"},
	"application/gzip":             {"gzip"},
	"application/x-gzip":           {"gzip"},
}

// extension returns the lower-case last extension of name ("" if none),
// after trailing spaces and dots, which Windows ignores.
func extension(name string) string {
	name = strings.TrimRight(name, " .\t")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	i := strings.LastIndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return lower(name[i+1:])
}

// invisible reports whether r changes how a name displays without being
// seen: bidirectional controls and zero-width characters.
func invisible(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	case r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF, r == 0x180E:
		return true
	}
	return false
}

// checkName adds the findings on a file name: invisible or bidi
// characters, double extensions and padding, and, for archive members,
// absolute and parent-directory paths.
func (z *analyzer) checkName(r *Report, name string, inArchive bool) {
	var bidi []string
	for _, c := range name {
		if invisible(c) && len(bidi) < 5 {
			bidi = append(bidi, fmt.Sprintf("U+%04X", c))
		}
	}
	if len(bidi) > 0 {
		shown := strings.Map(func(c rune) rune {
			if invisible(c) {
				return -1
			}
			return c
		}, name)
		add(r, "name_bidi_control", finding.Weak, 6, fmt.Sprintf("name %q contains invisible or right-to-left characters (%s) that disguise its real extension; without them it reads %q", name, strings.Join(bidi, ", "), shown))
	}
	base := name
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	clean := strings.Map(func(c rune) rune {
		if invisible(c) {
			return -1
		}
		return c
	}, base)
	ext := extension(clean)
	if d, ok := dangerousExt[ext]; ok {
		stem := strings.TrimRight(clean, " .\t")
		stem = stem[:len(stem)-len(ext)-1]
		padded := strings.HasSuffix(stem, "  ") || strings.HasSuffix(stem, "\t") || strings.HasSuffix(stem, "..") || strings.HasSuffix(stem, "_____")
		inner := extension(strings.TrimRight(stem, " ._\t"))
		switch {
		case documentExt[inner]:
			add(r, "double_extension", finding.Weak, 5, fmt.Sprintf("name %q looks like a .%s file but is a .%s (%s)", name, inner, ext, d.what))
		case padded:
			add(r, "double_extension", finding.Weak, 5, fmt.Sprintf("name %q pads its name with spaces or dots to hide the extension .%s", name, ext))
		}
	}
	if inArchive {
		n := strings.ReplaceAll(name, `\`, "/")
		switch {
		case strings.HasPrefix(n, "/"), len(n) >= 2 && n[1] == ':' && unicode.IsLetter(rune(n[0])):
			add(r, "archive_path_traversal", finding.Weak, 5, fmt.Sprintf("member name %q is an absolute path: extracting it would write outside the target folder", name))
		case n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, "/../") || strings.HasSuffix(n, "/.."):
			add(r, "archive_path_traversal", finding.Weak, 5, fmt.Sprintf("member name %q climbs out of the folder with \"..\": extracting it would write outside the target folder", name))
		}
	}
}

// checkType adds the findings on the real type and how it matches the
// name's extension and the declared MIME type.
func (z *analyzer) checkType(r *Report, name, declared string, k kind, inArchive bool) {
	ext := extension(strings.Map(func(c rune) rune {
		if invisible(c) {
			return -1
		}
		return c
	}, name))
	where := "attachment"
	if inArchive {
		where = "archive member"
	}
	d, dangerousName := dangerousExt[ext]
	exe, isExe := executableTypes[k.typ]
	switch {
	case isExe:
		what := exe
		if k.dll {
			what = "Windows library (PE DLL)"
		}
		add(r, "executable", finding.Malware, 10, fmt.Sprintf("%s %q is a %s", where, name, what))
	case scriptTypes[k.typ] && (dangerousName || ext == ""):
		add(r, "script_attachment", finding.Malware, 10, fmt.Sprintf("%s %q is a %s script that Windows runs on a double click", where, name, k.typ))
	case dangerousName && d.class == finding.Malware && (k.typ == "" || k.typ == "data" || k.typ == "text" || typeFits(ext, k.typ) || ext == "com" || ext == "pif"):
		add(r, "dangerous_extension", d.class, d.score, fmt.Sprintf("%s %q is a .%s file: %s", where, name, ext, d.what))
	case dangerousName && d.class == finding.Malware:
		// A program extension on content of another type: it will not run
		// as named, but nobody sends that by honest mistake.
		add(r, "dangerous_extension", finding.Weak, 5, fmt.Sprintf("%s %q has the extension of a %s but contains %s", where, name, d.what, k.typ))
	case dangerousName:
		add(r, dangerSignal(ext), d.class, d.score, fmt.Sprintf("%s %q is a .%s file: %s", where, name, ext, d.what))
	}
	if !dangerousName && !isExe {
		switch k.typ {
		case "iso", "udf", "vhd", "vhdx", "dmg":
			add(r, "disk_image", finding.Weak, 6, fmt.Sprintf("%s %q is a disk image (%s), a wrapping used to carry programs past mail filters", where, name, k.typ))
		case "one":
			add(r, "onenote_attachment", finding.Weak, 5, fmt.Sprintf("%s %q is a OneNote notebook, a wrapping used to carry clickable programs", where, name))
		case "lnk", "msi", "chm", "reg", "scf", "settingcontent-ms", "hta", "wsf", "vbe", "jar", "appx":
			add(r, "dangerous_content", finding.Weak, 5, fmt.Sprintf("%s %q contains a %s although its name does not say so", where, name, k.typ))
		case "url", "iqy", "slk":
			add(r, "shortcut_file", finding.Weak, 4, fmt.Sprintf("%s %q is a %s file", where, name, k.typ))
		}
	}
	if k.typ != "" && k.typ != "data" && !k.byName && ext != "" {
		if want, ok := extTypes[ext]; ok && !typeFits(ext, k.typ) {
			score := 4
			if isExe {
				score = 6
			}
			add(r, "type_extension_mismatch", finding.Weak, score, fmt.Sprintf("%s %q is named .%s but its content is %s (expected %s)", where, name, ext, k.typ, strings.Join(want, " or ")))
		}
	}
	if declared != "" && k.typ != "" && k.typ != "data" {
		mt := lower(strings.TrimSpace(declared))
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = strings.TrimSpace(mt[:i])
		}
		if want, ok := mimeTypes[mt]; ok && !contains1(want, k.typ) && !k.byName {
			add(r, "declared_type_mismatch", finding.Weak, 2, fmt.Sprintf("%s %q is declared as %s but its content is %s", where, name, mt, k.typ))
		}
	}
}

// dangerSignal names the finding for a Weak dangerous extension.
func dangerSignal(ext string) string {
	switch ext {
	case "iso", "img", "vhd", "vhdx", "udf", "dmg":
		return "disk_image"
	case "one", "onepkg":
		return "onenote_attachment"
	}
	return "shortcut_file"
}

// typeFits reports whether the sniffed type is expected for ext, or ext
// is not one that extTypes knows.
func typeFits(ext, typ string) bool {
	want, ok := extTypes[ext]
	if !ok {
		return typ == ext || (ext == "htm" && typ == "html")
	}
	return contains1(want, typ)
}

func contains1(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
