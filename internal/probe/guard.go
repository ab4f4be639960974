package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// ErrForbiddenAddress is returned (wrapped in a *GuardError) when a fetch
// would connect to an address the guard refuses: loopback, private,
// link-local, cloud metadata and the other classes listed in
// [ClassifyAddr]. Set Config.AllowPrivateTargets only in tests and labs.
var ErrForbiddenAddress = errors.New("forbidden target address")

// ErrForbiddenPort is returned (wrapped in a *GuardError) when a URL names a
// port that is not an HTTP port: ports that other protocols own (SMTP,
// SSH, databases, ...), following the Fetch standard's list of bad ports.
var ErrForbiddenPort = errors.New("forbidden target port")

// GuardError says which address or port the guard refused and why.
type GuardError struct {
	// Target is the address or URL refused, e.g. "127.0.0.1:8080".
	Target string
	// Class names the refused class: "loopback", "private", "port", ...
	Class string
	// Err is ErrForbiddenAddress or ErrForbiddenPort.
	Err error
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("%v %s (%s); set AllowPrivateTargets only for tests and labs", e.Err, e.Target, e.Class)
}

func (e *GuardError) Unwrap() error { return e.Err }

// ipRange is one refused prefix and its class.
type ipRange struct {
	prefix netip.Prefix
	class  string
}

