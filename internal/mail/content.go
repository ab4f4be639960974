package mail

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/ward-health/ward/internal/mail/finding"
)

// Content signals: what the words of a message ask the reader to do.
// Unlike the lures (lures.go), which only boost other signals, each of
// these is a request that honest organisations do not make by mail, and
// counts on its own. Phrases are lower-case, in English, Dutch, French,
// Spanish, German and Italian, matched on word boundaries.

// credentialPhrases ask the reader to act on an account or a password.
var credentialPhrases = []string{
	// English
	"verify your account", "verify your identity", "confirm your identity", "confirm your account",
	"validate your account", "verify your email", "confirm your email address", "your mailbox is full",
	"mailbox is almost full", "mailbox storage", "password expires", "password will expire",
	"password has expired", "unusual sign-in", "unusual login", "suspicious sign-in", "unauthorized login",
	"account will be suspended", "account has been suspended", "account has been locked",
	"account will be closed", "account will be deactivated", "account has been limited",
	"account will be terminated", "reactivate your account", "re-activate your account",
	"unlock your account", "verify your wallet", "to avoid suspension", "prevent suspension",
	"update your payment details", "update your billing information", "restore your account",
	// Dutch
	"verifieer uw account", "verifieer je account", "bevestig uw identiteit", "bevestig je identiteit",
	"uw mailbox is vol", "je mailbox is vol", "wachtwoord verloopt", "ongebruikelijke aanmelding",
	"uw account wordt geblokkeerd", "uw account is geblokkeerd", "je account wordt geblokkeerd",
	"uw account wordt opgeschort", "bevestig uw gegevens", "verifieer uw gegevens", "werk uw gegevens bij",
	// French
	"vérifiez votre compte", "vérifier votre compte", "confirmez votre identité", "confirmer votre identité",
	"votre boîte aux lettres est pleine", "votre boîte mail est pleine", "votre mot de passe expire",
	"connexion inhabituelle", "votre compte sera suspendu", "votre compte a été suspendu",
	"votre compte sera bloqué", "votre compte a été bloqué", "confirmer vos informations",
	"mettre à jour vos informations",
	// Spanish
	"verifique su cuenta", "verificar su cuenta", "confirme su identidad", "su buzón está lleno",
	"su contraseña caduca", "su contraseña expirará", "inicio de sesión inusual",
	"su cuenta será suspendida", "su cuenta ha sido suspendida", "su cuenta ha sido bloqueada",
	"su cuenta será bloqueada", "actualice sus datos", "confirme sus datos",
	// German
	"bestätigen sie ihr konto", "verifizieren sie ihr konto", "bestätigen sie ihre identität",
	"ihr postfach ist voll", "ihr passwort läuft ab", "ihr kennwort läuft ab", "ungewöhnliche anmeldung",
	"ihr konto wird gesperrt", "ihr konto wurde gesperrt", "ihr konto wurde eingeschränkt",
	"aktualisieren sie ihre daten", "bestätigen sie ihre daten", "verifizieren sie ihre daten",
	// Italian
	"verifica il tuo account", "conferma la tua identità", "la tua casella di posta è piena",
	"la tua password scadrà", "la password scadrà", "accesso insolito", "il tuo account sarà sospeso",
	"il tuo account è stato sospeso", "il tuo account è stato bloccato", "aggiorna i tuoi dati",
	"conferma i tuoi dati",
}

// deliveryFeePhrases tell of a parcel held until a fee is paid, or of a
// failed delivery to reschedule: the parcel scam.
var deliveryFeePhrases = []string{
	"customs fee", "customs duty", "customs charges", "delivery fee", "redelivery fee", "package is on hold",
	"parcel is on hold", "shipment is on hold", "could not be delivered", "unable to deliver your",
	"delivery attempt failed", "failed delivery attempt", "schedule your delivery", "reschedule your delivery",
	"douanekosten", "invoerrechten", "bezorgkosten", "kon niet worden bezorgd", "bezorging mislukt",
	"frais de douane", "frais de livraison", "votre colis est en attente", "n'a pas pu être livré",
	"échec de livraison", "gastos de aduana", "tasa de aduana", "su paquete está retenido",
	"no pudo ser entregado", "entrega fallida", "zollgebühr", "zollgebühren", "liefergebühr",
	"konnte nicht zugestellt werden", "zustellung fehlgeschlagen", "spese doganali", "dazi doganali",
	"pacco in giacenza", "consegna non riuscita", "non è stato possibile consegnare",
}

