package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ward-health/ward/internal/atomicfile"
	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/feeds"
	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/store"
)

const feedUsage = `Usage: ward feed export -format FORMAT [-o PATH] [-org NAME] [-config FILE] [-data DIR]

Writes an organisation's indicators, as ward serve shares them, in one
format:
    rpz     a DNS response policy zone for BIND, Unbound, PowerDNS (its
            serial increases whenever the content changes)
    stix    a STIX 2.1 bundle (revoked indicators of the last 30 days
            included, marked revoked)
    misp    a MISP feed directory (manifest.json, hashes.csv, one file per
            event); -o is required
    csv     CSV for SIEMs and spreadsheets
    hosts   a hosts file (0.0.0.0 name)

The organisation sees its own indicators and every shared one; names on
the warninglist (official brand domains, configured and popular domains)
are never written, nor indicators narrower than feeds.export_tlp.

Flags:
    -format F      rpz, stix, misp, csv or hosts (required)
    -o PATH        output file (written whole, then renamed into place) or,
                   for misp, directory; default standard output
    -org NAME      the organisation; needed when the configuration has more
                   than one
    -config FILE   the ward serve configuration (default: built-in defaults)
    -data DIR      the data directory of the built-in defaults (default
                   ward-data)

Examples:
    ward feed export -format rpz -o /etc/unbound/ward.rpz
    ward feed export -config /etc/ward/ward.yaml -org umc-utrecht -format misp -o /var/www/misp-feed
`

func runFeed(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprint(e.stdout, feedUsage)
			return nil
		}
		return usageError{msg: "ward feed needs a subcommand: export", cmd: "feed export"}
	}
	fs := newFlagSet("feed export")
	format := fs.String("format", "", "")
	out := fs.String("o", "", "")
	cf := addCommonFlags(fs)
	if err := parseFlags(e, fs, feedUsage, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("feed export takes no arguments, got %q", fs.Arg(0)), cmd: "feed export"}
	}
	if !slices.Contains(feeds.Formats, *format) {
		return usageError{msg: fmt.Sprintf("-format %q: use one of %s", *format, strings.Join(feeds.Formats, ", ")), cmd: "feed export"}
	}
	if *format == "misp" && (*out == "" || *out == "-") {
		return usageError{msg: "-format misp writes a directory: give it with -o DIR", cmd: "feed export"}
	}
	cmd, err := cf.open(ctx, false)
	if err != nil {
		return err
	}
	defer cmd.st.Close()
	ex, err := cmd.exporter()
	if err != nil {
		return err
	}
	if *format == "misp" {
		return ex.WriteMISPDir(ctx, *out, cmd.org)
	}
	if *out == "" || *out == "-" {
		w := bufio.NewWriter(e.stdout)
		if err := ex.Write(ctx, w, cmd.org, *format); err != nil {
			return err
		}
		return w.Flush()
	}
	// Written whole, then renamed into place: a resolver reloading the
	// zone never reads half of it.
	return atomicfile.Write(*out, 0o644, func(w io.Writer) error { return ex.Write(ctx, w, cmd.org, *format) })
}

// commonFlags are the flags of the commands that work on ward serve's
// store.
type commonFlags struct {
	config, data, org *string
}

func addCommonFlags(fs interface {
	String(name, value, usage string) *string
}) commonFlags {
	return commonFlags{config: fs.String("config", "", ""), data: fs.String("data", "ward-data", ""), org: fs.String("org", "", "")}
}

// storeCmd is an opened configuration and store, and the organisation
// the command acts for.
type storeCmd struct {
	cfg *config.Config
	st  *store.Store
	org string
}

