package attach

import (
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/ward-health/ward/internal/mail/finding"
)

// The zip reader below follows PKWARE's APPNOTE.TXT (6.3.x): the end of
// central directory record (4.3.16), its Zip64 form (4.3.14-15), central
// directory headers (4.3.12), local file headers (4.3.7), the Zip64 and
// WinZip AES extra fields. It is written for hostile input: it never
// trusts a size or an offset without checking it against the data, reads
// at most a bounded number of entries, and does not need the central
// directory (a zip whose directory is missing or damaged is read from its
// local headers).

// zipEntry is one member as the central directory (or a local header)
// describes it.
type zipEntry struct {
	name      string
	flags     uint16
	method    uint16
	modTime   uint16
	crc       uint32
	csize     int64
	usize     int64
	local     int64 // offset of the local header in data
	aes       int   // WinZip AES strength (1, 2, 3), 0 when not AES
	aesVendor int   // AE-1 or AE-2
	aesMethod uint16
	hidden    bool // found by the local-header walk only
}

// zipDir is what was read of a zip's structure.
type zipDir struct {
	entries  []zipEntry
	declared int64 // entry count the end record declares
	errs     []string
	prefix   int64 // bytes before the archive proper
	local    bool  // entries come from the local-header walk only
}

const (
	sigLocal   = "PK\x03\x04"
	sigCentral = "PK\x01\x02"
	sigEnd     = "PK\x05\x06"
	sigEnd64   = "PK\x06\x06"
	sigLoc64   = "PK\x06\x07"
	sigDesc    = "PK\x07\x08"
)

// readZipDir reads at most maxEntries entries of the zip in d.
func readZipDir(d []byte, maxEntries int) zipDir {
	var zd zipDir
	end := bytes.LastIndex(d[max(0, len(d)-(65535+22)):], []byte(sigEnd))
	if end < 0 {
		zd.errs = append(zd.errs, "zip: no central directory (end record missing); members read from local headers")
		zd.entries = walkLocal(d, maxEntries, nil)
		zd.local = true
		return zd
	}
	end += max(0, len(d)-(65535+22))
	if end+22 > len(d) {
		zd.errs = append(zd.errs, "zip: truncated end record")
		zd.entries = walkLocal(d, maxEntries, nil)
		zd.local = true
		return zd
	}
	e := d[end:]
	count := int64(binary.LittleEndian.Uint16(e[10:]))
	size := int64(binary.LittleEndian.Uint32(e[12:]))
	off := int64(binary.LittleEndian.Uint32(e[16:]))
	endAt := int64(end)
	if (count == 0xFFFF || size == 0xFFFFFFFF || off == 0xFFFFFFFF) && end >= 20 && string(d[end-20:end-16]) == sigLoc64 {
		o64 := binary.LittleEndian.Uint64(d[end-12:])
		if o64 < uint64(len(d)) && int(o64)+56 <= len(d) && string(d[o64:o64+4]) == sigEnd64 {
			e64 := d[o64:]
			count = clampInt(binary.LittleEndian.Uint64(e64[32:]))
			size = clampInt(binary.LittleEndian.Uint64(e64[40:]))
			off = clampInt(binary.LittleEndian.Uint64(e64[48:]))
			endAt = int64(o64)
		}
	}
	zd.declared = count
	// Data prepended to the archive shifts every offset; the directory
	// ends where the end record starts, which tells by how much.
	if size <= endAt {
		if shift := endAt - size - off; shift > 0 && shift <= endAt {
			zd.prefix = shift
		}
	}
	start := off + zd.prefix
	if start < 0 || start+4 > int64(len(d)) || string(d[start:start+4]) != sigCentral {
		if count > 0 {
			zd.errs = append(zd.errs, "zip: central directory offset is wrong; members read from local headers")
			zd.entries = walkLocal(d, maxEntries, nil)
			zd.local = true
		}
		return zd
	}
	p := start
	for i := int64(0); i < count; i++ {
		if len(zd.entries) >= maxEntries {
			break
		}
		if p+46 > int64(len(d)) || string(d[p:p+4]) != sigCentral {
			zd.errs = append(zd.errs, fmt.Sprintf("zip: central directory ends after %d of %d entries", i, count))
			break
		}
		h := d[p:]
		nl := int64(binary.LittleEndian.Uint16(h[28:]))
		xl := int64(binary.LittleEndian.Uint16(h[30:]))
		cl := int64(binary.LittleEndian.Uint16(h[32:]))
		if p+46+nl+xl+cl > int64(len(d)) {
			zd.errs = append(zd.errs, "zip: truncated central directory entry")
			break
		}
		ent := zipEntry{
			name:    string(h[46 : 46+nl]),
			flags:   binary.LittleEndian.Uint16(h[8:]),
			method:  binary.LittleEndian.Uint16(h[10:]),
			modTime: binary.LittleEndian.Uint16(h[12:]),
			crc:     binary.LittleEndian.Uint32(h[16:]),
			csize:   int64(binary.LittleEndian.Uint32(h[20:])),
			usize:   int64(binary.LittleEndian.Uint32(h[24:])),
			local:   int64(binary.LittleEndian.Uint32(h[42:])),
		}
		readExtra(&ent, h[46+nl:46+nl+xl])
		ent.local += zd.prefix
		zd.entries = append(zd.entries, ent)
		p += 46 + nl + xl + cl
	}
	// Local headers that the directory does not name are members hidden
	// from tools that read the directory but not from those that stream.
	known := make(map[int64]int64, len(zd.entries))
	for _, e := range zd.entries {
		known[e.local] = e.csize
	}
	if left := maxEntries - len(zd.entries); left > 0 {
		for _, h := range walkLocal(d[:min(int64(len(d)), start)], left, known) {
			h.hidden = true
			zd.entries = append(zd.entries, h)
		}
	}
	return zd
}

