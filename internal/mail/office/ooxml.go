package office

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode"

	"github.com/ward-health/ward/internal/mail/finding"
)

// isOOXML reports whether data is a zip package with a
// [Content_Types].xml part, as every OOXML document has.
func isOOXML(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return false
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		if f.Name == "[Content_Types].xml" {
			return true
		}
	}
	return false
}

// readPart reads one package part within MaxStream and MaxTotal.
func (a *analyzer) readPart(f *zip.File) ([]byte, bool) {
	if a.total >= a.lim.MaxTotal {
		a.limit("ooxml parts not read: limit %d decompressed bytes per file", a.lim.MaxTotal)
		return nil, false
	}
	rc, err := f.Open()
	if err != nil {
		a.errorf("ooxml part %q: %v", f.Name, err)
		return nil, false
	}
	defer rc.Close()
	budget := min(a.lim.MaxStream, a.lim.MaxTotal-a.total)
	if budget <= 0 {
		a.limit("ooxml parts not read: limit %d decompressed bytes per file", a.lim.MaxTotal)
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(rc, budget+1))
	if err != nil && !errors.Is(err, zip.ErrChecksum) {
		a.errorf("ooxml part %q: %v", f.Name, err)
	}
	if int64(len(b)) > budget {
		b = b[:budget]
		if budget == a.lim.MaxStream {
			a.limit("ooxml part %q read in part: limit %d bytes per part", f.Name, a.lim.MaxStream)
		} else {
			a.limit("ooxml part %q read in part: limit %d decompressed bytes per file", f.Name, a.lim.MaxTotal)
		}
	}
	a.total += int64(len(b))
	return b, true
}

// ooxml analyses a zip package.
func (a *analyzer) ooxml(data []byte, depth int) {
	if depth > maxNesting {
		a.limit("ooxml package nested %d deep not analysed: limit %d levels", depth, maxNesting)
		return
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		a.errorf("ooxml: %v", err)
		return
	}
	files := zr.File
	if len(files) > maxZipParts {
		a.limit("ooxml parts after %d not examined: limit %d parts", maxZipParts, maxZipParts)
		files = files[:maxZipParts]
	}
	var workbook []byte
	var workbookRels []byte
	var macroParts []string
	// The main text of a Word document and the hyperlinks of the
	// package, for the link lure (a document that is little more than a
	// link).
	var docText []byte
	hyperlinks := 0
	for _, f := range files {
		if a.done() {
			return
		}
		name := f.Name
		lower := strings.ToLower(name)
		base := path.Base(lower)
		switch {
		case strings.HasSuffix(lower, ".rels"):
			if b, ok := a.readPart(f); ok {
				hyperlinks += a.relationships(name, b)
				if lower == "xl/_rels/workbook.xml.rels" {
					workbookRels = b
				}
			}
		case strings.Contains(lower, "macrosheets/"):
			macroParts = append(macroParts, name)
			if strings.HasSuffix(lower, ".xml") {
				if b, ok := a.readPart(f); ok {
					a.spreadsheetMLFormulas(formulaText(b))
				}
			}
		case lower == "xl/workbook.xml":
			if b, ok := a.readPart(f); ok {
				workbook = b
			}
		case lower == "xl/workbook.bin":
			// BIFF12: names are UTF-16 strings; look for Auto_Open.
			if b, ok := a.readPart(f); ok {
				if bytes.Contains(bytes.ToLower(b), utf16le("auto_open")) {
					a.xlm.autoOpen = appendOnce(a.xlm.autoOpen, "Auto_Open")
				}
			}
		case strings.HasPrefix(lower, "word/") && strings.HasSuffix(lower, ".xml"):
			b, ok := a.readPart(f)
			if ok && lower == "word/document.xml" {
				docText = b
			}
			// Most parts (styles, fonts, themes) hold no field: skip
			// the XML walk for them.
			if ok && (bytes.Contains(b, []byte("instrText")) || bytes.Contains(b, []byte("fldSimple"))) {
				for _, instr := range wordMLFields(b) {
					a.ddeField(instr, "Word field")
				}
			}
		case strings.HasPrefix(lower, "xl/externallinks/") && strings.HasSuffix(lower, ".xml"):
			if b, ok := a.readPart(f); ok {
				a.ddeLinks(b)
			}
		case strings.Contains(lower, "/embeddings/"):
			if b, ok := a.readPart(f); ok {
				a.ooxmlEmbedding(name, b, depth)
			}
		case strings.HasSuffix(base, ".bin"):
			// vbaProject.bin, activeX*.bin and other binary parts
			// stored as compound files.
			if b, ok := a.readPart(f); ok && bytes.HasPrefix(b, oleMagic) {
				a.ole(b, depth+1)
			}
		}
	}
	if workbook != nil {
		a.workbookXML(workbook, workbookRels)
	}
	if docText != nil && hyperlinks > 0 {
		if n := letters(markupText(docText, maxLureDocText)); n < linkLureLetters {
			a.add(SignalLinkLure, finding.Weak, 15,
				"the document is little more than a web link (%d letters of text besides %d link(s)): the shape of a lure that sends the reader to a site", n, hyperlinks)
		}
	}
	if len(a.xlm.sheets) == 0 && len(macroParts) > 0 {
		// Binary workbooks (.xlsb) or a workbook.xml that does not
		// list the sheet: name the parts.
		a.xlm.sheets = append(a.xlm.sheets, macroParts[:min(len(macroParts), maxKeywordHits)]...)
	}
}

