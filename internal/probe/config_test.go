package probe

import (
	"strings"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		mod  func(*Config)
		want string // substring of the error naming the field
	}{
		{func(c *Config) { c.DNSTimeout = -time.Second }, "DNSTimeout"},
		{func(c *Config) { c.FetchTimeout = -1 }, "FetchTimeout"},
		{func(c *Config) { c.MaxBody = -1 }, "MaxBody"},
		{func(c *Config) { c.MaxRedirects = 1000 }, "MaxRedirects"},
		{func(c *Config) { c.Resolvers = []string{"8.8.8.8"} }, "Resolvers"},
		{func(c *Config) { c.Resolvers = []string{"dns.example:53"} }, "Resolvers"},
		{func(c *Config) { c.HTTPPort = 70000 }, "HTTPPort"},
		{func(c *Config) { c.RDAPBase = "rdap.example" }, "RDAPBase"},
		{func(c *Config) { c.UserAgent = "a\r\nX-Evil: 1" }, "UserAgent"},
		{func(c *Config) { c.ParkingNameservers = []string{"http://x"} }, "ParkingNameservers"},
	}
	for _, tt := range tests {
		cfg := Config{Resolvers: []string{"127.0.0.1:53"}}
		tt.mod(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New: error %v, want one naming %s", err, tt.want)
		}
	}
	p, err := New(Config{Resolvers: []string{"127.0.0.1:53"}})
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if p.cfg.MaxBody != def.MaxBody || p.cfg.MaxRedirects != 10 || p.cfg.HTTPSPort != 443 || len(p.parking) == 0 || p.cfg.UserAgent == "" {
		t.Errorf("zero fields not defaulted: %+v", p.cfg)
	}
}

func TestReadResolvConf(t *testing.T) {
	got := readResolvConf(strings.NewReader("# c\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nnameserver bogus\nsearch example\n"))
	if strings.Join(got, ",") != "192.0.2.53:53,[2001:db8::53]:53" {
		t.Errorf("got %v", got)
	}
}
