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

// PublishZones keeps the organisations' zones on srv current: it writes
// each zone every interval and hands it over when its serial moved (the
// server then sends NOTIFY to the secondaries). It returns when ctx ends;
// a failure is logged and retried at the next interval.
func (e *Exporter) PublishZones(ctx context.Context, srv ZoneServer, orgs []string, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		for _, org := range orgs {
			if err := e.publish(ctx, srv, org); err != nil && ctx.Err() == nil {
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
