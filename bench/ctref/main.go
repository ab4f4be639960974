// Command ctref measures ward's CT follower against local logs and compares
// it, in the same run and on the same logs, with the reference clients:
// certificate-transparency-go's scanner (RFC 6962) and filippo.io/sunlight's
// client (static-ct-api). It also measures how soon an entry appended to a
// followed log is printed, and ward's peak memory while following 40 logs.
//
// It lives in its own module so that the reference clients never become
// dependencies of ward. The logs are package cttest's in-process servers on
// loopback; nothing leaves the machine.
//
//	go build -o /tmp/ward ./cmd/ward
//	cd bench/ctref && go run . -ward /tmp/ward
package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"filippo.io/sunlight"
	ct "github.com/google/certificate-transparency-go"
	"github.com/google/certificate-transparency-go/client"
	"github.com/google/certificate-transparency-go/jsonclient"
	"github.com/google/certificate-transparency-go/scanner"

	"github.com/ward-health/ward/internal/ct/cttest"
)

func main() {
	wardBin := flag.String("ward", "", "path to a built ward binary (go build -o /tmp/ward ./cmd/ward)")
	n := flag.Int("n", 100_000, "entries per log for the throughput comparison")
	rounds := flag.Int("rounds", 3, "rounds of the throughput comparison, clients alternating")
	nlogs := flag.Int("logs", 40, "logs followed for the memory figure")
	perLog := flag.Int("per-log", 2000, "entries per log, with distinct certificates, for the memory figure")
	latencyN := flag.Int("latency-entries", 20, "entries appended per log for the latency figure")
	only := flag.String("only", "", "run one part: throughput, latency, memory or serve")
	rate := flag.Int("serve-rate", 1000, "certificates a second fed to ward serve")
	serveFor := flag.Duration("serve-for", 30*time.Second, "how long ward serve's CPU is measured, after 10 s of warm-up")
	flag.Parse()
	if *wardBin == "" {
		fmt.Fprintln(os.Stderr, "ctref: error: -ward is required\nctref: hint: go build -o /tmp/ward ./cmd/ward, then -ward /tmp/ward")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	if *only == "" || *only == "throughput" {
		err = throughput(ctx, *wardBin, *n, *rounds)
	}
	if err == nil && (*only == "" || *only == "latency") {
		err = latency(ctx, *wardBin, *latencyN)
	}
	if err == nil && (*only == "" || *only == "memory") {
		err = memory(ctx, *wardBin, *nlogs, *perLog)
	}
	if err == nil && (*only == "" || *only == "serve") {
		err = serveLoad(ctx, *wardBin, *rate, *serveFor)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctref: error:", err)
		os.Exit(1)
	}
}

// newLog starts a log with n entries, all logging the same certificate
// when same is set (fast to build), published.
func newLog(kind cttest.Kind, n int, same bool) (*cttest.Log, error) {
	l, err := cttest.New(kind)
	if err != nil {
		return nil, err
	}
	if same {
		der, _, err := l.CA().Cert(1, []string{"www.example.com", "example.com"}, true)
		if err != nil {
			return nil, err
		}
		l.SetSameCert(der)
	}
	// Real RFC 6962 logs serve at most 256 to 1024 entries per request.
	l.SetFaults(cttest.Faults{MaxBatch: 1000})
	if err := l.AddN(n, "com"); err != nil {
		return nil, err
	}
	l.Publish()
	return l, nil
}

func logArgs(logs ...*cttest.Log) []string {
	var args []string
	for _, l := range logs {
		args = append(args, "-log", l.URL(), "-log-key", l.Key(), "-log-type", l.Kind().String())
	}
	return args
}

// runWard starts ward ct tail on logs and calls line for every output
// line; it returns the command, already started.
func runWard(bin string, extra []string, logs []*cttest.Log, line func([]byte)) (*exec.Cmd, chan error, error) {
	args := append([]string{"ct", "tail", "-stats", "0"}, extra...)
	args = append(args, logArgs(logs...)...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line(sc.Bytes())
		}
		done <- cmd.Wait()
	}()
	return cmd, done, nil
}

// wardFollow times ward reading a log from the start to n entries.
func wardFollow(bin string, l *cttest.Log, n int) (time.Duration, error) {
	var count atomic.Int64
	reached := make(chan time.Time, 1)
	start := time.Now()
	cmd, done, err := runWard(bin, []string{"-from-start", "-dedup-window", "0"}, []*cttest.Log{l}, func([]byte) {
		if count.Add(1) == int64(n) {
			reached <- time.Now()
		}
	})
	if err != nil {
		return 0, err
	}
	var end time.Time
	select {
	case end = <-reached:
	case err := <-done:
		return 0, fmt.Errorf("ward exited after %d lines: %v", count.Load(), err)
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		return 0, fmt.Errorf("ward printed %d of %d lines in 2 minutes", count.Load(), n)
	}
	cmd.Process.Signal(syscall.SIGINT)
	<-done
	return end.Sub(start), nil
}

