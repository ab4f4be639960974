package mail

import (
	"context"
	"testing"
)

func TestDisguisedBrand(t *testing.T) {
	a, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text, brand string
	}{
		{"Your PayPaI account is limited", "PayPal"},
		{"Micr0soft 365: password expires", "Microsoft"},
		{"Arnazon order 113-55", "Amazon"},
		{"AppIe ID locked", "Apple"},
		{"Netf1ix payment failed", "Netflix"},
		{"Your PayPal account", ""},
		{"PAYPAL RECEIPT", ""},
		{"PAYPAI", ""}, // all capitals: I and L look different
		{"Illinois hospital association", ""},
		{"Internal audit", ""},
		{"ward 10 rota, 2010", ""},
		{"", ""},
	} {
		brand, _, ok := a.disguisedBrand(c.text)
		if ok != (c.brand != "") || brand != c.brand {
			t.Errorf("%q: %q %v, want %q", c.text, brand, ok, c.brand)
		}
	}
	r := a.Analyze(context.Background(), "m", msg([]string{"From: \"PayPaI Service\" <service@notices.example>", "Subject: account notice"}, "Please read the attached notice."))
	if !hasSignal(r, sigBrandDisguised) || r.Verdict != Suspicious {
		t.Errorf("display name: %s %v", r.Verdict, r.Reasons)
	}
}
