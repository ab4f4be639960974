package mail

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// TNEF (winmail.dat) is the container Outlook uses to carry attachments
// and rich text; written from [MS-OXTNEF]. A TNEF stream is a signature,
// a key, then attributes: level (1 byte), ID (4), length (4), data, and a
// 2-byte checksum. Each attachment starts with attAttachRendData and
// carries its name in attAttachTitle and its bytes in attAttachData.

const (
	tnefSignature       = 0x223E9F78
	tnefLevelAttachment = 0x02
	attAttachRendData   = 0x00069002
	attAttachTitle      = 0x00018010
	attAttachData       = 0x0006800F
)

// isTNEF reports whether data starts with the TNEF signature.
func isTNEF(data []byte) bool {
	return len(data) >= 6 && binary.LittleEndian.Uint32(data) == tnefSignature
}

// tnefFiles returns the attachments inside a TNEF stream, at most max.
// A truncated or malformed stream gives what was read before the damage,
// and ok false.
func tnefFiles(data []byte, max int) (files []uufile, ok bool) {
	if !isTNEF(data) {
		return nil, false
	}
	p := data[6:]
	var cur *uufile
	flush := func() {
		if cur != nil && (cur.name != "" || len(cur.data) > 0) && len(files) < max {
			files = append(files, *cur)
		}
		cur = nil
	}
	for len(p) > 0 {
		if len(p) < 9 {
			flush()
			return files, false
		}
		level := p[0]
		id := binary.LittleEndian.Uint32(p[1:5])
		n := binary.LittleEndian.Uint32(p[5:9])
		if uint64(n)+11 > uint64(len(p)) {
			flush()
			return files, false
		}
		val := p[9 : 9+n]
		p = p[9+n+2:]
		if level != tnefLevelAttachment {
			continue
		}
		switch id {
		case attAttachRendData:
			flush()
			if len(files) >= max {
				return files, true
			}
			cur = &uufile{}
		case attAttachTitle:
			if cur == nil {
				cur = &uufile{}
			}
			cur.name = strings.TrimSpace(string(bytes.TrimRight(val, "\x00")))
		case attAttachData:
			if cur == nil {
				cur = &uufile{}
			}
			cur.data = val
		}
	}
	flush()
	return files, true
}
