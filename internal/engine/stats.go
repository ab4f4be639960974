package engine

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ward-health/ward/internal/ct"
)

// Stats are the engine's counters, read by the API and the metrics.
type Stats struct {
	Matches        atomic.Int64 // matches recorded (a name imitating a brand, per organisation)
	Created        atomic.Int64 // findings created
	Checks         atomic.Int64 // probes done
	CheckErrors    atomic.Int64 // checks that could not be recorded
	StateChanges   atomic.Int64 // findings whose state a check changed
	Due            atomic.Int64 // findings due for a check at the last look
	Sent           atomic.Int64 // alert deliveries accepted by a sink
	SendErrors     atomic.Int64 // delivery attempts that failed
	Names          atomic.Int64 // names read from all sources
	MailAnalysed   atomic.Int64 // messages submitted and judged
	MailIndicators atomic.Int64 // indicators recorded from judged messages
	MailLearned    atomic.Int64 // messages analysts taught the classifier
	Imported       atomic.Int64 // indicators read from imports

	mu          sync.Mutex
	stageErrors map[string]int64
}

func newStats() *Stats { return &Stats{stageErrors: map[string]int64{}} }

func (s *Stats) add(c *atomic.Int64, n int64) { c.Add(n) }
func (s *Stats) set(c *atomic.Int64, n int64) { c.Store(n) }

func (s *Stats) stageError(stage string) {
	s.mu.Lock()
	s.stageErrors[stage]++
	s.mu.Unlock()
}

var (
	descNames        = prometheus.NewDesc("ward_engine_names_total", "Names read from all sources.", nil, nil)
	descMatches      = prometheus.NewDesc("ward_engine_matches_total", "Names found imitating a brand, per organisation.", nil, nil)
	descCreated      = prometheus.NewDesc("ward_engine_findings_created_total", "Findings created.", nil, nil)
	descChecks       = prometheus.NewDesc("ward_engine_checks_total", "Probes of findings done.", nil, nil)
	descCheckErrors  = prometheus.NewDesc("ward_engine_check_errors_total", "Checks that could not be recorded.", nil, nil)
	descStateChanges = prometheus.NewDesc("ward_engine_state_changes_total", "Findings whose state a check changed.", nil, nil)
	descDue          = prometheus.NewDesc("ward_engine_checks_due", "Findings due for a check at the last look (capped at the batch size).", nil, nil)
	descSent         = prometheus.NewDesc("ward_engine_alerts_sent_total", "Alert deliveries a sink accepted.", nil, nil)
	descSendErrors   = prometheus.NewDesc("ward_engine_alert_errors_total", "Alert delivery attempts that failed.", nil, nil)
	descMailLearned  = prometheus.NewDesc("ward_engine_mail_learned_total", "Reported messages analysts taught the content classifier (learned, moved or forgotten).", nil, nil)
	descMailAnalysed = prometheus.NewDesc("ward_engine_mail_analysed_total", "Reported messages judged.", nil, nil)
	descMailInds     = prometheus.NewDesc("ward_engine_mail_indicators_total", "Indicators recorded from judged messages.", nil, nil)
	descImported     = prometheus.NewDesc("ward_engine_imported_indicators_total", "Indicators read from imports.", nil, nil)
	descStageErrors  = prometheus.NewDesc("ward_engine_stage_errors_total", "Failures of a stage (a source, the checks, the alerts), each followed by a retry.", []string{"stage"}, nil)
)

// Describe implements prometheus.Collector.
func (s *Stats) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNames, descMatches, descCreated, descChecks, descCheckErrors, descStateChanges, descDue, descSent, descSendErrors, descMailAnalysed, descMailInds, descMailLearned, descImported, descStageErrors} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (s *Stats) Collect(ch chan<- prometheus.Metric) {
	c := func(d *prometheus.Desc, v *atomic.Int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v.Load()))
	}
	c(descNames, &s.Names)
	c(descMatches, &s.Matches)
	c(descCreated, &s.Created)
	c(descChecks, &s.Checks)
	c(descCheckErrors, &s.CheckErrors)
	c(descStateChanges, &s.StateChanges)
	ch <- prometheus.MustNewConstMetric(descDue, prometheus.GaugeValue, float64(s.Due.Load()))
	c(descSent, &s.Sent)
	c(descSendErrors, &s.SendErrors)
	c(descMailAnalysed, &s.MailAnalysed)
	c(descMailInds, &s.MailIndicators)
	c(descMailLearned, &s.MailLearned)
	c(descImported, &s.Imported)
	s.mu.Lock()
	defer s.mu.Unlock()
	for stage, n := range s.stageErrors {
		ch <- prometheus.MustNewConstMetric(descStageErrors, prometheus.CounterValue, float64(n), stage)
	}
}

// ctCollector serves the metrics of the CT tailer running at the moment.
type ctCollector struct{ e *Engine }

func (c ctCollector) Describe(ch chan<- *prometheus.Desc) { (*ct.Tailer)(nil).Metrics().Describe(ch) }

func (c ctCollector) Collect(ch chan<- prometheus.Metric) {
	if t := c.e.ct.Load(); t != nil {
		t.Metrics().Collect(ch)
	}
}

// Collectors returns the engine's Prometheus collectors: its own counters
// and the CT logs'.
func (e *Engine) Collectors() []prometheus.Collector {
	return []prometheus.Collector{e.stats, ctCollector{e}, learningCollector{e}}
}

var descLearning = prometheus.NewDesc("ward_mail_learning_messages", "Messages an organisation's analysts taught its mail classifier, by class (spam, ham).", []string{"org", "class"}, nil)

// learningCollector reports the size of each learning organisation's
// mail learning.
type learningCollector struct{ e *Engine }

func (c learningCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descLearning }

func (c learningCollector) Collect(ch chan<- prometheus.Metric) {
	for _, o := range c.e.orgs {
		if o.mail.learnPath == "" {
			continue
		}
		o.mail.mu.Lock()
		spam, ham, _ := o.mail.learning.Size()
		o.mail.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(descLearning, prometheus.GaugeValue, float64(spam), o.name, "spam")
		ch <- prometheus.MustNewConstMetric(descLearning, prometheus.GaugeValue, float64(ham), o.name, "ham")
	}
}

func (e *Engine) setCT(t *ct.Tailer) { e.ct.Store(t) }