// refused lists the IPv4 and IPv6 prefixes the guard refuses, most
// specific first where they overlap, so that the class is the precise one.
// IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms are unwrapped before
// this table is consulted.
var refused = func() []ipRange {
	t := []struct{ p, class string }{
		// Cloud metadata services. Most sit in classes refused anyway;
		// 168.63.129.16 (Azure wire server) is a public address.
		{"169.254.169.254/32", "metadata"}, // AWS, GCP, Azure, OpenStack, DigitalOcean
		{"169.254.170.2/32", "metadata"},   // AWS ECS task metadata
		{"100.100.100.200/32", "metadata"}, // Alibaba Cloud
		{"168.63.129.16/32", "metadata"},   // Azure wire server
		{"192.0.0.192/32", "metadata"},     // Oracle Cloud
		{"fd00:ec2::254/128", "metadata"},  // AWS IPv6 metadata
		// IPv4 special-purpose registry (RFC 6890 and successors).
		{"0.0.0.0/8", "unspecified"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "cgnat"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link_local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "reserved"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "reserved"}, // former 6to4 relay anycast
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"}, // includes 255.255.255.255
		// IPv6.
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"64:ff9b:1::/48", "nat64_local"}, // RFC 8215 local-use NAT64
		{"100::/64", "discard"},
		{"2001::/23", "reserved"}, // IETF protocol assignments, incl. Teredo 2001::/32
		{"2001:db8::/32", "documentation"},
		{"3fff::/20", "documentation"},
		{"5f00::/16", "reserved"}, // SRv6 SIDs
		{"fc00::/7", "ula"},
		{"fe80::/10", "link_local"},
		{"fec0::/10", "site_local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]ipRange, len(t))
	for i, r := range t {
		out[i] = ipRange{netip.MustParsePrefix(r.p), r.class}
	}
	return out
}()

var (
	nat64WKP   = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	ipv4Compat = netip.MustParsePrefix("::/96")
)

// ClassifyAddr returns "" when a is a public unicast address the prober may
// connect to, or the name of the class that makes it forbidden: "loopback",
// "private" (RFC 1918), "link_local", "cgnat" (100.64.0.0/10), "multicast",
// "unspecified", "ula" (fc00::/7), "metadata" (cloud metadata services),
// "documentation", "benchmarking", "reserved", "discard", "site_local",
// "nat64_local", "invalid". IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
// (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are
// judged by the IPv4 address they carry, with the class prefixed by the
// wrapping ("nat64_loopback", "6to4_private", ...); mapped addresses keep
// the bare class, since the kernel connects to the IPv4 address itself.
func ClassifyAddr(a netip.Addr) string {
	if !a.IsValid() {
		return "invalid"
	}
	a = a.WithZone("")
	if a.Is4In6() {
		return classify4(a.Unmap())
	}
	if a.Is4() {
		return classify4(a)
	}
	b := a.As16()
	switch {
	case nat64WKP.Contains(a):
		if c := classify4(netip.AddrFrom4([4]byte(b[12:16]))); c != "" {
			return "nat64_" + c
		}
		return ""
	case sixToFour.Contains(a):
		if c := classify4(netip.AddrFrom4([4]byte(b[2:6]))); c != "" {
			return "6to4_" + c
		}
		return ""
	case ipv4Compat.Contains(a) && a != netip.IPv6Unspecified() && a != netip.IPv6Loopback():
		// Deprecated IPv4-compatible form; no public use remains.
		return "ipv4_compatible"
	}
	return lookup(a)
}

func classify4(a netip.Addr) string { return lookup(a) }

func lookup(a netip.Addr) string {
	for _, r := range refused {
		if r.prefix.Contains(a) {
			return r.class
		}
	}
	return ""
}

// parseHostIP reads a URL host as an IP address the way browsers and
// inet_aton do: dotted quads with decimal, octal (leading 0) or hex (0x)
// parts, and the shortened forms "a", "a.b", "a.b.c" in which the last part
// fills the remaining bytes ("2130706433" and "0x7f.1" are 127.0.0.1).
// Bracketed IPv6 literals are accepted too. ok is false when host is a name.
func parseHostIP(host string) (netip.Addr, bool) {
	h := strings.TrimSuffix(host, ".")
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a, true
	}
	if h == "" || len(h) > 64 {
		return netip.Addr{}, false
	}
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var nums [4]uint64
	for i, p := range parts {
		n, ok := parseInetPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := len(parts) - 1
	for i := 0; i < last; i++ {
		if nums[i] > 0xff {
			return netip.Addr{}, false
		}
	}
	// The last part fills the bytes the earlier parts left.
	if rest := 4 - last; nums[last] >= 1<<(8*rest) {
		return netip.Addr{}, false
	}
	var v uint32
	for i := 0; i < last; i++ {
		v |= uint32(nums[i]) << (8 * (3 - i))
	}
	v |= uint32(nums[last])
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseInetPart reads one inet_aton part: decimal, 0-prefixed octal or
// 0x-prefixed hex, at most 32 bits.
func parseInetPart(p string) (uint64, bool) {
	if p == "" || len(p) > 34 {
		return 0, false
	}
	base := 10
	switch {
	case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true // "0x" alone is 0 for inet_aton
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	n, err := strconv.ParseUint(p, base, 32)
	if err != nil {
		return 0, false
	}
	return n, true
}

// badPorts are ports that belong to other protocols; a fetch never
// connects to them, as browsers do not (Fetch standard, "bad port").
var badPorts = map[int]bool{
	0: true, 1: true, 7: true, 9: true, 11: true, 13: true, 15: true, 17: true, 19: true,
	20: true, 21: true, 22: true, 23: true, 25: true, 37: true, 42: true, 43: true,
	53: true, 69: true, 77: true, 79: true, 87: true, 95: true, 101: true, 102: true,
	103: true, 104: true, 109: true, 110: true, 111: true, 113: true, 115: true,
	117: true, 119: true, 123: true, 135: true, 137: true, 139: true, 143: true,
	161: true, 179: true, 389: true, 427: true, 465: true, 512: true, 513: true,
	514: true, 515: true, 526: true, 530: true, 531: true, 532: true, 540: true,
	548: true, 554: true, 556: true, 563: true, 587: true, 601: true, 636: true,
	989: true, 990: true, 993: true, 995: true, 1719: true, 1720: true, 1723: true,
	2049: true, 3659: true, 4045: true, 4190: true, 5060: true, 5061: true,
	6000: true, 6566: true, 6665: true, 6666: true, 6667: true, 6668: true,
	6669: true, 6679: true, 6697: true, 10080: true,
	// Not in the browser list but never HTTP in practice: databases and
	// caches that an SSRF is after.
	1433: true, 1521: true, 2375: true, 2376: true, 2379: true, 3306: true,
	5432: true, 5984: true, 6379: true, 9042: true, 9200: true, 11211: true,
	27017: true,
}

// refusal returns "" when the prober may connect to ap, or the class that
// forbids it (see [ClassifyAddr]; "port" for a bad port).
func (p *Prober) refusal(ap netip.AddrPort) string {
	if p.cfg.AllowPrivateTargets || (p.testExempt.IsValid() && ap == p.testExempt) {
		return ""
	}
	if c := ClassifyAddr(ap.Addr()); c != "" {
		return c
	}
	if badPorts[int(ap.Port())] {
		return "port"
	}
	return ""
}

// guardError builds the error for a refused address.
func guardError(target, class string) *GuardError {
	err := ErrForbiddenAddress
	if class == "port" {
		err = ErrForbiddenPort
	}
	return &GuardError{Target: target, Class: class, Err: err}
}

// control is the net.Dialer Control function: it runs after the address is
// chosen and before connect(2), so it sees the exact IP the socket will
// reach, whatever DNS or a redirect said.
func (p *Prober) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return guardError(address, "unparsable")
	}
	if c := p.refusal(ap); c != "" {
		return guardError(address, c)
	}
	return nil
}
