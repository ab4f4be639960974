package mail

import (
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/ward-health/ward/internal/mail/finding"
)

// signalsOf runs fn with a collector and returns the signals found.
func signalsOf(fn func(add func(finding.Finding))) []string {
	var out []string
	fn(func(f finding.Finding) { out = append(out, f.Signal) })
	return out
}

func TestContentSignals(t *testing.T) {
	rcpt := []address{{addr: "j.devries@ziekenhuis.example", domain: "ziekenhuis.example"}}
	tests := []struct {
		name, text string
		want       string // "" means no content signal
	}{
		{"en account suspension", "Your account will be suspended within 24 hours unless you act.", sigCredentialRequest},
		{"nl mailbox full", "Let op: uw mailbox is vol. Klik hieronder.", sigCredentialRequest},
		{"fr identity", "Merci de confirmer votre identité avant vendredi.", sigCredentialRequest},
		{"es password", "Su contraseña caduca hoy.", sigCredentialRequest},
		{"de unusual sign-in", "Wir haben eine ungewöhnliche Anmeldung festgestellt.", sigCredentialRequest},
		{"it account blocked", "Il tuo account è stato bloccato per sicurezza.", sigCredentialRequest},
		{"en ordinary password talk", "The password for the wifi in room 3 is on the whiteboard.", ""},
		{"nl ordinary account talk", "Je account voor het rooster is aangemaakt door de afdeling.", ""},
		{"en parcel fee", "Your package is on hold: a customs fee of 1.99 EUR is due.", sigDeliveryFee},
		{"de parcel", "Ihr Paket konnte nicht zugestellt werden.", sigDeliveryFee},
		{"it parcel", "Il tuo pacco in giacenza attende il pagamento.", sigDeliveryFee},
		{"en order shipped", "Your order has shipped and will arrive Tuesday.", ""},
		{"en sextortion", "I have hacked your phone and recorded you.", sigExtortion},
		{"fr sextortion", "J'ai piraté votre ordinateur.", sigExtortion},
		{"bitcoin address", "Send 0.1 BTC to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 today.", sigCryptoWallet},
		{"bech32 address", "Wallet: bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", sigCryptoWallet},
		{"ethereum address near a coin word", "USDT (ERC-20) to 0x52908400098527886e0f7030069857d2e4169ee7", sigCryptoWallet},
		{"base58-looking id with a bad checksum", "Ref 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", ""},
		{"hex hash without a coin word", "commit 0x52908400098527886e0f7030069857d2e4169ee7 fixed it", ""},
		{"en greeting by address", "Hello j.devries@ziekenhuis.example, you have 3 new messages", sigGreetingAddress},
		{"nl greeting by address", "Beste j.devries@ziekenhuis.example,\nUw pakket", sigGreetingAddress},
		{"de greeting by address", "Guten Tag J.DeVries@ziekenhuis.example!", sigGreetingAddress},
		{"address in a footer", "This message was sent to j.devries@ziekenhuis.example because you subscribed.", ""},
		{"greeting by name", "Hallo Jan, tot morgen.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := signalsOf(func(add func(finding.Finding)) { contentSignals(tt.text, rcpt, add) })
			if tt.want == "" && len(got) > 0 {
				t.Errorf("signals %v, want none", got)
			}
			if tt.want != "" && !slices.Contains(got, tt.want) {
				t.Errorf("signals %v, want %s", got, tt.want)
			}
		})
	}
}

func header(t *testing.T, lines ...string) message.Header {
	t.Helper()
	e, err := message.Read(strings.NewReader(strings.Join(lines, "\r\n") + "\r\n\r\nbody\r\n"))
	if e == nil {
		t.Fatalf("reading test header: %v", err)
	}
	return e.Header
}

