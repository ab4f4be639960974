package office

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// moduleRef is what the dir stream says about one module.
type moduleRef struct {
	name          string // MODULENAME, decoded from the project code page
	nameUnicode   string // MODULENAMEUNICODE
	stream        string // MODULESTREAMNAME
	streamUnicode string // MODULESTREAMNAMEUNICODE
	offset        uint32 // MODULEOFFSET: where the compressed source starts
	hasOffset     bool
}

// displayName is the name shown to users and in Module.Name.
func (m *moduleRef) displayName() string {
	if m.name != "" {
		return m.name
	}
	return m.nameUnicode
}

// vbaDir is the part of an [MS-OVBA] 2.3.4.2 dir stream that locates the
// module source.
type vbaDir struct {
	codepage uint16
	modules  []moduleRef
	declared int // PROJECTMODULES count, as written
}

// dir record identifiers used here ([MS-OVBA] 2.3.4.2).
const (
	dirCodePage          = 0x0003
	dirProjectVersion    = 0x0009
	dirProjectModules    = 0x000F
	dirEnd               = 0x0010
	dirModuleName        = 0x0019
	dirModuleStreamName  = 0x001A
	dirModuleTerminator  = 0x002B
	dirModuleOffset      = 0x0031
	dirModuleStreamNameU = 0x0032
	dirModuleNameUnicode = 0x0047
)

// parseDir reads a decompressed dir stream. Records are read generically
// as (id uint16, size uint32, data) so that optional records, records
// added by later Office versions and records in an unexpected order are
// stepped over. The one record whose size field does not give its length
// is PROJECTVERSION, whose size is 4 but which carries 6 bytes. Modules
// are collected from MODULENAME up to their terminator; a module without a
// terminator at the end of the stream is kept.
func parseDir(b []byte, maxModules int) (vbaDir, error) {
	var d vbaDir
	var cur *moduleRef
	flush := func() {
		if cur != nil {
			d.modules = append(d.modules, *cur)
			cur = nil
		}
	}
	pos := 0
	for pos+6 <= len(b) {
		id := binary.LittleEndian.Uint16(b[pos:])
		size := int64(binary.LittleEndian.Uint32(b[pos+2:]))
		if id == dirProjectVersion {
			size = 6
		}
		if size > int64(len(b)-pos-6) {
			flush()
			return d, fmt.Errorf("dir record 0x%04x at byte %d declares %d bytes, only %d left", id, pos, size, len(b)-pos-6)
		}
		data := b[pos+6 : pos+6+int(size)]
		pos += 6 + int(size)
		switch id {
		case dirCodePage:
			if len(data) >= 2 {
				d.codepage = binary.LittleEndian.Uint16(data)
			}
		case dirProjectModules:
			if len(data) >= 2 {
				d.declared = int(binary.LittleEndian.Uint16(data))
			}
		case dirModuleName:
			flush()
			if len(d.modules) >= maxModules {
				// Keep counting so the caller can report how many
				// modules were left out.
				d.modules = append(d.modules, moduleRef{})
				continue
			}
			cur = &moduleRef{name: decodeCodePage(data, d.codepage)}
		case dirModuleNameUnicode:
			if cur != nil {
				cur.nameUnicode = decodeUTF16(data)
			}
		case dirModuleStreamName:
			if cur != nil {
				cur.stream = decodeCodePage(data, d.codepage)
			}
		case dirModuleStreamNameU:
			if cur != nil {
				cur.streamUnicode = decodeUTF16(data)
			}
		case dirModuleOffset:
			if cur != nil && len(data) >= 4 {
				cur.offset = binary.LittleEndian.Uint32(data)
				cur.hasOffset = true
			}
		case dirModuleTerminator:
			flush()
		case dirEnd:
			flush()
			return d, nil
		}
	}
	flush()
	if len(d.modules) == 0 {
		return d, errors.New("dir stream lists no modules")
	}
	return d, nil
}

// decodeUTF16 decodes little-endian UTF-16; an odd last byte is dropped.
func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// decodeCodePage converts text in a Windows code page to UTF-8. ASCII and
// valid UTF-8 (code page 65001) pass unchanged; unknown code pages fall back
// to Windows-1252, which maps every byte.
func decodeCodePage(b []byte, cp uint16) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii || (cp == 65001 && utf8.Valid(b)) {
		return string(b)
	}
	var enc encoding.Encoding = charmap.Windows1252
	switch cp {
	case 874:
		enc = charmap.Windows874
	case 932:
		enc = japanese.ShiftJIS
	case 936:
		enc = simplifiedchinese.GBK
	case 949:
		enc = korean.EUCKR
	case 950:
		enc = traditionalchinese.Big5
	case 1250:
		enc = charmap.Windows1250
	case 1251:
		enc = charmap.Windows1251
	case 1253:
		enc = charmap.Windows1253
	case 1254:
		enc = charmap.Windows1254
	case 1255:
		enc = charmap.Windows1255
	case 1256:
		enc = charmap.Windows1256
	case 1257:
		enc = charmap.Windows1257
	case 1258:
		enc = charmap.Windows1258
	case 10000:
		enc = charmap.Macintosh
	}
	s, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(s)
}

// vbaProject decodes the VBA project whose dir stream is in storage
// prefix of an OLE file, reading module streams through read.
func (a *analyzer) vbaProject(prefix string, dirRaw []byte, read func(path string) ([]byte, bool)) {
	where := strings.TrimSuffix(prefix, "/")
	dirData, err := decompress(dirRaw, int(a.lim.MaxStream))
	if err != nil && len(dirData) == 0 {
		a.errorf("vba project %q: dir stream: %v", where, err)
		return
	}
	if err != nil {
		a.errorf("vba project %q: dir stream decoded in part: %v", where, err)
	}
	dir, err := parseDir(dirData, a.lim.MaxModules-a.modules)
	if err != nil {
		a.errorf("vba project %q: %v", where, err)
	}
	for _, m := range dir.modules {
		a.modules++
		if a.modules > a.lim.MaxModules {
			a.limit("vba module %d of project %q not decoded: limit %d modules", a.modules, where, a.lim.MaxModules)
			continue
		}
		if a.done() {
			return
		}
		a.vbaModule(prefix, where, dir.codepage, m, read)
	}
}

// vbaModule reads and decompresses one module's source.
func (a *analyzer) vbaModule(prefix, where string, cp uint16, m moduleRef, read func(string) ([]byte, bool)) {
	name := m.displayName()
	var raw []byte
	found := false
	for _, s := range []string{m.streamUnicode, m.stream, m.name, m.nameUnicode} {
		if s == "" {
			continue
		}
		if raw, found = read(prefix + s); found {
			break
		}
	}
	if !found {
		a.errorf("vba project %q: module %q: stream %q not found", where, name, m.stream)
		return
	}
	off := int64(m.offset)
	if !m.hasOffset || off >= int64(len(raw)) {
		a.errorf("vba project %q: module %q: source offset %d outside its %d-byte stream", where, name, off, len(raw))
		return
	}
	code, err := decompress(raw[off:], int(a.lim.MaxStream))
	if errors.Is(err, ErrOutputLimit) {
		a.limit("vba module %q truncated: limit %d bytes per stream", name, a.lim.MaxStream)
	} else if err != nil {
		a.errorf("vba project %q: module %q: %v", where, name, err)
	}
	if len(code) == 0 {
		return
	}
	if !a.charge(int64(len(code)), fmt.Sprintf("vba module %q", name)) {
		return
	}
	a.rep.Modules = append(a.rep.Modules, Module{Name: name, Code: decodeCodePage(code, cp)})
}
