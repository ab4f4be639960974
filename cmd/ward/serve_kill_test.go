package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/alert"
	"github.com/ward-health/ward/internal/ct/cttest"
	"github.com/ward-health/ward/internal/store"
)

// TestServeKill9 runs ward serve as a child process and kills it with
// SIGKILL at varying moments while a CT log grows, then lets it finish:
// every look-alike logged must be exactly one finding with exactly one
// alert for its first check, and the webhook must have received each
// alert (a kill between a send and its record may repeat one, with the
// same ID: at least once, never a different ID for the same change).
func TestServeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	log, err := cttest.New(cttest.Static)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	var mu sync.Mutex
	got := map[string]int{}       // alert ID → deliveries
	bySubject := map[string]int{} // distinct alert IDs per look-alike
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a alert.Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		if got[a.ID] == 0 {
			bySubject[a.Subject]++
		}
		got[a.ID]++
		mu.Unlock()
	}))
	defer hook.Close()

	dir := t.TempDir()
	db := filepath.Join(dir, "ward.db")
	cfg := fmt.Sprintf(`organisations:
  - name: demo
    tokens: ["kill-test-token-0123456789"]
    brands: [{name: RIVM, domains: [rivm.nl], keywords: [coronatest]}]
sources:
  ct:
    log_list: none
    logs: [{url: %q, key: %q, type: static}]
    start: start
    poll: 100ms
enrichment:
  resolvers: ["127.0.0.1:9"]
  timeout: 1s
  rate_limit: 100
alerts:
  sinks: [{name: soc, type: webhook, format: json, url: %q}]
storage:
  path: %q
api:
  listen: 127.0.0.1:0
`, log.URL(), log.Key(), hook.URL, db)
	cfgPath := filepath.Join(dir, "ward.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// The test binary runs as "ward" when called by that name (TestMain).
	bin := filepath.Join(dir, "bin", "ward")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "-config", cfgPath, "-data", filepath.Join(dir, "data"), "-log-level", "error")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	lookalikes := 0
	grow := func(round int) {
		for i := range 30 {
			name := fmt.Sprintf("www.example-%d-%d.com", round, i)
			if i%3 == 0 {
				name = fmt.Sprintf("rivm-coronatest-%d-%d.nl", round, i)
				lookalikes++
			}
			if err := log.Add([]string{name}, false); err != nil {
				t.Fatal(err)
			}
			if i%10 == 9 {
				log.Publish()
			}
		}
	}
	r := rand.New(rand.NewPCG(7, 9))
	for round := range 8 {
		grow(round)
		cmd := start()
		time.Sleep(time.Duration(150+r.IntN(1200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	// The last run is left to finish, then stopped gently.
	cmd := start()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(bySubject)
		mu.Unlock()
		if n == lookalikes {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			t.Fatalf("%d of %d look-alikes alerted within 60 s", n, lookalikes)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("ward serve after SIGINT: %v", err)
	}

	st, err := store.OpenSQLite(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var findings []store.Finding
	after := ""
	for {
		page, next, err := st.Findings(context.Background(), store.Filter{Org: "demo", Limit: 500, After: after})
		if err != nil {
			t.Fatal(err)
		}
		findings = append(findings, page...)
		if next == "" {
			break
		}
		after = next
	}
	if len(findings) != lookalikes {
		t.Errorf("%d findings, want %d (one per look-alike logged)", len(findings), lookalikes)
	}
	repeats := 0
	for _, f := range findings {
		d, err := st.Finding(context.Background(), "demo", f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Alerts) != 1 {
			t.Errorf("%s: %d alerts, want exactly one", f.Domain, len(d.Alerts))
		}
		if bySubject[f.Domain] != 1 {
			t.Errorf("%s: %d distinct alert IDs delivered, want one", f.Domain, bySubject[f.Domain])
		}
	}
	for _, n := range got {
		repeats += n - 1
	}
	t.Logf("%d look-alikes, %d findings, %d deliveries repeated after a kill (same ID)", lookalikes, len(findings), repeats)
}