func TestHeaderShapeSignals(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"made-up TLD in Message-ID", []string{"Message-ID: <x7.q2@qmbhtzkitivp.ofm>"}, sigMessageIDBogus},
		{"Message-ID without domain", []string{"Message-ID: <1234567>"}, sigMessageIDBogus},
		{"ordinary Message-ID", []string{"Message-ID: <20240301.1@mail.ziekenhuis.nl>"}, ""},
		{"host name only", []string{"Message-ID: <1234@mailhost3>"}, ""},
		{"localhost", []string{"Message-ID: <1234@localhost.localdomain>"}, ""},
		{"IP literal", []string{"Message-ID: <1234@[192.0.2.1]>"}, ""},
		{"date a week after receipt", []string{"Received: from a by b; Mon, 04 Mar 2024 10:00:00 +0000", "Date: Mon, 11 Mar 2024 10:00:00 +0000"}, sigDateBogus},
		{"date before receipt", []string{"Received: from a by b; Mon, 04 Mar 2024 10:00:00 +0000", "Date: Mon, 04 Mar 2024 09:59:00 +0000"}, ""},
		{"unreadable date", []string{"Date: yesterday at noon"}, sigDateBogus},
		{"no date", []string{"Subject: x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := header(t, tt.lines...)
			got := signalsOf(func(add func(finding.Finding)) { messageIDSignal(h, add); dateSignal(h, add) })
			if tt.want == "" && len(got) > 0 || tt.want != "" && !slices.Contains(got, tt.want) {
				t.Errorf("signals %v, want %q", got, tt.want)
			}
		})
	}
}

func TestEnvelopeMismatch(t *testing.T) {
	a, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		from, rp   string
		list, want bool
	}{
		{"brand From bouncing to a stranger", "noreply@paypal.com", "x1@oqmhwr.net", false, true},
		{"brand From bouncing to itself", "service@paypal.com", "bounce@e.paypal.com", false, false},
		{"brand From through a mailing service", "news@paypal.com", "b-123@amazonses.com", false, false},
		{"unknown sender bouncing elsewhere", "info@bakkerij.nl", "bounce@mailer.example.org", false, false},
		{"free mail sender on a list", "jan@hotmail.com", "list-bounces@lists.example.net", false, false},
		{"brand list message", "news@apple.com", "owner@lists.other.org", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := []string{"From: " + tt.from}
			if tt.list {
				lines = append(lines, "List-Id: <news.lists.other.org>")
			}
			from, rp := parseAddresses(tt.from, 1)[0], parseAddresses(tt.rp, 1)[0]
			got := signalsOf(func(add func(finding.Finding)) { a.envelopeMismatch(header(t, lines...), from, rp, add) })
			if (len(got) > 0) != tt.want {
				t.Errorf("signals %v, want flagged %v", got, tt.want)
			}
		})
	}
}

func TestBodyShape(t *testing.T) {
	hiddenFiller := `<div style="display: none">` + strings.Repeat("lorem ipsum dolor sit amet ", 20) + `</div><p>Claim your reward</p><a href="https://x.example">here</a>`
	preheader := `<span style="display:none;font-size:0px">Your March newsletter: rota, canteen, parking</span><p>` + strings.Repeat("News of the ward this month. ", 10) + `</p>`
	imageOnly := `<a href="https://promo.example/c"><img src="https://promo.example/i.png"></a>`
	tinyFont := `<font style="font-size:0">` + strings.Repeat("filler words here ", 30) + `</font>`
	tests := []struct {
		name, html string
		want       string
	}{
		{"hidden filler", hiddenFiller, sigHiddenText},
		{"zero-size font filler", tinyFont, sigHiddenText},
		{"newsletter preheader", preheader, ""},
		{"image and a link", imageOnly, sigImageOnly},
		{"letter with a picture", `<p>` + strings.Repeat("Dear colleagues, the report is attached. ", 5) + `</p><img src="cid:logo">`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scanHTML(tt.html, 10000, 100)
			anchors := 0
			for _, l := range s.links {
				if l.where == "href" {
					anchors++
				}
			}
			got := signalsOf(func(add func(finding.Finding)) {
				bodyShapeSignals(s.hiddenLetters, s.visibleLetters, s.images, anchors, 0, add)
			})
			if tt.want == "" && len(got) > 0 || tt.want != "" && !slices.Contains(got, tt.want) {
				t.Errorf("signals %v, want %q (hidden %d, visible %d)", got, tt.want, s.hiddenLetters, s.visibleLetters)
			}
		})
	}
}

func TestAbusedTLD(t *testing.T) {
	got := signalsOf(func(add func(finding.Finding)) {
		senderTLDSignal(address{domain: "promo-deals.shop"}, add)
		senderTLDSignal(address{domain: "ziekenhuis.nl"}, add)
		linkTLDSignal("win.bonus.click", "ziekenhuis.nl", add)
		linkTLDSignal("www.promo-deals.shop", "promo-deals.shop", add) // the sender's own site
	})
	if !slices.Equal(got, []string{sigSenderAbusedTLD, sigLinkAbusedTLD}) {
		t.Errorf("signals %v", got)
	}
}
