package feeds

import (
	"context"
	"log/slog"
	"time"
)

// ZoneServer is what PublishZones hands zones to: internal/dnsfeed's
// Server.
type ZoneServer interface {
	SetZone(origin string, zoneText []byte) error
	Serial(origin string) (uint32, bool)
}

// zoneRewrite is how often PublishZones writes a zone whose indicators did
// not change, so that expired ones leave it.
const zoneRewrite = 5 * time.Minute

// PublishZones keeps the organisations' zones on srv current: it writes
// each zone every interval and hands it over when its serial moved (the
// server then sends NOTIFY to the secondaries). It returns when ctx ends;
// a failure is logged and retried at the next interval.
func (e *Exporter) PublishZones(ctx context.Context, srv ZoneServer, orgs []string, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	type version struct {
		latest time.Time
		count  int64
		at     time.Time // when the zone was last written
	}
	seen := map[string]version{}
	for {
		for _, org := range orgs {
			latest, count, err := e.st.IndicatorsVersion(ctx, org)
			if err == nil {
				// Unchanged indicators give an unchanged zone, but for
				// expiries: write it anyway every zoneRewrite.
				v := seen[org]
				if _, loaded := srv.Serial(e.ZoneName(org)); loaded && v.latest.Equal(latest) && v.count == count && time.Since(v.at) < zoneRewrite {
					continue
				}
				err = e.publish(ctx, srv, org)
				if err == nil {
					seen[org] = version{latest, count, time.Now()}
				}
			}
			if err != nil && ctx.Err() == nil {
				log.Error("rpz: the zone could not be published; retrying", "org", org, "zone", e.ZoneName(org), "err", err, "retry_in", every.String())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (e *Exporter) publish(ctx context.Context, srv ZoneServer, org string) error {
	z, err := e.Zone(ctx, org)
	if err != nil {
		return err
	}
	if cur, ok := srv.Serial(z.Origin + "."); ok && cur == z.Serial {
		return nil
	}
	return srv.SetZone(z.Origin+".", z.Text)
}
