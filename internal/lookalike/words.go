package lookalike

// Built-in word lists. Attackers build combosquats ("rivm-coronatest.nl",
// "ggd-afspraak-online.com") from two vocabularies: the health and COVID-19
// words of the campaign, in the languages of the targets, and the credential
// and lure words of any phishing kit. Both lists feed the forward dictionary
// fuzzer and the reverse matcher's lexicon; the matcher treats a brand token
// next to one of these words as a strong signal.
//
// Words are lower-case ASCII, as they appear in domain labels (accents
// dropped: "sante", "vacunacion").

// HealthWords are health and COVID-19 words in Dutch, English, French,
// Spanish, German and Italian.
var HealthWords = []string{
	// English
	"covid", "covid19", "covid-19", "corona", "coronavirus", "virus", "pandemic",
	"vaccine", "vaccines", "vaccination", "vax", "booster", "test", "testing",
	"tests", "pcr", "antigen", "selftest", "result", "results", "health",
	"healthcare", "care", "clinic", "hospital", "doctor", "nurse", "patient",
	"patients", "medical", "medicine", "pharmacy", "relief", "fund", "donate",
	"donation", "aid", "mask", "masks", "quarantine", "lockdown", "outbreak",
	"symptoms", "tracing", "trace", "certificate", "passport", "pass", "green",
	"appointment", "booking", "registration", "register", "emergency",
	"stimulus", "refund",
	// Dutch
	"vaccin", "vaccinatie", "vaccineren", "prik", "testen", "sneltest",
	"zelftest", "testlocatie", "testuitslag", "uitslag", "afspraak",
	"afspraken", "zorg", "gezondheid", "ziekenhuis", "huisarts", "coronatest",
	"besmetting", "klachten", "mondkapje",
	"steun", "subsidie", "toeslag", "vergoeding", "bewijs", "vaccinatiebewijs",
	"herstelbewijs", "gemeente", "zorgverzekering", "volksgezondheid",
	"schade", "schadevergoeding", "boosterprik", "coronabewijs", "zorgpas",
	"portaal", "patientportaal", "dossier", "mijndossier", "machtigen",
	// French
	"sante", "vaccinal", "depistage", "rendezvous", "rdv", "hopital",
	"medecin", "masque", "aide", "attestation", "resultat", "resultats",
	"assurance", "maladie", "soins", "remboursement", "carte", "vitale",
	// Spanish
	"salud", "vacuna", "vacunas", "vacunacion", "prueba", "pruebas", "cita",
	"citas", "sanidad", "hospitales", "medico", "mascarilla", "ayuda",
	"resultado", "certificado",
	// German
	"gesundheit", "impfung", "impfen", "impfzentrum", "impfpass", "termin",
	"termine", "krankenhaus", "klinik", "arzt", "schnelltest", "testzentrum",
	"ergebnis", "zertifikat", "hilfe", "krankenkasse",
	// Italian
	"vaccino", "vaccini", "vaccinazione", "tampone", "prenotazione",
	"prenota", "ospedale", "medico", "aiuto", "certificazione", "greenpass",
	"esito", "regione",
}

// LureWords are credential and lure words common to phishing kits.
var LureWords = []string{
	"login", "logon", "signin", "sign-in", "sso", "auth", "secure", "security",
	"verify", "verification", "validate", "validation", "confirm", "account",
	"accounts", "webmail", "mail", "email", "outlook", "owa", "office",
	"office365", "portal", "intranet", "extranet", "vpn", "remote", "citrix",
	"mijn", "my", "mon", "mein", "mio", "mi", "support", "helpdesk", "help",
	"service", "services", "online", "web", "app", "id", "password",
	"reset", "recovery", "unlock", "update", "billing", "payment", "pay",
	"invoice", "docs", "document", "documents", "share", "sharepoint", "drive",
	"file", "files", "download", "cloud", "access", "user", "users", "staff",
	"employee", "hr", "admin", "official", "gov", "center", "centre",
	"group", "team", "notice", "check", "new", "info", "alert", "alerts",
	"news", "update", "updates",
	"www", "money", "grant", "grants", "recall", "download", "verificatie",
	"order", "testkit", "hopitaux", "teleconsultation", "impftermin", "ayudas",
	"rimborso", "vaksine", "vaksinasjon", "don", "dons", "paris",
	// Lure words in the targets' languages.
	"inloggen", "controle", "bevestigen", "klantenservice", "betaling",
	"compte", "connexion", "espace", "client", "dossier", "paiement",
	"facture", "cuenta", "acceso", "pago", "konto", "anmelden", "zahlung",
	"accesso", "conto", "pagamento",
}