// scannerFollow times certificate-transparency-go's scanner reading an
// RFC 6962 log from the start, parsing every certificate (MatchAll).
func scannerFollow(ctx context.Context, l *cttest.Log, n int) (time.Duration, error) {
	der, _ := base64.StdEncoding.DecodeString(l.Key())
	start := time.Now()
	lc, err := client.New(strings.TrimSuffix(l.URL(), "/"), &http.Client{}, jsonclient.Options{PublicKeyDER: der})
	if err != nil {
		return 0, err
	}
	opts := scanner.DefaultScannerOptions()
	opts.BatchSize, opts.ParallelFetch, opts.StartIndex, opts.EndIndex = 1000, 4, 0, int64(n)
	opts.Matcher = &scanner.MatchAll{}
	opts.NumWorkers = 2
	var count atomic.Int64
	found := func(*ct.RawLogEntry) { count.Add(1) }
	if err := scanner.NewScanner(lc, *opts).Scan(ctx, found, found); err != nil {
		return 0, err
	}
	if c := count.Load(); c != int64(n) {
		return 0, fmt.Errorf("scanner saw %d entries, want %d", c, n)
	}
	return time.Since(start), nil
}

// sunlightFollow times filippo.io/sunlight's client reading a static log
// from the start: checkpoint verified, tiles authenticated, entries
// decoded; with names, each certificate is also parsed for its names.
func sunlightFollow(ctx context.Context, l *cttest.Log, n int, names bool) (time.Duration, error) {
	der, _ := base64.StdEncoding.DecodeString(l.Key())
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	c, err := sunlight.NewClient(&sunlight.ClientConfig{MonitoringPrefix: l.URL(), PublicKey: pub,
		UserAgent: "ward-ctref (+https://github.com/ward-health/ward)", ConcurrencyLimit: 4})
	if err != nil {
		return 0, err
	}
	cp, _, err := c.Checkpoint(ctx)
	if err != nil {
		return 0, err
	}
	count := 0
	for _, e := range c.Entries(ctx, cp.Tree, 0) {
		if names {
			cert, err := x509.ParseCertificate(e.Certificate)
			if err != nil || len(cert.DNSNames) == 0 {
				return 0, fmt.Errorf("entry %d: no names: %v", count, err)
			}
		}
		count++
	}
	if err := c.Err(); err != nil {
		return 0, err
	}
	if count != n {
		return 0, fmt.Errorf("sunlight client saw %d entries, want %d", count, n)
	}
	return time.Since(start), nil
}

func throughput(ctx context.Context, bin string, n, rounds int) error {
	// The sunlight client stops before a partial data tile: whole tiles
	// only, so that every client reads the same entries.
	n = (n + 255) / 256 * 256
	fmt.Printf("== following a local log of %d entries from the start (wall time, %d rounds, clients alternating)\n", n, rounds)
	static, err := newLog(cttest.Static, n, true)
	if err != nil {
		return err
	}
	defer static.Close()
	rfc, err := newLog(cttest.RFC6962, n, true)
	if err != nil {
		return err
	}
	defer rfc.Close()
	type runner struct {
		name string
		run  func() (time.Duration, error)
	}
	runners := []runner{
		{"static     ward ct tail (verify, decode, names, JSON out)", func() (time.Duration, error) { return wardFollow(bin, static, n) }},
		{"static     sunlight client (verify, decode)", func() (time.Duration, error) { return sunlightFollow(ctx, static, n, false) }},
		{"static     sunlight client + crypto/x509 names", func() (time.Duration, error) { return sunlightFollow(ctx, static, n, true) }},
		{"rfc6962    ward ct tail (verify, decode, names, JSON out)", func() (time.Duration, error) { return wardFollow(bin, rfc, n) }},
		{"rfc6962    ct-go scanner (MatchAll: parses, no verification)", func() (time.Duration, error) { return scannerFollow(ctx, rfc, n) }},
	}
	times := make([][]time.Duration, len(runners))
	for r := range rounds {
		for i, rn := range runners {
			d, err := rn.run()
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", rn.name, r+1, err)
			}
			times[i] = append(times[i], d)
		}
	}
	for i, rn := range runners {
		slices.Sort(times[i])
		med := times[i][len(times[i])/2]
		fmt.Printf("%-62s  median %6.2f s  (%s)  %7.0f entries/s\n", rn.name, med.Seconds(), list(times[i]), float64(n)/med.Seconds())
	}
	return nil
}