// open loads the configuration and opens the store; unless create, a
// missing SQLite database is an error (a wrong -data or -config would
// otherwise give an empty feed).
func (cf commonFlags) open(ctx context.Context, create bool) (*storeCmd, error) {
	cfg, err := loadConfig(*cf.config, *cf.data)
	if err != nil {
		return nil, err
	}
	org := *cf.org
	var names []string
	for _, o := range cfg.Organisations {
		names = append(names, o.Name)
	}
	switch {
	case org == "" && len(names) == 1:
		org = names[0]
	case org == "":
		return nil, usageError{msg: fmt.Sprintf("the configuration has %d organisations: name one with -org (%s)", len(names), strings.Join(names, ", "))}
	case !slices.Contains(names, org):
		return nil, usageError{msg: fmt.Sprintf("-org %q: the configuration has %s", org, strings.Join(names, ", "))}
	}
	if cfg.Storage.Driver == "sqlite" && !create {
		if _, err := os.Stat(cfg.Storage.Path); err != nil {
			return nil, fmt.Errorf("no ward database at %s (%v): start ward serve once, or pass the -config or -data it uses", cfg.Storage.Path, err)
		}
	}
	st, err := openStore(ctx, cfg.Storage, nil)
	if err != nil {
		return nil, err
	}
	return &storeCmd{cfg: cfg, st: st, org: org}, nil
}

func (c *storeCmd) exporter() (*feeds.Exporter, error) {
	opts, err := feeds.OptionsFromConfig(c.cfg)
	if err != nil {
		return nil, err
	}
	return feeds.New(c.st, opts), nil
}

const iocUsage = `Usage:
    ward ioc add [flags] VALUE...     record indicators (or -f FILE, one a line)
    ward ioc rm [flags] ID|VALUE...   revoke indicators of the organisation
    ward ioc expire [-in D] ID|VALUE... set when indicators expire (default: now)
    ward ioc ls [flags]               list what the organisation sees

Indicators are what ward's feeds share and block: domains, URLs, IP
addresses, e-mail addresses, file hashes (sha256, sha1, md5) and file
names. The type is guessed from the value unless -type says it; defanged
values (hxxp://, [.]) are accepted. Names on the warninglist (official
brand domains, configured and popular domains) are refused. A removed
indicator is revoked: it leaves the blocking feeds, and STIX and TAXII
consumers are told to stop blocking it.

Flags of all:
    -org NAME          the organisation; needed when there are several
    -config FILE       the ward serve configuration (default: built-in defaults)
    -data DIR          the data directory of the built-in defaults (ward-data)
Flags of add:
    -type T            domain, url, ip, email, sha256, sha1, md5 or filename
    -scope S           private (the organisation only) or shared (default:
                       feeds.scope)
    -tlp T             clear, green, amber, amber+strict or red (default:
                       feeds.tlp)
    -confidence N      0 to 100 (default 80)
    -valid-for D       expiry, e.g. 720h; 0: never (default: feeds.valid_for)
    -brand NAME        the brand it imitates
    -description TEXT  why it is an indicator
    -f FILE            read values from FILE ("-": standard input)
Flags of expire:
    -in D              expire after D, e.g. 24h (default 0: now); -never: never
    -never             remove the expiry
Flags of ls:
    -type T            only this type
    -revoked           include revoked indicators
    -jsonl             one JSON object a line

Examples:
    ward ioc add -brand RIVM -description "fake test-appointment site" rivm-afspraak[.]nl
    ward ioc add -type sha256 -f dropper-hashes.txt
    ward ioc ls -type domain
    ward ioc rm 42 rivm-afspraak.nl
`

