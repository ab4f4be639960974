package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ward-health/ward/internal/alert"
	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/dnsfeed"
	"github.com/ward-health/ward/internal/engine"
	"github.com/ward-health/ward/internal/feeds"
	"github.com/ward-health/ward/internal/probe"
	"github.com/ward-health/ward/internal/store"
	"github.com/ward-health/ward/internal/taxii"
	"github.com/ward-health/ward/internal/web"
)

const serveUsage = `Usage: ward serve [-config FILE] [-data DIR]

Runs the watching daemon: follows CT logs, newly-registered-domain lists
and sweeps for names imitating the organisations' brands, probes and scores
each look-alike, re-checks it over time, and sends one alert per state
change. The API and Prometheus metrics listen on api.listen.

Without -config it runs on built-in defaults: a demo organisation
protecting the health brand set, SQLite under ./ward-data/, the built-in CT
log list, API and metrics on 127.0.0.1:8080. Without internet, the sources
report their errors and retry; the service stays up.

Flags:
    -config FILE   the configuration (see examples/ward.yaml; check it
                   with ward config check FILE)
    -data DIR      where generated API tokens are kept, and the SQLite
                   database when storage.path is relative (default ward-data)
    -log-level L   debug, info, warn or error (default info); at run time,
                   SIGUSR1 switches to debug and SIGUSR2 back to this level

Examples:
    ward serve
    ward serve -config /etc/ward/ward.yaml
    curl -H "Authorization: Bearer $(cat ward-data/tokens/demo)" http://127.0.0.1:8080/api/v1/findings
`

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("serve")
	cfgPath := fs.String("config", "", "")
	dataDir := fs.String("data", "ward-data", "")
	level := fs.String("log-level", "info", "")
	if err := parseFlags(e, fs, serveUsage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Arg(0))
	}
	var start slog.Level
	if err := start.UnmarshalText([]byte(*level)); err != nil {
		return usagef("-log-level %q: use debug, info, warn or error", *level)
	}
	lv := new(slog.LevelVar)
	lv.Set(start)
	var h slog.Handler = slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: lv})
	if e.stderrTTY {
		h = slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lv})
	}
	logger := slog.New(h)
	stopLevels := levelSignals(lv, start, logger)
	defer stopLevels()

	cfg, err := loadConfig(*cfgPath, *dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		return fmt.Errorf("creating the data directory: %w", err)
	}

	st, err := openStore(ctx, cfg.Storage, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	pc := probe.DefaultConfig()
	pc.Resolvers = cfg.Enrichment.Resolvers
	pc.DNSTimeout = min(cfg.Enrichment.Timeout, 5*time.Second)
	pc.FetchTimeout = cfg.Enrichment.Timeout
	pc.MaxBody = cfg.Enrichment.MaxBody
	pc.AllowPrivateTargets = cfg.Enrichment.AllowPrivateTargets
	pc.RDAPBase = cfg.Enrichment.RDAPBase
	pc.Logger = logger
	prober, err := probe.New(pc)
	if err != nil {
		return fmt.Errorf("enrichment: %w", err)
	}
	if cfg.Enrichment.Browser {
		logger.Warn("screenshots: enrichment.browser is true, but this build of ward takes no screenshots; going on without")
	} else {
		logger.Info("screenshots: off (enrichment.browser is false)")
	}
	if cfg.Enrichment.AllowPrivateTargets {
		logger.Warn("enrichment.allow_private_targets is true: probes may reach loopback, private and cloud-metadata addresses")
	}

	sinks := map[string]alert.Sink{}
	for _, sc := range cfg.Alerts.Sinks {
		s, err := alert.NewFromConfig(sc, nil)
		if err != nil {
			return fmt.Errorf("alerts.sinks %s: %w", sc.Name, err)
		}
		sinks[sc.Name] = s
	}

	eng, err := engine.New(cfg, engine.Deps{Store: st, Prober: prober, Sinks: sinks, Logger: logger})
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(eng.Collectors()...)

	var orgs []web.Org
	for _, o := range cfg.Organisations {
		tokens := o.Tokens
		if len(tokens) == 0 {
			t, created, err := orgToken(*dataDir, o.Name)
			if err != nil {
				return err
			}
			if created {
				logger.Info("generated an API token for the organisation", "org", o.Name, "file", filepath.Join(*dataDir, "tokens", o.Name))
			}
			tokens = []string{t}
		}
		sinks := o.Alerts
		if len(sinks) == 0 {
			for _, s := range cfg.Alerts.Sinks {
				sinks = append(sinks, s.Name)
			}
		}
		orgs = append(orgs, web.Org{Name: o.Name, Tokens: tokens, Sinks: sinks})
	}
	fopts, err := feeds.OptionsFromConfig(cfg)
	if err != nil {
		return err
	}
	exporter := feeds.New(st, fopts)
	var orgNames []string
	for _, o := range orgs {
		orgNames = append(orgNames, o.Name)
	}
	taxiiSrv, err := taxii.New(feeds.NewTAXIIBackend(exporter, orgNames), taxii.Config{
		Authenticate: web.Authenticate(orgs), Logger: logger,
		Description: "Indicators of look-alike domains, phishing and malware aimed at health organisations"})
	if err != nil {
		return err
	}
	handler, err := web.Handler(web.Config{Store: st, Orgs: orgs, Probe: eng.ProbeNow, Gather: reg, Logger: logger,
		OnStateChange: eng.AnalystChanged, Feeds: exporter, TAXII: taxiiSrv,
		Indicators: web.IndicatorPolicy{Scope: cfg.Feeds.Scope, TLP: cfg.Feeds.TLP, ValidFor: cfg.Feeds.ValidFor, Warninglist: fopts.Warninglist},
		Mail: func(ctx context.Context, org, name string, raw []byte) (any, error) {
			return eng.AnalyzeMail(ctx, org, name, raw)
		},
		Learn: func(ctx context.Context, org, as string, raw []byte) (any, error) {
			rep, err := eng.LearnMail(ctx, org, as, raw)
			switch {
			case errors.Is(err, engine.ErrLearningOff):
				return nil, web.ErrLearningOff
			case errors.Is(err, engine.ErrLearningBusy):
				return nil, fmt.Errorf("%w: %v", web.ErrLearningBusy, err)
			}
			return rep, err
		}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("api.listen: %w", err)
	}
	srv := web.NewServer(cfg.API.Listen, handler)
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	logger.Info("ward serve is up", "api", "http://"+ln.Addr().String()+"/api/v1/", "metrics", "http://"+ln.Addr().String()+"/metrics",
		"organisations", len(cfg.Organisations), "storage", cfg.Storage.Driver)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	dnsSrv, err := rpzServer(cfg, exporter, logger)
	if err != nil {
		return err
	}
	if dnsSrv != nil {
		reg.MustRegister(exporter.Metrics(orgNames, dnsSrv))
	} else {
		reg.MustRegister(exporter.Metrics(orgNames, nil))
	}
	blockSrv, err := blockPage(cfg, st, logger)
	if err != nil {
		return err
	}
	if blockSrv != nil {
		defer blockSrv.Close()
	}
	done := make(chan error, 1)
	go func() {
		var wg sync.WaitGroup
		if dnsSrv != nil {
			wg.Go(func() {
				if err := dnsSrv.Run(runCtx); err != nil {
					logger.Error("rpz: the zone-transfer server stopped", "err", err)
				}
			})
			wg.Go(func() { exporter.PublishZones(runCtx, dnsSrv, orgNames, 10*time.Second, logger) })
		}
		done <- eng.Run(runCtx)
		wg.Wait()
	}()
	select {
	case <-ctx.Done():
		logger.Info("stopping: finishing the work in hand (at most 30 s)")
	case err := <-srvErr:
		cancel()
		<-done
		return fmt.Errorf("the API server stopped: %w", err)
	}
	cancel()
	shutdown, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	_ = srv.Shutdown(shutdown)
	select {
	case <-done:
	case <-shutdown.Done():
		logger.Warn("some stages did not stop within 30 s; their work is in the store and resumes at the next start")
	}
	return nil
}

// blockPage starts the walled garden's page (feeds.rpz.block_page), or
// returns nil when it is off.
func blockPage(cfg *config.Config, st *store.Store, logger *slog.Logger) (*http.Server, error) {
	bp := cfg.Feeds.RPZ.BlockPage
	if bp.Listen == "" {
		return nil, nil
	}
	org := bp.Org
	if org == "" {
		org = cfg.Organisations[0].Name
	}
	ln, err := net.Listen("tcp", bp.Listen)
	if err != nil {
		return nil, fmt.Errorf("feeds.rpz.block_page.listen: %w", err)
	}
	srv := web.NewServer(bp.Listen, web.BlockPage(web.BlockPageConfig{Store: st, Org: org, Title: bp.Title, Contact: bp.Contact, Logger: logger}))
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("the block page stopped", "err", err)
		}
	}()
	logger.Info("rpz: serving the block page", "addr", ln.Addr().String(), "org", org)
	return srv, nil
}

