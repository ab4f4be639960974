package ct

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/ct/cttest"
)

// killChild, set in the environment, makes the test binary a tailer that
// the parent kills with SIGKILL (see TestKill9ExactlyOnce).
const killChild = "WARD_CT_KILL_CHILD"

type childLog struct {
	URL    string
	Static bool
	Key    string
}

type childConfig struct {
	Logs          []childLog
	State, Output string
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(killChild); spec != "" {
		os.Exit(runKillChild(spec))
	}
	os.Exit(m.Run())
}

func runKillChild(spec string) int {
	var cc childConfig
	if err := json.Unmarshal([]byte(spec), &cc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	var logs []Log
	for _, l := range cc.Logs {
		k, err := ParseLogKey(l.Key)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		typ := LogRFC6962
		if l.Static {
			typ = LogStatic
		}
		logs = append(logs, Log{Description: l.URL, URL: l.URL, Type: typ, Key: k})
	}
	f, err := os.OpenFile(cc.Output, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	tl, err := NewTailer(TailConfig{Logs: logs, Start: Start{FromStart: true}, StateDir: cc.State,
		Poll: 10 * time.Millisecond, Out: f, Format: jsonLine, CommitEvery: 10 * time.Millisecond, Concurrency: 2})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if err := tl.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestKill9ExactlyOnce runs the tailer in a child process, kills it with
// SIGKILL at varying moments, and restarts it, until both logs are read:
// the output file must hold every entry exactly once.
func TestKill9ExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	logs := []*cttest.Log{newFakeLog(t, false), newFakeLog(t, true)}
	cc := childConfig{State: filepath.Join(t.TempDir(), "state"), Output: filepath.Join(t.TempDir(), "out.jsonl")}
	for _, fl := range logs {
		must(t, fl.AddN(1500, "com"))
		fl.Publish()
		fl.SetFaults(cttest.Faults{MaxBatch: 10})
		cc.Logs = append(cc.Logs, childLog{URL: fl.URL(), Static: fl.Kind() == cttest.Static, Key: fl.Key()})
	}
	spec, _ := json.Marshal(cc)
	want := 3000
	done := func() int {
		b, _ := os.ReadFile(cc.Output)
		return bytes.Count(b, []byte("\n"))
	}
	kills, early := 0, 0
	for round := 0; ; round++ {
		if round > 60 {
			t.Fatalf("no progress after %d restarts: %d lines", round, done())
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killChild+"="+string(spec))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at varying moments; later rounds live longer, so that slow
		// machines progress too.
		time.Sleep(time.Duration(5+(round*37)%60+round*round) * time.Millisecond)
		finished := done() >= want
		if !finished {
			early++
		}
		cmd.Process.Kill()
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("child ended by itself (%v): %s", err, stderr.String())
		}
		kills++
		if finished && early >= 2 {
			break
		}
	}
	b, err := os.ReadFile(cc.Output)
	if err != nil {
		t.Fatal(err)
	}
	// A line cut by the kill can only be the last one; positions saved
	// before it do not cover it, so a restart would cut it off.
	if i := bytes.LastIndexByte(b, '\n'); i < len(b)-1 {
		b = b[:i+1]
	}
	evs := parseEvents(t, b)
	for _, fl := range logs {
		checkIndexes(t, evs, fl.URL(), 1500)
	}
	t.Logf("%d kills, %d before the end", kills, early)
}