func list(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, strconv.FormatFloat(d.Seconds(), 'f', 2, 64))
	}
	return strings.Join(s, ", ")
}

// latency appends entries to a followed static and RFC 6962 log, one at a
// time at uneven intervals, and measures how long ward takes to print each.
func latency(ctx context.Context, bin string, k int) error {
	fmt.Printf("== latency: %d entries appended one by one to each followed log (ward -poll 1s)\n", k)
	logs := make([]*cttest.Log, 2)
	for i, kind := range []cttest.Kind{cttest.Static, cttest.RFC6962} {
		l, err := newLog(kind, 1000, false)
		if err != nil {
			return err
		}
		defer l.Close()
		logs[i] = l
	}
	seen := make(chan [2]any, 2*k)
	cmd, done, err := runWard(bin, []string{"-from-now"}, logs, func(b []byte) {
		var ev struct{ Names []string }
		if json.Unmarshal(b, &ev) == nil && len(ev.Names) > 0 {
			seen <- [2]any{ev.Names[0], time.Now()}
		}
	})
	if err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGINT); <-done }()
	time.Sleep(3 * time.Second) // ward reads both heads
	added := map[string]time.Time{}
	for i := range k {
		for _, l := range logs {
			name := fmt.Sprintf("latency-%d.%s.example", i, l.Kind())
			if err := l.Add([]string{name}, i%2 == 0); err != nil {
				return err
			}
			l.Publish()
			added[name] = time.Now()
		}
		time.Sleep(time.Duration(300+i*137%900) * time.Millisecond)
	}
	lat := map[string][]time.Duration{}
	deadline := time.After(15 * time.Second)
	for got := 0; got < len(added); {
		select {
		case s := <-seen:
			name := s[0].(string)
			t0, ok := added[name]
			if !ok {
				return fmt.Errorf("ward printed %q, which was not appended", name)
			}
			kind := strings.Split(name, ".")[1]
			lat[kind] = append(lat[kind], s[1].(time.Time).Sub(t0))
			got++
		case <-deadline:
			return fmt.Errorf("only %d of %d appended entries printed within 15 s", got, len(added))
		case err := <-done:
			return fmt.Errorf("ward exited: %v", err)
		}
	}
	for _, kind := range []string{"static", "rfc6962"} {
		ds := lat[kind]
		slices.Sort(ds)
		fmt.Printf("%-8s %d entries: min %.2f s  median %.2f s  p95 %.2f s  max %.2f s\n", kind, len(ds),
			ds[0].Seconds(), ds[len(ds)/2].Seconds(), ds[len(ds)*95/100].Seconds(), ds[len(ds)-1].Seconds())
	}
	return nil
}

// memory follows nlogs logs (half static, half RFC 6962) from the start,
// each with perLog distinct certificates, while entries keep arriving,
// and reads ward's peak resident memory from /proc.
func memory(ctx context.Context, bin string, nlogs, perLog int) error {
	fmt.Printf("== memory: %d logs of %d distinct certificates each, followed from the start, then 20 s of new entries\n", nlogs, perLog)
	logs := make([]*cttest.Log, nlogs)
	for i := range logs {
		kind := cttest.RFC6962
		if i%2 == 0 {
			kind = cttest.Static
		}
		l, err := newLog(kind, perLog, false)
		if err != nil {
			return err
		}
		defer l.Close()
		logs[i] = l
	}
	var lines atomic.Int64
	cmd, done, err := runWard(bin, []string{"-from-start"}, logs, func([]byte) { lines.Add(1) })
	if err != nil {
		return err
	}
	start := time.Now()
	for time.Since(start) < 20*time.Second {
		for _, l := range logs {
			if err := l.AddN(2, "net"); err != nil {
				return err
			}
			l.Publish()
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return err
	}
	cmd.Process.Signal(syscall.SIGINT)
	<-done
	want := 0
	for _, l := range logs {
		want += int(l.Size())
	}
	for _, ln := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(ln, "VmHWM") || strings.HasPrefix(ln, "VmRSS") {
			fmt.Println(strings.Join(strings.Fields(ln), " "))
		}
	}
	fmt.Printf("lines printed: %d of %d entries logged\n", lines.Load(), want)
	return nil
}
