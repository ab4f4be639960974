package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ward-health/ward/internal/brand"
	"github.com/ward-health/ward/internal/mail/bayes"
)

// MaxFileSize bounds a configuration file.
const MaxFileSize = 4 << 20

// Problem is one thing wrong in a configuration.
type Problem struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Field string // e.g. "organisations[0].name"
	Msg   string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	if p.Field != "" {
		b.WriteString(": " + p.Field)
	}
	return b.String() + ": " + p.Msg
}

// Error lists every problem found in a configuration, in file order.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Hint says where the fields are documented.
func (e *Error) Hint() string {
	return "every field is described in examples/ward.yaml; `ward config check FILE` checks a file without starting anything"
}

// Load reads, expands and checks the configuration file at path. Brands
// files named in it are read relative to its directory.
func Load(path string) (*Config, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration: %w", err)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("reading the configuration: %s is %d bytes, more than the %d-byte limit", path, fi.Size(), MaxFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse reads a configuration's contents; name is used in errors and as
// the base of relative paths. lookupEnv resolves ${NAME} references.
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	var probs []Problem
	add := func(line int, field, msg string) {
		probs = append(probs, Problem{File: name, Line: line, Field: field, Msg: msg})
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlLine(err)
		add(line, "", msg)
		return nil, &Error{probs}
	}
	if len(root.Content) == 0 {
		add(0, "", "the file is empty: start from examples/ward.yaml")
		return nil, &Error{probs}
	}
	lines := map[string]int{}
	walk(root.Content[0], "", lines)
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				line, msg := yamlLine(errors.New("yaml: " + e))
				add(line, "", msg)
			}
		} else {
			line, msg := yamlLine(err)
			add(line, "", msg)
		}
	}
	expandStrings(reflect.ValueOf(&c).Elem(), "", func(path, v string) string {
		out, err := expand(v, lookupEnv)
		if err != nil {
			add(lines[path], path, err.Error())
		}
		return out
	})
	if len(probs) > 0 {
		return nil, &Error{probs}
	}
	c.setDefaults()
	lineOf := func(path string) int {
		for path != "" {
			if l, ok := lines[path]; ok {
				return l
			}
			i := strings.LastIndexAny(path, ".[")
			if i < 0 {
				break
			}
			path = path[:i]
		}
		return 0
	}
	fieldErr := func(path, msg string) { add(lineOf(path), path, msg) }
	c.check(fieldErr)
	base := filepath.Dir(name)
	for i := range c.Organisations {
		c.Organisations[i].loadBrands(base, fmt.Sprintf("organisations[%d]", i), fieldErr)
	}
	rel := func(path string) string {
		if path == "" || filepath.IsAbs(path) {
			return path
		}
		if abs, err := filepath.Abs(filepath.Join(base, path)); err == nil {
			return abs
		}
		return filepath.Join(base, path)
	}
	for i, f := range c.Feeds.Warninglist.TopLists {
		c.Feeds.Warninglist.TopLists[i] = rel(f)
		if _, err := os.Stat(c.Feeds.Warninglist.TopLists[i]); err != nil {
			fieldErr(fmt.Sprintf("feeds.warninglist.top_lists[%d]", i), err.Error()+": give a top-domain list file (e.g. Tranco's top-1m.csv)")
		}
	}
	learningOf := map[string]int{}
	for i := range c.Organisations {
		o := &c.Organisations[i]
		if o.MailLearning == "" {
			continue
		}
		o.MailLearning = rel(o.MailLearning)
		field := fmt.Sprintf("organisations[%d].mail_learning", i)
		if j, ok := learningOf[o.MailLearning]; ok {
			fieldErr(field, fmt.Sprintf("the same file as organisations[%d]: give each organisation its own", j))
			continue
		}
		learningOf[o.MailLearning] = i
		if st, err := os.Stat(filepath.Dir(o.MailLearning)); err != nil || !st.IsDir() {
			fieldErr(field, fmt.Sprintf("the directory %s does not exist: create it, or give a file in an existing directory", filepath.Dir(o.MailLearning)))
			continue
		}
		if _, err := bayes.ReadLearningFile(o.MailLearning); err != nil {
			fieldErr(field, err.Error())
		}
	}
	for i, im := range c.Feeds.Imports {
		if !strings.Contains(im.URL, "://") {
			c.Feeds.Imports[i].URL = rel(im.URL)
		}
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
		return nil, &Error{probs}
	}
	return &c, nil
}

