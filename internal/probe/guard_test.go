package probe

import (
	"errors"
	"net/netip"
	"testing"
)

func TestClassifyAddr(t *testing.T) {
	tests := []struct {
		addr, class string
	}{
		// IPv4.
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"10.0.0.1", "private"},
		{"172.16.5.4", "private"},
		{"172.32.0.1", ""},
		{"192.168.1.1", "private"},
		{"100.64.0.1", "cgnat"},
		{"100.127.255.254", "cgnat"},
		{"100.128.0.1", ""},
		{"169.254.169.254", "metadata"},
		{"169.254.170.2", "metadata"},
		{"169.254.1.1", "link_local"},
		{"100.100.100.200", "metadata"},
		{"168.63.129.16", "metadata"},
		{"192.0.0.192", "metadata"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"224.0.0.251", "multicast"},
		{"239.255.255.250", "multicast"},
		{"255.255.255.255", "reserved"},
		{"240.0.0.1", "reserved"},
		{"192.0.2.1", "documentation"},
		{"198.18.0.1", "benchmarking"},
		// IPv6.
		{"2a00:1450:4001:80b::200e", ""},
		{"::1", "loopback"},
		{"::", "unspecified"},
		{"fe80::1", "link_local"},
		{"fe80::1%eth0", "link_local"},
		{"fc00::1", "ula"},
		{"fd12:3456::1", "ula"},
		{"fd00:ec2::254", "metadata"},
		{"ff02::1", "multicast"},
		{"2001:db8::1", "documentation"},
		{"fec0::1", "site_local"},
		{"100::1", "discard"},
		// IPv4-mapped: the kernel connects to the IPv4 address.
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.1.2.3", "private"},
		{"::ffff:169.254.169.254", "metadata"},
		{"::ffff:8.8.8.8", ""},
		// IPv4-compatible (deprecated).
		{"::127.0.0.1", "ipv4_compatible"},
		{"::8.8.8.8", "ipv4_compatible"},
		// NAT64 well-known prefix: judged by the embedded address.
		{"64:ff9b::7f00:1", "nat64_loopback"},
		{"64:ff9b::a9fe:a9fe", "nat64_metadata"},
		{"64:ff9b::10.0.0.1", "nat64_private"},
		{"64:ff9b::808:808", ""},
		{"64:ff9b:1::1", "nat64_local"},
		// 6to4: the IPv4 address is in bits 16-48.
		{"2002:7f00:1::1", "6to4_loopback"},
		{"2002:c0a8:101::1", "6to4_private"},
		{"2002:a9fe:a9fe::", "6to4_metadata"},
		{"2002:808:808::1", ""},
		// Teredo sits in the refused IETF block.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if got := ClassifyAddr(a); got != tt.class {
			t.Errorf("ClassifyAddr(%s) = %q, want %q", tt.addr, got, tt.class)
		}
	}
	if got := ClassifyAddr(netip.Addr{}); got != "invalid" {
		t.Errorf("zero Addr: %q, want invalid", got)
	}
}

func TestParseHostIP(t *testing.T) {
	tests := []struct {
		host, want string // want "" = a name, not an address
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"169.254.43518", "169.254.169.254"},
		{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254"},
		{"[::1]", "::1"},
		{"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
		{"10.0.0.1.", "10.0.0.1"},
		{"example.org", ""},
		{"1.2.3.4.5", ""},
		{"256.1.1.1", ""},
		{"1.2.3.256", ""},
		{"4294967296", ""},
		{"08.1.1.1", ""},
		{"", ""},
		{"0x", "0.0.0.0"},
	}
	for _, tt := range tests {
		a, ok := parseHostIP(tt.host)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("parseHostIP(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestControlRefusesAtDial(t *testing.T) {
	p, err := New(Config{Resolvers: []string{"127.0.0.1:53"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"127.0.0.1:80", "[::1]:443", "10.0.0.1:80", "169.254.169.254:80", "[::ffff:127.0.0.1]:80", "[fd00::1]:80", "100.64.1.1:80", "[64:ff9b::7f00:1]:80"} {
		err := p.control("tcp", addr, nil)
		var ge *GuardError
		if !errors.As(err, &ge) || !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("control(%s) = %v, want a GuardError for a forbidden address", addr, err)
		}
	}
	if err := p.control("tcp", "8.8.8.8:25", nil); !errors.Is(err, ErrForbiddenPort) {
		t.Errorf("control(8.8.8.8:25) = %v, want ErrForbiddenPort", err)
	}
	if err := p.control("tcp", "8.8.8.8:443", nil); err != nil {
		t.Errorf("control(8.8.8.8:443) = %v, want nil", err)
	}
	p.cfg.AllowPrivateTargets = true
	if err := p.control("tcp", "127.0.0.1:6379", nil); err != nil {
		t.Errorf("AllowPrivateTargets: control(127.0.0.1:6379) = %v, want nil", err)
	}
}
