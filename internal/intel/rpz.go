package intel

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// RPZOptions configures WriteRPZ. Only Origin is required.
type RPZOptions struct {
	// Origin is the zone's name, e.g. "rpz.ward.example". Required.
	Origin string
	// Serial is the SOA serial; use Serial to derive it. Zero writes 1.
	Serial uint32
	// TTL of every record, in seconds; zero: 300.
	TTL uint32
	// MName is the primary name server in the SOA; zero: "localhost".
	MName string
	// RName is the zone contact as a domain name ("hostmaster.example.org"
	// for hostmaster@example.org); zero: "hostmaster." + Origin.
	RName string
	// Refresh, Retry, Expire and Minimum are the SOA timers in seconds;
	// zero: 3600, 600, 864000 (10 days) and 300.
	Refresh, Retry, Expire, Minimum uint32
	// NS are the zone's name servers; zero: MName.
	NS []string
	// WalledGarden is a host name to which blocked names are redirected (a
	// local page that tells staff why a site was blocked), written as a
	// CNAME target; zero: blocked names get NXDOMAIN ("CNAME .").
	WalledGarden string
	// Passthru are names (with their subdomains) that the resolver must
	// answer normally whatever other RPZ zones say (CNAME rpz-passthru.).
	Passthru []string
	// OmitIPs leaves IP indicators out; zero: each becomes an rpz-ip
	// trigger, so that answers containing that address get NXDOMAIN.
	OmitIPs bool
	// Warninglist names hosts and addresses never written (a URL's host
	// can reach the zone without having passed Select); nil: the built-in
	// list.
	Warninglist *Warninglist
}

// maxRPZName bounds an owner name in text form without the final dot
// (255 octets on the wire).
const maxRPZName = 253

func (o RPZOptions) withDefaults() (RPZOptions, error) {
	var err error
	if o.Origin, err = rpzName("origin", o.Origin); err != nil {
		return o, err
	}
	if o.Serial == 0 {
		o.Serial = 1
	}
	if o.TTL == 0 {
		o.TTL = 300
	}
	if o.MName == "" {
		o.MName = "localhost"
	} else if o.MName, err = rpzName("mname", o.MName); err != nil {
		return o, err
	}
	if o.RName == "" {
		o.RName = "hostmaster." + o.Origin
	} else if o.RName, err = rpzName("rname", strings.Replace(o.RName, "@", ".", 1)); err != nil {
		return o, err
	}
	if len(o.RName) > maxRPZName {
		return o, fmt.Errorf("rpz: rname %q is too long: set RName", o.RName)
	}
	o.Refresh = cmpOr(o.Refresh, 3600)
	o.Retry = cmpOr(o.Retry, 600)
	o.Expire = cmpOr(o.Expire, 864000)
	o.Minimum = cmpOr(o.Minimum, 300)
	if len(o.NS) == 0 {
		o.NS = []string{o.MName}
	}
	ns := make([]string, 0, len(o.NS))
	for _, n := range o.NS {
		v, err := rpzName("ns", n)
		if err != nil {
			return o, err
		}
		ns = append(ns, v)
	}
	o.NS = ns
	if o.WalledGarden != "" {
		if o.WalledGarden, err = rpzName("walled garden", o.WalledGarden); err != nil {
			return o, err
		}
	}
	if o.Warninglist == nil {
		o.Warninglist, _ = NewWarninglist()
	}
	return o, nil
}

// rpzName normalises a name given in the options; "localhost" passes.
func rpzName(field, s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("rpz: %s is empty: give a domain name such as rpz.example.org", field)
	}
	if strings.TrimSuffix(strings.ToLower(s), ".") == "localhost" {
		return "localhost", nil
	}
	d, err := normDomain(s)
	if err != nil {
		return "", fmt.Errorf("rpz: %s: %w", field, err)
	}
	return d, nil
}

func cmpOr(v, def uint32) uint32 {
	if v == 0 {
		return def
	}
	return v
}

