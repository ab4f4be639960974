package ct

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exposes a tailer's per-log counters to Prometheus. Register it
// with a registry; it reads Stats at each scrape, so it costs nothing
// between scrapes.
type Metrics struct {
	t   *Tailer
	now func() time.Time
}

// Metrics returns the tailer's Prometheus collector.
func (t *Tailer) Metrics() *Metrics { return &Metrics{t: t, now: time.Now} }

var (
	logLabels       = []string{"log", "description"}
	descEntries     = prometheus.NewDesc("ward_ct_entries_total", "Entries verified against a signed tree head and passed on.", logLabels, nil)
	descMalformed   = prometheus.NewDesc("ward_ct_malformed_entries_total", "Entries that could not be decoded and were skipped.", logLabels, nil)
	descErrors      = prometheus.NewDesc("ward_ct_errors_total", "Errors talking to the log, by kind (http_429, http_5xx, http_4xx, timeout, network, bad_response, bad_signature, inconsistent).", append(logLabels, "kind"), nil)
	descTreeSize    = prometheus.NewDesc("ward_ct_tree_size", "Size of the newest verified tree head.", logLabels, nil)
	descTreeTime    = prometheus.NewDesc("ward_ct_tree_timestamp_seconds", "Timestamp of the newest verified tree head, Unix seconds.", logLabels, nil)
	descNext        = prometheus.NewDesc("ward_ct_next_index", "Index of the next entry to read.", logLabels, nil)
	descLagEntries  = prometheus.NewDesc("ward_ct_lag_entries", "Entries in the newest tree head not yet read.", logLabels, nil)
	descLagSeconds  = prometheus.NewDesc("ward_ct_lag_seconds", "Age of the last entry read when entries are waiting; 0 when caught up.", logLabels, nil)
	descLastEntry   = prometheus.NewDesc("ward_ct_last_entry_timestamp_seconds", "Timestamp of the last entry read, Unix seconds.", logLabels, nil)
	descFailed      = prometheus.NewDesc("ward_ct_log_failed", "1 when the log was given up because it signed something false or inconsistent.", logLabels, nil)
	_               = prometheus.Collector((*Metrics)(nil))
	metricDescripts = []*prometheus.Desc{descEntries, descMalformed, descErrors, descTreeSize, descTreeTime, descNext, descLagEntries, descLagSeconds, descLastEntry, descFailed}
)

// Describe sends the descriptions of every metric.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range metricDescripts {
		ch <- d
	}
}

// Collect sends the current value of every metric, per log.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	now := m.now()
	for _, s := range m.t.Stats() {
		lv := []string{s.Log.URL, s.Log.Description}
		counter := func(d *prometheus.Desc, v uint64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append(lv, extra...)...)
		}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
		}
		counter(descEntries, s.Entries)
		counter(descMalformed, s.Malformed)
		for kind, n := range s.Errors {
			counter(descErrors, n, kind)
		}
		lag := s.TreeSize - min(s.Next, s.TreeSize)
		gauge(descTreeSize, float64(s.TreeSize))
		gauge(descNext, float64(s.Next))
		gauge(descLagEntries, float64(lag))
		lagSecs := 0.0
		if lag > 0 && !s.LastEntry.IsZero() {
			lagSecs = max(0, now.Sub(s.LastEntry).Seconds())
		}
		gauge(descLagSeconds, lagSecs)
		if !s.TreeTime.IsZero() {
			gauge(descTreeTime, float64(s.TreeTime.UnixMilli())/1000)
		}
		if !s.LastEntry.IsZero() {
			gauge(descLastEntry, float64(s.LastEntry.UnixMilli())/1000)
		}
		failed := 0.0
		if s.Failed {
			failed = 1
		}
		gauge(descFailed, failed)
	}
}
