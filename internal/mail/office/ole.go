package office

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/richardlehane/mscfb"
	"github.com/ward-health/ward/internal/mail/finding"
)

// oleFile indexes the streams of one compound file by lower-case path
// ("macros/vba/dir") and reads each at most once.
type oleFile struct {
	a       *analyzer
	streams map[string]*mscfb.File
	order   []string // stream paths in directory order
	cache   map[string][]byte
	rootID  string
}

// oleStreamPath joins an entry's storage path and name, lower-cased, with
// the leading control character of names like "\x01Ole10Native" dropped
// (mscfb drops it already and keeps it in Initial).
func oleStreamPath(f *mscfb.File) string {
	parts := append(append([]string{}, f.Path...), f.Name)
	return strings.ToLower(strings.Join(parts, "/"))
}

// read returns the content of the stream at p (lower-case path), at most
// MaxStream bytes, and whether the stream exists.
func (o *oleFile) read(p string) ([]byte, bool) {
	p = strings.ToLower(p)
	if b, ok := o.cache[p]; ok {
		return b, true
	}
	f, ok := o.streams[p]
	if !ok {
		return nil, false
	}
	n := f.Size
	if n > o.a.lim.MaxStream {
		o.a.limit("ole stream %q read in part: %d of %d bytes, limit %d bytes per stream", p, o.a.lim.MaxStream, n, o.a.lim.MaxStream)
		n = o.a.lim.MaxStream
	}
	if !o.a.charge(n, fmt.Sprintf("ole stream %q", p)) {
		o.cache[p] = nil
		return nil, true
	}
	buf := make([]byte, n)
	if n > 0 {
		got, err := f.ReadAt(buf, 0)
		if err != nil && err != io.EOF {
			o.a.errorf("ole stream %q: read %d of %d bytes: %v", p, got, n, err)
		}
		buf = buf[:got]
	}
	o.cache[p] = buf
	return buf, true
}

// ole analyses a compound file. depth counts the containers around it.
func (a *analyzer) ole(data []byte, depth int) {
	if depth > maxNesting {
		a.limit("ole file nested %d deep not analysed: limit %d levels", depth, maxNesting)
		return
	}
	r, err := mscfb.New(bytes.NewReader(data))
	if err != nil {
		a.errorf("ole: %v", err)
		return
	}
	o := &oleFile{a: a, streams: map[string]*mscfb.File{}, cache: map[string][]byte{}}
	if len(r.File) > 0 {
		o.rootID = r.ID()
	}
	storages := map[string]string{} // lower-case path -> CLSID
	for i, f := range r.File {
		if i >= maxOLEStream {
			a.limit("ole directory entries after %d not examined: limit %d entries", maxOLEStream, maxOLEStream)
			break
		}
		p := oleStreamPath(f)
		if f.FileInfo().IsDir() {
			storages[p] = f.ID()
			continue
		}
		if _, dup := o.streams[p]; !dup {
			o.streams[p] = f
			o.order = append(o.order, p)
		}
	}

	// Encrypted OOXML: the whole package sits in EncryptedPackage.
	if _, ok := o.streams["encryptedpackage"]; ok {
		if _, ok := o.streams["encryptioninfo"]; ok {
			a.encrypted("OOXML package encrypted with a password (EncryptionInfo and EncryptedPackage streams)")
		}
	}
	if _, ok := o.streams["encryptedsummary"]; ok {
		a.encrypted("PowerPoint file encrypted with a password (EncryptedSummary stream)")
	}

	for _, p := range o.order {
		if a.done() {
			return
		}
		base := path.Base(p)
		dir := strings.TrimSuffix(p, base)
		switch {
		case base == "dir":
			if raw, ok := o.read(p); ok && len(raw) > 0 {
				a.vbaProject(dir, raw, o.read)
			}
		case base == "ole10native":
			if raw, ok := o.read(p); ok {
				a.ole10Native(raw, p)
			}
		case base == "equation native":
			a.add(SignalEquationEditor, finding.Malware, 80,
				"embedded Equation Editor object (%q), the component exploited by CVE-2017-11882", p)
		case p == "worddocument":
			if raw, ok := o.read(p); ok {
				a.wordDocument(raw)
			}
		case p == "workbook" || p == "book":
			if raw, ok := o.read(p); ok {
				a.biff(raw)
			}
		case p == "powerpoint document":
			if raw, ok := o.read(p); ok {
				a.pptDocument(raw, depth)
			}
		case base == "package" && dir != "":
			// An OOXML document embedded in a .doc/.xls/.ppt.
			if raw, ok := o.read(p); ok && len(raw) > 0 {
				a.embed(Embedded{Name: p, Class: "Package", Data: raw})
			}
		case base == "compobj":
			if raw, ok := o.read(p); ok && isEquationClass(string(raw)) {
				a.add(SignalEquationEditor, finding.Malware, 80,
					"embedded Equation Editor object (%q), the component exploited by CVE-2017-11882", p)
			}
		case base == "ole" && dir != "":
			// \x01Ole: a linked object's moniker holds the link target.
			if raw, ok := o.read(p); ok {
				for _, u := range findURLs(raw) {
					a.addURL(u)
					a.add(SignalOLELink, finding.Weak, 30, "OLE object linked to %q", u)
				}
			}
		}
	}
	for p, id := range storages {
		if strings.EqualFold(id, clsidEquation3) {
			a.add(SignalEquationEditor, finding.Malware, 80,
				"embedded Equation Editor object (storage %q), the component exploited by CVE-2017-11882", p)
		}
	}
	if strings.EqualFold(o.rootID, clsidEquation3) {
		a.add(SignalEquationEditor, finding.Malware, 80,
			"Equation Editor object, the component exploited by CVE-2017-11882")
	}
}

