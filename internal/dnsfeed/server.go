// Package dnsfeed serves ward's DNS response policy zones (RPZ) to
// resolvers by zone transfer: AXFR (RFC 5936) and IXFR (RFC 1995) over TCP,
// SOA and NS queries over UDP and TCP, TSIG (RFC 8945) to authenticate the
// secondaries, and NOTIFY (RFC 1996) to tell them of every new serial.
//
// It is a transfer server, not a name server: every other query, and every
// query from a client that may not transfer the zone, is REFUSED, and it
// never recurses. Each zone is replaced whole by SetZone, and the last
// versions' differences are kept to answer IXFR. Every input is bounded:
// zone size and record count, query size, TCP connections, concurrent
// transfers, and each connection's idle, write and total time.
package dnsfeed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Bounds that need no configuration.
const (
	maxQuery        = 4096 // bytes of one request (a query, a signed IXFR)
	maxConnQueries  = 128  // requests on one TCP connection
	udpWorkers      = 4    // goroutines answering UDP
	maxUDPResponse  = 1232 // the EDNS buffer size advertised and honoured
	transferMsgSize = 32 << 10
)

// Server serves zones by transfer. Create it with New, load zones with
// SetZone (at any time, from any goroutine), and run it with Run.
type Server struct {
	cfg   Config
	log   *slog.Logger
	keys  keyring
	zones map[string]*zone
	now   func() time.Time

	udp net.PacketConn
	tcp net.Listener

	transfers chan struct{} // a slot per running transfer
	conns     chan struct{} // a slot per open TCP connection
	running   atomic.Bool

	mu   sync.Mutex
	open map[net.Conn]struct{}
}

// zone is one served zone.
type zone struct {
	cfg    ZoneConfig
	origin string          // canonical
	keys   map[string]bool // names of keys that may transfer; nil: any
	notify *key            // signs NOTIFY; nil: unsigned

	mu    sync.Mutex // serialises SetZone
	state atomic.Pointer[state]
	kick  chan struct{} // a new serial to announce; capacity 1
}

// New checks cfg and opens the UDP and TCP sockets on cfg.Addr (the same
// port for both). Call Run to serve, or Close to release the sockets
// without serving.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	keys, err := parseKeys(cfg.Keys)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		keys:      keys,
		zones:     make(map[string]*zone, len(cfg.Zones)),
		now:       time.Now,
		transfers: make(chan struct{}, cfg.MaxTransfers),
		conns:     make(chan struct{}, cfg.MaxConns),
		open:      make(map[net.Conn]struct{}),
	}
	for i, zc := range cfg.Zones {
		z, err := newZone(i, zc, keys)
		if err != nil {
			return nil, err
		}
		if _, dup := s.zones[z.origin]; dup {
			return nil, fmt.Errorf("dnsfeed: Zones[%d]: %s is configured twice: keep one", i, z.origin)
		}
		s.zones[z.origin] = z
	}
	if err := s.listen(); err != nil {
		return nil, err
	}
	return s, nil
}

func newZone(i int, zc ZoneConfig, keys keyring) (*zone, error) {
	if _, ok := dns.IsDomainName(zc.Origin); !ok || zc.Origin == "" || zc.Origin == "." {
		return nil, fmt.Errorf("dnsfeed: Zones[%d]: origin %q is not a domain name: give e.g. rpz.ward.example", i, zc.Origin)
	}
	z := &zone{cfg: zc, origin: dns.CanonicalName(zc.Origin), kick: make(chan struct{}, 1)}
	z.keys = make(map[string]bool, len(zc.Keys))
	for _, n := range zc.Keys {
		name := dns.CanonicalName(n)
		if keys[name] == nil {
			return nil, fmt.Errorf("dnsfeed: zone %s: key %q is not in Keys: add it there or drop it here", zc.Origin, n)
		}
		z.keys[name] = true
	}
	if zc.RequireTSIG && len(z.keys) == 0 {
		return nil, fmt.Errorf("dnsfeed: zone %s requires TSIG but no key may transfer it: name one in its Keys or drop RequireTSIG", zc.Origin)
	}
	if zc.NotifyKey != "" {
		if z.notify = keys[dns.CanonicalName(zc.NotifyKey)]; z.notify == nil {
			return nil, fmt.Errorf("dnsfeed: zone %s: NotifyKey %q is not in Keys: add it there or drop it here", zc.Origin, zc.NotifyKey)
		}
	}
	for _, n := range zc.Notify {
		if _, _, err := net.SplitHostPort(n); err != nil {
			return nil, fmt.Errorf("dnsfeed: zone %s: notify target %q is not host:port, e.g. 10.0.0.53:53", zc.Origin, n)
		}
	}
	for j, p := range zc.AllowTransfer {
		if !p.IsValid() {
			return nil, fmt.Errorf("dnsfeed: zone %s: AllowTransfer[%d] is not a valid prefix, e.g. 127.0.0.1/32", zc.Origin, j)
		}
	}
	return z, nil
}

