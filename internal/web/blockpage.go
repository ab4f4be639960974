package web

import (
	"context"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/store"
)

// BlockPageConfig configures the page that blocked names lead to.
type BlockPageConfig struct {
	// Store is where the indicators are looked up.
	Store interface {
		Indicators(ctx context.Context, f store.IndicatorFilter) ([]store.Indicator, error)
	}
	// Org is the organisation whose view of the indicators the page
	// shows (its own and the shared ones).
	Org string
	// Title names who blocks, e.g. "UMC Example IT security".
	Title string
	// Contact says how staff reach the security team, e.g. a phone
	// number or address; empty: not shown.
	Contact string
	// Logger receives store failures; nil discards.
	Logger *slog.Logger
}

var blockTemplate = template.Must(template.New("block").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Blocked: {{.Host}}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em;line-height:1.5;color:#222}
h1{color:#a00;font-size:1.5em}code{background:#f3f3f3;padding:.1em .3em}</style></head>
<body><h1>This site was blocked to protect you</h1>
<p><code>{{.Host}}</code> is blocked by {{.Title}}.</p>
{{if .Known}}<p>It is listed as dangerous{{if .Brand}}: it imitates <strong>{{.Brand}}</strong>{{end}}{{if .Kind}} ({{.Kind}}){{end}}.
Sites like this steal passwords or install ransomware.</p>{{else}}<p>It is on the list of dangerous sites.</p>{{end}}
<p>Do not enter your password or download anything from it. If a message led you here, report it and delete it.</p>
{{if .Contact}}<p>Questions, or do you need this site for your work? Contact {{.Contact}}.</p>{{end}}
</body></html>
`))

// BlockPage returns the handler of the walled garden (feeds.rpz.walled_garden): whatever
// name the browser asked for, it answers 403 with a page that tells staff
// the name was blocked and why, in words, escaped. It never reveals more
// than the brand an indicator names and its type.
func BlockPage(cfg BlockPageConfig) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Title == "" {
		cfg.Title = "your organisation's security team"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		if len(host) > 253 {
			host = host[:253]
		}
		data := struct {
			Host, Title, Contact, Brand, Kind string
			Known                             bool
		}{Host: host, Title: cfg.Title, Contact: cfg.Contact}
		if h, err := lookalike.ParseHost(host); err == nil {
			names := intel.DomainAndParents(h.ASCII)
			ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
			inds, err := cfg.Store.Indicators(ctx, store.IndicatorFilter{Org: cfg.Org, Now: time.Now(), Types: []string{"domain"}, Values: names, Limit: 10})
			cancel()
			if err != nil {
				log.Error("block page: looking up the name", "host", host, "err", err)
			}
			if len(inds) > 0 {
				in := inds[0]
				data.Known, data.Brand = true, in.Brand
				switch in.Source {
				case "finding":
					data.Kind = "a look-alike found by ward"
				case "mail":
					data.Kind = "seen in reported phishing mail"
				case "manual":
					data.Kind = "reported by the security team"
				default:
					data.Kind = "reported by a partner feed"
				}
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusForbidden)
		if r.Method != http.MethodHead {
			if err := blockTemplate.Execute(w, data); err != nil {
				log.Error("block page", "err", err)
			}
		}
	})
}