// clampInt converts a 64-bit size from the file to int64, saturating.
func clampInt(v uint64) int64 {
	if v > 1<<62 {
		return 1 << 62
	}
	return int64(v)
}

// readExtra applies the Zip64 (0x0001) and WinZip AES (0x9901) extra
// fields to e.
func readExtra(e *zipEntry, x []byte) {
	for len(x) >= 4 {
		id := binary.LittleEndian.Uint16(x)
		n := int(binary.LittleEndian.Uint16(x[2:]))
		if 4+n > len(x) {
			return
		}
		b := x[4 : 4+n]
		switch id {
		case 0x0001:
			take := func(v *int64) {
				if *v == 0xFFFFFFFF && len(b) >= 8 {
					*v = clampInt(binary.LittleEndian.Uint64(b))
					b = b[8:]
				}
			}
			take(&e.usize)
			take(&e.csize)
			take(&e.local)
		case 0x9901:
			if len(b) >= 7 && b[2] == 'A' && b[3] == 'E' {
				e.aesVendor = int(binary.LittleEndian.Uint16(b))
				e.aes = int(b[4])
				e.aesMethod = binary.LittleEndian.Uint16(b[5:])
			}
		}
		x = x[4+n:]
	}
}

// walkLocal finds members by their local headers, from the start of d,
// skipping those whose offset is in skip. It returns at most n entries.
func walkLocal(d []byte, n int, skip map[int64]int64) []zipEntry {
	var out []zipEntry
	p := 0
	for steps := 0; len(out) < n && steps < 4*n+16; steps++ {
		i := bytes.Index(d[p:], []byte(sigLocal))
		if i < 0 {
			break
		}
		p += i
		if p+30 > len(d) {
			break
		}
		h := d[p:]
		nl := int(binary.LittleEndian.Uint16(h[26:]))
		xl := int(binary.LittleEndian.Uint16(h[28:]))
		if p+30+nl+xl > len(d) {
			break
		}
		e := zipEntry{
			name:    string(h[30 : 30+nl]),
			flags:   binary.LittleEndian.Uint16(h[6:]),
			method:  binary.LittleEndian.Uint16(h[8:]),
			modTime: binary.LittleEndian.Uint16(h[10:]),
			crc:     binary.LittleEndian.Uint32(h[14:]),
			csize:   int64(binary.LittleEndian.Uint32(h[18:])),
			usize:   int64(binary.LittleEndian.Uint32(h[22:])),
			local:   int64(p),
		}
		readExtra(&e, h[30+nl:30+nl+xl])
		data := int64(p + 30 + nl + xl)
		listed, isListed := skip[e.local]
		if isListed {
			e.csize = listed
		} else if e.flags&8 != 0 && e.csize == 0 {
			// Sizes follow the data in a descriptor: the data ends at the
			// next signature.
			next := len(d)
			for _, s := range []string{sigDesc, sigLocal, sigCentral} {
				if j := bytes.Index(d[data:], []byte(s)); j >= 0 && int(data)+j < next {
					next = int(data) + j
				}
			}
			e.csize = int64(next) - data
		}
		if !isListed {
			out = append(out, e)
		}
		adv := data + e.csize
		if e.csize < 0 || adv > int64(len(d)) || adv <= int64(p) {
			adv = int64(p) + 4
		}
		p = int(adv)
	}
	return out
}