// extortionPhrases claim control of the reader's device or recordings
// of them: sextortion and ransom mail.
var extortionPhrases = []string{
	"i have access to your device", "i have hacked your", "i hacked your", "i've hacked your",
	"gained access to your device", "recorded you", "recording of you", "video of you", "your webcam",
	"send it to all your contacts", "to all your contacts", "ik heb toegang tot je apparaat",
	"ik heb je gehackt", "j'ai piraté", "j'ai accès à votre appareil", "he hackeado",
	"tengo acceso a tu dispositivo", "ich habe ihr gerät gehackt", "ich habe zugriff auf ihr gerät",
	"ho hackerato", "ho accesso al tuo dispositivo",
}

// greetingWords open a letter; a recipient's address right after one
// means the sender knows the address and nothing else.
var greetingWords = []string{
	"hello", "hi", "dear", "hey", "greetings", "attention", "beste", "geachte", "hallo", "beste klant",
	"bonjour", "cher", "chère", "madame", "monsieur", "hola", "estimado", "estimada", "querido",
	"guten tag", "liebe", "lieber", "sehr geehrte", "sehr geehrter", "ciao", "gentile", "salve", "caro", "cara",
}

// firstPhrase returns the first of phrases found in low on word
// boundaries, or "".
func firstPhrase(low string, phrases []string) string {
	for _, p := range phrases {
		if containsWord(low, p, false) {
			return p
		}
	}
	return ""
}

// contentSignals looks at the text of a message (subject and bodies) for
// requests honest mail does not make.
func contentSignals(text string, rcpts []address, add func(finding.Finding)) {
	low := strings.ToLower(text)
	if p := firstPhrase(low, credentialPhrases); p != "" {
		add(finding.Finding{Signal: sigCredentialRequest, Score: 15, Class: finding.Weak,
			Detail: fmt.Sprintf("the message asks you to act on your account or password (%q)", p)})
	}
	if p := firstPhrase(low, deliveryFeePhrases); p != "" {
		add(finding.Finding{Signal: sigDeliveryFee, Score: 20, Class: finding.Weak,
			Detail: fmt.Sprintf("the message says a parcel is held or undelivered (%q), the parcel-fee scam", p)})
	}
	if p := firstPhrase(low, extortionPhrases); p != "" {
		add(finding.Finding{Signal: sigExtortion, Score: 25, Class: finding.Weak,
			Detail: fmt.Sprintf("the message claims control of your device or recordings of you (%q): extortion", p)})
	}
	if w := cryptoWallet(text, low); w != "" {
		add(finding.Finding{Signal: sigCryptoWallet, Score: 20, Class: finding.Weak,
			Detail: "the message gives a cryptocurrency wallet to pay into: " + w})
	}
	if a := greetedByAddress(low, rcpts); a != "" {
		add(finding.Finding{Signal: sigGreetingAddress, Score: 20, Class: finding.Weak,
			Detail: "the message greets you by your address " + a + ", not by name: the sender knows nothing else about you"})
	}
}

// greetedByAddress returns the recipient address that follows a greeting
// word ("Hallo jan@hospital.nl,"), or "".
func greetedByAddress(low string, rcpts []address) string {
	for _, r := range rcpts {
		if len(r.addr) < 6 {
			continue
		}
		for off, n := 0, 0; n < 20; n++ {
			i := strings.Index(low[off:], r.addr)
			if i < 0 {
				break
			}
			i += off
			off = i + len(r.addr)
			before := strings.TrimRight(low[max(0, i-24):i], " \t\r\n,:;!-")
			for _, g := range greetingWords {
				if strings.HasSuffix(before, g) && boundaryBefore(before, len(before)-len(g)) {
					return r.addr
				}
			}
		}
	}
	return ""
}