// WriteRPZ writes a Response Policy Zone (the zone-file format that BIND,
// Unbound, Knot Resolver and PowerDNS Recursor load) blocking the
// indicators' domains, URL hosts and, unless OmitIPs, IP addresses. Each
// blocked name gets two records, for the name and for its subdomains:
//
//	evil.example.rpz.ward.example.   CNAME .
//	*.evil.example.rpz.ward.example. CNAME .
//
// (or CNAME to the walled garden). Passthru names come first and win.
// Indicators that are invalid, on the warninglist, or whose owner name would
// exceed 255 octets are left out and counted in a comment. The output is
// the same for the same indicators and options, whatever their order.
func WriteRPZ(w io.Writer, inds []Indicator, opts RPZOptions) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	names, ips, skipped := rpzTriggers(inds, o)
	var pass []string
	for _, p := range o.Passthru {
		d, err := normDomain(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("rpz: passthru: %w", err)
		}
		if len(d)+len(o.Origin)+3 <= maxRPZName {
			pass = append(pass, d)
		}
	}
	slices.Sort(pass)
	pass = slices.Compact(pass)

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "; ward response policy zone %s\n", o.Origin)
	fmt.Fprintf(bw, "; %d names, %d addresses, %d passthru, %d left out\n", len(names), len(ips), len(pass), skipped)
	fmt.Fprintf(bw, "$TTL %d\n", o.TTL)
	fmt.Fprintf(bw, "%s. IN SOA %s. %s. %d %d %d %d %d\n", o.Origin, o.MName, o.RName, o.Serial, o.Refresh, o.Retry, o.Expire, o.Minimum)
	for _, n := range o.NS {
		fmt.Fprintf(bw, "%s. IN NS %s.\n", o.Origin, n)
	}
	for _, p := range pass {
		fmt.Fprintf(bw, "%s.%s. IN CNAME rpz-passthru.\n", p, o.Origin)
		fmt.Fprintf(bw, "*.%s.%s. IN CNAME rpz-passthru.\n", p, o.Origin)
	}
	target := "."
	if o.WalledGarden != "" {
		target = o.WalledGarden + "."
	}
	for _, n := range names {
		if _, ok := slices.BinarySearch(pass, n); ok {
			continue
		}
		fmt.Fprintf(bw, "%s.%s. IN CNAME %s\n", n, o.Origin, target)
		fmt.Fprintf(bw, "*.%s.%s. IN CNAME %s\n", n, o.Origin, target)
	}
	for _, ip := range ips {
		// An address trigger has no walled garden: the answer is NXDOMAIN.
		fmt.Fprintf(bw, "%s.rpz-ip.%s. IN CNAME .\n", ip, o.Origin)
	}
	return bw.Flush()
}

// rpzTriggers returns the sorted, distinct names and rpz-ip owner prefixes
// to block, and how many indicators were left out.
func rpzTriggers(inds []Indicator, o RPZOptions) (names, ips []string, skipped int) {
	for _, in := range inds {
		if Validate(in) != nil {
			skipped++
			continue
		}
		switch in.Type {
		case TypeDomain, TypeURL:
			h := in.host()
			if h == "" {
				if in.Type == TypeURL && !o.OmitIPs {
					if a, err := netip.ParseAddr(strings.Trim(urlHost(in.Value), "[]")); err == nil && !o.Warninglist.ContainsIP(a) {
						ips = append(ips, rpzIP(a))
						continue
					}
				}
				skipped++
				continue
			}
			blocked := o.Warninglist.ContainsDomain(h)
			if in.Type == TypeURL {
				blocked = o.Warninglist.ContainsURLHost(h)
			}
			if blocked || len(h)+len(o.Origin)+3 > maxRPZName {
				skipped++
				continue
			}
			names = append(names, h)
		case TypeIP:
			if o.OmitIPs {
				continue
			}
			a, err := netip.ParseAddr(in.Value)
			if err != nil || o.Warninglist.ContainsIP(a) {
				skipped++
				continue
			}
			ips = append(ips, rpzIP(a))
		}
	}
	slices.Sort(names)
	slices.Sort(ips)
	return slices.Compact(names), slices.Compact(ips), skipped
}

// rpzIP returns the owner-name prefix of an rpz-ip trigger for one address:
// the prefix length, then the address reversed (octets for IPv4, 16-bit
// groups for IPv6 with the longest run of zero groups written "zz").
func rpzIP(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("32.%d.%d.%d.%d", b[3], b[2], b[1], b[0])
	}
	s := a.String() // canonical: lower case, longest zero run as "::"
	s = strings.Replace(s, "::", ":zz:", 1)
	s = strings.Trim(s, ":")
	groups := strings.Split(s, ":")
	slices.Reverse(groups)
	return "128." + strings.Join(groups, ".")
}

// RPZHash returns a digest of the zone's content without its serial: equal
// digests mean an equal zone. Keep it with the serial and pass both to
// Serial on the next export.
func RPZHash(inds []Indicator, opts RPZOptions) (string, error) {
	opts.Serial = 1
	h := sha256.New()
	if err := WriteRPZ(h, inds, opts); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Serial returns the SOA serial for a zone whose content digest is hash,
// given the previous serial and digest: the previous serial when the
// content is unchanged, else the larger of YYYYMMDD00 (at now, in UTC) and
// prev+1. Secondaries transfer a zone only when its serial increases, and
// this scheme keeps the date readable for up to 100 changes a day before it
// runs ahead. A prev of 0 means there was no previous zone.
func Serial(prev uint32, prevHash, hash string, now time.Time) uint32 {
	if prev != 0 && prevHash == hash {
		return prev
	}
	now = now.UTC()
	date := uint32(now.Year())*1_000_000 + uint32(now.Month())*10_000 + uint32(now.Day())*100
	if now.Year() > 4200 || now.Year() < 1970 {
		date = 0
	}
	if date > prev {
		return date
	}
	next := prev + 1
	if next == 0 { // wrapped: RFC 1982 arithmetic makes 1 follow the top
		next = 1
	}
	return next
}