// raw returns the stored bytes of e (still compressed, maybe encrypted).
func (e *zipEntry) raw(d []byte) ([]byte, string) {
	if e.local < 0 || e.local+30 > int64(len(d)) || string(d[e.local:e.local+4]) != sigLocal {
		return nil, "local header missing"
	}
	h := d[e.local:]
	nl := int64(binary.LittleEndian.Uint16(h[26:]))
	xl := int64(binary.LittleEndian.Uint16(h[28:]))
	start := e.local + 30 + nl + xl
	if start > int64(len(d)) {
		return nil, "local header truncated"
	}
	var problem string
	if ln := string(h[30:min(int64(len(h)), 30+nl)]); ln != e.name && !e.hidden {
		problem = fmt.Sprintf("local header names it %q", clip(ln, 100))
	}
	end := start + e.csize
	if e.csize < 0 || end > int64(len(d)) {
		end = int64(len(d))
		if problem == "" {
			problem = "data truncated"
		}
	}
	return d[start:end], problem
}

// zipSubtype tells OOXML, JAR, APK, ODF and Windows app packages from
// plain zips by the names they must contain.
func zipSubtype(entries []zipEntry, d []byte) string {
	var manifest, class, androidManifest, dex, appx bool
	for i, e := range entries {
		n := e.name
		switch {
		case n == "[Content_Types].xml":
			if hasEntry(entries, "AppxManifest.xml") || hasEntry(entries, "AppxMetadata/AppxBundleManifest.xml") {
				return "appx"
			}
			return "ooxml"
		case i == 0 && n == "mimetype":
			if raw, _ := e.raw(d); bytes.HasPrefix(raw, []byte("application/vnd.oasis.opendocument")) {
				return "odf"
			}
		case strings.EqualFold(n, "META-INF/MANIFEST.MF"):
			manifest = true
		case strings.HasSuffix(n, ".class"):
			class = true
		case n == "AndroidManifest.xml":
			androidManifest = true
		case n == "classes.dex":
			dex = true
		case n == "AppxManifest.xml":
			appx = true
		}
	}
	switch {
	case androidManifest && dex:
		return "apk"
	case appx:
		return "appx"
	case manifest || class:
		return "jar"
	}
	return "zip"
}

func hasEntry(entries []zipEntry, name string) bool {
	for _, e := range entries {
		if e.name == name {
			return true
		}
	}
	return false
}

