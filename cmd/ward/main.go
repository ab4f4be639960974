// Command ward keeps watch for hospitals and health authorities: it finds
// look-alike domains of their brands, triages suspicious mail and shares what
// it learns. This file parses the subcommand and wires packages together; the
// logic lives under internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `ward keeps watch for hospitals and health authorities.

Usage:
    ward lookalikes [flags] DOMAIN...   generate look-alike domains of DOMAIN
    ward match [flags]                  find names that imitate a protected brand
    ward eval [flags]                   measure the matcher on ../shared/data
    ward ct tail [flags]                follow Certificate Transparency logs
    ward mail analyze [flags] FILE|DIR  judge reported mail: malicious, phishing, suspicious, clean
    ward mail eval [flags]              measure the mail analyzer on ../shared/data/mail
    ward serve [-config FILE]           run the watching daemon (API on 127.0.0.1:8080)
    ward config check FILE              check a ward serve configuration
    ward feed export -format F [-o P]   write the indicators as rpz, stix, misp, csv or hosts
    ward ioc add|rm|expire|ls           record, revoke, expire and list indicators
    ward brands [-brands FILE]          print the brand set in effect
    ward version                        print the version

Run "ward COMMAND -h" for the flags of a command.

Examples:
    ward lookalikes -jsonl rivm.nl
    echo rivm-coronatest.nl | ward match -jsonl
    ward match -brands brands.yaml -l names.txt -silent
    ward ct tail -brands brands.yaml -state ./ct-state
    ward mail analyze -jsonl -fail-on phishing reported/
`

// command is one subcommand. run receives the arguments after the command
// name and returns an error; usageError values print the command's usage.
type command struct {
	name string
	run  func(ctx context.Context, env *env, args []string) error
}

// env carries the process's streams so tests can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stderrTTY reports whether stderr is a terminal (progress bars).
	stderrTTY bool
}

// usageError marks an error caused by bad flags or arguments; main prints
// it with a hint to run "ward CMD -h" and exits with status 2. cmd is the
// command whose usage to show ("mail analyze"); empty means the top-level
// command name.
type usageError struct{ msg, cmd string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{msg: fmt.Sprintf(format, args...)}
}

// errSilentExit is returned when the command already reported the problem
// (for example a -fail-on condition) and only the exit status remains.
var errSilentExit = errors.New("exit status 1")

func commands() []command {
	return []command{
		{"lookalikes", runLookalikes},
		{"match", runMatch},
		{"eval", runEval},
		{"ct", runCT},
		{"mail", runMail},
		{"serve", runServe},
		{"config", runConfig},
		{"feed", runFeed},
		{"ioc", runIOC},
		{"brands", runBrands},
		{"version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, stderrTTY: isTerminal(os.Stderr)}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 2
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" || name == "help" {
		fmt.Fprint(e.stdout, usage)
		return 0
	}
	if name == "-version" || name == "--version" {
		name = "version"
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errSilentExit):
			return 1
		}
		var ue usageError
		if errors.As(err, &ue) {
			cmd := name
			if ue.cmd != "" {
				cmd = ue.cmd
			}
			fmt.Fprintf(e.stderr, "ward: error: %s\nward: hint: run \"ward %s -h\" for usage\n", ue.msg, cmd)
			return 2
		}
		fmt.Fprintf(e.stderr, "ward: error: %s\n", err)
		var h interface{ Hint() string }
		if errors.As(err, &h) && h.Hint() != "" {
			fmt.Fprintf(e.stderr, "ward: hint: %s\n", h.Hint())
		}
		return 1
	}
	fmt.Fprintf(e.stderr, "ward: error: unknown command %q\nward: hint: run \"ward -h\" for the list of commands\n", name)
	return 2
}

// newFlagSet returns a FlagSet that reports errors instead of exiting;
// parseFlags prints the command's usage text.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ward "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args; -h prints text to stdout, other errors become
// usage errors.
func parseFlags(e *env, fs *flag.FlagSet, text string, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, text)
			return flag.ErrHelp
		}
		return usageError{msg: err.Error()}
	}
	return nil
}

func runVersion(_ context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprintf(e.stdout, "ward %s\n", version())
	return nil
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev + dirty
	}
	return v + " " + bi.GoVersion
}
