package brand

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ward-health/ward/examples"
)

func TestParseList(t *testing.T) {
	s, err := Parse("brands.txt", []byte("# protected\nrivm.nl\n\n  WHO.int.  # trailing dot and case\nbücher.de\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range s.Brands {
		got = append(got, b.Name+"="+strings.Join(b.Domains, ","))
	}
	want := "rivm.nl=rivm.nl who.int=who.int xn--bcher-kva.de=xn--bcher-kva.de"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
}

func TestParseYAML(t *testing.T) {
	data := `brands:
  - name: RIVM
    organisation: Rijksinstituut voor Volksgezondheid en Milieu
    domains: [RIVM.nl]
    names: [Rijksinstituut]
    keywords: [coronatest]
    allowlist: [rijksoverheid.nl]
`
	s, err := Parse("b.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	b := s.Brands[0]
	if b.Name != "RIVM" || b.Domains[0] != "rivm.nl" || b.Names[0] != "rijksinstituut" || b.Keywords[0] != "coronatest" || b.Allowlist[0] != "rijksoverheid.nl" {
		t.Errorf("unexpected brand %+v", b)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
		msg        string
	}{
		{"list bad domain", "rivm.nl\nnot a domain\n", 2, "one domain per line"},
		{"list url", "https://rivm.nl/\n", 1, "not a domain name"},
		{"list no dot", "rivm\n", 1, "has no dot"},
		{"list duplicate", "rivm.nl\nRIVM.nl\n", 2, "already listed on line 1"},
		{"list empty", "# nothing\n", 0, "no brands"},
		{"yaml unknown field", "brands:\n  - name: X\n    domain: [x.nl]\n", 3, `unknown field "domain"`},
		{"yaml no domains", "brands:\n  - name: X\n  - name: Y\n    domains: [y.nl]\n", 2, "has no domains"},
		{"yaml no name", "brands:\n  - domains: [x.nl]\n", 2, "has no name"},
		{"yaml bad name word", "brands:\n  - name: X\n    domains: [x.nl]\n    names: [\"two words\"]\n", 2, "names:"},
		{"yaml duplicate name", "brands:\n  - name: X\n    domains: [x.nl]\n  - name: x\n    domains: [y.nl]\n", 4, "already used on line 2"},
		{"yaml duplicate domain", "brands:\n  - name: X\n    domains: [x.nl]\n  - name: Y\n    domains: [x.nl]\n", 4, "already a domain of brand X"},
		{"yaml syntax", "brands:\n  - name: [\n", 2, ""},
		{"yaml empty", "brands: []\n", 0, "list is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.data))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a FileError", err)
			}
			if fe.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", fe.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Errorf("error %q does not name the file or contain %q", err, tt.msg)
			}
		})
	}
}

func TestHealthBrands(t *testing.T) {
	s, err := Parse("brands-health.yaml", examples.HealthBrands)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Brands) < 50 {
		t.Errorf("health brand set has %d brands, want about 50", len(s.Brands))
	}
}

func TestLoadFileLimits(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadFile(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "reading brands") {
		t.Errorf("missing file: got %v", err)
	}
	p := filepath.Join(dir, "b.txt")
	if err := os.WriteFile(p, []byte("rivm.nl\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadFile(p); err != nil || len(s.Brands) != 1 {
		t.Errorf("LoadFile = %v, %v", s, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("rivm.nl\n"))
	f.Add(examples.HealthBrands)
	f.Add([]byte("brands:\n  - name: X\n    domains: [x.nl]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f", data)
		if err == nil && len(s.Brands) == 0 {
			t.Fatal("no error and no brands")
		}
	})
}
