package lookalike

import (
	"fmt"
	"strings"
	"testing"
)

func TestStrTable(t *testing.T) {
	m := map[string]int{"": 1}
	for i := range 5000 {
		// Keys of every length from 1 to 40, sharing prefixes and suffixes,
		// so that the hash's block and tail paths are all used.
		k := strings.Repeat("ab", i%20) + fmt.Sprint(i)
		m[k] = i + 2
	}
	tab := newStrTable(m)
	if tab.len() != len(m) {
		t.Fatalf("len = %d, want %d", tab.len(), len(m))
	}
	for k, v := range m {
		if got, ok := tab.get(k); !ok || got != v {
			t.Errorf("get(%q) = %d, %v; want %d, true", k, got, ok, v)
		}
		if got, ok := tab.getBytes([]byte(k)); !ok || got != v {
			t.Errorf("getBytes(%q) = %d, %v; want %d, true", k, got, ok, v)
		}
		if tableHash(k) != tableHash([]byte(k)) {
			t.Errorf("tableHash(%q) differs between string and bytes", k)
		}
	}
	for _, k := range []string{"a", "abab", "x0", "0x", strings.Repeat("ab", 19) + "4999x", "abababababababab"} {
		if _, ok := m[k]; ok {
			continue
		}
		if got, ok := tab.get(k); ok {
			t.Errorf("get(%q) = %d, true; want no entry", k, got)
		}
	}
	empty := newStrTable(map[string]bool{})
	if _, ok := empty.get("rivm"); ok {
		t.Error("empty table found a key")
	}
}

// TestTableHashSpread checks that keys differing in one byte, at any place,
// hash apart: the tail of a key must count as much as its head.
func TestTableHashSpread(t *testing.T) {
	for n := 1; n <= 24; n++ {
		seen := map[uint64]string{}
		base := []byte(strings.Repeat("x", n))
		for i := range n {
			for c := byte('a'); c <= 'z'; c++ {
				k := append([]byte(nil), base...)
				k[i] = c
				h := tableHash(k)
				if prev, dup := seen[h]; dup && prev != string(k) {
					t.Fatalf("tableHash(%q) == tableHash(%q)", k, prev)
				}
				seen[h] = string(k)
			}
		}
	}
}