// rpzServer builds the zone-transfer server of feeds.rpz.dns, or returns
// nil when it is off. Each organisation's zone opens to its rpz_key and
// to the allow_unsigned prefixes; never to another organisation's key.
func rpzServer(cfg *config.Config, ex *feeds.Exporter, logger *slog.Logger) (*dnsfeed.Server, error) {
	dc := cfg.Feeds.RPZ.DNS
	if dc.Listen == "" {
		return nil, nil
	}
	var keys []dnsfeed.Key
	for _, k := range dc.Keys {
		keys = append(keys, dnsfeed.Key{Name: k.Name, Algorithm: k.Algorithm, Secret: k.Secret})
	}
	var allow []netip.Prefix
	for _, a := range dc.AllowUnsigned {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return nil, fmt.Errorf("feeds.rpz.dns.allow_unsigned: %w", err)
		}
		allow = append(allow, p)
	}
	var zones []dnsfeed.ZoneConfig
	for _, o := range cfg.Organisations {
		z := dnsfeed.ZoneConfig{Origin: ex.ZoneName(o.Name), AllowTransfer: allow, Notify: dc.Notify}
		if o.RPZKey != "" {
			z.Keys, z.NotifyKey = []string{o.RPZKey}, o.RPZKey
			z.RequireTSIG = len(allow) == 0
		} else if len(allow) == 0 {
			logger.Warn("rpz: no resolver can transfer this organisation's zone: give it rpz_key, or list feeds.rpz.dns.allow_unsigned", "org", o.Name)
		}
		zones = append(zones, z)
	}
	srv, err := dnsfeed.New(dnsfeed.Config{Addr: dc.Listen, Zones: zones, Keys: keys, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("feeds.rpz.dns: %w", err)
	}
	logger.Info("rpz: serving zone transfers", "addr", srv.Addr(), "zones", len(zones))
	return srv, nil
}

