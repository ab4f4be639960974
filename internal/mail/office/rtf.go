package office

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/ward-health/ward/internal/mail/finding"
)

// RTF bounds.
const (
	maxRTFDepth   = 1024 // group nesting tracked; deeper groups inherit
	maxRTFText    = 4096 // bytes kept of one \objclass or \fldinst
	maxRTFObjects = 4096 // \objdata destinations examined
)

// rtfDest is the destination a group's text goes to.
type rtfDest uint8

const (
	destNone rtfDest = iota
	destObjData
	destObjClass
	destFldInst
)

// rtfObject accumulates one \objdata destination.
type rtfObject struct {
	data   []byte
	nibble int // pending high nibble, or -1
	full   bool
}

// rtf scans an RTF document in one pass. It does not interpret
// formatting: it follows groups, control words and \bin runs well
// enough to collect \objdata (hex, whitespace and junk between digits
// ignored, as Word does), \objclass and \fldinst text. Groups nested
// inside a destination feed that destination, which defeats the usual
// trick of splitting hex with empty groups. Work is linear in the input.
func (a *analyzer) rtf(b []byte) {
	stack := make([]rtfDest, 1, 64)
	overflow := 0 // groups opened beyond maxRTFDepth
	var obj *rtfObject
	var class, fld strings.Builder
	pendingClass := ""
	objects := 0
	top := func() rtfDest { return stack[len(stack)-1] }
	for i := 0; i < len(b); i++ {
		if i&0xFFFF == 0 && a.done() {
			return
		}
		c := b[i]
		switch c {
		case '{':
			if len(stack) >= maxRTFDepth {
				overflow++
				continue
			}
			stack = append(stack, top())
		case '}':
			if overflow > 0 {
				overflow--
				continue
			}
			if len(stack) == 1 {
				continue // unbalanced: Word ignores it
			}
			d := top()
			stack = stack[:len(stack)-1]
			if top() == d {
				continue // still inside the same destination
			}
			switch d {
			case destObjData:
				if obj != nil {
					a.rtfObject(obj.data, pendingClass)
					obj = nil
					pendingClass = ""
				}
			case destObjClass:
				pendingClass = strings.TrimSpace(class.String())
				class.Reset()
			case destFldInst:
				a.ddeField(fld.String(), "RTF field")
				fld.Reset()
			}
		case '\\':
			if i+1 >= len(b) {
				return
			}
			n := b[i+1]
			switch {
			case isLetter(n):
				j := i + 1
				for j < len(b) && j-i <= 32 && isLetter(b[j]) {
					j++
				}
				word := string(b[i+1 : j])
				k := j
				if k < len(b) && b[k] == '-' {
					k++
				}
				for k < len(b) && k-j <= 10 && b[k] >= '0' && b[k] <= '9' {
					k++
				}
				param, hasParam := int64(0), k > j
				if hasParam {
					param, _ = strconv.ParseInt(string(b[j:k]), 10, 64)
				}
				if k < len(b) && b[k] == ' ' {
					k++
				}
				i = k - 1
				switch word {
				case "objdata":
					if objects++; objects > maxRTFObjects {
						a.limit("rtf object %d not examined: limit %d objects", objects, maxRTFObjects)
						continue
					}
					stack[len(stack)-1] = destObjData
					obj = &rtfObject{nibble: -1}
				case "objclass":
					stack[len(stack)-1] = destObjClass
					class.Reset()
				case "fldinst":
					stack[len(stack)-1] = destFldInst
					fld.Reset()
				case "bin":
					if !hasParam || param <= 0 {
						continue
					}
					end := i + 1 + int(min(param, int64(len(b)-i-1)))
					if top() == destObjData && obj != nil {
						a.rtfAppend(obj, b[i+1:end])
					}
					i = end - 1
				}
			case n == '\'':
				// \'hh: one character in the document code page.
				if i+3 < len(b) {
					if v, err := strconv.ParseUint(string(b[i+2:i+4]), 16, 8); err == nil {
						switch top() {
						case destObjClass:
							addBounded(&class, byte(v))
						case destFldInst:
							addBounded(&fld, byte(v))
						}
					}
				}
				i += 3
			default:
				i++ // control symbol: \\, \{, \}, \~ ...
				switch top() {
				case destFldInst:
					if n == '\\' || n == '{' || n == '}' {
						addBounded(&fld, n)
					}
				}
			}
		default:
			switch top() {
			case destObjData:
				if obj != nil {
					if v, ok := hexVal(c); ok {
						if obj.nibble < 0 {
							obj.nibble = int(v)
						} else {
							a.rtfAppend(obj, []byte{byte(obj.nibble<<4) | v})
							obj.nibble = -1
						}
					}
				}
			case destObjClass:
				if c != '\r' && c != '\n' {
					addBounded(&class, c)
				}
			case destFldInst:
				if c != '\r' && c != '\n' {
					addBounded(&fld, c)
				}
			}
		}
	}
	// An unterminated object at the end of the file still counts.
	if obj != nil {
		a.rtfObject(obj.data, pendingClass)
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func addBounded(sb *strings.Builder, c byte) {
	if sb.Len() < maxRTFText {
		sb.WriteByte(c)
	}
}

// rtfAppend adds decoded object bytes within MaxStream and MaxTotal.
func (a *analyzer) rtfAppend(o *rtfObject, p []byte) {
	if o.full {
		return
	}
	room := min(a.lim.MaxStream-int64(len(o.data)), a.lim.MaxTotal-a.total)
	if int64(len(p)) > room {
		p = p[:max(room, 0)]
		o.full = true
		a.limit("rtf object data truncated: limit %d bytes per object, %d per file", a.lim.MaxStream, a.lim.MaxTotal)
	}
	o.data = append(o.data, p...)
	a.total += int64(len(p))
}

// ole1Object is an [MS-OLEDS] 2.2.4 ObjectHeader and what follows it.
type ole1Object struct {
	class  string
	topic  string
	item   string
	format uint32 // 1 linked, 2 embedded
	native []byte
}

// parseOLE1 reads an OLE 1.0 object: version (4), format id (4), then
// length-prefixed class, topic and item names; an embedded object then
// carries a 4-byte native data size and the native data.
func parseOLE1(b []byte) (ole1Object, error) {
	var o ole1Object
	p := 0
	u32 := func(what string) (uint32, error) {
		if p+4 > len(b) {
			return 0, fmt.Errorf("%s cut off at byte %d", what, p)
		}
		v := binary.LittleEndian.Uint32(b[p:])
		p += 4
		return v, nil
	}
	str := func(what string) (string, error) {
		n, err := u32(what + " length")
		if err != nil {
			return "", err
		}
		if n > 1024 || int(n) > len(b)-p {
			return "", fmt.Errorf("%s length %d is implausible or exceeds the %d bytes left", what, n, len(b)-p)
		}
		s := strings.TrimRight(string(b[p:p+int(n)]), "\x00")
		p += int(n)
		return s, nil
	}
	if _, err := u32("OLE version"); err != nil {
		return o, err
	}
	var err error
	if o.format, err = u32("format id"); err != nil {
		return o, err
	}
	if o.format != 1 && o.format != 2 {
		return o, fmt.Errorf("format id %d, want 1 (linked) or 2 (embedded)", o.format)
	}
	if o.class, err = str("class name"); err != nil {
		return o, err
	}
	if o.topic, err = str("topic name"); err != nil {
		return o, err
	}
	if o.item, err = str("item name"); err != nil {
		return o, err
	}
	if o.format == 2 {
		n, err := u32("native data size")
		if err != nil {
			return o, err
		}
		end := len(b)
		if int64(n) < int64(len(b)-p) {
			end = p + int(n)
		}
		o.native = b[p:end]
	}
	return o, nil
}

// rtfObject classifies one decoded \objdata.
func (a *analyzer) rtfObject(data []byte, objclass string) {
	if len(data) == 0 {
		return
	}
	o, err := parseOLE1(data)
	if err != nil {
		a.errorf("rtf object (class %q): %v", objclass, err)
		o = ole1Object{class: objclass, native: data}
	}
	classes := []string{o.class}
	if objclass != "" && !strings.EqualFold(objclass, o.class) {
		classes = append(classes, objclass)
	}
	shown := cmp(o.class, objclass)
	a.add(SignalRTFObject, finding.Weak, 10, "RTF document embeds an OLE object of class %q", shown)
	for _, cl := range classes {
		switch {
		case strings.EqualFold(cl, "OLE2Link"):
			urls := findURLs(o.native)
			for _, u := range urls {
				a.addURL(u)
			}
			target := "a remote document"
			if len(urls) > 0 {
				target = fmt.Sprintf("%q", urls[0])
			}
			a.add(SignalRTFOLE2Link, finding.Malware, 80,
				"RTF document links an OLE2Link object to %s, which Office fetches and runs on open (CVE-2017-0199)", target)
		case isEquationClass(cl):
			a.add(SignalRTFEquationEditor, finding.Malware, 80,
				"RTF document embeds an Equation Editor object (%q), the component exploited by CVE-2017-11882", cl)
		}
	}
	if len(o.native) == 0 {
		return
	}
	if strings.EqualFold(o.class, "Package") {
		if pkg, err := parsePackage(o.native); err == nil {
			a.embedPackage(pkg, "rtf object")
			return
		}
	}
	if bytes.HasPrefix(o.native, oleMagic) {
		// The caller analyses the embedded compound file; an Equation
		// Editor object inside it is cheap to spot here.
		if bytes.Contains(o.native, utf16le("Equation Native")) {
			a.add(SignalRTFEquationEditor, finding.Malware, 80,
				"RTF document embeds an Equation Editor object (stream \"Equation Native\"), the component exploited by CVE-2017-11882")
		}
	}
	a.embed(Embedded{Name: o.item, Class: shown, Data: o.native})
}