// listen binds TCP, then UDP on the same port; with port 0 it retries
// while the kernel's free TCP port is taken for UDP.
func (s *Server) listen() error {
	var lastErr error
	for range 20 {
		tl, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("dnsfeed: listening on %s/tcp: %w", s.cfg.Addr, err)
		}
		ul, err := net.ListenPacket("udp", tl.Addr().String())
		if err == nil {
			s.tcp, s.udp = tl, ul
			return nil
		}
		tl.Close()
		lastErr = err
		if _, port, _ := net.SplitHostPort(s.cfg.Addr); port != "0" {
			break
		}
	}
	return fmt.Errorf("dnsfeed: listening on %s/udp: %w", s.cfg.Addr, lastErr)
}

// Addr returns the address the server listens on (UDP and TCP), with the
// port chosen when Config.Addr asked for port 0.
func (s *Server) Addr() string {
	return s.tcp.Addr().String()
}

// Close releases the sockets of a server that is not running. Run closes
// them itself when its context ends.
func (s *Server) Close() error {
	if s.running.Load() {
		return errors.New("dnsfeed: Close on a running server: cancel Run's context instead")
	}
	return errors.Join(s.tcp.Close(), s.udp.Close())
}

// SetZone replaces the zone named origin by the zone text (RFC 1035 master
// format, as intel.WriteRPZ writes it). The new zone must carry a serial
// that follows the served one in RFC 1982 arithmetic, or the same serial
// with identical content (a no-op). On a new serial the zone's secondaries
// are sent NOTIFY in the background (if Run is running, else when it
// starts). The error wraps ErrUnknownZone, ErrBadZone or ErrSerial.
func (s *Server) SetZone(origin string, zoneText []byte) error {
	z := s.zones[dns.CanonicalName(origin)]
	if z == nil {
		return fmt.Errorf("dnsfeed: %w: %q: add it to Config.Zones", ErrUnknownZone, origin)
	}
	v, err := parseZone(z.origin, zoneText, s.cfg.MaxZoneBytes, s.cfg.MaxRecords)
	if err != nil {
		return fmt.Errorf("dnsfeed: zone %s: %w", z.origin, err)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	st, unchanged, err := z.state.Load().next(v, s.cfg.History)
	if err != nil {
		return fmt.Errorf("dnsfeed: zone %s: %w", z.origin, err)
	}
	if unchanged {
		return nil
	}
	z.state.Store(st)
	s.log.Info("dnsfeed: zone loaded", "zone", z.origin, "serial", v.soa.Serial, "records", len(v.records), "ixfr_versions", len(st.diffs))
	select {
	case z.kick <- struct{}{}:
	default: // a NOTIFY is already due; it reads the newest serial
	}
	return nil
}

// Serial returns the serial of the zone named origin, and false when it
// is not configured or not loaded yet.
func (s *Server) Serial(origin string) (uint32, bool) {
	z := s.zones[dns.CanonicalName(origin)]
	if z == nil {
		return 0, false
	}
	st := z.state.Load()
	if st == nil {
		return 0, false
	}
	return st.cur.soa.Serial, true
}

// Run serves until ctx ends, then closes the sockets and every connection
// and returns nil; it returns an error if a socket fails. It sends the
// NOTIFY messages that SetZone queues. A Server runs once.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("dnsfeed: Run called twice: create another Server")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	for _, z := range s.zones {
		if len(z.cfg.Notify) > 0 {
			wg.Go(func() { s.notifyLoop(ctx, z) })
		}
	}
	for range udpWorkers {
		wg.Go(func() {
			if err := s.serveUDP(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Go(func() {
		if err := s.serveTCP(ctx, &wg); err != nil {
			cancel(err)
		}
	})
	<-ctx.Done()
	s.tcp.Close()
	s.udp.Close()
	s.mu.Lock()
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// loopErr says what a serving loop does with an error from reading or
// accepting: go on after a timeout; stop, with no error once ctx is done,
// else with the error.
func loopErr(ctx context.Context, err error, doing string) (retry bool, _ error) {
	if ctx.Err() != nil {
		return false, nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true, nil
	}
	return false, fmt.Errorf("dnsfeed: %s: %w", doing, err)
}

func (s *Server) serveUDP(ctx context.Context) error {
	buf := make([]byte, maxQuery+1)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			if retry, lerr := loopErr(ctx, err, "reading UDP"); !retry {
				return lerr
			}
			continue
		}
		if n > maxQuery {
			continue // too large for a query: drop
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		addr := ua.AddrPort().Addr().Unmap()
		// A failed write to one client is that client's problem.
		_ = s.serve(buf[:n], addr, false, func(b []byte) error {
			_, err := s.udp.WriteTo(b, from)
			return err
		})
	}
}

func (s *Server) serveTCP(ctx context.Context, wg *sync.WaitGroup) error {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if retry, lerr := loopErr(ctx, err, "accepting TCP"); !retry {
				return lerr
			}
			continue
		}
		select {
		case s.conns <- struct{}{}:
		default:
			s.log.Debug("dnsfeed: too many TCP connections: closing a new one", "remote", c.RemoteAddr().String(), "max_conns", s.cfg.MaxConns)
			c.Close()
			continue
		}
		s.mu.Lock()
		if ctx.Err() != nil {
			s.mu.Unlock()
			c.Close()
			<-s.conns
			return nil
		}
		s.open[c] = struct{}{}
		s.mu.Unlock()
		wg.Go(func() {
			s.serveConn(c)
			s.mu.Lock()
			delete(s.open, c)
			s.mu.Unlock()
			<-s.conns
		})
	}
}

// serveConn answers the requests of one TCP connection (RFC 7766 framing:
// a two-byte length before each message) under the connection's bounds.
func (s *Server) serveConn(c net.Conn) {
	defer c.Close()
	end := time.Now().Add(s.cfg.ConnTimeout)
	before := func(d time.Duration) time.Time {
		return minTime(time.Now().Add(d), end)
	}
	var addr netip.Addr
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		addr = ta.AddrPort().Addr().Unmap()
	}
	send := func(b []byte) error {
		if len(b) > dns.MaxMsgSize {
			return errors.New("dnsfeed: response too large for TCP")
		}
		if err := c.SetWriteDeadline(before(s.cfg.WriteTimeout)); err != nil {
			return err
		}
		bufs := net.Buffers{{byte(len(b) >> 8), byte(len(b))}, b}
		_, err := bufs.WriteTo(c)
		return err
	}
	var (
		lenBuf [2]byte
		buf    = make([]byte, maxQuery)
	)
	for range maxConnQueries {
		if err := c.SetReadDeadline(before(s.cfg.IdleTimeout)); err != nil {
			return
		}
		if _, err := io.ReadFull(c, lenBuf[:]); err != nil {
			return
		}
		n := int(lenBuf[0])<<8 | int(lenBuf[1])
		if n < 12 || n > maxQuery {
			return // not a query ward answers: drop the connection
		}
		if _, err := io.ReadFull(c, buf[:n]); err != nil {
			return
		}
		if err := s.serve(buf[:n], addr, true, send); err != nil {
			s.log.Debug("dnsfeed: writing to a TCP client failed", "remote", addr.String(), "err", err)
			return
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
