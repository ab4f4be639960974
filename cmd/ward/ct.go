package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ward-health/ward/internal/ct"
	"github.com/ward-health/ward/internal/lookalike"
)

const ctUsage = `Usage: ward ct tail [flags]

Follows Certificate Transparency logs, RFC 6962 and static-ct-api (tiled),
and prints one JSON line per new certificate:
{"log","index","timestamp","precert","names","issuer","not_before",
"not_after","sha256"}. Every tree head's signature is checked, and every
entry is checked to hash into a signed tree before it is printed; a log that
signs something false is reported and left, the others go on.

Without -log, it follows every usable or qualified log of the log list.

Flags:
    -log-list FILE|URL  Chrome v3 log list (default: the built-in snapshot);
                        a URL's signature (.sig next to it) is checked with
                        Google's log list key when it exists
    -log URL            follow this log (repeatable); needs -log-key
    -log-key BASE64     the log's public key (DER, base64), one per -log
    -log-type TYPE      rfc6962 or static, one per -log (default rfc6962)
    -from-start         begin new logs at their first entry
    -from-now           begin new logs at their current head (default)
    -from N             begin new logs at entry N
    -state DIR          keep each log's position in DIR; a restart goes on
                        where the last run stopped (see docs/ct.md)
    -o FILE             write to FILE (appending); with -state, a restart
                        after a crash neither loses nor repeats a line
    -brands FILE        print only certificates with a name imitating a
                        brand, with the match fields added
    -brand DOMAIN       protect DOMAIN too (repeatable)
    -min-score N        with -brands: the lowest score printed (default 60)
    -jsonl              one JSON object per line (the default)
    -silent             print only names, one per line; no counters
    -dedup-window D     one event per certificate seen within D, as
                        precertificate and certificate or in several logs
                        (default 10m; 0 turns it off)
    -poll D             how often a caught-up log is asked for news (1s)
    -timeout D          limit for each request (30s)
    -t N                requests in flight per log (4)
    -stats D            log per-log counters on stderr every D (30s; 0: never)
    -metrics ADDR       serve Prometheus metrics at http://ADDR/metrics
                        (e.g. 127.0.0.1:9464); see docs/ct.md

Examples:
    ward ct tail -brands brands.yaml -state ./ct-state
    ward ct tail -silent | ward match -jsonl
    ward ct tail -log https://ct.example.org/2026h2/ -log-key MFkw... -from-start
`