// zip opens a zip archive: every member is decompressed (decrypted when a
// password works) within the limits and analysed in archive order.
func (z *analyzer) zip(r *Report, d []byte, zd zipDir, depth int, here string) {
	for _, e := range zd.errs {
		addError(r, e)
	}
	if zd.prefix > 0 {
		addError(r, fmt.Sprintf("zip: %d bytes of other data before the archive", zd.prefix))
	}
	switch r.Type {
	case "ooxml":
		z.office(r, d, depth, here)
		return
	case "jar", "apk", "appx", "odf":
		return
	}
	if !z.canOpen(r, depth, here) {
		return
	}
	var (
		encrypted, opened, failed int
		viaBody                   bool
		used                      string
		overlap                   = map[int64]int{}
	)
	for i := range zd.entries {
		e := &zd.entries[i]
		if z.stopped(r) {
			return
		}
		if strings.HasSuffix(e.name, "/") && e.usize == 0 {
			z.checkName(r, e.name, true)
			continue
		}
		if overlap[e.local]++; overlap[e.local] == 2 {
			z.hit(r, "archive_bomb", fmt.Sprintf("%s has members that share the same compressed data (an overlapping-file zip bomb)", here))
		}
		if e.hidden {
			add(r, "archive_hidden_member", finding.Weak, 5, fmt.Sprintf("%s holds member %q that its central directory does not list: tools that read the directory do not see it", here, clip(e.name, 100)))
		}
		raw, problem := e.raw(d)
		if problem != "" {
			addError(r, fmt.Sprintf("zip member %q: %s", clip(e.name, 100), problem))
			if strings.HasPrefix(problem, "local header names") {
				add(r, "archive_name_mismatch", finding.Weak, 4, fmt.Sprintf("%s member %q is named differently in its local header (%s): tools disagree on what it is", here, clip(e.name, 100), problem))
			}
		}
		if raw == nil {
			if !z.listed(r, e.name, e.usize, here) {
				return
			}
			continue
		}
		method := e.method
		if e.flags&1 != 0 {
			encrypted++
			plain, pw, ok := z.decrypt(e, raw)
			if !ok {
				failed++
				if !z.listed(r, e.name, e.usize, here) {
					return
				}
				continue
			}
			opened++
			if pw != "" {
				viaBody = true
				used = pw
			}
			raw = plain
			if e.aes > 0 {
				method = e.aesMethod
			}
		}
		data, err := z.inflate(r, method, raw, e.usize, here, e.name)
		if err != "" {
			addError(r, fmt.Sprintf("zip member %q: %s", clip(e.name, 100), err))
		} else if e.aes == 0 || e.aesVendor == 1 {
			if int64(len(data)) == e.usize && crc32.ChecksumIEEE(data) != e.crc {
				addError(r, fmt.Sprintf("zip member %q: CRC-32 does not match its content", clip(e.name, 100)))
			}
		}
		if data == nil && err != "" {
			if !z.listed(r, e.name, e.usize, here) {
				return
			}
			continue
		}
		if !z.member(r, e.name, "", data, depth, here) {
			return
		}
	}
	if encrypted > 0 {
		detail := fmt.Sprintf("%s has %d password-protected member(s), a wrapping used to hide malware from mail filters", here, encrypted)
		switch {
		case failed == 0:
			detail += "; all were opened"
		case opened > 0:
			detail += fmt.Sprintf("; %d could not be opened with the passwords found in the message", failed)
		case len(z.passwords) == 0:
			detail += "; no password was found in the message, so their contents were not examined"
		default:
			detail += fmt.Sprintf("; none of the %d passwords found in the message opened them, so their contents were not examined", len(z.passwords))
		}
		add(r, "archive_encrypted", finding.Weak, 5, detail)
		if viaBody {
			add(r, "archive_password_in_body", finding.Weak, 7, fmt.Sprintf("%s opens with the password %q given in the message: the sender wants it opened past the filters", here, clip(used, 64)))
		}
	}
}

// inflate decompresses one member's stored bytes within the read budget.
// It returns the data read so far and a problem, if any.
func (z *analyzer) inflate(r *Report, method uint16, raw []byte, hint int64, here, name string) ([]byte, string) {
	var rd io.Reader
	switch method {
	case 0:
		rd = bytes.NewReader(raw)
	case 8:
		fr := flate.NewReader(bytes.NewReader(raw))
		defer fr.Close()
		rd = fr
	case 12:
		rd = bzip2.NewReader(bytes.NewReader(raw))
	default:
		return nil, fmt.Sprintf("compression method %d is not supported; content not examined", method)
	}
	return z.readBounded(r, rd, int64(len(raw)), hint, here, name)
}

// readBounded reads rd within the budget for a member whose compressed size
// is compressed, recording the limit reached if the budget runs out.
func (z *analyzer) readBounded(r *Report, rd io.Reader, compressed, hint int64, here, name string) ([]byte, string) {
	budget, why := z.readBudget(compressed)
	var buf bytes.Buffer
	if hint > 0 {
		buf.Grow(int(min(hint, budget, 64<<20)))
	}
	n, err := io.Copy(&buf, &ctxReader{ctx: z.ctx, r: io.LimitReader(rd, budget+1)})
	data := buf.Bytes()
	if n > budget {
		data = data[:budget]
		z.overBudget(r, why, here, name, budget)
	}
	z.total += int64(len(data))
	if err != nil {
		if errors.Is(err, z.ctx.Err()) && z.ctx.Err() != nil {
			z.stopped(r)
		}
		return data, fmt.Sprintf("decompression failed after %d bytes: %v", len(data), err)
	}
	return data, ""
}
