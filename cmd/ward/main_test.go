package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts in testdata/script run "ward" as a real
// process: testscript re-executes this test binary as the command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ward": func() {
			// As main: SIGINT and SIGTERM end the context, not the process.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
			code := run(ctx, e, os.Args[1:])
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs the golden end-to-end tests of the CLI.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
