package attach

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/ward-health/ward/internal/mail/finding"
	"github.com/ward-health/ward/internal/mail/office"
)

// ctxReader stops reading when the context is done, so that a slow
// decompression of hostile data ends with the analysis deadline.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// compressed opens a gzip or bzip2 stream: one member, named after the
// stream's header or the attachment without its compression extension.
func (z *analyzer) compressed(r *Report, name, typ string, d []byte, depth int, here string) {
	if !z.canOpen(r, depth, here) {
		return
	}
	inner := strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".bz2")
	if strings.HasSuffix(lower(name), ".tgz") {
		inner = name[:len(name)-4] + ".tar"
	}
	var rd io.Reader
	switch typ {
	case "gzip":
		gr, err := gzip.NewReader(bytes.NewReader(d))
		if err != nil {
			addError(r, "gzip: "+err.Error())
			return
		}
		if gr.Name != "" {
			inner = gr.Name
		}
		rd = gr
	default:
		rd = bzip2.NewReader(bytes.NewReader(d))
	}
	if inner == name || inner == "" {
		inner = name + ".out"
	}
	if z.files >= z.lim.MaxFiles {
		z.hit(r, "limit_files", fmt.Sprintf("file count limit %d reached in %s; later members were not examined", z.lim.MaxFiles, here))
		return
	}
	data, problem := z.readBounded(r, rd, int64(len(d)), 0, here, inner)
	if problem != "" {
		addError(r, typ+": "+problem)
	}
	if len(data) > 0 {
		z.member(r, inner, "", data, depth, here)
	}
}

// tar opens a tar archive: regular files are analysed, other entries have
// their names checked.
func (z *analyzer) tar(r *Report, d []byte, depth int, here string) {
	if !z.canOpen(r, depth, here) {
		return
	}
	tr := tar.NewReader(bytes.NewReader(d))
	for {
		if z.stopped(r) {
			return
		}
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			addError(r, "tar: "+err.Error())
			return
		}
		if h.Typeflag != tar.TypeReg {
			z.checkName(r, h.Name, true)
			continue
		}
		data, problem := z.readBounded(r, tr, h.Size, h.Size, here, h.Name)
		if problem != "" {
			addError(r, fmt.Sprintf("tar member %q: %s", clip(h.Name, 100), problem))
		}
		if !z.member(r, h.Name, "", data, depth, here) {
			return
		}
	}
}

// ISO 9660 (ECMA-119) reading: the volume descriptors from sector 16, the
// directory hierarchy from the root record, and file extents, which are
// stored uncompressed and so are analysed in place. Joliet names (UCS-2 in
// a supplementary descriptor) are preferred to the short primary names.
const (
	isoMaxDirs  = 1000    // directories read
	isoMaxDepth = 16      // directory nesting followed
	isoMaxRecs  = 1 << 17 // directory records read
)

