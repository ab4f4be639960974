package dnsfeed

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Config configures a Server. Addr and at least one zone are required;
// every other field has a default (see DefaultConfig) that its zero value
// selects.
type Config struct {
	// Addr is the UDP and TCP address to listen on, e.g. "0.0.0.0:5353" or
	// "127.0.0.1:0" (a free port, both protocols on the same one). Required.
	Addr string
	// Zones are the zones served. Each must be loaded with SetZone before
	// it is answered (until then its queries get SERVFAIL).
	Zones []ZoneConfig
	// Keys are the TSIG keys that secondaries sign with, by name.
	Keys []Key
	// History is how many past versions of each zone are kept as
	// differences for IXFR; zero: 16. A secondary older than that gets the
	// whole zone.
	History int
	// MaxZoneBytes bounds the text SetZone accepts, in bytes; zero: 256 MiB.
	MaxZoneBytes int
	// MaxRecords bounds the records of one zone; zero: 4,000,000.
	MaxRecords int
	// MaxTransfers bounds the zone transfers served at once; more get
	// SERVFAIL (secondaries retry later); zero: 16.
	MaxTransfers int
	// MaxConns bounds the open TCP connections; more are closed at once;
	// zero: 128.
	MaxConns int
	// IdleTimeout is how long a TCP connection may wait for its next query;
	// zero: 10s.
	IdleTimeout time.Duration
	// WriteTimeout is how long one response message may take to be
	// written (a client that stops reading is dropped); zero: 10s.
	WriteTimeout time.Duration
	// ConnTimeout bounds a TCP connection's whole life, transfers
	// included; zero: 10m.
	ConnTimeout time.Duration
	// NotifyAttempts is how many times a NOTIFY is sent to a secondary
	// that does not answer; zero: 6.
	NotifyAttempts int
	// NotifyInterval is the wait before the first resend of a NOTIFY (and
	// each attempt's answer timeout); it doubles on each resend; zero: 2s.
	NotifyInterval time.Duration
	// Logger receives the server's logs; nil: discard. Key secrets are
	// never logged.
	Logger *slog.Logger
}

// ZoneConfig configures one served zone.
type ZoneConfig struct {
	// Origin is the zone's name, e.g. "rivm.rpz.ward.example". Required.
	Origin string
	// RequireTSIG refuses every transfer (and SOA or NS query) that is not
	// signed with one of the zone's keys, whatever AllowTransfer says.
	RequireTSIG bool
	// Keys names the keys (from Config.Keys) that may transfer the zone;
	// empty: none (one tenant's key never opens another's zone).
	Keys []string
	// AllowTransfer are client address prefixes that may transfer the zone
	// unsigned (unless RequireTSIG); empty: none. Loopback is not allowed
	// unless listed, e.g. 127.0.0.1/32.
	AllowTransfer []netip.Prefix
	// Notify are secondaries (host:port) sent a NOTIFY on every new serial.
	Notify []string
	// NotifyKey names the key (from Config.Keys) that signs the NOTIFY
	// messages; empty: unsigned.
	NotifyKey string
}

// Key is a TSIG key shared with secondaries. Its String and LogValue
// methods leave the secret out.
type Key struct {
	// Name as the secondaries' configuration spells it, e.g. "ward-rpz".
	Name string
	// Algorithm is hmac-sha256 (the zero value), hmac-sha512 or hmac-sha1.
	Algorithm string
	// Secret in base64, as `tsig-keygen` prints it; at least 16 bytes.
	Secret string
}

// String names the key and its algorithm, never its secret.
func (k Key) String() string {
	return fmt.Sprintf("TSIG key %s (%s)", k.Name, k.Algorithm)
}

// LogValue logs the key's name and algorithm, never its secret.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", k.Name), slog.String("algorithm", k.Algorithm))
}

// DefaultConfig returns the defaults that New applies to zero fields.
func DefaultConfig() Config {
	return Config{
		History:        16,
		MaxZoneBytes:   256 << 20,
		MaxRecords:     4_000_000,
		MaxTransfers:   16,
		MaxConns:       128,
		IdleTimeout:    10 * time.Second,
		WriteTimeout:   10 * time.Second,
		ConnTimeout:    10 * time.Minute,
		NotifyAttempts: 6,
		NotifyInterval: 2 * time.Second,
	}
}

