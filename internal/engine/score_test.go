package engine

import (
	"testing"
	"time"

	"github.com/ward-health/ward/internal/probe"
	"github.com/ward-health/ward/internal/store"
)

func TestScore(t *testing.T) {
	th := Thresholds{Suspicious: 50, Malicious: 80}
	S := func(s ...probe.Signal) []probe.Signal { return s }
	for _, tc := range []struct {
		name  string
		match int
		sigs  []probe.Signal
		state store.State
	}{
		{"registered, not resolving", 90, S(probe.SignalNXDomain), store.StateWatching},
		{"resolves, nothing served", 90, S(probe.SignalResolves), store.StateWatching},
		{"parked", 95, S(probe.SignalResolves, probe.SignalParked, probe.SignalLiveHTTP, probe.SignalCanSendMail), store.StateWatching},
		{"live page naming the brand", 80, S(probe.SignalResolves, probe.SignalLiveHTTP, probe.SignalBrandMentioned), store.StateSuspicious},
		{"credential phish", 70, S(probe.SignalResolves, probe.SignalLiveHTTP, probe.SignalLoginForm, probe.SignalPostsElsewhere), store.StateMalicious},
		{"cloned site", 65, S(probe.SignalResolves, probe.SignalLiveHTTP, probe.SignalSimilarToBrand, probe.SignalSameFavicon), store.StateMalicious},
		{"parked but offering a download", 80, S(probe.SignalResolves, probe.SignalParked, probe.SignalLiveHTTP, probe.SignalDownloadOffered), store.StateMalicious},
		{"wildcard zone answers proves nothing", 90, S(probe.SignalResolves, probe.SignalWildcard), store.StateWatching},
	} {
		t.Run(tc.name, func(t *testing.T) {
			score, state, reasons := Score(tc.match, tc.sigs, th)
			if state != tc.state {
				t.Errorf("state %s (score %d, %v), want %s", state, score, reasons, tc.state)
			}
			if score < 0 || score > 100 || len(reasons) == 0 {
				t.Errorf("score %d, reasons %v", score, reasons)
			}
			if state == store.StateWatching && score >= th.Suspicious {
				t.Errorf("watching with score %d at or above the suspicious threshold", score)
			}
		})
	}
}

func TestNextCheck(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	base, limit := time.Hour, 8*time.Hour
	never := store.Finding{}
	if got := nextCheck(now, never, false, base, limit); got != now.Add(time.Hour) {
		t.Errorf("first check: %v", got)
	}
	// Unchanged: the interval doubles, up to the limit.
	f := store.Finding{LastChecked: now.Add(-2 * time.Hour), NextCheck: now}
	if got := nextCheck(now, f, false, base, limit); got != now.Add(4*time.Hour) {
		t.Errorf("after a 2h interval: %v", got.Sub(now))
	}
	f = store.Finding{LastChecked: now.Add(-6 * time.Hour), NextCheck: now}
	if got := nextCheck(now, f, false, base, limit); got != now.Add(8*time.Hour) {
		t.Errorf("capped: %v", got.Sub(now))
	}
	// A change starts over.
	if got := nextCheck(now, f, true, base, limit); got != now.Add(time.Hour) {
		t.Errorf("after a change: %v", got.Sub(now))
	}
}