func (z *analyzer) iso(r *Report, d []byte, depth int, here string) {
	if !z.canOpen(r, depth, here) {
		return
	}
	var root []byte
	joliet := false
	bs := int64(2048)
	for i := int64(0); i < 32; i++ {
		off := 0x8000 + i*2048
		if off+2048 > int64(len(d)) || string(d[off+1:off+6]) != "CD001" {
			break
		}
		vd := d[off : off+2048]
		switch vd[0] {
		case 1:
			if root == nil {
				root = vd[156 : 156+34]
				if b := int64(binary.LittleEndian.Uint16(vd[128:])); b == 512 || b == 1024 || b == 2048 {
					bs = b
				}
			}
		case 2:
			if esc := string(vd[88:91]); esc == "%/@" || esc == "%/C" || esc == "%/E" {
				root = vd[156 : 156+34]
				joliet = true
			}
		}
		if vd[0] == 255 {
			break
		}
	}
	if root == nil {
		addError(r, "iso: no primary volume descriptor")
		return
	}
	type dir struct {
		lba, size int64
		path      string
		depth     int
	}
	stack := []dir{{int64(binary.LittleEndian.Uint32(root[2:])), int64(binary.LittleEndian.Uint32(root[10:])), "", 0}}
	seen := map[int64]bool{}
	dirs, recs := 0, 0
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[cur.lba] || cur.depth > isoMaxDepth {
			continue
		}
		seen[cur.lba] = true
		if dirs++; dirs > isoMaxDirs {
			addError(r, fmt.Sprintf("iso: more than %d directories; the rest were not read", isoMaxDirs))
			return
		}
		start := cur.lba * bs
		if cur.lba < 0 || start >= int64(len(d)) || cur.size < 0 {
			addError(r, "iso: directory outside the image")
			continue
		}
		ext := d[start:min(int64(len(d)), start+cur.size)]
		var sub []dir
		for p := int64(0); p < int64(len(ext)); {
			n := int64(ext[p])
			if n == 0 {
				p = (p/bs + 1) * bs // records do not cross sectors
				continue
			}
			if n < 34 || p+n > int64(len(ext)) {
				break
			}
			if recs++; recs > isoMaxRecs {
				addError(r, fmt.Sprintf("iso: more than %d directory records; the rest were not read", isoMaxRecs))
				return
			}
			rec := ext[p : p+n]
			p += n
			nl := int64(rec[32])
			if 33+nl > n {
				continue
			}
			raw := rec[33 : 33+nl]
			if nl == 1 && (raw[0] == 0 || raw[0] == 1) {
				continue
			}
			name := isoName(raw, joliet)
			path := name
			if cur.path != "" {
				path = cur.path + "/" + name
			}
			lba := int64(binary.LittleEndian.Uint32(rec[2:]))
			size := int64(binary.LittleEndian.Uint32(rec[10:]))
			if rec[25]&2 != 0 {
				sub = append(sub, dir{lba, size, path, cur.depth + 1})
				continue
			}
			if z.stopped(r) {
				return
			}
			fstart := lba * bs
			var data []byte
			if fstart >= 0 && fstart < int64(len(d)) {
				data = d[fstart:min(int64(len(d)), fstart+size)]
			}
			if int64(len(data)) < size {
				addError(r, fmt.Sprintf("iso file %q: extent outside the image", clip(path, 100)))
			}
			budget, why := z.readBudget(0)
			if int64(len(data)) > budget {
				data = data[:budget]
				z.overBudget(r, why, here, path, budget)
			}
			z.total += int64(len(data))
			if !z.member(r, path, "", data, depth, here) {
				return
			}
		}
		// Push in reverse so that directories are read in image order.
		for i := len(sub) - 1; i >= 0; i-- {
			stack = append(stack, sub[i])
		}
	}
}