// clsidEquation3 is the class of Microsoft Equation 3.0 (EQNEDT32.EXE).
const clsidEquation3 = "0002CE02-0000-0000-C000-000000000046"

// isEquationClass reports whether an OLE class name or CompObj content
// names Microsoft Equation Editor 3.0 (or its 2.0 predecessor).
func isEquationClass(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "equation.3") || strings.Contains(l, "equation.2") ||
		strings.Contains(l, "microsoft equation 3")
}

// encrypted marks the report as encrypted, once.
func (a *analyzer) encrypted(why string) {
	a.rep.Encrypted = true
	a.add(SignalEncrypted, finding.Weak, 20, "%s; its content cannot be examined", why)
}

// ole10Native parses an \x01Ole10Native stream: a 4-byte size followed by
// the native data of the object.
func (a *analyzer) ole10Native(raw []byte, where string) {
	if len(raw) < 4 {
		a.errorf("%s: %d bytes, too short for its size field", where, len(raw))
		return
	}
	n := int64(binary.LittleEndian.Uint32(raw))
	body := raw[4:]
	if n < int64(len(body)) {
		body = body[:n]
	}
	a.packageObject(body, where)
}

// packageObject parses the native data of an OLE Package object (the
// "Packager Shell Object") and returns the file it carries. When the
// layout does not fit, the whole native data is returned so that the
// caller can still scan it.
func (a *analyzer) packageObject(native []byte, where string) {
	pkg, err := parsePackage(native)
	if err != nil {
		a.errorf("%s: package object: %v", where, err)
		a.embed(Embedded{Name: path.Base(where), Class: "Package", Data: native})
		return
	}
	a.embedPackage(pkg, where)
}

// embedPackage returns a packaged file and flags dangerous file types.
// A package that links to a file instead of carrying it has no data to
// return, but a link to a program runs it as surely.
func (a *analyzer) embedPackage(pkg packageFile, where string) {
	if pkg.link != "" {
		if strings.HasPrefix(pkg.link, `\\`) || strings.Contains(pkg.link, "://") {
			a.addURL(pkg.link)
		}
		if ext := dangerousExt(pkg.link); ext != "" {
			a.add(SignalEmbeddedExecutable, finding.Malware, 70,
				"document carries an icon that starts %q (%s) when the reader double-clicks it", pkg.link, ext)
		} else {
			a.add(SignalEmbeddedObject, finding.Weak, 10, "document carries an icon linked to %q (%s)", pkg.link, where)
		}
		return
	}
	a.embed(Embedded{Name: pkg.name, Class: "Package", Data: pkg.data})
	if ext := dangerousExt(pkg.name); ext != "" {
		a.add(SignalEmbeddedExecutable, finding.Malware, 70,
			"document carries the file %q (%s), which runs when the reader double-clicks its icon", pkg.name, ext)
	} else {
		a.add(SignalEmbeddedObject, finding.Weak, 10, "document carries the file %q (%s)", pkg.name, where)
	}
}

