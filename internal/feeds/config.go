package feeds

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/intel"
)

// Warninglist builds the names ward never exports or blocks from a
// configuration: the built-in list, every organisation's official brand
// domains and allowlisted domains (with their subdomains), the configured
// domains, and the first top_n names of each top list (exactly: a popular
// hosting apex stays blockable below it).
func Warninglist(cfg *config.Config) (*intel.Warninglist, error) {
	w, err := intel.NewWarninglist()
	if err != nil {
		return nil, err
	}
	for _, o := range cfg.Organisations {
		for _, b := range o.BrandSet.Brands {
			for _, d := range append(append([]string(nil), b.Domains...), b.Allowlist...) {
				if err := w.AddTree(d); err != nil {
					return nil, fmt.Errorf("organisation %s, brand %s: %w", o.Name, b.Name, err)
				}
			}
		}
		for _, d := range o.OwnDomains {
			if err := w.AddTree(d); err != nil {
				return nil, fmt.Errorf("organisation %s, own domain: %w", o.Name, err)
			}
		}
	}
	for _, d := range cfg.Feeds.Warninglist.Domains {
		if err := w.AddTree(d); err != nil {
			return nil, fmt.Errorf("feeds.warninglist.domains: %w", err)
		}
	}
	for _, path := range cfg.Feeds.Warninglist.TopLists {
		if err := loadTop(w, path, cfg.Feeds.Warninglist.TopN); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// loadTop adds the first n lines of a top-domain list.
func loadTop(w *intel.Warninglist, path string, n int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("feeds.warninglist.top_lists: %w", err)
	}
	defer f.Close()
	var head strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	for i := 0; i < n && sc.Scan(); i++ {
		head.WriteString(sc.Text())
		head.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("feeds.warninglist.top_lists: %s: %w (is it a top-domain list, one name or rank,name a line?)", path, err)
	}
	if _, _, err := w.Load(strings.NewReader(head.String())); err != nil {
		return fmt.Errorf("feeds.warninglist.top_lists: %s: %w", path, err)
	}
	return nil
}

// OptionsFromConfig returns the Exporter options a configuration asks
// for, with its warninglist.
func OptionsFromConfig(cfg *config.Config) (Options, error) {
	w, err := Warninglist(cfg)
	if err != nil {
		return Options{}, err
	}
	reshare := map[string]bool{}
	for _, im := range cfg.Feeds.Imports {
		reshare[ImportSource(im.Name)] = im.Reshare
	}
	rpz := cfg.Feeds.RPZ
	return Options{
		Warninglist: w,
		ExportTLP:   cfg.Feeds.ExportTLP,
		Reshare:     func(source string) bool { return reshare[source] },
		RPZ: intel.RPZOptions{Origin: rpz.Origin, TTL: uint32(rpz.TTL.Seconds()),
			WalledGarden: rpz.WalledGarden, Passthru: rpz.Passthru},
	}, nil
}

// ImportSource is the source recorded on indicators of the import name.
func ImportSource(name string) string { return intel.SourceImport + " " + name }
