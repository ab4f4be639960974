package mail

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ward-health/ward/internal/mail/finding"
)

// maxLureText bounds the text searched for lures and passwords.
const maxLureText = 128 << 10

// lureScore is what each lure category found adds (see Decide for when it
// counts at all).
const lureScore = 10

// lureWords are, per signal, the words and phrases of a lure in Dutch,
// English, French, Spanish, German and Italian, lower-case. A phrase must
// start and end on a word boundary; one ending in "*" is a stem and may be
// followed by more letters ("vaccin*" finds "vaccines" and "vaccinatie").
var lureWords = []struct {
	signal, what string
	words        []string
}{
	{sigLureCovid, "COVID-19", []string{
		"covid*", "corona*", "sars-cov-2", "pandemic", "pandemie", "pandémie",
		"pandemia", "quarantine", "quarantaine", "cuarentena", "quarantäne", "quarantena",
		"lockdown", "confinement", "confinamiento", "omicron", "omikron",
	}},
	{sigLureAuthority, "health authority", []string{
		"world health organization", "world health organisation", "organisation mondiale de la santé",
		"organización mundial de la salud", "weltgesundheitsorganisation", "organizzazione mondiale della sanità",
		"wereldgezondheidsorganisatie", "rivm", "ggd", "ministry of health", "ministerie van volksgezondheid",
		"ministère de la santé", "ministerio de sanidad", "bundesgesundheitsministerium", "gesundheitsamt",
		"ministero della salute", "centers for disease control", "santé publique", "sanidad",
		"robert koch", "istituto superiore di sanità", "nhs", "gezondheidsdienst",
	}},
	{sigLureVaccine, "vaccine", []string{
		"vaccin*", "vacuna*", "impfung", "impfstoff", "impftermin", "booster",
	}},
	{sigLureTest, "test or appointment", []string{
		"test appointment", "testafspraak", "afspraak", "rendez-vous", "cita previa", "testtermin",
		"appuntamento", "test result", "testuitslag", "uitslag", "résultat de test", "résultat du test",
		"resultado de la prueba", "testergebnis", "risultato del test", "pcr", "sneltest", "tampone",
		"green pass", "coronacheck", "covid certificate", "certificat covid", "impfzertifikat",
	}},
	{sigLureDonation, "donation", []string{
		"donate", "donation*", "doneer", "donatie", "faire un don", "donar", "donación", "spende",
		"spenden", "donazione", "relief fund", "bitcoin", "btc wallet",
	}},
	{sigLurePayment, "urgent payment", []string{
		"urgent payment", "invoice*", "factuur", "facture", "factura", "rechnung", "fattura",
		"betaling", "betalen", "paiement", "pago", "zahlung", "pagamento", "overdue", "achterstallig",
		"wire transfer", "bank details", "iban", "bonifico", "überweisung", "virement", "transferencia",
	}},
	{sigLurePrize, "prize or reward", []string{
		"you have been selected", "you've been selected", "winner", "congratulations", "reward", "prize",
		"gift card", "voucher", "gewinner", "gewinnen", "gutschein", "herzlichen glückwunsch", "ausgewählt",
		"félicitations", "cadeau", "gagnant", "gagner", "premio", "ganador", "enhorabuena", "regalo",
		"vincitore", "congratulazioni", "gefeliciteerd", "gewonnen", "winnaar", "cadeaubon", "prijs",
		"bonus", "free spins", "freispiele", "gratis", "kostenlos", "jackpot", "casino",
	}},
	{sigLureAdvanceFee, "advance-fee fraud", []string{
		"beneficiary", "inheritance", "compensation fund", "next of kin", "mtcn", "western union",
		"moneygram", "atm card", "lottery", "consignment", "million dollars", "million usd",
		"barrister", "diplomat", "overseas fund", "unclaimed",
	}},
	{sigLureFileShare, "shared file", []string{
		"shared a file with you", "shared with you", "a file was shared", "document has been shared",
		"heeft een bestand met u gedeeld", "met u gedeeld", "partagé avec vous", "compartido contigo",
		"ha compartido", "mit ihnen geteilt", "hat eine datei", "condiviso con te", "ha condiviso",
		"view document", "review document", "secure document", "encrypted message", "voicemail",
	}},
	{sigLureAccount, "account or password", []string{
		"locked", "vergrendeld", "verrouillé",
		"verify your account", "confirm your account", "your password", "password expires",
		"password will expire", "mailbox", "account suspended", "account will be", "wachtwoord",
		"inloggen", "mot de passe", "contraseña", "passwort", "kennwort", "log in to", "sign in to",
		"verifieer", "verifiëren", "vérifier votre", "verifique su", "verifizieren sie",
		"verifica il tuo", "urgent", "dringend", "urgente", "immediately", "onmiddellijk",
		"suspended", "geblokkeerd", "gesperrt", "bloqué", "bloqueada", "bloccato",
	}},
}