// packageFile is what an OLE Package object carries: a file (name and
// data) or a link to a file (link).
type packageFile struct {
	name string
	data []byte
	link string
}

// parsePackage reads Package native data: a 2-byte signature, the label
// and the source path as NUL-terminated ANSI strings, 2 reserved bytes
// and a 2-byte kind. Kind 3 (embedded file) is followed by a 4-byte
// length and the temporary path, then a 4-byte data size and the file;
// kind 1 (link) by the NUL-terminated path of the linked file.
func parsePackage(b []byte) (packageFile, error) {
	var pkg packageFile
	p := 0
	if len(b) < 2 {
		return pkg, fmt.Errorf("%d bytes, too short", len(b))
	}
	p += 2 // signature, 0x0002
	cstr := func(what string) (string, error) {
		i := bytes.IndexByte(b[p:], 0)
		if i < 0 || i > 1024 {
			return "", fmt.Errorf("%s is not a NUL-terminated string of at most 1024 bytes", what)
		}
		s := decodeCodePage(b[p:p+i], 1252)
		p += i + 1
		return s, nil
	}
	u32 := func(what string) (uint32, error) {
		if p+4 > len(b) {
			return 0, fmt.Errorf("%s cut off at byte %d", what, p)
		}
		v := binary.LittleEndian.Uint32(b[p:])
		p += 4
		return v, nil
	}
	label, err := cstr("label")
	if err != nil {
		return pkg, err
	}
	src, err := cstr("source path")
	if err != nil {
		return pkg, err
	}
	kind, err := u32("reserved field and kind")
	if err != nil {
		return pkg, err
	}
	if kind>>16 == 1 {
		// Observed: a 16-bit field (1) precedes the path.
		for k := 0; k < 4 && p < len(b) && b[p] < 0x20 && b[p] != 0; k++ {
			p++
		}
		for k := 0; k < 4 && p < len(b) && b[p] == 0; k++ {
			p++
		}
		if pkg.link, err = cstr("link target"); err != nil {
			return pkg, err
		}
		return pkg, nil
	}
	tlen, err := u32("temporary path length")
	if err != nil {
		return pkg, err
	}
	if int64(tlen) > int64(len(b)-p) {
		return pkg, fmt.Errorf("temporary path length %d exceeds the %d bytes left", tlen, len(b)-p)
	}
	tmp := strings.TrimRight(decodeCodePage(b[p:p+int(tlen)], 1252), "\x00")
	p += int(tlen)
	dlen, err := u32("data size")
	if err != nil {
		return pkg, err
	}
	if int64(dlen) > int64(len(b)-p) {
		return pkg, fmt.Errorf("data size %d exceeds the %d bytes left", dlen, len(b)-p)
	}
	pkg.data = b[p : p+int(dlen)]
	for _, s := range []string{src, tmp, label} {
		if s != "" {
			pkg.name = baseName(s)
			break
		}
	}
	return pkg, nil
}

// baseName returns the last element of a Windows or Unix path.
func baseName(s string) string {
	if i := strings.LastIndexAny(s, `\/`); i >= 0 {
		return s[i+1:]
	}
	return s
}

// dangerousExt returns the extension of name when Windows runs files of
// that type on a double-click.
func dangerousExt(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	ext := strings.ToLower(name[i:])
	switch ext {
	case ".exe", ".scr", ".com", ".pif", ".bat", ".cmd", ".vbs", ".vbe", ".js", ".jse",
		".wsf", ".wsh", ".hta", ".ps1", ".lnk", ".cpl", ".msi", ".jar", ".dll", ".reg", ".inf", ".sct":
		return ext
	}
	return ""
}

// wordDocument examines the WordDocument stream of a .doc: the FIB flags
// say whether the document is encrypted; field instructions in the text
// may carry DDE commands.
func (a *analyzer) wordDocument(b []byte) {
	if len(b) < 12 || binary.LittleEndian.Uint16(b) != 0xA5EC {
		a.errorf("WordDocument stream does not start with the FIB identifier 0xA5EC")
		return
	}
	flags := binary.LittleEndian.Uint16(b[10:])
	if flags&0x0100 != 0 {
		how := "encrypted"
		if flags&0x8000 != 0 {
			how = "obfuscated (XOR)"
		}
		a.encrypted("Word document " + how + " with a password (FIB fEncrypted)")
		return
	}
	for _, instr := range wordFields(b) {
		a.ddeField(instr, "Word field")
	}
}