// Cryptocurrency addresses: Bitcoin base58 (P2PKH "1...", P2SH "3..."),
// checked with their Base58Check checksum; Bitcoin bech32 ("bc1..."),
// checked with their BIP 173/350 checksum; Ethereum "0x" and 40 hex
// digits, believed only near a word that names a wallet or a coin.
var (
	base58RE = regexp.MustCompile(`\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b`)
	bech32RE = regexp.MustCompile(`\bbc1[02-9ac-hj-np-z]{11,71}\b`)
	ethRE    = regexp.MustCompile(`\b0x[0-9a-f]{40}\b`)
	coinRE   = regexp.MustCompile(`\b(?:eth|ethereum|usdt|erc-?20|wallet|metamask|crypto|bitcoin|btc|bnb|bep-?20)\b`)
)

// cryptoWallet returns a cryptocurrency address in text, or "". low is
// text lower-cased: base58 addresses are case-sensitive, the others not.
// Only text that names a coin or a wallet is searched.
func cryptoWallet(text, low string) string {
	// Payment demands name the coin or the wallet; without such a word
	// the (slower) address patterns are not searched.
	named := false
	for _, w := range []string{"btc", "bitcoin", "wallet", "crypto", "eth", "usdt", "erc", "bep", "bnb"} {
		if strings.Contains(low, w) {
			named = true
			break
		}
	}
	if !named {
		return ""
	}
	for _, m := range base58RE.FindAllString(text, 20) {
		if base58CheckValid(m) {
			return m
		}
	}
	for _, m := range bech32RE.FindAllString(low, 10) {
		if bech32Valid(m) {
			return m
		}
	}
	if coinRE.MatchString(low) {
		if m := ethRE.FindString(low); m != "" {
			return m
		}
	}
	return ""
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58CheckValid reports whether s decodes to 25 bytes (version 0 or 5,
// 20-byte hash, 4-byte checksum) whose checksum is the first four bytes
// of the double SHA-256 of the rest.
func base58CheckValid(s string) bool {
	if len(s) < 26 || len(s) > 35 {
		return false
	}
	n := new(big.Int)
	b58 := big.NewInt(58)
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base58Alphabet, s[i])
		if d < 0 {
			return false
		}
		n.Mul(n, b58)
		n.Add(n, big.NewInt(int64(d)))
	}
	raw := n.Bytes()
	// Leading '1's stand for leading zero bytes.
	for i := 0; i < len(s) && s[i] == '1'; i++ {
		raw = append([]byte{0}, raw...)
	}
	if len(raw) != 25 || raw[0] != 0 && raw[0] != 5 {
		return false
	}
	h1 := sha256.Sum256(raw[:21])
	h2 := sha256.Sum256(h1[:])
	return string(h2[:4]) == string(raw[21:])
}

// bech32Valid checks the BIP 173 (bech32) or BIP 350 (bech32m) checksum of
// a lower-case segwit address.
func bech32Valid(s string) bool {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	i := strings.LastIndexByte(s, '1')
	if i < 1 || len(s)-i < 7 || len(s) > 90 {
		return false
	}
	hrp, data := s[:i], s[i+1:]
	values := make([]int, 0, 2*len(hrp)+1+len(data))
	for j := 0; j < len(hrp); j++ {
		values = append(values, int(hrp[j])>>5)
	}
	values = append(values, 0)
	for j := 0; j < len(hrp); j++ {
		values = append(values, int(hrp[j])&31)
	}
	for j := 0; j < len(data); j++ {
		d := strings.IndexByte(charset, data[j])
		if d < 0 {
			return false
		}
		values = append(values, d)
	}
	gen := [5]int{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := 1
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ v
		for k := range 5 {
			if (top>>k)&1 == 1 {
				chk ^= gen[k]
			}
		}
	}
	return chk == 1 || chk == 0x2bc830a3
}
