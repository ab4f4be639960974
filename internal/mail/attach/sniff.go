package attach

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is what sniff decided about a file.
type kind struct {
	typ  string // short lower-case type name, "data" when unknown
	text bool   // the content is text (possibly UTF-16), analysed as such
	// byName is true when typ comes from the extension rather than from
	// the content (a text file named .vbs is "vbs").
	byName bool
	dll    bool // a PE with the DLL flag
}

// Magic numbers and identifiers, from the formats' specifications.
var (
	oleMagic    = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	lnkMagic    = []byte{0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46}
	oneNoteGUID = []byte{0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3}
	rar4Magic   = []byte("Rar!\x1a\x07\x00")
	rar5Magic   = []byte("Rar!\x1a\x07\x01\x00")
	sevenZMagic = []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}
	xzMagic     = []byte{0xFD, '7', 'z', 'X', 'Z', 0}
	zstdMagic   = []byte{0x28, 0xB5, 0x2F, 0xFD}
	pngMagic    = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
)

// sniff decides the real type of data from its content, using the name
// only to tell apart text scripts that carry no marker of their language.
func sniff(name string, data []byte) kind {
	if t := sniffBinary(data); t != "" {
		return kind{typ: t, dll: t == "pe" && peIsDLL(data)}
	}
	if !looksText(data) {
		return kind{typ: "data"}
	}
	txt := textPrefix(data, 4096)
	if t := sniffText(txt); t != "" {
		return kind{typ: t, text: true}
	}
	ext := extension(name)
	switch ext {
	case "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "ps1", "psm1", "bat", "cmd", "sh", "vb", "ws":
		return kind{typ: ext, text: true, byName: true}
	}
	if t := sniffScript(txt); t != "" {
		return kind{typ: t, text: true}
	}
	return kind{typ: "text", text: true}
}

