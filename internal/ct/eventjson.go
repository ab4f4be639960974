package ct

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends ev as one JSON object, byte for byte what
// encoding/json makes of it, without reflection: the single writer of a
// tailer formats every certificate, so this is on the hot path.
func (ev *Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"log":`...)
	b = appendJSONString(b, ev.Log)
	b = append(b, `,"index":`...)
	b = strconv.AppendUint(b, ev.Index, 10)
	b = append(b, `,"timestamp":`...)
	b = appendJSONTime(b, ev.Timestamp)
	b = append(b, `,"precert":`...)
	b = strconv.AppendBool(b, ev.Precert)
	b = append(b, `,"names":`...)
	if ev.Names == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, n := range ev.Names {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, n)
		}
		b = append(b, ']')
	}
	b = append(b, `,"issuer":`...)
	b = appendJSONString(b, ev.Issuer)
	b = append(b, `,"not_before":`...)
	b = appendJSONTime(b, ev.NotBefore)
	b = append(b, `,"not_after":`...)
	b = appendJSONTime(b, ev.NotAfter)
	b = append(b, `,"sha256":`...)
	b = appendJSONString(b, ev.SHA256)
	return append(b, '}')
}

// appendJSONTime appends t as time.Time's MarshalJSON does for the years a
// certificate can carry (0 to 9999).
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString appends s quoted as encoding/json quotes it: HTML
// characters, control characters, U+2028 and U+2029 escaped, and invalid
// UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
