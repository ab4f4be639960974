package probe

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// Published MurmurHash3 x86_32 vectors (SMHasher verification set as
// listed by several implementations) and the Python mmh3 documentation.
func TestMurmur3Vectors(t *testing.T) {
	tests := []struct {
		in   string
		seed uint32
		want uint32
	}{
		{"", 0, 0},
		{"", 1, 0x514E28B7},
		{"", 0xffffffff, 0x81F16F39},
		{"\xff\xff\xff\xff", 0, 0x76293B50},
		{"\x21\x43\x65\x87", 0, 0xF55B516B},
		{"\x21\x43\x65\x87", 0x5082EDEE, 0x2362F9DE},
		{"\x21\x43\x65", 0, 0x7E4A8634},
		{"\x21\x43", 0, 0xA0F7B07A},
		{"\x21", 0, 0x72661CF4},
		{"\x00\x00\x00\x00", 0, 0x2362F9DE},
		{"foo", 0, 4138058784},  // mmh3.hash("foo", signed=False)
		{"foo", 42, 2972666014}, // mmh3.hash("foo", 42) == -1322301282
		{"Hello world", 0, 2911983372},
	}
	for _, tt := range tests {
		if got := murmur3x86_32([]byte(tt.in), tt.seed); got != tt.want {
			t.Errorf("murmur3(%q, %#x) = %#x, want %#x", tt.in, tt.seed, got, tt.want)
		}
	}
	if got := int32(murmur3x86_32([]byte("foo"), 0)); got != -156908512 {
		t.Errorf("signed mmh3(foo) = %d, want -156908512", got)
	}
}

// TestFaviconHashLayout checks the base64 layout Shodan hashes: 76
// characters a line, each line ending in a newline, the last one too.
func TestFaviconHashLayout(t *testing.T) {
	icon := bytes.Repeat([]byte{0x00, 0x01, 0xfe, 0xff}, 40) // 160 bytes → 216 base64 characters
	enc := base64.StdEncoding.EncodeToString(icon)
	want := enc[:76] + "\n" + enc[76:152] + "\n" + enc[152:] + "\n"
	if got := FaviconHash(icon); got != int32(murmur3x86_32([]byte(want), 0)) {
		t.Errorf("FaviconHash = %d, want mmh3 of three newline-terminated lines", got)
	}
	// Exactly 57 bytes make exactly one 76-character line.
	icon = bytes.Repeat([]byte{7}, 57)
	want = base64.StdEncoding.EncodeToString(icon) + "\n"
	if got := FaviconHash(icon); got != int32(murmur3x86_32([]byte(want), 0)) {
		t.Errorf("57 bytes: got %d", got)
	}
	if FaviconHash(nil) != 0 {
		t.Error("empty icon should hash the empty string (0)")
	}
}
