package dnsfeed

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// errNotifyRejected: the secondary answered with an error; resending the
// same NOTIFY would not change its mind.
var errNotifyRejected = errors.New("notify rejected")

// notifyLoop sends NOTIFY for z's newest serial each time SetZone kicks
// it. A newer serial interrupts the resends of an older one.
func (s *Server) notifyLoop(ctx context.Context, z *zone) {
	pending := false
	for {
		if !pending {
			select {
			case <-ctx.Done():
				return
			case <-z.kick:
			}
		}
		pending = false
		st := z.state.Load()
		if st == nil {
			continue
		}
		nctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.notifyAll(nctx, z, st.cur.soa)
		}()
		select {
		case <-done:
		case <-z.kick:
			pending = true
		case <-ctx.Done():
		}
		cancel()
		<-done
	}
}

// notifyAll notifies every secondary of z, each in its own goroutine.
func (s *Server) notifyAll(ctx context.Context, z *zone, soa *dns.SOA) {
	var wg sync.WaitGroup
	for _, target := range z.cfg.Notify {
		wg.Go(func() { s.notifyOne(ctx, z, target, soa) })
	}
	wg.Wait()
}

// notifyOne sends NOTIFY to target until it answers, resending with
// doubling waits up to Config.NotifyAttempts times.
func (s *Server) notifyOne(ctx context.Context, z *zone, target string, soa *dns.SOA) {
	wait := s.cfg.NotifyInterval
	for attempt := 1; ; attempt++ {
		err := s.sendNotify(ctx, z, target, soa)
		switch {
		case err == nil:
			s.log.Debug("dnsfeed: notify acknowledged", "zone", z.origin, "serial", soa.Serial, "secondary", target, "attempt", attempt)
			return
		case ctx.Err() != nil:
			return
		case errors.Is(err, errNotifyRejected):
			s.log.Warn("dnsfeed: notify refused: check the secondary's allow-notify and key", "zone", z.origin, "serial", soa.Serial, "secondary", target, "err", err)
			return
		case attempt >= s.cfg.NotifyAttempts:
			s.log.Warn("dnsfeed: notify unanswered: giving up; the secondary will see the serial at its next refresh", "zone", z.origin, "serial", soa.Serial, "secondary", target, "attempts", attempt, "err", err)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait *= 2
	}
}

// sendNotify sends one NOTIFY over UDP and waits for its answer for
// NotifyInterval.
func (s *Server) sendNotify(ctx context.Context, z *zone, target string, soa *dns.SOA) error {
	m := new(dns.Msg)
	m.SetNotify(z.origin)
	m.Answer = []dns.RR{soa}
	b, err := m.Pack()
	if err != nil {
		return err
	}
	var sg *signer
	if z.notify != nil {
		sg = &signer{key: z.notify, first: true, now: uint64(s.now().Unix())}
		if b, err = sg.sign(b); err != nil {
			return err
		}
	}
	reqMAC := ""
	if sg != nil {
		reqMAC = hex.EncodeToString(sg.prevMAC)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.NotifyInterval)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", target)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := c.SetDeadline(dl); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.Write(b); err != nil {
		return err
	}
	buf := make([]byte, maxQuery)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		resp := new(dns.Msg)
		if resp.Unpack(buf[:n]) != nil || resp.Id != m.Id || !resp.Response || resp.Opcode != dns.OpcodeNotify {
			continue // not the answer: keep waiting until the deadline
		}
		if sg != nil && resp.IsTsig() != nil {
			if dns.TsigVerifyWithProvider(buf[:n], s.keys, reqMAC, false) != nil {
				continue // a forged or broken answer
			}
		}
		if resp.Rcode != dns.RcodeSuccess {
			return fmt.Errorf("%w: %s answered %s", errNotifyRejected, target, dns.RcodeToString[resp.Rcode])
		}
		return nil
	}
}
