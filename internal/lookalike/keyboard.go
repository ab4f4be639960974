package lookalike

// Keyboard geometry for typo fuzzers and the reverse matcher. A typo on a
// keyboard hits a key next to the intended one: on the same row, or on the
// row above or below where the staggered keys overlap. Only the keys that
// can appear in a domain label (a-z, 0-9) are modelled.

// keyboardLayouts are the QWERTY (English), QWERTZ (German, Central
// European) and AZERTY (French, Belgian) layouts: the number row and the
// three letter rows, with each row's offset from the left edge in quarter
// key widths (the usual stagger of a physical keyboard).
var keyboardLayouts = [...][4]struct {
	keys   string
	offset int
}{
	{{"1234567890", 0}, {"qwertyuiop", 2}, {"asdfghjkl", 3}, {"zxcvbnm", 5}},
	{{"1234567890", 0}, {"qwertzuiop", 2}, {"asdfghjkl", 3}, {"yxcvbnm", 5}},
	{{"1234567890", 0}, {"azertyuiop", 2}, {"qsdfghjklm", 3}, {"wxcvbn", 5}},
}

// keyIndex maps a-z and 0-9 to 0..35, and everything else to -1.
func keyIndex(c byte) int {
	switch {
	case 'a' <= c && c <= 'z':
		return int(c - 'a')
	case '0' <= c && c <= '9':
		return 26 + int(c-'0')
	}
	return -1
}

// keyboardNeighbours[c] holds, as a bit set over keyIndex, the keys next
// to c on any of the layouts: the two keys beside it and the keys above
// and below whose horizontal distance is at most three quarters of a key.
var keyboardNeighbours = func() (t [128]uint64) {
	for _, layout := range keyboardLayouts {
		for r, row := range layout {
			for i := 0; i < len(row.keys); i++ {
				c := row.keys[i]
				x := 4*i + row.offset
				for r2 := max(r-1, 0); r2 <= min(r+1, len(layout)-1); r2++ {
					row2 := layout[r2]
					for j := 0; j < len(row2.keys); j++ {
						dx := 4*j + row2.offset - x
						if dx < 0 {
							dx = -dx
						}
						if r2 == r && dx == 4 || r2 != r && dx <= 3 {
							t[c] |= 1 << keyIndex(row2.keys[j])
						}
					}
				}
			}
		}
	}
	return t
}()

// keyboardNeighbourList[c] is keyboardNeighbours[c] as a string, digits
// then letters, for the fuzzers to range over.
var keyboardNeighbourList = func() (t [128]string) {
	for c := range t {
		var b []byte
		for _, k := range []byte("0123456789abcdefghijklmnopqrstuvwxyz") {
			if keyboardNeighbours[c]&(1<<keyIndex(k)) != 0 {
				b = append(b, k)
			}
		}
		t[c] = string(b)
	}
	return t
}()

// isKeyboardNeighbour reports whether b is next to a on a QWERTY, QWERTZ
// or AZERTY keyboard. Both are expected in lower case; other bytes are
// nobody's neighbours.
func isKeyboardNeighbour(a, b byte) bool {
	i := keyIndex(b)
	return a < 128 && i >= 0 && keyboardNeighbours[a]&(1<<i) != 0
}
