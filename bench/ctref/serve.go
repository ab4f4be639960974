package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ward-health/ward/examples"
	"github.com/ward-health/ward/internal/brand"
	"github.com/ward-health/ward/internal/ct/cttest"
)

// serveLoad feeds ward serve a local static CT log growing by rate
// certificates a second, against 1,000 brands, and reads the daemon's CPU
// time and peak memory from /proc.
func serveLoad(ctx context.Context, bin string, rate int, window time.Duration) error {
	fmt.Printf("== ward serve: a local CT log growing by %d certificates/s, 1,000 brands, CPU over %v after 10 s\n", rate, window)
	dir, err := os.MkdirTemp("", "ward-serve-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// 1,000 brands: the health set's domains and synthetic ones.
	set, err := brand.Parse("brands-health.yaml", examples.HealthBrands)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	var domains []string
	seen := map[string]bool{}
	for _, b := range set.Brands {
		for _, d := range b.Domains {
			if !seen[d] {
				seen[d] = true
				domains = append(domains, d)
			}
		}
	}
	tlds := []string{"com", "nl", "org", "de", "fr", "net", "eu", "be"}
	for len(domains) < 1000 {
		d := label(r, 6+r.IntN(6)) + "." + tlds[r.IntN(len(tlds))]
		if !seen[d] {
			seen[d] = true
			domains = append(domains, d)
		}
	}
	brandsPath := filepath.Join(dir, "brands.txt")
	if err := os.WriteFile(brandsPath, []byte(strings.Join(domains, "\n")+"\n"), 0o644); err != nil {
		return err
	}

	l, err := cttest.New(cttest.Static)
	if err != nil {
		return err
	}
	defer l.Close()
	cfg := fmt.Sprintf(`organisations:
  - name: bench
    tokens: ["bench-token-0123456789abcdef"]
    brands_file: %q
sources:
  ct:
    log_list: none
    logs: [{url: %q, key: %q, type: static}]
enrichment:
  resolvers: ["127.0.0.1:9"]
  timeout: 1s
storage:
  path: %q
api:
  listen: 127.0.0.1:0
`, brandsPath, l.URL(), l.Key(), filepath.Join(dir, "ward.db"))
	cfgPath := filepath.Join(dir, "ward.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}

	// The certificates are made beforehand, so that the feed keeps its
	// rate: one name in a thousand imitates a health brand.
	total := rate * int(10*time.Second+window+5*time.Second) / int(time.Second)
	fmt.Printf("making %d certificates...\n", total)
	certs := make([][]byte, total)
	for i := range certs {
		name := label(r, 4+r.IntN(8)) + "." + tlds[r.IntN(len(tlds))]
		if i%1000 == 999 {
			name = fmt.Sprintf("rivm-coronatest-%d.nl", i)
		}
		if certs[i], _, err = l.CA().Cert(int64(i+1), []string{name, "www." + name}, true); err != nil {
			return err
		}
	}
	cmd := exec.Command(bin, "serve", "-config", cfgPath, "-data", filepath.Join(dir, "data"), "-log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() }()
	// Feed: rate certificates a second, published every 100 ms.
	stop := make(chan struct{})
	fed := make(chan int, 1)
	go func() {
		n := 0
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				fed <- n
				return
			case <-tick.C:
			}
			for range rate / 10 {
				if n == len(certs) {
					break
				}
				if err := l.AddCert(certs[n]); err != nil {
					fmt.Fprintln(os.Stderr, "ctref: adding an entry:", err)
				}
				n++
			}
			l.Publish()
		}
	}()
	time.Sleep(10 * time.Second)
	cpu0, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	time.Sleep(window)
	cpu1, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		return err
	}
	elapsed := time.Since(t0)
	close(stop)
	n := <-fed
	hwm, rss := procMem(cmd.Process.Pid)
	fmt.Printf("fed %d certificates (%.0f/s); ward serve used %.2f s of CPU in %.1f s: %.1f%% of one core; VmHWM %s, VmRSS %s\n",
		n, float64(n)/(elapsed.Seconds()+10), cpu1-cpu0, elapsed.Seconds(), 100*(cpu1-cpu0)/elapsed.Seconds(), hwm, rss)
	return nil
}

func label(r *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// cpuTime returns a process's user and system CPU seconds.
func cpuTime(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

func procMem(pid int) (hwm, rss string) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?", "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		switch k {
		case "VmHWM":
			hwm = strings.TrimSpace(v)
		case "VmRSS":
			rss = strings.TrimSpace(v)
		}
	}
	return hwm, rss
}