func runCT(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "tail" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprint(e.stdout, ctUsage)
			return nil
		}
		return usagef("ward ct needs a subcommand: tail")
	}
	fs := newFlagSet("ct tail")
	var bf brandFlags
	bf.register(fs)
	var logs, keys, types stringList
	listSrc := fs.String("log-list", "", "")
	fs.Var(&logs, "log", "")
	fs.Var(&keys, "log-key", "")
	fs.Var(&types, "log-type", "")
	fromStart := fs.Bool("from-start", false, "")
	fromNow := fs.Bool("from-now", false, "")
	from := fs.Int64("from", -1, "")
	stateDir := fs.String("state", "", "")
	out := fs.String("o", "", "")
	minScore := fs.Int("min-score", lookalike.AlertThreshold, "")
	fs.Bool("jsonl", true, "")
	silent := fs.Bool("silent", false, "")
	window := fs.Duration("dedup-window", 10*time.Minute, "")
	poll := fs.Duration("poll", time.Second, "")
	timeout := fs.Duration("timeout", 30*time.Second, "")
	conc := fs.Int("t", 4, "")
	statsEvery := fs.Duration("stats", 30*time.Second, "")
	metricsAddr := fs.String("metrics", "", "")
	if err := parseFlags(e, fs, ctUsage, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	starts := 0
	for _, b := range []bool{*fromStart, *fromNow, *from >= 0} {
		if b {
			starts++
		}
	}
	if starts > 1 {
		return usagef("give at most one of -from-start, -from-now and -from N")
	}
	if *minScore < 0 || *minScore > 100 {
		return usagef("-min-score %d is out of range: scores run from 0 to 100", *minScore)
	}
	if *conc < 1 || *conc > 64 {
		return usagef("-t %d is out of range: 1 to 64 requests per log", *conc)
	}
	if *poll < 100*time.Millisecond || *timeout < time.Second {
		return usagef("-poll must be at least 100ms and -timeout at least 1s")
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if *silent {
		logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	var chosen []ct.Log
	if len(logs) > 0 {
		if *listSrc != "" {
			return usagef("give either -log or -log-list, not both")
		}
		if len(keys) != len(logs) {
			return usagef("%d -log but %d -log-key: give one key per log", len(logs), len(keys))
		}
		if len(types) > len(logs) {
			return usagef("%d -log-type for %d -log", len(types), len(logs))
		}
		for i, u := range logs {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				return usagef("-log %q is not an http(s) URL", u)
			}
			k, err := ct.ParseLogKey(keys[i])
			if err != nil {
				return usagef("-log-key for %s: %v", u, err)
			}
			typ := ct.LogRFC6962
			if i < len(types) {
				switch types[i] {
				case "rfc6962":
				case "static":
					typ = ct.LogStatic
				default:
					return usagef("-log-type %q: use rfc6962 or static", types[i])
				}
			}
			chosen = append(chosen, ct.Log{Description: u, Type: typ, URL: u, Key: k})
		}
	} else {
		list, err := ct.LoadLogList(ctx, *listSrc, nil, logger)
		if err != nil {
			return err
		}
		for _, err := range list.Skipped {
			logger.Warn("ct: leaving out a log the list describes badly", "err", err)
		}
		chosen = list.Followable(time.Now())
		if len(chosen) == 0 {
			return fmt.Errorf("the log list has no usable or qualified log")
		}
		logger.Info("ct: following the log list", "logs", len(chosen), "list_version", list.Version)
	}

	var matcher *lookalike.Matcher
	if bf.file != "" || len(bf.brands) > 0 {
		set, err := bf.load()
		if err != nil {
			return err
		}
		if matcher, err = lookalike.NewMatcher(set); err != nil {
			return err
		}
	}

	var w io.Writer = e.stdout
	if *out != "" && *out != "-" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("opening the output: %w", err)
		}
		defer f.Close()
		w = f
	}
	start := ct.Start{FromStart: *fromStart}
	if *from >= 0 {
		start = ct.Start{Index: uint64(*from), Set: true}
	}
	dw := *window
	if dw == 0 {
		dw = -1
	}
	t, err := ct.NewTailer(ct.TailConfig{
		Logs: chosen, Start: start, StateDir: *stateDir, Poll: *poll, Timeout: *timeout,
		Concurrency: *conc, DedupWindow: dw, Out: w, Logger: logger,
		Format: formatEvent(matcher, *minScore, *silent), StatsEvery: statsIf(!*silent, *statsEvery),
	})
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		stop, err := serveMetrics(*metricsAddr, logger, t.Metrics())
		if err != nil {
			return err
		}
		defer stop()
	}
	return t.Run(ctx)
}

// serveMetrics serves the collectors, with the Go runtime's and the
// process's, at http://addr/metrics until stop is called.
func serveMetrics(addr string, logger *slog.Logger, cs ...prometheus.Collector) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serving metrics: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(cs...)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go srv.Serve(ln)
	logger.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { srv.Close() }, nil
}

func statsIf(on bool, d time.Duration) time.Duration {
	if on {
		return d
	}
	return 0
}

// ctMatch is an event with the look-alike match of its best name.
type ctMatch struct {
	ct.Event
	Domain     string   `json:"domain"`
	Brand      string   `json:"brand"`
	Score      int      `json:"score"`
	Techniques []string `json:"techniques"`
	Reasons    []string `json:"reasons"`
}

// formatEvent returns the line maker: JSON of every event, or with a
// matcher only of events with a name at or above minScore.
func formatEvent(m *lookalike.Matcher, minScore int, silent bool) func(ct.Event) []byte {
	return func(ev ct.Event) []byte {
		if m == nil {
			if silent {
				return namesLines(ev.Names)
			}
			return append(ev.AppendJSON(make([]byte, 0, 512)), '\n')
		}
		best := lookalike.Match{}
		for _, n := range ev.Names {
			r, ok, err := m.Match(n)
			if err == nil && ok && r.Score >= minScore && r.Score > best.Score {
				best = r
			}
		}
		if best.Brand == "" {
			return nil
		}
		if silent {
			return []byte(best.Domain + "\n")
		}
		b, _ := json.Marshal(ctMatch{Event: ev, Domain: best.Domain, Brand: best.Brand, Score: best.Score,
			Techniques: best.Techniques, Reasons: best.Reasons})
		return append(b, '\n')
	}
}

func namesLines(names []string) []byte {
	var b []byte
	for _, n := range names {
		b = append(append(b, n...), '\n')
	}
	return b
}