// utf16le encodes ASCII s as UTF-16LE bytes.
func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// ooxmlEmbedding handles a part under embeddings/: compound files are
// opened for their Package payload (returned instead of the wrapper)
// and Equation Editor objects; anything else is returned as it is.
func (a *analyzer) ooxmlEmbedding(name string, b []byte, depth int) {
	if bytes.HasPrefix(b, oleMagic) {
		before := len(a.rep.Embedded)
		a.ole(b, depth+1)
		if len(a.rep.Embedded) > before {
			return
		}
	}
	a.embed(Embedded{Name: path.Base(name), Class: "ooxml embedding", Data: b})
	if ext := dangerousExt(name); ext != "" {
		a.add(SignalEmbeddedExecutable, finding.Malware, 70, "document carries the file %q (%s)", path.Base(name), ext)
	} else {
		a.add(SignalEmbeddedObject, finding.Weak, 10, "document carries the embedded object %q", name)
	}
}

// walkXML calls fn for each token of an XML part until fn returns false,
// the part ends or it is malformed. Non-strict decoding tolerates the
// sloppy XML that Office accepts; because a non-strict decoder can return
// tokens without consuming input on some malformed data, the walk also
// stops when the tokens outnumber the bytes.
func walkXML(b []byte, fn func(xml.Token) bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	maxTokens := 2*len(b) + 64
	for n := 0; n < maxTokens; n++ {
		tok, err := d.RawToken()
		if err != nil || !fn(tok) {
			return
		}
	}
}

// relationship is one <Relationship> of a .rels part.
type relationship struct {
	ID         string `xml:"Id,attr"`
	Type       string `xml:"Type,attr"`
	Target     string `xml:"Target,attr"`
	TargetMode string `xml:"TargetMode,attr"`
}

// parseRels returns the relationships of a .rels part.
func parseRels(b []byte) []relationship {
	var rels []relationship
	walkXML(b, func(tok xml.Token) bool {
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" {
			return true
		}
		var r relationship
		for _, at := range se.Attr {
			switch at.Name.Local {
			case "Id":
				r.ID = at.Value
			case "Type":
				r.Type = at.Value
			case "Target":
				r.Target = at.Value
			case "TargetMode":
				r.TargetMode = at.Value
			}
		}
		rels = append(rels, r)
		return len(rels) < maxZipParts
	})
	return rels
}

// relationships reports the external targets of a .rels part. Remote
// templates and linked OLE objects are fetched by Office when the
// document opens (CVE-2017-0199 and template injection); hyperlinks are
// only collected as URLs, and counted: the count is returned.
func (a *analyzer) relationships(part string, b []byte) (hyperlinks int) {
	for _, r := range parseRels(b) {
		if !strings.EqualFold(r.TargetMode, "External") {
			continue
		}
		kind := r.Type[strings.LastIndexByte(r.Type, '/')+1:]
		target := strings.TrimSpace(r.Target)
		lt := strings.ToLower(target)
		remote := strings.HasPrefix(lt, "http://") || strings.HasPrefix(lt, "https://") ||
			strings.HasPrefix(target, `\\`) || strings.HasPrefix(lt, "file://")
		web := strings.HasPrefix(lt, "http://") || strings.HasPrefix(lt, "https://") ||
			strings.HasPrefix(target, `\\`) || strings.HasPrefix(lt, "file:////")
		switch kind {
		case "hyperlink":
			a.addURL(target)
			if web {
				hyperlinks++
			}
		case "attachedTemplate", "oleObject":
			a.addURL(target)
			what := "remote template"
			if kind == "oleObject" {
				what = "linked OLE object"
			}
			switch {
			case web:
				a.add(SignalRemoteTemplate, finding.Malware, 80,
					"document loads a %s from %q when it opens (%s)", what, target, part)
			case remote:
				a.add(SignalRemoteTemplate, finding.Weak, 30,
					"document loads a %s from %q when it opens (%s)", what, target, part)
			default:
				a.add(SignalExternalLink, finding.Weak, 15, "document links a %s at %q (%s)", what, target, part)
			}
		case "frame", "subDocument":
			a.addURL(target)
			if remote {
				a.add(SignalRemoteTemplate, finding.Weak, 40,
					"document loads a %s from %q when it opens (%s)", kind, target, part)
			} else {
				a.add(SignalExternalLink, finding.Weak, 15, "document links a %s at %q (%s)", kind, target, part)
			}
		case "externalLink", "externalLinkPath":
			a.addURL(target)
			a.add(SignalExternalLink, finding.Weak, 15, "workbook links external data at %q (%s)", target, part)
		default:
			if remote {
				a.addURL(target)
			}
		}
	}
	return hyperlinks
}

