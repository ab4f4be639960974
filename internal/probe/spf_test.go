package probe

import (
	"slices"
	"testing"
)

func TestParseSPF(t *testing.T) {
	tests := []struct {
		record  string
		all     string
		mechs   []string
		sends   bool
		invalid bool
	}{
		{"v=spf1 -all", "-all", nil, false, false},
		{"v=spf1 ~all", "~all", nil, true, false},
		{"v=spf1 ip4:192.0.2.0/24 -all", "-all", []string{"+ip4:192.0.2.0/24"}, true, false},
		{"v=spf1 -ip4:192.0.2.1 -all", "-all", []string{"-ip4:192.0.2.1"}, false, false},
		{"V=SPF1 MX Include:_spf.example.net ?all", "?all", []string{"+mx", "+include:_spf.example.net"}, true, false},
		{"v=spf1 redirect=_spf.example.net", "", nil, true, false},
		{"v=spf1", "", nil, true, false},
		{"v=spf1 -all ip4:192.0.2.1", "-all", nil, false, false}, // after "all" nothing counts
		{"v=spf1 exp=explain.example -all", "-all", nil, false, false},
		{"v=spf1 foo:bar -all", "", nil, false, true},
		{"v=spf1 -all:x", "", nil, false, true},
		{"v=spf10 -all", "", nil, false, true},
		{"spf1 -all", "", nil, false, true},
		{"v=spf1 redirect=a redirect=b", "", nil, false, true},
	}
	for _, tt := range tests {
		s := ParseSPF(tt.record)
		if s.All != tt.all || !slices.Equal(s.Mechanisms, tt.mechs) || s.AuthorisesSenders != tt.sends || (s.Invalid != "") != tt.invalid {
			t.Errorf("ParseSPF(%q) = all %q mechs %v sends %v invalid %q; want %q %v %v invalid=%v",
				tt.record, s.All, s.Mechanisms, s.AuthorisesSenders, s.Invalid, tt.all, tt.mechs, tt.sends, tt.invalid)
		}
	}
}

func TestParseDMARC(t *testing.T) {
	tests := []struct {
		record, policy, sp string
		pct                int
		rua                []string
		invalid            bool
	}{
		{"v=DMARC1; p=reject", "reject", "", 100, nil, false},
		{"v=DMARC1;p=Quarantine;sp=none;pct=25;rua=mailto:a@x.example,mailto:b@x.example", "quarantine", "none", 25, []string{"mailto:a@x.example", "mailto:b@x.example"}, false},
		{"v = DMARC1 ; p = none ;", "none", "", 100, nil, false},
		{"v=DMARC1; rua=mailto:a@x.example", "none", "", 100, []string{"mailto:a@x.example"}, false},
		{"v=DMARC1", "", "", 100, nil, true},
		{"v=DMARC1; p=block", "", "", 100, nil, true},
		{"v=DMARC1; p=reject; pct=300", "", "", 100, nil, true},
		{"v=spf1 -all", "", "", 100, nil, true},
		{"v=DMARC1; p", "", "", 100, nil, true},
	}
	for _, tt := range tests {
		d := ParseDMARC(tt.record)
		if d.Policy != tt.policy || d.SubdomainPolicy != tt.sp || d.Percent != tt.pct || !slices.Equal(d.ReportURIs, tt.rua) || (d.Invalid != "") != tt.invalid {
			t.Errorf("ParseDMARC(%q) = %+v; want p=%q sp=%q pct=%d rua=%v invalid=%v", tt.record, d, tt.policy, tt.sp, tt.pct, tt.rua, tt.invalid)
		}
	}
}
