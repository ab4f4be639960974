package office

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrOutputLimit is returned by decompress when the output would exceed
// the limit it was given; the output up to the limit is returned with it.
var ErrOutputLimit = errors.New("decompressed output exceeds the limit")

// chunkMax is the decompressed size of a full chunk ([MS-OVBA] 2.4.1.1.4).
const chunkMax = 4096

// decompress decodes an [MS-OVBA] 2.4.1 CompressedContainer: a signature
// byte 0x01 followed by chunks. Each chunk starts with a 16-bit
// little-endian header: bits 0-11 are the chunk size minus 3, bits 12-14
// the signature 0b011, bit 15 set when the chunk is compressed. A raw chunk
// carries 4096 literal bytes. A compressed chunk is a series of token
// sequences: one flag byte, then up to eight tokens, bit i of the flag
// saying whether token i is a literal byte (0) or a two-byte copy token
// (1). A copy token's split between offset and length bits depends on how
// far into the decompressed chunk it appears.
//
// Real files deviate: chunks whose declared size runs past the end of the
// data, trailing garbage, bad chunk signatures. decompress keeps what it
// decoded before an error and returns it with the error, so that a caller
// can still scan a damaged module. Output is capped at max bytes.
func decompress(in []byte, max int) ([]byte, error) {
	if len(in) == 0 {
		return nil, errors.New("compressed container is empty")
	}
	if in[0] != 0x01 {
		return nil, fmt.Errorf("compressed container starts with 0x%02x, want signature 0x01", in[0])
	}
	// VBA source compresses well; guess the output size but never trust
	// the input enough to allocate more than max.
	guess := min(len(in)*3, max)
	out := make([]byte, 0, guess)
	pos := 1
	for pos < len(in) {
		if pos+2 > len(in) {
			return out, fmt.Errorf("chunk header at byte %d is cut off", pos)
		}
		hdr := binary.LittleEndian.Uint16(in[pos:])
		size := int(hdr&0x0FFF) + 3
		if sig := (hdr >> 12) & 0x7; sig != 0x3 {
			return out, fmt.Errorf("chunk at byte %d has signature %d, want 3", pos, sig)
		}
		end := min(pos+size, len(in))
		body := in[pos+2 : end]
		var err error
		if hdr&0x8000 == 0 {
			// Raw chunk: 4096 bytes copied as they are (fewer when the
			// data ends early).
			n := min(len(body), chunkMax)
			if len(out)+n > max {
				return append(out, body[:max-len(out)]...), ErrOutputLimit
			}
			out = append(out, body[:n]...)
			end = min(pos+2+chunkMax, len(in))
		} else {
			out, err = decompressChunk(out, body, max)
			if err != nil {
				return out, fmt.Errorf("chunk at byte %d: %w", pos, err)
			}
		}
		pos = end
	}
	return out, nil
}

// decompressChunk appends the decoding of one compressed chunk body to out.
func decompressChunk(out, body []byte, max int) ([]byte, error) {
	start := len(out) // decompressed position of the chunk start
	i := 0
	for i < len(body) {
		flags := body[i]
		i++
		for bit := 0; bit < 8 && i < len(body); bit++ {
			if len(out)-start >= chunkMax {
				// A full chunk; what follows is padding some writers
				// leave. Office ignores it, and so do we.
				return out, nil
			}
			if flags&(1<<bit) == 0 {
				if len(out) >= max {
					return out, ErrOutputLimit
				}
				out = append(out, body[i])
				i++
				continue
			}
			if i+2 > len(body) {
				return out, errors.New("copy token cut off")
			}
			tok := binary.LittleEndian.Uint16(body[i:])
			i += 2
			offset, length := splitCopyToken(tok, len(out)-start)
			if offset > len(out)-start {
				return out, fmt.Errorf("copy token reaches %d bytes back, before the chunk start", offset)
			}
			if len(out)+length > max {
				return out, ErrOutputLimit
			}
			// Byte by byte: the source may overlap what is being written.
			src := len(out) - offset
			for k := 0; k < length; k++ {
				out = append(out, out[src+k])
			}
		}
	}
	return out, nil
}

// splitCopyToken returns the offset and length a copy token encodes when
// it appears diff bytes after the start of its decompressed chunk
// ([MS-OVBA] 2.4.1.3.19.1): the offset takes the smallest number of bits,
// at least 4, that can address diff bytes back; the length takes the rest.
func splitCopyToken(tok uint16, diff int) (offset, length int) {
	bits := 4
	for (1 << bits) < diff {
		bits++
	}
	if bits > 12 {
		bits = 12
	}
	lengthMask := uint16(0xFFFF) >> bits
	length = int(tok&lengthMask) + 3
	offset = int(tok>>(16-bits)) + 1
	return offset, length
}