// Upper bounds on the configuration, so that a typo cannot disable a bound.
const (
	maxHistory     = 1000
	maxZoneBytes   = 2 << 30
	maxRecordLimit = 50_000_000
)

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	c.History = orDefault(c.History, d.History)
	c.MaxZoneBytes = orDefault(c.MaxZoneBytes, d.MaxZoneBytes)
	c.MaxRecords = orDefault(c.MaxRecords, d.MaxRecords)
	c.MaxTransfers = orDefault(c.MaxTransfers, d.MaxTransfers)
	c.MaxConns = orDefault(c.MaxConns, d.MaxConns)
	c.IdleTimeout = orDefault(c.IdleTimeout, d.IdleTimeout)
	c.WriteTimeout = orDefault(c.WriteTimeout, d.WriteTimeout)
	c.ConnTimeout = orDefault(c.ConnTimeout, d.ConnTimeout)
	c.NotifyAttempts = orDefault(c.NotifyAttempts, d.NotifyAttempts)
	c.NotifyInterval = orDefault(c.NotifyInterval, d.NotifyInterval)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Addr == "":
		return c, fmt.Errorf("dnsfeed: Addr is empty: give host:port, e.g. 0.0.0.0:5353")
	case c.History < 0 || c.History > maxHistory:
		return c, fmt.Errorf("dnsfeed: History %d is out of range: give 1 to %d versions", c.History, maxHistory)
	case c.MaxZoneBytes < 0 || c.MaxZoneBytes > maxZoneBytes:
		return c, fmt.Errorf("dnsfeed: MaxZoneBytes %d is out of range: give 1 to %d", c.MaxZoneBytes, maxZoneBytes)
	case c.MaxRecords < 0 || c.MaxRecords > maxRecordLimit:
		return c, fmt.Errorf("dnsfeed: MaxRecords %d is out of range: give 1 to %d", c.MaxRecords, maxRecordLimit)
	case c.MaxTransfers < 0, c.MaxConns < 0, c.NotifyAttempts < 0:
		return c, fmt.Errorf("dnsfeed: MaxTransfers, MaxConns and NotifyAttempts must be positive (zero: default)")
	case c.IdleTimeout < 0, c.WriteTimeout < 0, c.ConnTimeout < 0, c.NotifyInterval < 0:
		return c, fmt.Errorf("dnsfeed: timeouts must be positive (zero: default)")
	case len(c.Zones) == 0:
		return c, fmt.Errorf("dnsfeed: no zones: give at least one ZoneConfig with an Origin")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("dnsfeed: Addr %q is not host:port, e.g. 0.0.0.0:5353", c.Addr)
	}
	return c, nil
}

// key is a parsed Key.
type key struct {
	name   string // canonical: lower case, fully qualified
	alg    string // canonical algorithm name, e.g. "hmac-sha256."
	secret []byte
}

// parseKeys checks the keys and indexes them by canonical name.
func parseKeys(ks []Key) (map[string]*key, error) {
	out := make(map[string]*key, len(ks))
	for i, k := range ks {
		if k.Name == "" {
			return nil, fmt.Errorf("dnsfeed: Keys[%d]: the name is empty: give the name the secondaries use, e.g. ward-rpz", i)
		}
		if _, ok := dns.IsDomainName(k.Name); !ok {
			return nil, fmt.Errorf("dnsfeed: Keys[%d]: %q is not a domain-name-like key name, e.g. ward-rpz", i, k.Name)
		}
		name := dns.CanonicalName(k.Name)
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("dnsfeed: Keys[%d]: the name %q is used twice: give each key its own name", i, k.Name)
		}
		var alg string
		switch strings.ToLower(strings.TrimSuffix(k.Algorithm, ".")) {
		case "", "hmac-sha256":
			alg = dns.HmacSHA256
		case "hmac-sha512":
			alg = dns.HmacSHA512
		case "hmac-sha1":
			alg = dns.HmacSHA1
		default:
			return nil, fmt.Errorf("dnsfeed: key %s: algorithm %q is not supported: use hmac-sha256, hmac-sha512 or hmac-sha1", k.Name, k.Algorithm)
		}
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k.Secret))
		if err != nil || len(secret) < 16 {
			// The error of DecodeString quotes no input, but say nothing
			// of the secret anyway.
			return nil, fmt.Errorf("dnsfeed: key %s: the secret is not base64 of at least 16 bytes: make one with `tsig-keygen %s`", k.Name, k.Name)
		}
		out[name] = &key{name: name, alg: alg, secret: secret}
	}
	return out, nil
}