// loadBrands reads the organisation's brands file and inline brands into
// BrandSet.
func (o *Organisation) loadBrands(base, p string, fieldErr func(path, msg string)) {
	set := &brand.Set{}
	if o.BrandsFile != "" {
		path := o.BrandsFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(base, path)
		}
		s, err := brand.LoadFile(path)
		if err != nil {
			fieldErr(p+".brands_file", err.Error())
			return
		}
		set = s
	}
	for i, b := range o.Brands {
		bb := brand.Brand{Name: b.Name, Organisation: b.Organisation, Domains: b.Domains, Names: b.Names, Keywords: b.Keywords, Allowlist: b.Allowlist}
		if err := bb.Validate(); err != nil {
			fieldErr(fmt.Sprintf("%s.brands[%d]", p, i), err.Error())
			continue
		}
		merged, err := set.Merge(&brand.Set{Brands: []brand.Brand{bb}})
		if err != nil {
			fieldErr(fmt.Sprintf("%s.brands[%d]", p, i), err.Error())
			continue
		}
		set = merged
	}
	if len(set.Brands) == 0 && o.BrandsFile == "" && len(o.Brands) == 0 {
		fieldErr(p, "no brands: give brands_file or brands")
		return
	}
	o.BrandSet = set
}

// walk records the line of every field path in the tree under n.
func walk(n *yaml.Node, path string, lines map[string]int) {
	if _, ok := lines[path]; !ok {
		lines[path] = n.Line
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			p := key
			if path != "" {
				p = path + "." + key
			}
			lines[p] = n.Content[i].Line
			walk(n.Content[i+1], p, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walk(c, fmt.Sprintf("%s[%d]", path, i), lines)
		}
	}
}

// expandStrings replaces every string in v (fields, slices, map values)
// by what fn makes of it, given its field path.
func expandStrings(v reflect.Value, path string, fn func(path, s string) string) {
	switch v.Kind() {
	case reflect.String:
		if strings.Contains(v.String(), "$") {
			v.SetString(fn(path, v.String()))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			expandStrings(v.Elem(), path, fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" || !t.Field(i).IsExported() {
				continue
			}
			p := tag
			if path != "" {
				p = path + "." + tag
			}
			expandStrings(v.Field(i), p, fn)
		}
	case reflect.Slice:
		for i := range v.Len() {
			expandStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			if s := v.MapIndex(k).String(); strings.Contains(s, "$") {
				v.SetMapIndex(k, reflect.ValueOf(fn(path+"."+k.String(), s)))
			}
		}
	}
}

var envRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$`)

// expand replaces ${NAME} by the environment variable NAME and $$ by $.
func expand(s string, lookupEnv func(string) (string, bool)) (string, error) {
	var err error
	out := envRef.ReplaceAllStringFunc(s, func(m string) string {
		switch {
		case m == "$$":
			return "$"
		case m == "$":
			if err == nil {
				err = errors.New(`a lone "$": write ${NAME} for an environment variable, or $$ for a dollar sign`)
			}
			return m
		}
		name := m[2 : len(m)-1]
		v, ok := lookupEnv(name)
		if !ok && err == nil {
			err = fmt.Errorf("environment variable %s is not set: export it, or write $$ for a literal dollar sign", name)
		}
		return v
	})
	return out, err
}

var yamlErrLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): (.*)$`)

func yamlLine(err error) (int, string) {
	m := yamlErrLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	if f := regexp.MustCompile(`^field (\S+) not found in type config\.(\w+)$`).FindStringSubmatch(msg); f != nil {
		msg = fmt.Sprintf("unknown field %q (in %s): check its spelling against examples/ward.yaml", f[1], strings.ToLower(f[2]))
	}
	return line, msg
}