func runIOC(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{msg: "ward ioc needs a subcommand: add, rm, expire or ls", cmd: "ioc"}
	}
	sub := args[0]
	switch sub {
	case "-h", "-help", "--help":
		fmt.Fprint(e.stdout, iocUsage)
		return nil
	case "add", "rm", "ls", "expire":
	default:
		return usageError{msg: fmt.Sprintf("unknown subcommand %q: use add, rm, expire or ls", sub), cmd: "ioc"}
	}
	fs := newFlagSet("ioc " + sub)
	cf := addCommonFlags(fs)
	typ := fs.String("type", "", "")
	scope := fs.String("scope", "", "")
	tlp := fs.String("tlp", "", "")
	confidence := fs.Int("confidence", 80, "")
	validFor := fs.String("valid-for", "", "")
	brandName := fs.String("brand", "", "")
	desc := fs.String("description", "", "")
	file := fs.String("f", "", "")
	revoked := fs.Bool("revoked", false, "")
	jsonl := fs.Bool("jsonl", false, "")
	expireIn := fs.Duration("in", 0, "")
	never := fs.Bool("never", false, "")
	if err := parseFlags(e, fs, iocUsage, args[1:]); err != nil {
		return err
	}
	usage := func(format string, a ...any) error {
		return usageError{msg: fmt.Sprintf(format, a...), cmd: "ioc"}
	}
	if *typ != "" && !slices.Contains(store.IndicatorTypes, *typ) {
		return usage("-type %q: use one of %s", *typ, strings.Join(store.IndicatorTypes, ", "))
	}
	values := fs.Args()
	if *file != "" {
		if sub != "add" {
			return usage("-f is a flag of ioc add")
		}
		more, err := readValues(e, *file)
		if err != nil {
			return err
		}
		values = append(values, more...)
	}
	switch {
	case sub == "ls" && len(values) > 0:
		return usage("ioc ls takes no arguments, got %q", values[0])
	case sub != "ls" && len(values) == 0:
		return usage("ioc %s needs at least one value", sub)
	}
	if *expireIn != 0 && sub != "expire" || *never && sub != "expire" {
		return usage("-in and -never are flags of ioc expire")
	}
	c, err := cf.open(ctx, sub == "add")
	if err != nil {
		return err
	}
	defer c.st.Close()
	switch sub {
	case "ls":
		return iocList(ctx, e, c, *typ, *revoked, *jsonl)
	case "rm":
		return iocRemove(ctx, e, c, values, func(id int64) (string, error) {
			return "revoked", c.st.RemoveIndicator(ctx, c.org, id)
		})
	case "expire":
		if *expireIn < 0 {
			return usage("-in %v: give a duration of 0 or more", *expireIn)
		}
		until := time.Now().Add(*expireIn)
		if *never {
			until = time.Time{}
		}
		return iocRemove(ctx, e, c, values, func(id int64) (string, error) {
			got, err := c.st.ExpireIndicator(ctx, c.org, id, until)
			if got.ValidUntil.IsZero() {
				return "never expires:", err
			}
			return "expires " + got.ValidUntil.UTC().Format(time.RFC3339) + ":", err
		})
	}
	in := store.Indicator{Org: c.org, Scope: *scope, TLP: *tlp, Confidence: *confidence, Source: intel.SourceManual,
		Brand: *brandName, Description: *desc}
	if in.Scope == "" {
		in.Scope = c.cfg.Feeds.Scope
	}
	if in.TLP == "" {
		in.TLP = c.cfg.Feeds.TLP
	}
	if !slices.Contains(store.Scopes, in.Scope) {
		return usage("-scope %q: use private or shared", in.Scope)
	}
	if !slices.Contains(store.TLPs, in.TLP) {
		return usage("-tlp %q: use one of %s", in.TLP, strings.Join(store.TLPs, ", "))
	}
	if in.Confidence < 0 || in.Confidence > 100 {
		return usage("-confidence %d: use 0 to 100", in.Confidence)
	}
	valid := c.cfg.Feeds.ValidFor
	if *validFor != "" {
		if valid, err = time.ParseDuration(*validFor); err != nil || valid < 0 {
			return usage("-valid-for %q: give a duration such as 720h, or 0 for never", *validFor)
		}
	}
	if valid > 0 {
		in.ValidUntil = time.Now().Add(valid)
	}
	return iocAdd(ctx, e, c, in, intel.Type(*typ), values)
}

// readValues reads one value a line from a file or standard input,
// skipping blank lines and # comments.
func readValues(e *env, name string) ([]string, error) {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), intel.MaxValueLen+2)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(out) >= 1_000_000 {
			return nil, fmt.Errorf("%s: more than 1,000,000 values: split the file", name)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w (values are at most %d bytes)", name, err, intel.MaxValueLen)
	}
	return out, nil
}

