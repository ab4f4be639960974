package feeds

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descIndicators = prometheus.NewDesc("ward_feed_indicators", "Indicators an organisation's feeds draw on: its own and the shared ones, revoked included.", []string{"org"}, nil)
	descUpdated    = prometheus.NewDesc("ward_feed_last_change_timestamp_seconds", "When an indicator the organisation sees last changed.", []string{"org"}, nil)
	descSerial     = prometheus.NewDesc("ward_rpz_zone_serial", "The SOA serial of the zone served by zone transfer.", []string{"org", "zone"}, nil)
)

// Metrics returns a Prometheus collector of the organisations' feeds: how
// many indicators each draws on, when they last changed, and, with srv,
// the serial each zone is served at. It reads the store at each scrape.
func (e *Exporter) Metrics(orgs []string, srv ZoneServer) prometheus.Collector {
	return feedCollector{e: e, orgs: orgs, srv: srv}
}

type feedCollector struct {
	e    *Exporter
	orgs []string
	srv  ZoneServer
}

func (c feedCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descIndicators
	ch <- descUpdated
	ch <- descSerial
}

func (c feedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, org := range c.orgs {
		latest, n, err := c.e.st.IndicatorsVersion(ctx, org)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(descIndicators, err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(descIndicators, prometheus.GaugeValue, float64(n), org)
		if !latest.IsZero() {
			ch <- prometheus.MustNewConstMetric(descUpdated, prometheus.GaugeValue, float64(latest.UnixMilli())/1000, org)
		}
		if c.srv != nil {
			if s, ok := c.srv.Serial(c.e.ZoneName(org)); ok {
				ch <- prometheus.MustNewConstMetric(descSerial, prometheus.GaugeValue, float64(s), org, c.e.ZoneName(org))
			}
		}
	}
}