// sniffBinary recognises binary formats by their magic numbers.
func sniffBinary(d []byte) string {
	switch {
	case isPE(d):
		return "pe"
	case bytes.HasPrefix(d, []byte("\x7fELF")):
		return "elf"
	case len(d) >= 8 && isMachO(d):
		return "macho"
	case bytes.HasPrefix(d, oleMagic):
		if isMSI(d) {
			return "msi"
		}
		return "ole"
	case bytes.HasPrefix(d, []byte("PK\x03\x04")), bytes.HasPrefix(d, []byte("PK\x05\x06")), bytes.HasPrefix(d, []byte("PK\x07\x08")):
		return "zip"
	case bytes.HasPrefix(d, rar4Magic), bytes.HasPrefix(d, rar5Magic):
		return "rar"
	case bytes.HasPrefix(d, sevenZMagic):
		return "7z"
	case bytes.HasPrefix(d, []byte{0x1F, 0x8B}):
		return "gzip"
	case bytes.HasPrefix(d, []byte("BZh")) && len(d) > 4 && d[3] >= '1' && d[3] <= '9':
		return "bzip2"
	case bytes.HasPrefix(d, xzMagic):
		return "xz"
	case bytes.HasPrefix(d, zstdMagic):
		return "zstd"
	case bytes.HasPrefix(d, []byte("MSCF\x00\x00\x00\x00")):
		return "cab"
	case bytes.HasPrefix(d, lnkMagic):
		return "lnk"
	case bytes.HasPrefix(d, []byte("ITSF")):
		return "chm"
	case bytes.HasPrefix(d, oneNoteGUID):
		return "one"
	case bytes.HasPrefix(d, []byte("vhdxfile")):
		return "vhdx"
	case bytes.HasPrefix(d, []byte("conectix")):
		return "vhd"
	case bytes.HasPrefix(d, pngMagic):
		return "png"
	case bytes.HasPrefix(d, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(d, []byte("GIF87a")), bytes.HasPrefix(d, []byte("GIF89a")):
		return "gif"
	case len(d) >= 12 && bytes.HasPrefix(d, []byte("RIFF")) && string(d[8:12]) == "WEBP":
		return "webp"
	case len(d) >= 26 && bytes.HasPrefix(d, []byte("BM")) && binary.LittleEndian.Uint32(d[6:]) == 0 && binary.LittleEndian.Uint32(d[14:]) >= 12 && binary.LittleEndian.Uint32(d[14:]) <= 124:
		return "bmp"
	case len(d) >= 22 && bytes.HasPrefix(d, []byte{0, 0, 1, 0}) && d[4]|d[5] != 0 && d[9] == 0 && (d[8] == 0 || d[8] >= 2):
		return "ico"
	}
	if pdfAt(d) >= 0 {
		return "pdf"
	}
	if bytes.HasPrefix(bytes.TrimLeft(d[:min(len(d), 16)], " \t\r\n"), []byte(`{\rt`)) {
		return "rtf"
	}
	if isISO(d) {
		return "iso"
	}
	if hasUDF(d) {
		return "udf"
	}
	if len(d) >= 512 && bytes.Equal(d[len(d)-512:len(d)-504], []byte("conectix")) {
		return "vhd"
	}
	if len(d) >= 512 && bytes.Equal(d[len(d)-512:len(d)-508], []byte("koly")) {
		return "dmg"
	}
	if len(d) >= 263 && bytes.Equal(d[257:262], []byte("ustar")) {
		return "tar"
	}
	if bytes.HasPrefix(d, []byte("MZ")) && len(d) >= 64 && !looksText(d) {
		return "msdos"
	}
	return ""
}

// isPE reports whether d is an MZ executable whose e_lfanew points at a
// "PE\0\0" signature.
func isPE(d []byte) bool {
	if len(d) < 64 || d[0] != 'M' || d[1] != 'Z' {
		return false
	}
	off := int64(binary.LittleEndian.Uint32(d[0x3C:]))
	return off+4 <= int64(len(d)) && string(d[off:off+4]) == "PE\x00\x00"
}

// peIsDLL reports whether the PE file d has the IMAGE_FILE_DLL flag.
func peIsDLL(d []byte) bool {
	off := int64(binary.LittleEndian.Uint32(d[0x3C:]))
	if off+24 > int64(len(d)) {
		return false
	}
	return binary.LittleEndian.Uint16(d[off+22:])&0x2000 != 0
}

// isMachO recognises the Mach-O thin and fat headers. 0xCAFEBABE is also a
// Java class file; a fat header has a small architecture count where a
// class file has its version (at least 45).
func isMachO(d []byte) bool {
	be := binary.BigEndian.Uint32(d)
	switch be {
	case 0xFEEDFACE, 0xFEEDFACF, 0xCEFAEDFE, 0xCFFAEDFE:
		return true
	case 0xCAFEBABE:
		n := binary.BigEndian.Uint32(d[4:])
		return n > 0 && n < 20
	}
	return false
}

// msiCLSIDs are the root storage class IDs of Windows Installer packages,
// patches and transforms, as stored on disk (little-endian GUID fields).
var msiCLSIDs = [][]byte{
	{0x84, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46}, // {000C1084-...} package
	{0x86, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46}, // {000C1086-...} patch
	{0x82, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46}, // {000C1082-...} transform
}

// isMSI reads the root directory entry of an OLE compound file ([MS-CFB]
// 2.2 and 2.6) and compares its CLSID with the Windows Installer ones.
func isMSI(d []byte) bool {
	if len(d) < 512 {
		return false
	}
	shift := binary.LittleEndian.Uint16(d[0x1E:])
	if shift != 9 && shift != 12 {
		return false
	}
	dirSect := int64(binary.LittleEndian.Uint32(d[0x30:]))
	if dirSect >= 0xFFFFFFFA {
		return false
	}
	off := (dirSect + 1) << shift
	if off+0x60 > int64(len(d)) || off < 0 {
		return false
	}
	clsid := d[off+0x50 : off+0x60]
	for _, c := range msiCLSIDs {
		if bytes.Equal(clsid, c) {
			return true
		}
	}
	return false
}

// pdfAt returns where "%PDF-" starts within the first 1024 bytes, or -1.
func pdfAt(d []byte) int {
	return bytes.Index(d[:min(len(d), 1024+5)], []byte("%PDF-"))
}

// isISO looks for the ISO 9660 volume descriptor identifier "CD001" in the
// places where images put it (sector 16 and the next two).
func isISO(d []byte) bool {
	for _, off := range []int{0x8001, 0x8801, 0x9001} {
		if len(d) >= off+5 && string(d[off:off+5]) == "CD001" {
			return true
		}
	}
	return false
}

// hasUDF looks for a UDF volume recognition sequence (ECMA-167 NSR02 or
// NSR03 descriptor) in sectors 16 to 31.
func hasUDF(d []byte) bool {
	for off := 0x8001; off+5 <= len(d) && off < 0x10001; off += 0x800 {
		if s := string(d[off : off+5]); s == "NSR02" || s == "NSR03" {
			return true
		}
	}
	return false
}

// looksText reports whether the first 4 KiB of d read as text: UTF-16 with
// a byte-order mark, or bytes without NULs and mostly printable.
func looksText(d []byte) bool {
	if len(d) == 0 {
		return false
	}
	if bytes.HasPrefix(d, []byte{0xFF, 0xFE}) || bytes.HasPrefix(d, []byte{0xFE, 0xFF}) {
		return true
	}
	p := d[:min(len(d), 4096)]
	bad := 0
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == 0:
			return false
		case c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x1B:
			i++
		case c < 0x20 || c == 0x7F:
			bad++
			i++
		case c < 0x80:
			i++
		default:
			r, n := utf8.DecodeRune(p[i:])
			if r == utf8.RuneError && n <= 1 {
				// Latin-1 and other 8-bit text: count as printable but
				// tolerate only a share of it.
				if i+4 < len(p) {
					bad++
				}
			}
			i += max(n, 1)
		}
	}
	return bad*10 <= len(p)
}