// isoName decodes a directory record name: UCS-2 big-endian for Joliet,
// without the ";1" version suffix.
func isoName(raw []byte, joliet bool) string {
	var s string
	if joliet {
		u := make([]uint16, len(raw)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(raw[2*i:])
		}
		s = string(utf16.Decode(u))
	} else {
		s = string(raw)
	}
	if i := strings.LastIndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

// rar lists the member names of a RAR 4 or RAR 5 archive from its block
// headers (the content is not decompressed), unless the archive encrypts
// its headers.
func (z *analyzer) rar(r *Report, d []byte, depth int, here string) {
	names, encrypted, err := rarNames(d, z.lim.MaxFiles)
	detail := "rar archive not opened: member contents were not examined"
	switch {
	case encrypted:
		detail += "; its member names are encrypted too"
		add(r, "archive_encrypted", finding.Weak, 5, fmt.Sprintf("%s is a password-protected RAR archive whose names are hidden, a wrapping used to hide malware from mail filters", here))
	case len(names) > 0:
		detail += fmt.Sprintf("; %d member names checked", len(names))
		for _, n := range names {
			if n.encrypted {
				add(r, "archive_encrypted", finding.Weak, 5, fmt.Sprintf("%s is a password-protected RAR archive, a wrapping used to hide malware from mail filters", here))
				break
			}
		}
	}
	add(r, "archive_not_opened", finding.Weak, 1, detail)
	if err != "" {
		addError(r, "rar: "+err)
	}
	if !z.canOpen(r, depth, here) {
		return
	}
	for _, n := range names {
		if !z.listed(r, n.name, n.size, here) {
			return
		}
	}
}

// rarName is a member name and size from a RAR header.
type rarName struct {
	name      string
	size      int64
	encrypted bool // the member's data is password-protected
}

// rarNames walks RAR block headers. RAR 4: 7-byte base headers with
// HEAD_TYPE 0x74 for files and ADD_SIZE data after the header. RAR 5:
// variable-length integers, header type 2 for files, 4 for archive
// encryption.
func rarNames(d []byte, limit int) (names []rarName, encrypted bool, problem string) {
	if bytes.HasPrefix(d, rar5Magic) {
		return rar5Names(d[len(rar5Magic):], limit)
	}
	p := int64(len(rar4Magic))
	for steps := 0; steps < 4*limit+16 && len(names) < limit; steps++ {
		if p+7 > int64(len(d)) {
			return names, false, ""
		}
		h := d[p:]
		typ := h[2]
		flags := binary.LittleEndian.Uint16(h[3:])
		size := int64(binary.LittleEndian.Uint16(h[5:]))
		if size < 7 || p+size > int64(len(d)) {
			return names, false, "truncated block header"
		}
		add := int64(0)
		if flags&0x8000 != 0 && size >= 11 {
			add = int64(binary.LittleEndian.Uint32(h[7:]))
		}
		switch typ {
		case 0x73: // main archive header
			if flags&0x80 != 0 {
				return names, true, ""
			}
		case 0x74: // file header
			if size >= 32 {
				nl := int64(binary.LittleEndian.Uint16(h[26:]))
				nameAt := int64(32)
				if flags&0x100 != 0 {
					nameAt += 8
				}
				if nameAt+nl <= size {
					n := h[nameAt : nameAt+nl]
					if i := bytes.IndexByte(n, 0); i >= 0 {
						n = n[:i] // Unicode name follows; the ASCII one is enough
					}
					names = append(names, rarName{string(n), int64(binary.LittleEndian.Uint32(h[11:])), flags&0x04 != 0})
				}
			}
		}
		p += size + add
	}
	return names, false, ""
}

// rarVint reads a RAR 5 variable-length integer.
func rarVint(b []byte, p *int) (uint64, bool) {
	var v uint64
	for i := 0; i < 10; i++ {
		if *p >= len(b) {
			return 0, false
		}
		c := b[*p]
		*p++
		v |= uint64(c&0x7F) << (7 * i)
		if c&0x80 == 0 {
			return v, true
		}
	}
	return 0, false
}

func rar5Names(d []byte, limit int) (names []rarName, encrypted bool, problem string) {
	p := 0
	for steps := 0; steps < 4*limit+16 && len(names) < limit; steps++ {
		if p+4 >= len(d) {
			return names, false, ""
		}
		q := p + 4 // after CRC32
		hsize, ok := rarVint(d, &q)
		if !ok || hsize == 0 || hsize > 2<<20 || q+int(hsize) > len(d) {
			return names, false, "truncated block header"
		}
		hend := q + int(hsize)
		h := d[:hend]
		typ, _ := rarVint(h, &q)
		hflags, _ := rarVint(h, &q)
		if hflags&1 != 0 {
			rarVint(h, &q) // extra area size
		}
		var dataSize uint64
		if hflags&2 != 0 {
			dataSize, _ = rarVint(h, &q)
		}
		switch typ {
		case 4:
			return names, true, ""
		case 2:
			fflags, _ := rarVint(h, &q)
			usize, _ := rarVint(h, &q)
			rarVint(h, &q) // attributes
			if fflags&2 != 0 {
				q += 4
			}
			if fflags&4 != 0 {
				q += 4
			}
			rarVint(h, &q) // compression
			rarVint(h, &q) // host OS
			nl, ok := rarVint(h, &q)
			if ok && q+int(nl) <= hend && nl < 1<<16 {
				names = append(names, rarName{name: string(h[q : q+int(nl)]), size: clampInt(usize)})
			}
		}
		if dataSize > uint64(len(d)) {
			return names, false, ""
		}
		p = hend + int(dataSize)
	}
	return names, false, ""
}

// cab lists the file names of a Microsoft cabinet from its CFFILE entries.
func (z *analyzer) cab(r *Report, d []byte, depth int, here string) {
	add(r, "archive_not_opened", finding.Weak, 1, "cab archive not opened: member contents were not examined; member names checked")
	if len(d) < 36 || !z.canOpen(r, depth, here) {
		return
	}
	off := int64(binary.LittleEndian.Uint32(d[16:]))
	count := int(binary.LittleEndian.Uint16(d[28:]))
	for i := 0; i < count; i++ {
		if off+16 > int64(len(d)) {
			addError(r, "cab: file list truncated")
			return
		}
		size := int64(binary.LittleEndian.Uint32(d[off:]))
		end := bytes.IndexByte(d[off+16:min(int64(len(d)), off+16+256)], 0)
		if end < 0 {
			addError(r, "cab: file name unterminated")
			return
		}
		name := string(d[off+16 : off+16+int64(end)])
		if !z.listed(r, strings.ReplaceAll(name, `\`, "/"), size, here) {
			return
		}
		off += 16 + int64(end) + 1
	}
}

// oneFileData is the GUID of a OneNote FileDataStoreObject, which carries
// an embedded file ([MS-ONESTORE] 2.6.13), as stored on disk.
var oneFileData = []byte{0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26, 0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E, 0xAC}

// onenote extracts the files embedded in a OneNote section and analyses
// them (OneNote names them elsewhere, so they are numbered).
func (z *analyzer) onenote(r *Report, d []byte, depth int, here string) {
	if !z.canOpen(r, depth, here) {
		return
	}
	p, n := 0, 0
	for n < 64 {
		i := bytes.Index(d[p:], oneFileData)
		if i < 0 {
			return
		}
		p += i + len(oneFileData)
		if p+20 > len(d) {
			return
		}
		size := binary.LittleEndian.Uint64(d[p:])
		start := p + 20
		if size > uint64(len(d)-start) {
			addError(r, "onenote: embedded file truncated")
			size = uint64(len(d) - start)
		}
		n++
		data := d[start : start+int(size)]
		budget, why := z.readBudget(0)
		if int64(len(data)) > budget {
			data = data[:budget]
			z.overBudget(r, why, here, fmt.Sprintf("embedded-%d", n), budget)
		}
		z.total += int64(len(data))
		if !z.member(r, fmt.Sprintf("embedded-%d", n), "", data, depth, here) {
			return
		}
		p = start + int(size)
	}
}

// office hands OLE, OOXML and RTF files to the office analyser and
// analyses the files it finds embedded as members.
func (z *analyzer) office(r *Report, d []byte, depth int, here string) {
	left := max(z.lim.MaxTotal-z.total, 0)
	ol := office.DefaultLimits()
	ol.MaxStream = min(ol.MaxStream, z.lim.MaxFileSize)
	ol.MaxTotal = max(min(ol.MaxTotal, left), 1)
	ol.MaxEmbedded = max(min(ol.MaxEmbedded, z.lim.MaxFiles-z.files), 1)
	fn := z.officeFn
	if fn == nil {
		fn = office.Analyze
	}
	or := fn(z.ctx, d, ol)
	r.Findings = append(r.Findings, or.Findings...)
	for _, u := range or.URLs {
		addURL(r, u)
	}
	for _, e := range or.Errors {
		addError(r, "office: "+e)
	}
	if or.Limit != "" {
		if r.Limit == "" {
			r.Limit = or.Limit
		}
		if z.limit == "" {
			z.limit = or.Limit
		}
	}
	if len(or.Embedded) == 0 || !z.canOpen(r, depth, here) {
		return
	}
	for i, e := range or.Embedded {
		name := e.Name
		if name == "" {
			name = fmt.Sprintf("embedded-%d", i+1)
		}
		if !z.member(r, name, "", e.Data, depth, here) {
			return
		}
	}
}
