package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/ward-health/ward/internal/config"
)

const configUsage = `Usage: ward config check FILE

Reads a ward serve configuration, expands its ${ENV} references, reads the
brands files it names, and checks every field, without starting anything.
Prints a summary when the file is valid; otherwise every problem, one per
line, with its line, its field and the fix, and exits with status 1.

The commented example in examples/ward.yaml describes every field.

Examples:
    ward config check /etc/ward/ward.yaml
    WARD_SMTP_PASSWORD=x ward config check examples/ward.yaml
`

func runConfig(_ context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprint(e.stdout, configUsage)
			return nil
		}
		return usagef("ward config needs a subcommand: check FILE")
	}
	fs := newFlagSet("config check")
	if err := parseFlags(e, fs, configUsage, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("config check needs one FILE, got %d arguments", fs.NArg())
	}
	c, err := config.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: valid\n%s", fs.Arg(0), summary(c))
	return nil
}

// summary describes a configuration in a few lines.
func summary(c *config.Config) string {
	var b strings.Builder
	for _, o := range c.Organisations {
		fmt.Fprintf(&b, "organisation %s: %d brands, %d API tokens\n", o.Name, len(o.BrandSet.Brands), len(o.Tokens))
	}
	ct := "off"
	if c.Sources.CT.On() {
		ct = "the built-in log list"
		if c.Sources.CT.LogList != "" {
			ct = c.Sources.CT.LogList
		}
		if n := len(c.Sources.CT.Logs); n > 0 {
			ct += fmt.Sprintf(" and %d more logs", n)
		}
	}
	fmt.Fprintf(&b, "sources: CT %s; %d newly-registered-domain lists; %d sweeps\n", ct, len(c.Sources.NRD), len(c.Sources.Sweep))
	var sinks []string
	for _, s := range c.Alerts.Sinks {
		sinks = append(sinks, s.Name+" ("+s.Type+")")
	}
	if len(sinks) == 0 {
		sinks = []string{"none"}
	}
	fmt.Fprintf(&b, "alerts: %s\n", strings.Join(sinks, ", "))
	where := c.Storage.Path
	if c.Storage.Driver == "postgres" {
		where = "(DSN given)"
	}
	fmt.Fprintf(&b, "storage: %s %s\napi: http://%s/\n", c.Storage.Driver, where, c.API.Listen)
	return b.String()
}