// loadConfig reads the configuration file, or without one returns the
// built-in defaults with the SQLite database in dataDir.
func loadConfig(path, dataDir string) (*config.Config, error) {
	if path != "" {
		return config.Load(path)
	}
	cfg := config.Default()
	cfg.Storage.Path = filepath.Join(dataDir, "ward.db")
	return cfg, nil
}

func openStore(ctx context.Context, s config.Storage, logger *slog.Logger) (*store.Store, error) {
	if s.Driver == "postgres" {
		return store.OpenPostgres(ctx, s.DSN, store.Options{Logger: logger})
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o750); err != nil {
		return nil, fmt.Errorf("creating the database directory: %w", err)
	}
	return store.OpenSQLite(ctx, s.Path, store.Options{Logger: logger})
}

// orgToken returns the organisation's generated API token, creating it
// (0600, in DIR/tokens/ORG) the first time.
func orgToken(dir, org string) (token string, created bool, err error) {
	path := filepath.Join(dir, "tokens", org)
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); len(t) >= 16 {
			return t, false, nil
		}
		return "", false, fmt.Errorf("the API token in %s is shorter than 16 characters: delete the file to generate a new one", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("reading the API token: %w", err)
	}
	var b [32]byte
	rand.Read(b[:])
	t := hex.EncodeToString(b[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("creating the token directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("writing the API token: %w", err)
	}
	return t, true, nil
}

// levelSignals lets an operator change the log level of a running daemon:
// SIGUSR1 turns debug logging on, SIGUSR2 goes back to the start level.
func levelSignals(lv *slog.LevelVar, start slog.Level, logger *slog.Logger) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				if s == syscall.SIGUSR1 {
					lv.Set(slog.LevelDebug)
				} else {
					lv.Set(start)
				}
				logger.Log(context.Background(), max(lv.Level(), slog.LevelInfo), "log level changed", "level", lv.Level().String())
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
