package dnsfeed

import (
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// serve answers one request, raw, from addr, through send (one call per
// response message). It returns send's error; every other problem is
// answered in DNS. raw may be modified.
func (s *Server) serve(raw []byte, addr netip.Addr, tcp bool, send func([]byte) error) error {
	if len(raw) < 12 || raw[2]&0x80 != 0 {
		return nil // too short for a header, or a response: never answer
	}
	req := new(dns.Msg)
	if err := req.Unpack(raw); err != nil {
		return send(headerReply(raw, dns.RcodeFormatError))
	}
	r := &request{s: s, req: req, addr: addr, tcp: tcp, send: send}
	if code, ok := r.checkTSIG(raw); !ok {
		return r.fail(code)
	}
	return r.answer()
}

// headerReply is a reply of a bare header: the request's ID and opcode,
// rcode, and nothing else (for requests that do not parse).
func headerReply(raw []byte, rcode int) []byte {
	b := make([]byte, 12)
	copy(b, raw[:2])
	b[2] = 0x80 | raw[2]&0x78 // QR, the opcode
	b[3] = byte(rcode & 0xF)
	return b
}

// bare is a reply of a bare header with rcode.
func (r *request) bare(rcode int) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b, r.req.Id)
	b[2] = 0x80 | byte(r.req.Opcode&0xF)<<3
	b[3] = byte(rcode & 0xF)
	return b
}

// request is one request being answered.
type request struct {
	s    *Server
	req  *dns.Msg
	addr netip.Addr
	tcp  bool
	send func([]byte) error
	sg   *signer // non-nil when the request is signed with a known key
}

// checkTSIG verifies the request's TSIG record, if any. On failure it
// returns the TSIG error to answer (or 0 for FORMERR) and false.
func (r *request) checkTSIG(raw []byte) (uint16, bool) {
	n := 0
	for _, sec := range [][]dns.RR{r.req.Answer, r.req.Ns, r.req.Extra} {
		for _, rr := range sec {
			if rr.Header().Rrtype == dns.TypeTSIG {
				n++
			}
		}
	}
	if n == 0 {
		return 0, true
	}
	t := r.req.IsTsig()
	if n > 1 || t == nil {
		return 0, false // a TSIG record must be alone and last
	}
	err := dns.TsigVerifyWithProvider(raw, r.s.keys, "", false)
	mac, herr := hex.DecodeString(t.MAC)
	switch code := tsigCode(err); {
	case err == nil && herr == nil:
		k, _ := r.s.keys.lookup(t)
		r.sg = &signer{key: k, prevMAC: mac, first: true, now: uint64(r.s.now().Unix())}
		return 0, true
	case code == dns.RcodeBadTime && herr == nil:
		// Signed, with the request's time and ours in Other Data.
		k, _ := r.s.keys.lookup(t)
		r.sg = &signer{key: k, prevMAC: mac, first: true, now: uint64(r.s.now().Unix()), timeSent: t.TimeSigned, tsigErr: code}
		r.sg.other = appendUint48(nil, r.sg.now)
		r.s.log.Warn("dnsfeed: TSIG time out of range: check the clocks", "remote", r.addr.String(), "key", t.Hdr.Name, "their_time", t.TimeSigned, "our_time", r.sg.now)
		return code, false
	case code != 0:
		r.s.log.Warn("dnsfeed: TSIG check failed", "remote", r.addr.String(), "key", t.Hdr.Name, "error", dns.RcodeToString[int(code)])
		return code, false
	}
	return 0, false
}

