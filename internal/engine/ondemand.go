package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/probe"
	"github.com/ward-health/ward/internal/store"
)

// ProbeResult is an on-demand check of a name: nothing is stored.
type ProbeResult struct {
	Name     string           `json:"name"`
	Match    *lookalike.Match `json:"match"` // nil: it imitates none of the organisation's brands
	Evidence *probe.Evidence  `json:"evidence,omitempty"`
	Score    int              `json:"score"`
	State    store.State      `json:"state,omitempty"`
	Reasons  []string         `json:"reasons,omitempty"`
}

// ProbeNow matches name against the organisation's brands and, when it
// imitates one, probes and scores it as a check would, under the same
// rate limit. It stores nothing.
func (e *Engine) ProbeNow(ctx context.Context, orgName, name string) (any, error) {
	o := e.byName[orgName]
	if o == nil {
		return nil, fmt.Errorf("no organisation %q", orgName)
	}
	m, ok, err := o.matcher.Match(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a usable name: %w", name, err)
	}
	res := ProbeResult{Name: name}
	if !ok {
		return res, nil
	}
	res.Match = &m
	if err := e.probes.Wait(ctx); err != nil {
		return nil, errors.New("the probe rate limit did not leave room in time; try again")
	}
	ev := e.prober.Probe(ctx, m.Domain, e.reference(ctx, o, m.Brand))
	res.Evidence = &ev
	res.Score, res.State, res.Reasons = Score(m.Score, ev.Signals(), Thresholds{e.cfg.Scoring.Suspicious, e.cfg.Scoring.Malicious})
	return res, nil
}