// maxFields bounds the field instructions looked at in one document.
const maxFields = 4096

// wordFields returns the instructions of the fields in binary Word text:
// each field starts with 0x13, its instruction runs to 0x14 or 0x15. The
// text may be stored as 8-bit characters or as UTF-16; both are tried.
func wordFields(b []byte) []string {
	var out []string
	for i := 0; i < len(b) && len(out) < maxFields; i++ {
		if b[i] != 0x13 {
			continue
		}
		if i+1 < len(b) && b[i+1] == 0 {
			// UTF-16: 0x13 0x00, then 16-bit units up to 0x14 or 0x15.
			var sb strings.Builder
			j := i + 2
			for ; j+1 < len(b) && sb.Len() < 1024; j += 2 {
				c := binary.LittleEndian.Uint16(b[j:])
				if c == 0x14 || c == 0x15 || c == 0x13 {
					break
				}
				if c < 0x80 {
					sb.WriteByte(byte(c))
				} else {
					sb.WriteRune(rune(c))
				}
			}
			if sb.Len() > 0 {
				out = append(out, sb.String())
			}
			continue
		}
		j := i + 1
		for j < len(b) && j-i < 1024 && b[j] != 0x14 && b[j] != 0x15 && b[j] != 0x13 {
			j++
		}
		if j > i+1 {
			out = append(out, decodeCodePage(b[i+1:j], 1252))
		}
	}
	return out
}

// ddeField reports a field instruction that starts with DDE or DDEAUTO.
func (a *analyzer) ddeField(instr, where string) {
	t := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == 0 {
			return -1
		}
		return r
	}, instr))
	word, rest, _ := strings.Cut(t, " ")
	switch strings.ToUpper(word) {
	case "DDE", "DDEAUTO":
	default:
		return
	}
	cmd := strings.TrimSpace(rest)
	if len(cmd) > 200 {
		cmd = cmd[:200] + "..."
	}
	how := "when the reader accepts a prompt"
	if strings.EqualFold(word, "DDEAUTO") {
		how = "when the document opens"
	}
	a.add(SignalDDE, finding.Malware, 80, "%s %s runs %q %s", where, strings.ToUpper(word), cmd, how)
}

// pptDocument walks the records of a "PowerPoint Document" stream for
// the compressed storage that PowerPoint 97-2003 uses for a VBA project
// and for embedded OLE objects (ExOleObjStg, [MS-PPT] 2.10.34): a 4-byte
// decompressed size followed by zlib data, itself a compound file.
func (a *analyzer) pptDocument(b []byte, depth int) {
	const (
		rtExOleObjStg  = 0x1011
		rtCryptSession = 0x2F14
	)
	records := 0
	for p := 0; p+8 <= len(b); {
		if records++; records > 1<<20 || a.done() {
			return
		}
		verInst := binary.LittleEndian.Uint16(b[p:])
		typ := binary.LittleEndian.Uint16(b[p+2:])
		n := int64(binary.LittleEndian.Uint32(b[p+4:]))
		if verInst&0x000F == 0x000F {
			// A container: its children follow its header.
			p += 8
			continue
		}
		if n > int64(len(b)-p-8) {
			return
		}
		body := b[p+8 : p+8+int(n)]
		p += 8 + int(n)
		switch typ {
		case rtCryptSession:
			a.encrypted("PowerPoint file encrypted with a password (CryptSession10Container)")
			return
		case rtExOleObjStg:
			if verInst>>4 != 1 || len(body) < 4 {
				continue // stored uncompressed or empty
			}
			want := int64(binary.LittleEndian.Uint32(body))
			raw, err := inflate(body[4:], min(want, a.lim.MaxStream))
			if err != nil {
				a.errorf("PowerPoint embedded storage: %v", err)
				continue
			}
			if !a.charge(int64(len(raw)), "PowerPoint embedded storage") {
				return
			}
			if bytes.HasPrefix(raw, oleMagic) {
				a.ole(raw, depth+1)
			}
		}
	}
}