// fail answers a request whose TSIG failed: FORMERR when tsigErr is 0,
// else NOTAUTH with the TSIG error (unsigned unless BADTIME, RFC 8945
// section 5.3.2).
func (r *request) fail(tsigErr uint16) error {
	m := r.reply(dns.RcodeFormatError)
	if tsigErr == 0 {
		return r.write(m)
	}
	m.Rcode = dns.RcodeNotAuth
	if tsigErr == dns.RcodeBadTime {
		return r.write(m) // r.sg carries the error and signs
	}
	t := r.req.IsTsig()
	m.Extra = append(m.Extra, &dns.TSIG{
		Hdr:        dns.RR_Header{Name: dns.Fqdn(t.Hdr.Name), Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm:  dns.Fqdn(t.Algorithm), // "" would pack as nothing
		TimeSigned: t.TimeSigned,
		Fudge:      t.Fudge,
		OrigId:     r.req.Id,
		Error:      tsigErr,
	})
	b, err := m.Pack()
	if err != nil {
		return r.send(r.bare(dns.RcodeNotAuth))
	}
	return r.send(b)
}

// reply starts a response with rcode, echoing the question and EDNS.
func (r *request) reply(rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(r.req, rcode)
	m.RecursionAvailable = false
	if opt := r.req.IsEdns0(); opt != nil {
		m.SetEdns0(maxUDPResponse, false)
		if opt.Version() != 0 {
			m.Rcode = dns.RcodeBadVers
		}
	}
	return m
}

// write packs, signs and sends a one-message response. Over UDP a response
// larger than the client can take is replaced by an empty one with TC set.
func (r *request) write(m *dns.Msg) error {
	m.Compress = true
	b, err := m.Pack()
	if err != nil {
		b = r.bare(dns.RcodeServerFailure)
	}
	if !r.tcp && len(b)+tsigRoom(r.sg) > r.udpLimit() {
		m.Truncated = true
		m.Answer, m.Ns = nil, nil
		if b, err = m.Pack(); err != nil {
			return err
		}
	}
	if r.sg != nil {
		if b, err = r.sg.sign(b); err != nil {
			return err
		}
	}
	return r.send(b)
}

// tsigRoom is the space sg's TSIG record takes.
func tsigRoom(sg *signer) int {
	if sg == nil {
		return 0
	}
	// owner, type, class, TTL, rdlength; algorithm, time, fudge, MAC
	// size, MAC, original ID, error, other length, other data (BADTIME).
	return len(sg.key.name) + 1 + 10 + len(sg.key.alg) + 1 + 6 + 2 + 2 + sha512.Size + 2 + 2 + 2 + 6
}

// udpLimit is the largest UDP response the client takes.
func (r *request) udpLimit() int {
	if opt := r.req.IsEdns0(); opt != nil {
		return max(dns.MinMsgSize, min(int(opt.UDPSize()), maxUDPResponse))
	}
	return dns.MinMsgSize
}

// answer answers a request whose TSIG, if any, is good.
func (r *request) answer() error {
	switch {
	case r.req.Opcode == dns.OpcodeNotify:
		// ward is the primary: NOTIFY from others means nothing to it.
		return r.write(r.reply(dns.RcodeRefused))
	case r.req.Opcode != dns.OpcodeQuery:
		return r.write(r.reply(dns.RcodeNotImplemented))
	case len(r.req.Question) != 1:
		return r.write(r.reply(dns.RcodeFormatError))
	}
	if opt := r.req.IsEdns0(); opt != nil && opt.Version() != 0 {
		return r.write(r.reply(dns.RcodeBadVers))
	}
	q := r.req.Question[0]
	z := r.s.zones[dns.CanonicalName(q.Name)]
	if q.Qclass != dns.ClassINET || z == nil {
		return r.write(r.reply(dns.RcodeRefused))
	}
	if !r.allowed(z) {
		r.s.log.Debug("dnsfeed: request refused", "zone", z.origin, "remote", r.addr.String(), "type", dns.TypeToString[q.Qtype], "signed", r.sg != nil)
		return r.write(r.reply(dns.RcodeRefused))
	}
	st := z.state.Load()
	if st == nil {
		return r.write(r.reply(dns.RcodeServerFailure)) // not loaded yet
	}
	switch q.Qtype {
	case dns.TypeSOA:
		m := r.reply(dns.RcodeSuccess)
		m.Authoritative = true
		m.Answer = []dns.RR{st.cur.soa}
		return r.write(m)
	case dns.TypeNS:
		m := r.reply(dns.RcodeSuccess)
		m.Authoritative = true
		m.Answer = st.cur.ns
		return r.write(m)
	case dns.TypeAXFR:
		if !r.tcp {
			return r.write(r.reply(dns.RcodeRefused)) // RFC 5936: TCP only
		}
		return r.transfer(z, st, q.Qtype, nil)
	case dns.TypeIXFR:
		return r.ixfr(z, st)
	}
	return r.write(r.reply(dns.RcodeRefused))
}

// allowed reports whether the client may query and transfer z: signed
// with one of its keys, or unsigned from an allowed prefix.
func (r *request) allowed(z *zone) bool {
	if r.sg != nil {
		return z.keys[r.sg.key.name]
	}
	if z.cfg.RequireTSIG || !r.addr.IsValid() {
		return false
	}
	for _, p := range z.cfg.AllowTransfer {
		if p.Contains(r.addr) {
			return true
		}
	}
	return false
}

// ixfr answers an IXFR request (RFC 1995): one SOA when the client is
// current, the differences since its serial when they are kept, else the
// whole zone. Over UDP a client that is behind gets TC and the SOA.
func (r *request) ixfr(z *zone, st *state) error {
	var have *dns.SOA
	for _, rr := range r.req.Ns {
		if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == z.origin {
			have = soa
		}
	}
	if have == nil {
		return r.write(r.reply(dns.RcodeFormatError)) // IXFR carries the client's SOA
	}
	cur := st.cur.soa
	if !newer(cur.Serial, have.Serial) || !r.tcp {
		m := r.reply(dns.RcodeSuccess)
		m.Authoritative = true
		m.Answer = []dns.RR{cur}
		m.Truncated = newer(cur.Serial, have.Serial)
		return r.write(m)
	}
	ds, ok := st.changesSince(have.Serial)
	n := 0
	for _, d := range ds {
		n += len(d.del) + len(d.add) + 2
	}
	if !ok || n > len(st.cur.records) {
		return r.transfer(z, st, dns.TypeIXFR, nil) // the whole zone is shorter
	}
	rrs := make([]dns.RR, 0, n+2)
	rrs = append(rrs, cur)
	for _, d := range ds {
		rrs = append(rrs, d.from)
		rrs = append(rrs, d.del...)
		rrs = append(rrs, d.to)
		rrs = append(rrs, d.add...)
	}
	rrs = append(rrs, cur)
	return r.transfer(z, st, dns.TypeIXFR, rrs)
}

// transfer sends a zone transfer over TCP: rrs when given (an incremental
// IXFR), else the whole zone from the version's cached messages.
func (r *request) transfer(z *zone, st *state, qtype uint16, rrs []dns.RR) error {
	select {
	case r.s.transfers <- struct{}{}:
		defer func() { <-r.s.transfers }()
	default:
		r.s.log.Warn("dnsfeed: too many transfers at once: answering SERVFAIL", "zone", z.origin, "remote", r.addr.String(), "max_transfers", r.s.cfg.MaxTransfers)
		return r.write(r.reply(dns.RcodeServerFailure))
	}
	start := time.Now()
	var msgs [][]byte
	if rrs == nil {
		var err error
		if msgs, err = st.cur.axfrMessages(z.origin); err != nil {
			r.s.log.Error("dnsfeed: packing the zone failed", "zone", z.origin, "err", err)
			return r.write(r.reply(dns.RcodeServerFailure))
		}
	} else {
		var err error
		q := dns.Question{Name: z.origin, Qtype: qtype, Qclass: dns.ClassINET}
		if msgs, err = packStream(q, rrs); err != nil {
			r.s.log.Error("dnsfeed: packing the differences failed", "zone", z.origin, "err", err)
			return r.write(r.reply(dns.RcodeServerFailure))
		}
	}
	buf := make([]byte, 0, transferMsgSize*2)
	for i, m := range msgs {
		buf = append(buf[:0], m...)
		binary.BigEndian.PutUint16(buf, r.req.Id)
		if r.req.RecursionDesired {
			buf[2] |= 0x01
		}
		if i == 0 {
			setQtype(buf, qtype)
		}
		out := buf
		if r.sg != nil {
			var err error
			if out, err = r.sg.sign(buf); err != nil {
				return err
			}
		}
		if err := r.send(out); err != nil {
			return err
		}
	}
	kind := "axfr"
	if qtype == dns.TypeIXFR {
		kind = "ixfr-full"
		if rrs != nil {
			kind = "ixfr"
		}
	}
	r.s.log.Info("dnsfeed: zone transferred", "zone", z.origin, "serial", st.cur.soa.Serial, "kind", kind,
		"remote", r.addr.String(), "signed", r.sg != nil, "messages", len(msgs), "duration", time.Since(start))
	return nil
}

// setQtype sets the type of a packed message's first question, whose name
// is uncompressed (it is the first name of the message).
func setQtype(b []byte, qtype uint16) {
	if len(b) < 12 || binary.BigEndian.Uint16(b[4:]) == 0 {
		return
	}
	off := 12
	for off < len(b) && b[off] != 0 {
		off += int(b[off]) + 1
	}
	if off+3 <= len(b) {
		binary.BigEndian.PutUint16(b[off+1:], qtype)
	}
}

// axfrMessages returns the zone's AXFR as packed messages with ID 0,
// packing them on first use.
func (v *version) axfrMessages(origin string) ([][]byte, error) {
	v.axfrOnce.Do(func() {
		rrs := make([]dns.RR, 0, len(v.records)+2)
		rrs = append(rrs, v.soa)
		rrs = append(rrs, v.records...)
		rrs = append(rrs, v.soa)
		v.axfr, v.axfrErr = packStream(dns.Question{Name: origin, Qtype: dns.TypeAXFR, Qclass: dns.ClassINET}, rrs)
	})
	return v.axfr, v.axfrErr
}

// packStream packs rrs into authoritative response messages of about
// transferMsgSize bytes, the question in the first one only.
func packStream(q dns.Question, rrs []dns.RR) ([][]byte, error) {
	var out [][]byte
	for len(rrs) > 0 {
		m := new(dns.Msg)
		m.Response, m.Authoritative, m.Compress = true, true, true
		if out == nil {
			m.Question = []dns.Question{q}
		}
		size := 0
		n := 0
		for n < len(rrs) && (n == 0 || size+dns.Len(rrs[n]) <= transferMsgSize) {
			size += dns.Len(rrs[n])
			n++
		}
		m.Answer = rrs[:n]
		rrs = rrs[n:]
		b, err := m.Pack()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("dnsfeed: nothing to transfer")
	}
	return out, nil
}
