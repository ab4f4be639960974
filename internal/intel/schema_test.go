package intel

// A test-only, minimal JSON Schema validator for the subset of draft
// 2020-12 that the OASIS STIX 2.1 schemas use: $ref (relative files and
// #/definitions pointers, resolved to the local copies, never fetched),
// allOf, anyOf, oneOf, not, if/then, type, required, properties,
// patternProperties, additionalProperties, enum, const, pattern, items,
// min/maxItems, minimum/maximum, min/maxLength, minProperties. Other
// keywords are ignored (so the check is weaker than a full validator, never
// stricter). Patterns that Go's RE2 cannot compile are ignored too.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"
)

type schemaSet struct {
	files map[string]map[string]any
}

func (s *schemaSet) load(path string) (map[string]any, error) {
	path = filepath.Clean(path)
	if m, ok := s.files[path]; ok {
		return m, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	s.files[path] = m
	return m, nil
}

// validate checks v against schema sch found in file; it returns the
// first violation with its JSON path.
func (s *schemaSet) validate(v any, sch any, file, at string) error {
	m, ok := sch.(map[string]any)
	if !ok {
		return nil // true/false schemas are not used
	}
	if ref, ok := m["$ref"].(string); ok {
		target, frag, _ := strings.Cut(ref, "#")
		tf := file
		if target != "" {
			tf = filepath.Join(filepath.Dir(file), target)
		}
		doc, err := s.load(tf)
		if err != nil {
			return err
		}
		var sub any = doc
		for _, p := range strings.Split(strings.Trim(frag, "/"), "/") {
			if p == "" {
				continue
			}
			sub = sub.(map[string]any)[p]
		}
		if err := s.validate(v, sub, tf, at); err != nil {
			return err
		}
	}
	for _, k := range []string{"allOf"} {
		for _, sub := range asList(m[k]) {
			if err := s.validate(v, sub, file, at); err != nil {
				return err
			}
		}
	}
	if l := asList(m["anyOf"]); l != nil {
		var first error
		okAny := false
		for _, sub := range l {
			if err := s.validate(v, sub, file, at); err == nil {
				okAny = true
				break
			} else if first == nil {
				first = err
			}
		}
		if !okAny {
			return fmt.Errorf("%s: matches no anyOf branch (first: %v)", at, first)
		}
	}
	if l := asList(m["oneOf"]); l != nil {
		n := 0
		var errs []string
		for _, sub := range l {
			if err := s.validate(v, sub, file, at); err == nil {
				n++
			} else {
				errs = append(errs, err.Error())
			}
		}
		if n != 1 {
			return fmt.Errorf("%s: matches %d oneOf branches, want 1 (%s)", at, n, strings.Join(errs, "; "))
		}
	}
	if sub, ok := m["not"]; ok {
		if s.validate(v, sub, file, at) == nil {
			return fmt.Errorf("%s: matches a schema it must not", at)
		}
	}
	if cond, ok := m["if"]; ok && s.validate(v, cond, file, at) == nil {
		if then, ok := m["then"]; ok {
			if err := s.validate(v, then, file, at); err != nil {
				return err
			}
		}
	}
	if t, ok := m["type"]; ok && !typeOK(v, t) {
		return fmt.Errorf("%s: %v is not of type %v", at, v, t)
	}
	if e, ok := m["enum"].([]any); ok {
		found := false
		for _, x := range e {
			if reflect.DeepEqual(x, v) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s: %v is not one of %v", at, v, e)
		}
	}
	if c, ok := m["const"]; ok && !reflect.DeepEqual(c, v) {
		return fmt.Errorf("%s: %v is not %v", at, v, c)
	}
	switch x := v.(type) {
	case string:
		if p, ok := m["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(x) {
				return fmt.Errorf("%s: %q does not match %s", at, x, p)
			}
		}
		if n, ok := m["minLength"].(float64); ok && utf8.RuneCountInString(x) < int(n) {
			return fmt.Errorf("%s: shorter than %v", at, n)
		}
		if n, ok := m["maxLength"].(float64); ok && utf8.RuneCountInString(x) > int(n) {
			return fmt.Errorf("%s: longer than %v", at, n)
		}
	case float64:
		if n, ok := m["minimum"].(float64); ok && x < n {
			return fmt.Errorf("%s: %v below %v", at, x, n)
		}
		if n, ok := m["maximum"].(float64); ok && x > n {
			return fmt.Errorf("%s: %v above %v", at, x, n)
		}
	case []any:
		if n, ok := m["minItems"].(float64); ok && len(x) < int(n) {
			return fmt.Errorf("%s: fewer than %v items", at, n)
		}
		if n, ok := m["maxItems"].(float64); ok && len(x) > int(n) {
			return fmt.Errorf("%s: more than %v items", at, n)
		}
		if it, ok := m["items"]; ok {
			for i, e := range x {
				if err := s.validate(e, it, file, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		for _, r := range asList(m["required"]) {
			if _, ok := x[r.(string)]; !ok {
				return fmt.Errorf("%s: lacks required property %q", at, r)
			}
		}
		if n, ok := m["minProperties"].(float64); ok && len(x) < int(n) {
			return fmt.Errorf("%s: fewer than %v properties", at, n)
		}
		props, _ := m["properties"].(map[string]any)
		pprops, _ := m["patternProperties"].(map[string]any)
		for k, e := range x {
			matched := false
			if sub, ok := props[k]; ok {
				matched = true
				if err := s.validate(e, sub, file, at+"."+k); err != nil {
					return err
				}
			}
			for p, sub := range pprops {
				if re, err := regexp.Compile(p); err == nil && re.MatchString(k) {
					matched = true
					if err := s.validate(e, sub, file, at+"."+k); err != nil {
						return err
					}
				}
			}
			if !matched {
				switch ap := m["additionalProperties"].(type) {
				case bool:
					if !ap {
						return fmt.Errorf("%s: property %q is not allowed", at, k)
					}
				case map[string]any:
					if err := s.validate(e, ap, file, at+"."+k); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func asList(v any) []any { l, _ := v.([]any); return l }

func typeOK(v any, t any) bool {
	if l, ok := t.([]any); ok {
		for _, x := range l {
			if typeOK(v, x) {
				return true
			}
		}
		return false
	}
	switch t {
	case "string":
		_, ok := v.(string)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "number":
		_, ok := v.(float64)
		return ok
	case "null":
		return v == nil
	}
	return true
}