// decodeText returns the text of d as UTF-8 (converting UTF-16 with a
// byte-order mark), at most max bytes of input.
func decodeText(d []byte, limit int) string {
	d = d[:min(len(d), limit)]
	switch {
	case bytes.HasPrefix(d, []byte{0xFF, 0xFE}):
		return utf16String(d[2:], binary.LittleEndian)
	case bytes.HasPrefix(d, []byte{0xFE, 0xFF}):
		return utf16String(d[2:], binary.BigEndian)
	case bytes.HasPrefix(d, []byte{0xEF, 0xBB, 0xBF}):
		return string(d[3:])
	}
	return string(d)
}

// utf16String decodes UTF-16 in the given byte order.
func utf16String(d []byte, bo binary.ByteOrder) string {
	u := make([]uint16, len(d)/2)
	for i := range u {
		u[i] = bo.Uint16(d[2*i:])
	}
	return string(utf16.Decode(u))
}

// textPrefix returns the lower-cased start of d as text.
func textPrefix(d []byte, n int) string {
	return lower(decodeText(d, 2*n))
}

// sniffText recognises text formats that carry a marker of their own.
func sniffText(t string) string {
	s := trimSpaceBOM(t)
	switch {
	case hasPrefix(s, "#@~^"):
		return "vbe"
	case hasPrefix(s, "%pdf-"):
		return "pdf"
	case hasPrefix(s, "[internetshortcut]"):
		return "url"
	case hasPrefix(s, "[shell]"):
		return "scf"
	case hasPrefix(s, "regedit4"), hasPrefix(s, "windows registry editor"):
		return "reg"
	case hasPrefix(s, "id;p"):
		return "slk"
	case hasPrefix(s, "web\r\n1\r\n"), hasPrefix(s, "web\n1\n"):
		return "iqy"
	case hasPrefix(s, "#!"):
		return "sh"
	}
	switch {
	case contains(s, "<hta:application"):
		return "hta"
	case (hasPrefix(s, "<job") || hasPrefix(s, "<package")) || (hasPrefix(s, "<?xml") && contains(s, "<job")):
		return "wsf"
	case contains(s, "<settingscontent") || contains(s, "<pcsettings"):
		return "settingcontent-ms"
	}
	head := s[:min(len(s), 1024)]
	switch {
	case contains(head, "<svg"):
		return "svg"
	case hasPrefix(s, "<!doctype html"), contains(head, "<html"), contains(head, "<head"), contains(head, "<body"),
		hasPrefix(s, "<script"), hasPrefix(s, "<iframe"), hasPrefix(s, "<form"), hasPrefix(s, "<meta"), hasPrefix(s, "<div"),
		hasPrefix(s, "<!--") && contains(head, "<script"):
		return "html"
	case hasPrefix(s, "<?xml"):
		return "xml"
	}
	return ""
}

// sniffScript guesses the language of a script without a marker, from
// keywords that ordinary prose rarely contains. Two distinct markers are
// needed.
func sniffScript(s string) string {
	count := func(words ...string) int {
		n := 0
		for _, w := range words {
			if contains(s, w) {
				n++
			}
		}
		return n
	}
	switch {
	case count("@echo off", "%~dp0", "set /p", "goto :", "%comspec%", "start /b", "cmd /c", "cmd.exe /c") >= 2:
		return "bat"
	case count("$env:", "invoke-expression", "iex(", "new-object", "-encodedcommand", "[system.", "invoke-webrequest", "start-process", "$null") >= 2:
		return "ps1"
	case count("createobject(", "wscript.", "dim ", "end sub", "end function", "on error resume next", "set objshell") >= 2:
		return "vbs"
	case count("new activexobject", "wscript.", "var ", "function(", "function ", "eval(") >= 3:
		return "js"
	}
	return ""
}

func trimSpaceBOM(s string) string {
	for len(s) > 0 {
		switch {
		case s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n':
			s = s[1:]
		case len(s) >= 3 && s[:3] == "\uFEFF":
			s = s[3:]
		default:
			return s
		}
	}
	return s
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func contains(s, p string) bool { return strings.Contains(s, p) }
