package ct

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	good := newFakeLog(t, true)
	must(t, good.AddN(300, "com"))
	good.Publish()
	bad := newFakeLog(t, false)
	must(t, bad.AddN(10, "com"))
	bad.Publish()
	must(t, bad.SignWithOtherKey())

	var out syncBuffer
	cfg := testConfig(&out, logOf(t, good), logOf(t, bad))
	tl := runUntil(t, cfg, func(tl *Tailer) bool {
		return len(out.events(t)) >= 300 && tl.Stats()[1].Errors["bad_signature"] > 0
	})

	m := tl.Metrics()
	want := fmt.Sprintf(`
# HELP ward_ct_entries_total Entries verified against a signed tree head and passed on.
# TYPE ward_ct_entries_total counter
ward_ct_entries_total{description="fake static %[1]s",log="%[1]s"} 300
ward_ct_entries_total{description="fake rfc6962 %[2]s",log="%[2]s"} 0
# HELP ward_ct_lag_entries Entries in the newest tree head not yet read.
# TYPE ward_ct_lag_entries gauge
ward_ct_lag_entries{description="fake static %[1]s",log="%[1]s"} 0
ward_ct_lag_entries{description="fake rfc6962 %[2]s",log="%[2]s"} 0
# HELP ward_ct_log_failed 1 when the log was given up because it signed something false or inconsistent.
# TYPE ward_ct_log_failed gauge
ward_ct_log_failed{description="fake static %[1]s",log="%[1]s"} 0
ward_ct_log_failed{description="fake rfc6962 %[2]s",log="%[2]s"} 0
`, good.URL(), bad.URL())
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), "ward_ct_entries_total", "ward_ct_lag_entries", "ward_ct_log_failed"); err != nil {
		t.Error(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	badSigs := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "ward_ct_errors_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if lp.GetName() == "kind" && lp.GetValue() == "bad_signature" {
					badSigs += mt.GetCounter().GetValue()
				}
			}
		}
	}
	if badSigs < 1 {
		t.Errorf("no bad_signature error counted")
	}
}
