package ct

import (
	"testing"

	"github.com/ward-health/ward/internal/ct/cttest"
)

// newFakeLog starts an in-process log (package cttest, written
// independently of this package) that stops when the test ends.
func newFakeLog(t testing.TB, static bool) *cttest.Log {
	t.Helper()
	kind := cttest.RFC6962
	if static {
		kind = cttest.Static
	}
	l, err := cttest.New(kind)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// logOf returns the log as a log list describes it.
func logOf(t testing.TB, l *cttest.Log) Log {
	t.Helper()
	key, err := ParseLogKey(l.Key())
	if err != nil {
		t.Fatal(err)
	}
	typ := LogRFC6962
	if l.Kind() == cttest.Static {
		typ = LogStatic
	}
	return Log{Description: "fake " + string(typ) + " " + l.URL(), Type: typ, URL: l.URL(), Key: key}
}

// must fails the test on a fake log's error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
