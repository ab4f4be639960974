package main

import (
	"context"
	"encoding/json"
	"flag"
	"strings"

	"github.com/ward-health/ward/examples"
	"github.com/ward-health/ward/internal/brand"
)

// brandFlags are the flags that choose the protected brands, shared by the
// commands that match names.
type brandFlags struct {
	file   string
	brands stringList
}

func (b *brandFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.file, "brands", "", "brands `FILE` (YAML or one domain per line); default: the built-in health brand set")
	fs.Var(&b.brands, "brand", "protect `DOMAIN` (repeatable; adds to -brands)")
}

// load returns the brand set: the file, plus -brand domains; the built-in
// health set when neither is given.
func (b *brandFlags) load() (*brand.Set, error) {
	var set *brand.Set
	var err error
	switch {
	case b.file != "":
		set, err = brand.LoadFile(b.file)
	case len(b.brands) == 0:
		set, err = brand.Parse("built-in brands-health.yaml", examples.HealthBrands)
	default:
		set = &brand.Set{}
	}
	if err != nil {
		return nil, err
	}
	if len(b.brands) > 0 {
		extra, err := brand.FromDomains(b.brands)
		if err != nil {
			return nil, usagef("%v", err)
		}
		if set, err = set.Merge(extra); err != nil {
			return nil, usagef("%v", err)
		}
	}
	return set, nil
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

const brandsUsage = `Usage: ward brands [-brands FILE] [-brand DOMAIN]...

Prints the brand set in effect, one JSON object per brand: the file given
with -brands, or the built-in health brand set. Use it to check a brands
file or to start one from the built-in set.

Examples:
    ward brands
    ward brands -brands brands.yaml
`

func runBrands(_ context.Context, e *env, args []string) error {
	fs := newFlagSet("brands")
	var bf brandFlags
	bf.register(fs)
	if err := parseFlags(e, fs, brandsUsage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	set, err := bf.load()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	for _, b := range set.Brands {
		if err := enc.Encode(b); err != nil {
			return err
		}
	}
	return nil
}
