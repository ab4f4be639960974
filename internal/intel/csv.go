package intel

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CSVHeader is the first line WriteCSV writes.
var CSVHeader = []string{"type", "value", "first_seen", "last_seen", "source", "confidence", "tlp", "valid_until", "brand", "description"}

// CSVOptions configures WriteCSV. The zero value is ready to use.
type CSVOptions struct {
	// NoFormulaGuard writes cells as they are. Zero: a cell that starts
	// with = + - @, a tab or a carriage return gets a leading "'", so that
	// a spreadsheet shows it as text instead of running it as a formula.
	NoFormulaGuard bool
}

// WriteCSV writes the indicators as RFC 4180 CSV with CSVHeader, times in
// RFC 3339 (UTC, empty when zero), in the order Select gives. Invalid
// indicators are left out.
func WriteCSV(w io.Writer, inds []Indicator, opts CSVOptions) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	sorted := slices.Clone(inds)
	sortIndicators(sorted)
	for _, in := range sorted {
		if Validate(in) != nil {
			continue
		}
		row := []string{string(in.Type), in.Value, csvTime(in.FirstSeen), csvTime(in.LastSeen), in.Source,
			strconv.Itoa(in.Confidence), in.TLP, csvTime(in.ValidUntil), in.Brand, in.Description}
		if !opts.NoFormulaGuard {
			for i, c := range row {
				row[i] = defuse(c)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// defuse prefixes a cell that a spreadsheet would read as a formula.
func defuse(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}

// HostsOptions configures WriteHosts. The zero value is ready to use.
type HostsOptions struct {
	// Address is what blocked names resolve to; zero: "0.0.0.0".
	Address string
	// Warninglist names hosts never written; nil: the built-in list.
	Warninglist *Warninglist
	// Title is a line for the comment header (no newlines); zero: none.
	Title string
}

// WriteHosts writes a hosts file ("0.0.0.0 evil.example" lines) with the
// indicators' domains and URL hosts, sorted and without duplicates, under a
// comment header. A hosts file blocks exact names only: subdomains need
// their own indicators (use the RPZ zone for whole subtrees).
func WriteHosts(w io.Writer, inds []Indicator, opts HostsOptions) error {
	addr := opts.Address
	if addr == "" {
		addr = "0.0.0.0"
	}
	a, err := normIP(addr)
	if err != nil {
		return fmt.Errorf("hosts: address: %w", err)
	}
	warn := opts.Warninglist
	if warn == nil {
		warn, _ = NewWarninglist()
	}
	var names []string
	for _, in := range inds {
		if Validate(in) != nil {
			continue
		}
		h := in.host()
		if h == "" || warn.ContainsDomain(h) || in.Type == TypeURL && warn.ContainsURLHost(h) {
			continue
		}
		names = append(names, h)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	bw := bufio.NewWriter(w)
	bw.WriteString("# ward blocklist: names that imitate health organisations or serve phishing and malware\n")
	if t := strings.Map(printableOnly, opts.Title); t != "" {
		fmt.Fprintf(bw, "# %s\n", t)
	}
	fmt.Fprintf(bw, "# %d names\n", len(names))
	for _, n := range names {
		fmt.Fprintf(bw, "%s %s\n", a, n)
	}
	return bw.Flush()
}

// printableOnly turns control characters (newlines above all) into spaces.
func printableOnly(r rune) rune {
	if r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 || r == 0x85 {
		return ' '
	}
	return r
}