// Bounds of the link-lure test.
const (
	// maxLureDocText is the most text kept from word/document.xml.
	maxLureDocText = 64 << 10
	// linkLureLetters: a document with fewer letters than this, besides
	// its links, is "little more than a link".
	linkLureLetters = 80
)

// markupText returns the character data of XML markup b (everything
// outside <...>), at most max bytes, with the web addresses in it
// removed. It does not decode entities: only letters are counted.
func markupText(b []byte, max int) string {
	var out []byte
	in := false
	for _, c := range b {
		switch {
		case c == '<':
			in = true
			out = append(out, ' ')
		case c == '>':
			in = false
		case !in:
			out = append(out, c)
		}
		if len(out) >= max {
			break
		}
	}
	return urlPattern.ReplaceAllString(string(out), " ")
}

// letters counts the letters in s.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// wordMLFields returns the field instructions of a WordprocessingML part:
// the text of the w:instrText runs between each field's begin and
// separate (or end) marks, joined, and each w:fldSimple's w:instr.
func wordMLFields(b []byte) []string {
	var out []string
	var cur strings.Builder
	inInstr := false
	flush := func() {
		if cur.Len() > 0 && len(out) < maxFields {
			out = append(out, cur.String())
		}
		cur.Reset()
	}
	walkXML(b, func(tok xml.Token) bool {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "instrText":
				inInstr = true
			case "fldChar":
				for _, at := range t.Attr {
					if at.Name.Local == "fldCharType" {
						// begin, separate and end all close the
						// instruction being collected.
						flush()
					}
				}
			case "fldSimple":
				for _, at := range t.Attr {
					if at.Name.Local == "instr" && len(out) < maxFields {
						out = append(out, at.Value)
					}
				}
			}
		case xml.EndElement:
			if t.Name.Local == "instrText" {
				inInstr = false
			}
		case xml.CharData:
			if inInstr && cur.Len() < 4096 {
				cur.Write(t)
			}
		}
		return len(out) < maxFields
	})
	flush()
	return out
}

// ddeLinks reports the DDE links of an Excel external link part
// (<ddeLink ddeService="cmd" ddeTopic="/c calc">).
func (a *analyzer) ddeLinks(b []byte) {
	walkXML(b, func(tok xml.Token) bool {
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "ddeLink" {
			return true
		}
		var service, topic string
		for _, at := range se.Attr {
			switch at.Name.Local {
			case "ddeService":
				service = at.Value
			case "ddeTopic":
				topic = at.Value
			}
		}
		a.add(SignalDDE, finding.Malware, 80, "Excel DDE link starts %q with %q", service, topic)
		return true
	})
}

// formulaText returns the formulas (<f> elements) of a SpreadsheetML
// part, one per line.
func formulaText(b []byte) string {
	var sb strings.Builder
	in := false
	walkXML(b, func(tok xml.Token) bool {
		switch t := tok.(type) {
		case xml.StartElement:
			in = t.Name.Local == "f"
		case xml.EndElement:
			if in {
				sb.WriteByte('\n')
			}
			in = false
		case xml.CharData:
			if in {
				sb.Write(t)
			}
		}
		return sb.Len() < maxBytesScannedForURLText
	})
	return sb.String()
}

// workbookXML reads sheet visibility and defined names from
// xl/workbook.xml; rels maps sheets to their parts, so that a hidden
// sheet can be recognised as a macro sheet.
func (a *analyzer) workbookXML(b, rels []byte) {
	targets := map[string]string{}
	for _, r := range parseRels(rels) {
		targets[r.ID] = r.Target
	}
	inName := ""
	walkXML(b, func(tok xml.Token) bool {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "sheet":
				var name, state, rid string
				for _, at := range t.Attr {
					switch at.Name.Local {
					case "name":
						name = at.Value
					case "state":
						state = at.Value
					case "id":
						rid = at.Value
					}
				}
				target := strings.ToLower(targets[rid])
				if strings.Contains(target, "macrosheets/") {
					desc := fmt.Sprintf("%s (%s)", name, cmp(state, "visible"))
					a.xlm.sheets = appendOnce(a.xlm.sheets, desc)
					if state == "hidden" || state == "veryHidden" {
						a.xlm.hidden = appendOnce(a.xlm.hidden, desc)
					}
				}
			case "definedName":
				for _, at := range t.Attr {
					if at.Name.Local == "name" && isAutoOpenName(at.Value) {
						inName = at.Value
					}
				}
			}
		case xml.EndElement:
			if t.Name.Local == "definedName" && inName != "" {
				a.xlm.autoOpen = appendOnce(a.xlm.autoOpen, strings.TrimPrefix(inName, "_xlnm."))
				inName = ""
			}
		}
		return len(a.xlm.sheets) < maxKeywordHits && len(a.xlm.autoOpen) < maxKeywordHits
	})
}

// cmp returns s, or def when s is empty.
func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