func iocAdd(ctx context.Context, e *env, c *storeCmd, tmpl store.Indicator, typ intel.Type, values []string) error {
	warn, err := feeds.Warninglist(c.cfg)
	if err != nil {
		return err
	}
	var batch []store.Indicator
	bad := 0
	for _, v := range values {
		var x intel.Indicator
		if typ != "" {
			x, err = intel.Parse(typ, v)
		} else {
			x, err = intel.Guess(v)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "ward: skipped %q: %v\n", clipArg(v), err)
			bad++
			continue
		}
		if warn.Contains(x) {
			fmt.Fprintf(e.stderr, "ward: skipped %s %s: it is on the warninglist (an official, configured or popular name): ward never blocks it\n", x.Type, x.Value)
			bad++
			continue
		}
		in := tmpl
		in.Type, in.Value = string(x.Type), x.Value
		batch = append(batch, in)
	}
	n, _, err := c.st.UpsertIndicators(ctx, batch)
	if err != nil && !errors.Is(err, store.ErrInvalid) {
		return err
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "ward: %v\n", err)
	}
	fmt.Fprintf(e.stdout, "recorded %d indicators for %s (%s, TLP %s)\n", n, c.org, tmpl.Scope, tmpl.TLP)
	if bad > 0 || n < len(batch) {
		return errSilentExit
	}
	return nil
}

// iocRemove applies act (revoke, expire) to the organisation's
// indicators named by ID or value, and says what it did.
func iocRemove(ctx context.Context, e *env, c *storeCmd, values []string, act func(id int64) (string, error)) error {
	failed := false
	for _, v := range values {
		ids, err := resolveIndicator(ctx, c, v)
		if err == nil && len(ids) == 0 {
			err = fmt.Errorf("%s has no standing indicator %q (ward ioc ls lists them)", c.org, clipArg(v))
		}
		for _, id := range ids {
			var did string
			if did, err = act(id); err != nil {
				break
			}
			fmt.Fprintf(e.stdout, "%s %d\n", did, id)
		}
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("%s has no standing indicator %q (another organisation's cannot be removed)", c.org, clipArg(v))
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "ward: %v\n", err)
			failed = true
		}
	}
	if failed {
		return errSilentExit
	}
	return nil
}

// resolveIndicator turns an ID or a value into the organisation's
// indicator IDs.
func resolveIndicator(ctx context.Context, c *storeCmd, v string) ([]int64, error) {
	if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
		return []int64{id}, nil
	}
	x, err := intel.Guess(v)
	if err != nil {
		return nil, fmt.Errorf("%q is neither an indicator ID nor a value: %w", clipArg(v), err)
	}
	got, err := c.st.Indicators(ctx, store.IndicatorFilter{Org: c.org, Values: []string{x.Value}})
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, in := range got {
		if in.Org == c.org {
			ids = append(ids, in.ID)
		}
	}
	return ids, nil
}

func iocList(ctx context.Context, e *env, c *storeCmd, typ string, revoked, jsonl bool) error {
	f := store.IndicatorFilter{Org: c.org, Revoked: revoked}
	if typ != "" {
		f.Types = []string{typ}
	}
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !jsonl {
		fmt.Fprintln(tw, "ID\tTYPE\tVALUE\tORG\tSCOPE\tTLP\tSOURCE\tVALID UNTIL\tSTATE")
	}
	enc := json.NewEncoder(w)
	for in, err := range store.AllIndicators(ctx, c.st, f) {
		if err != nil {
			return err
		}
		if jsonl {
			if err := enc.Encode(in); err != nil {
				return err
			}
			continue
		}
		until, state := "never", "standing"
		if !in.ValidUntil.IsZero() {
			until = in.ValidUntil.UTC().Format(time.DateOnly)
			if in.ValidUntil.Before(time.Now()) {
				state = "expired"
			}
		}
		if !in.RevokedAt.IsZero() {
			state = "revoked " + in.RevokedAt.UTC().Format(time.DateOnly)
		}
		value := strconv.QuoteToGraphic(in.Value) // control characters shown escaped
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, in.Type, value[1:len(value)-1],
			in.Org, in.Scope, in.TLP, in.Source, until, state)
	}
	return tw.Flush()
}

// clipArg shortens a value for a message.
func clipArg(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