// lures returns one finding per lure category found in text.
func lures(text string) []finding.Finding {
	low := strings.ToLower(truncate(text, maxLureText))
	var out []finding.Finding
	for _, cat := range lureWords {
		for _, w := range cat.words {
			if containsWord(low, strings.TrimSuffix(w, "*"), strings.HasSuffix(w, "*")) {
				out = append(out, finding.Finding{
					Signal: cat.signal,
					Detail: "the message uses " + cat.what + " vocabulary (\"" + strings.TrimSuffix(w, "*") + "\")",
					Score:  lureScore,
					Class:  finding.Weak,
				})
				break
			}
		}
	}
	return out
}

// containsWord reports whether w occurs in s on word boundaries; a stem
// needs a boundary only before it.
func containsWord(s, w string, stem bool) bool {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(w)
		if boundaryBefore(s, i) && (stem || boundaryAfter(s, j)) {
			return true
		}
		off = i + 1
	}
	return false
}

func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

func boundaryAfter(s string, j int) bool {
	if j >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[j:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// passwordWords start the phrases that give an archive's password:
// English and Italian "password", Dutch "wachtwoord", French "mot de
// passe", Spanish "contraseña"/"clave", German "Passwort"/"Kennwort", and
// short forms that must be followed by ":" or "=".
var passwordWords = []string{"password", "passwort", "kennwort", "wachtwoord", "mot de passe", "contraseña", "contrasena", "clave", "parola d'ordine", "pwd", "pw", "pass", "code"}

// passwordRE reads the password after one of passwordWords, at the start
// of a short window of text.
var passwordRE = regexp.MustCompile(`^(?i)(?:password|passwort|kennwort|wachtwoord|mot de passe|contrase(?:ñ|n)a|clave|parola d'ordine|(?:pwd|pw|pass|code)\s*[:=])\s*(?:is|est|es|ist|è|:|=|-)?\s*[:=]?\s*["'“«]?([^\s"'”»<>]{2,64})`)

// maxPasswords bounds the candidate passwords passed to attachments.
const maxPasswords = 10

// asciiLower lower-cases ASCII letters only, so that offsets stay valid.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// passwords returns candidate archive passwords written in the text.
func passwords(text string) []string {
	text = truncate(text, maxLureText)
	low := asciiLower(text)
	var out []string
	seen := map[string]bool{}
	for _, w := range passwordWords {
		for off, n := 0, 0; n < 50; n++ {
			i := strings.Index(low[off:], w)
			if i < 0 {
				break
			}
			i += off
			off = i + len(w)
			if !boundaryBefore(low, i) {
				continue
			}
			m := passwordRE.FindStringSubmatch(text[i:min(len(text), i+160)])
			if m == nil {
				continue
			}
			p := strings.TrimRight(m[1], ".,;:!)")
			l := strings.ToLower(p)
			if p == "" || seen[p] || l == "is" || l == "est" || l == "es" || l == "ist" {
				continue
			}
			seen[p] = true
			out = append(out, p)
			if len(out) >= maxPasswords {
				return out
			}
		}
	}
	return out
}
