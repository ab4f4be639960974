package brand

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a brands file; a bigger file is refused.
const MaxFileSize = 64 << 20

// FileError is an error in a brands file, with the line where it was found.
type FileError struct {
	File string
	Line int // 1-based; 0 when the error concerns the whole file
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// LoadFile reads a brands file: YAML with a top-level "brands:" list, or a
// plain list with one official domain per line and # comments.
func LoadFile(path string) (*Set, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading brands: %w", err)
	}
	if fi.Size() > MaxFileSize {
		return nil, &FileError{File: path, Err: fmt.Errorf("file is %d bytes, more than the %d-byte limit", fi.Size(), MaxFileSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading brands: %w", err)
	}
	return Parse(path, data)
}

var yamlKey = regexp.MustCompile(`(?m)^\s*brands\s*:`)

// Parse reads a brands file's contents; name is used in errors.
func Parse(name string, data []byte) (*Set, error) {
	if yamlKey.Match(data) {
		return parseYAML(name, data)
	}
	return parseList(name, data)
}

func parseList(name string, data []byte) (*Set, error) {
	s := &Set{}
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if strings.ContainsAny(text, " \t") {
			return nil, &FileError{name, line, fmt.Errorf("%q: one domain per line expected (for names and keywords use the YAML form with a brands: list)", text)}
		}
		d, err := NormalizeDomain(text)
		if err != nil {
			return nil, &FileError{name, line, err}
		}
		if prev, ok := seen[d]; ok {
			return nil, &FileError{name, line, fmt.Errorf("%s is already listed on line %d", d, prev)}
		}
		seen[d] = line
		s.Brands = append(s.Brands, Brand{Name: d, Domains: []string{d}})
	}
	if err := sc.Err(); err != nil {
		return nil, &FileError{name, line + 1, fmt.Errorf("reading: %w", err)}
	}
	if len(s.Brands) == 0 {
		return nil, &FileError{File: name, Err: errors.New("no brands: list one official domain per line, or use YAML with a brands: list")}
	}
	return s, nil
}

type yamlFile struct {
	Brands []yamlBrand `yaml:"brands"`
}

type yamlBrand struct {
	Name         string    `yaml:"name"`
	Organisation string    `yaml:"organisation"`
	Domains      []string  `yaml:"domains"`
	Names        []string  `yaml:"names"`
	Keywords     []string  `yaml:"keywords"`
	Allowlist    []string  `yaml:"allowlist"`
	Line         yaml.Node `yaml:"-"`
}

var unknownField = regexp.MustCompile(`^field (\S+) not found in type`)

var yamlLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): (.*)$`)

func parseYAML(name string, data []byte) (*Set, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	var f yamlFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, yamlError(name, err)
	}
	lines := brandLines(&root)
	if len(f.Brands) == 0 {
		return nil, &FileError{File: name, Err: errors.New("brands: list is empty: add at least one brand with a name and domains")}
	}
	s := &Set{}
	byName := map[string]int{}
	domainOwner := map[string]string{}
	for i, yb := range f.Brands {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		b := Brand{Name: strings.TrimSpace(yb.Name), Organisation: yb.Organisation, Domains: yb.Domains,
			Names: yb.Names, Keywords: yb.Keywords, Allowlist: yb.Allowlist}
		if err := b.Validate(); err != nil {
			return nil, &FileError{name, line, err}
		}
		key := strings.ToLower(b.Name)
		if prev, ok := byName[key]; ok {
			return nil, &FileError{name, line, fmt.Errorf("brand name %q is already used on line %d: names must be unique", b.Name, prev)}
		}
		byName[key] = line
		for _, d := range b.Domains {
			if o, ok := domainOwner[d]; ok {
				return nil, &FileError{name, line, fmt.Errorf("domain %s of brand %s is already a domain of brand %s", d, b.Name, o)}
			}
			domainOwner[d] = b.Name
		}
		s.Brands = append(s.Brands, b)
	}
	return s, nil
}

// brandLines returns the line of each item of the top-level brands list.
func brandLines(root *yaml.Node) []int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "brands" && m.Content[i+1].Kind == yaml.SequenceNode {
			var out []int
			for _, it := range m.Content[i+1].Content {
				out = append(out, it.Line)
			}
			return out
		}
	}
	return nil
}

// yamlError turns a yaml error into a FileError with a line when the
// message carries one.
func yamlError(name string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		msg := m[2]
		if f := unknownField.FindStringSubmatch(msg); f != nil {
			msg = fmt.Sprintf("unknown field %q: a brand has name, organisation, domains, names, keywords and allowlist", f[1])
		}
		return &FileError{name, line, errors.New(msg)}
	}
	return &FileError{File: name, Err: errors.New(strings.TrimPrefix(msg, "yaml: "))}
}

// FromDomains builds a set with one brand per domain, as -brand flags do.
func FromDomains(domains []string) (*Set, error) {
	s := &Set{}
	seen := map[string]bool{}
	for _, d := range domains {
		n, err := NormalizeDomain(d)
		if err != nil {
			return nil, fmt.Errorf("-brand: %v", err)
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		s.Brands = append(s.Brands, Brand{Name: n, Domains: []string{n}})
	}
	return s, nil
}

// Merge returns a set with the brands of s followed by those of o; a brand
// of o whose name is already in s is an error.
func (s *Set) Merge(o *Set) (*Set, error) {
	out := &Set{Brands: append([]Brand(nil), s.Brands...)}
	names := map[string]bool{}
	for _, b := range s.Brands {
		names[strings.ToLower(b.Name)] = true
	}
	for _, b := range o.Brands {
		if names[strings.ToLower(b.Name)] {
			return nil, fmt.Errorf("brand %q is given twice", b.Name)
		}
		names[strings.ToLower(b.Name)] = true
		out.Brands = append(out.Brands, b)
	}
	return out, nil
}
