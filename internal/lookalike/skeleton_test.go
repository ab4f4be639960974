package lookalike

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSkeleton(t *testing.T) {
	for _, tc := range []struct {
		a, b string
	}{
		{"rivm", "rlvm"},
		{"rivm", "r1vm"},
		{"rivm", "rIvm"},
		{"who", "whо"},  // Cyrillic о
		{"who", "ԝһо"},  // all Cyrillic
		{"who", "vvho"}, // w → vv
		{"dhl", "clhl"}, // d → cl
		{"amsterdamumc", "arnsterdarnurnc"},
		{"paypal", "paypa1"},
		{"google", "g00gle"},
		{"rivm", "rívm"},       // diacritics dropped
		{"rivm", "ŕivm"},       // precomposed
		{"rivm", "r\u0301ivm"}, // decomposed
		{"ggd", "ǥgđ"},         // stroke letters
		{"ƈdc", "cdc"},         // hook letter, from its Unicode name
		{"aphp", "аphр"},       // Cyrillic а and р
		{"RIVM", "rivm"},
		{"æon", "aeon"},
	} {
		if sa, sb := Skeleton(tc.a), Skeleton(tc.b); sa != sb {
			t.Errorf("Skeleton(%q) = %q, Skeleton(%q) = %q; want equal", tc.a, sa, tc.b, sb)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"rivm", "rlvrn"},
		{"who", "vvho"},
		{"ggd", "ggcl"},
		{"0", "o"},
		{"i1Il|", "lllll"},
		{"café", "cafe"},
		{"", ""},
		{"xyz-123", "xyz-l23"},
		{"\xff", "\uFFFD"},
	} {
		if got := Skeleton(tc.in); got != tc.want {
			t.Errorf("Skeleton(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Look-alike enough for a squatter, not enough to fold.
	for _, tc := range []struct{ a, b string }{
		{"bbc", "dbc"}, {"google", "qoogle"}, {"rivm", "rivn"}, {"nhs", "mhs"},
	} {
		if Skeleton(tc.a) == Skeleton(tc.b) {
			t.Errorf("Skeleton(%q) == Skeleton(%q) = %q; want different", tc.a, tc.b, Skeleton(tc.a))
		}
	}
}

func TestAppendSkeletonASCIIDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		buf = AppendSkeleton(buf[:0], "amsterdamumc-coronatest")
	})
	if n != 0 {
		t.Errorf("AppendSkeleton allocates %v times for ASCII input", n)
	}
	n = testing.AllocsPerRun(100, func() { _ = Skeleton("abc-xyz") })
	if n != 0 {
		t.Errorf("Skeleton allocates %v times for a label that is its own skeleton", n)
	}
}

// TestGlyphRows checks the generated forward tables against the skeleton:
// every look-alike the forward generator writes folds to its key, unless
// the extras file lists it as a forward-only glyph.
func TestGlyphRows(t *testing.T) {
	extra := map[string]bool{}
	f, err := os.Open("unicode/extra-lookalikes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if fs := strings.Fields(line); len(fs) > 2 && fs[0] == "glyph" {
			for _, alt := range fs[2:] {
				extra[fs[1]+" "+alt] = true
			}
		}
	}
	if len(extra) < 20 {
		t.Fatalf("read only %d glyph pairs from the extras file", len(extra))
	}
	keys := map[string]bool{}
	for _, row := range glyphRows {
		if keys[row.key] {
			t.Errorf("key %q repeated", row.key)
		}
		keys[row.key] = true
		for _, l := range []string{row.ascii, row.idn, row.cyrillic, row.greek} {
			for _, alt := range strings.Fields(l) {
				if alt == row.key {
					t.Errorf("%q lists itself", row.key)
				}
				if Skeleton(alt) != Skeleton(row.key) && !extra[row.key+" "+alt] {
					t.Errorf("%q → %q: skeletons %q and %q differ", row.key, alt, Skeleton(row.key), Skeleton(alt))
				}
			}
		}
	}
	for _, k := range []string{"a", "i", "l", "m", "o", "w", "rn", "vv", "cl", "ae"} {
		if !keys[k] {
			t.Errorf("no look-alikes for %q", k)
		}
	}
}

func FuzzSkeleton(f *testing.F) {
	for _, s := range []string{"rivm", "whо", "arnsterdarnurnc", "ÀÉÎ", "ǅ", "\u0301a", "ß", "ﬁ", "İ", "\xff\xfe", "𝐚𝐛", "ԝһо"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sk := Skeleton(s)
		if again := Skeleton(sk); again != sk {
			t.Errorf("Skeleton(%q) = %q, but Skeleton(%q) = %q", s, sk, sk, again)
		}
		if Skeleton(s) != sk {
			t.Errorf("Skeleton(%q) not deterministic", s)
		}
		if !utf8.ValidString(sk) {
			t.Errorf("Skeleton(%q) = %q is not valid UTF-8", s, sk)
		}
		if got := string(AppendSkeleton([]byte("x"), s)); got != "x"+sk {
			t.Errorf("AppendSkeleton(x, %q) = %q, want %q", s, got, "x"+sk)
		}
	})
}
