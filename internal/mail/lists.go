package mail

// These tables are read-only after package initialisation.

// freemail holds the registrable domains of free mail services: a
// Reply-To there while From claims an organisation is a classic lure.
var freemail = setOf(
	"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr",
	"hotmail.it", "hotmail.es", "hotmail.de", "hotmail.nl", "live.com", "live.nl", "live.fr",
	"msn.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.es", "yahoo.it", "yahoo.de",
	"ymail.com", "rocketmail.com", "aol.com", "icloud.com", "me.com", "mac.com", "gmx.com",
	"gmx.de", "gmx.net", "gmx.at", "gmx.fr", "web.de", "t-online.de", "freenet.de", "mail.com",
	"email.com", "protonmail.com", "proton.me", "pm.me", "tutanota.com", "tuta.io", "zoho.com",
	"yandex.com", "yandex.ru", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "qq.com", "163.com",
	"126.com", "sina.com", "libero.it", "virgilio.it", "tiscali.it", "alice.it", "orange.fr",
	"wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "ziggo.nl", "kpnmail.nl", "planet.nl",
	"hetnet.nl", "home.nl", "telfort.nl", "xs4all.nl", "terra.es", "telefonica.net",
	"seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl", "rediffmail.com", "outlook.fr",
	"outlook.de", "outlook.es", "outlook.it", "gmx.us", "hushmail.com", "fastmail.com",
)

// shorteners holds URL shortening services, which hide a link's target.
var shorteners = setOf(
	"bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly",
	"rebrand.ly", "cutt.ly", "shorturl.at", "rb.gy", "t.ly", "tiny.cc", "bl.ink", "v.gd",
	"s.id", "shorte.st", "adf.ly", "bc.vc", "qrco.de", "lnkd.in", "clck.ru", "u.to", "x.co",
	"soo.gd", "short.io", "tr.im", "po.st", "mcaf.ee", "su.pr", "db.tt", "trib.al",
	"1url.com", "2.gp", "urlz.fr", "bit.do", "zpr.io", "surl.li", "tinu.be",
)

// commonTLD holds the top-level domains for which bare link text such as
// "rivm.nl" is read as a domain.
var commonTLD = setOf(
	"com", "org", "net", "int", "gov", "edu", "info", "io", "co", "eu", "nl", "be", "de", "fr",
	"es", "it", "uk", "us", "ch", "at", "lu", "pt", "ie", "dk", "se", "no", "fi", "pl", "cz",
	"biz", "me", "online", "site", "xyz", "app", "health",
)

func setOf(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// commonBrands are organisations that phishing imitates most, whatever the
// recipient: a display name naming one of them while the mail comes from
// none of its domains is an impersonation signal, as for the protected
// brands. Each entry is a name as written in display names and the
// registrable domains the organisation sends from.
var commonBrands = []struct {
	name    string
	domains []string
}{
	{"Microsoft", []string{"microsoft.com", "office.com", "office365.com", "outlook.com", "live.com", "microsoftonline.com", "sharepoint.com", "onmicrosoft.com", "microsoftstore.com", "msn.com", "skype.com", "linkedin.com", "xbox.com"}},
	{"Office 365", []string{"microsoft.com", "office.com", "office365.com", "microsoftonline.com", "onmicrosoft.com", "sharepoint.com"}},
	{"Outlook", []string{"microsoft.com", "outlook.com", "office.com", "office365.com", "live.com", "hotmail.com"}},
	{"OneDrive", []string{"microsoft.com", "onedrive.com", "live.com", "sharepoint.com"}},
	{"SharePoint", []string{"microsoft.com", "sharepoint.com", "onmicrosoft.com"}},
	{"PayPal", []string{"paypal.com", "paypal.de", "paypal.nl", "paypal.fr", "paypal.es", "paypal.it", "paypal.co.uk", "paypal-communication.com"}},
	{"Apple", []string{"apple.com", "icloud.com", "me.com", "mac.com", "itunes.com"}},
	{"iCloud", []string{"apple.com", "icloud.com", "me.com"}},
	{"Amazon", []string{"amazon.com", "amazon.de", "amazon.nl", "amazon.fr", "amazon.es", "amazon.it", "amazon.co.uk", "amazonses.com", "aws.amazon.com", "amazonaws.com"}},
	{"Netflix", []string{"netflix.com"}},
	{"Google", []string{"google.com", "googlemail.com", "gmail.com", "youtube.com", "googlegroups.com", "google.nl", "google.de", "google.fr", "googleapis.com"}},
	{"Gmail", []string{"google.com", "gmail.com", "googlemail.com"}},
	{"DHL", []string{"dhl.com", "dhl.de", "dhl.nl", "dhl.fr", "dhl.es", "dhl.it", "dhlparcel.nl", "dpdhl.com"}},
	{"FedEx", []string{"fedex.com"}},
	{"UPS", []string{"ups.com"}},
	{"PostNL", []string{"postnl.nl", "postnl.com"}},
	{"DocuSign", []string{"docusign.com", "docusign.net"}},
	{"Dropbox", []string{"dropbox.com", "dropboxmail.com"}},
	{"Adobe", []string{"adobe.com", "adobesign.com", "echosign.com"}},
	{"WeTransfer", []string{"wetransfer.com"}},
	{"Facebook", []string{"facebook.com", "facebookmail.com", "meta.com", "fb.com"}},
	{"Instagram", []string{"instagram.com", "facebookmail.com", "mail.instagram.com"}},
	{"WhatsApp", []string{"whatsapp.com", "facebookmail.com"}},
	{"LinkedIn", []string{"linkedin.com"}},
	{"Binance", []string{"binance.com"}},
	{"Coinbase", []string{"coinbase.com"}},
	{"MetaMask", []string{"metamask.io", "consensys.net"}},
	{"Norton", []string{"norton.com", "nortonlifelock.com", "gen.digital"}},
	{"McAfee", []string{"mcafee.com"}},
	{"Costco", []string{"costco.com"}},
	{"Walmart", []string{"walmart.com"}},
	{"Bradesco", []string{"bradesco.com.br"}},
	{"Santander", []string{"santander.com", "santander.co.uk", "santander.es", "santander.de", "santander.com.br"}},
	{"ING", []string{"ing.nl", "ing.com", "ing.de", "ing.be", "ing.es", "ing.it"}},
	{"Rabobank", []string{"rabobank.nl", "rabobank.com"}},
	{"ABN AMRO", []string{"abnamro.nl", "abnamro.com"}},
	{"Belastingdienst", []string{"belastingdienst.nl"}},
	{"Chase", []string{"chase.com", "jpmorgan.com"}},
	{"Wells Fargo", []string{"wellsfargo.com"}},
	{"Bank of America", []string{"bankofamerica.com", "bofa.com"}},
	{"American Express", []string{"americanexpress.com", "aexp.com"}},
	{"Visa", []string{"visa.com"}},
	{"Mastercard", []string{"mastercard.com"}},
	{"AT&T", []string{"att.com", "att.net"}},
	{"Verizon", []string{"verizon.com", "verizonwireless.com"}},
	{"T-Mobile", []string{"t-mobile.com", "t-mobile.de", "t-mobile.nl", "telekom.de"}},
	{"Ledger", []string{"ledger.com"}},
	{"Trezor", []string{"trezor.io"}},
	{"Correios", []string{"correios.com.br"}},
	{"Mercado Pago", []string{"mercadopago.com", "mercadopago.com.br", "mercadolibre.com", "mercadolivre.com.br"}},
	{"Lidl", []string{"lidl.de", "lidl.nl", "lidl.fr", "lidl.es", "lidl.it", "lidl.com", "lidl.co.uk", "lidl.be"}},
	{"Aldi", []string{"aldi.de", "aldi-nord.de", "aldi-sued.de", "aldi.nl", "aldi.fr", "aldi.es", "aldi.it", "aldi.co.uk", "aldi.us"}},
	{"EDEKA", []string{"edeka.de"}},
	{"IKEA", []string{"ikea.com", "ikea.de", "ikea.nl", "ikea.fr"}},
	{"Nespresso", []string{"nespresso.com"}},
	{"Starbucks", []string{"starbucks.com"}},
	{"Telekom", []string{"telekom.de", "t-online.de", "telekom.com"}},
	{"Vodafone", []string{"vodafone.com", "vodafone.de", "vodafone.nl", "vodafone.es", "vodafone.it", "vodafone.co.uk"}},
	{"KPN", []string{"kpn.com", "kpnmail.nl"}},
	{"Booking.com", []string{"booking.com"}},
	{"Spotify", []string{"spotify.com"}},
	{"Zoom", []string{"zoom.us", "zoom.com"}},
	{"Microsoft Teams", []string{"microsoft.com", "teams.microsoft.com", "office.com"}},
	{"Yahoo", []string{"yahoo.com", "yahoogroups.com", "yahoo-inc.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de"}},
	{"GLS", []string{"gls-group.eu", "gls-group.com", "gls-germany.com", "gls-info.nl", "gls-netherlands.com"}},
	{"DPD", []string{"dpd.com", "dpd.de", "dpd.nl", "dpd.fr", "dpd.co.uk"}},
	{"Royal Mail", []string{"royalmail.com", "royalmail.co.uk"}},
	{"USPS", []string{"usps.com", "usps.gov"}},
	{"La Poste", []string{"laposte.fr", "laposte.net"}},
	{"Poste Italiane", []string{"poste.it", "posteitaliane.it"}},
	{"Correos", []string{"correos.es"}},
	{"Deutsche Post", []string{"deutschepost.de", "dhl.de"}},
	{"DETRAN", []string{"detran.sp.gov.br", "detran.rj.gov.br", "gov.br"}},
	{"IRS", []string{"irs.gov"}},
	{"HMRC", []string{"hmrc.gov.uk", "gov.uk"}},
	{"TotalAV", []string{"totalav.com"}},
	{"Twitter", []string{"twitter.com", "x.com", "t.co"}},
	{"Robinhood", []string{"robinhood.com"}},
	{"Coca-Cola", []string{"coca-cola.com", "coca-cola.de", "coca-cola.nl", "coca-colacompany.com"}},
	{"Shell", []string{"shell.com", "shell.de", "shell.nl", "shell.co.uk"}},
	{"Tesla", []string{"tesla.com"}},
	{"OTTO", []string{"otto.de"}},
	{"eBay", []string{"ebay.com", "ebay.de", "ebay.nl", "ebay.fr", "ebay.es", "ebay.it", "ebay.co.uk"}},
	{"AliExpress", []string{"aliexpress.com", "alibaba.com"}},
	{"Temu", []string{"temu.com"}},
	{"Zalando", []string{"zalando.com", "zalando.de", "zalando.nl", "zalando.fr"}},
	{"Disney+", []string{"disneyplus.com", "disney.com"}},
	{"Trust Wallet", []string{"trustwallet.com"}},
	{"Crypto.com", []string{"crypto.com"}},
	{"Kraken", []string{"kraken.com"}},
	{"Revolut", []string{"revolut.com"}},
	{"N26", []string{"n26.com"}},
	{"bunq", []string{"bunq.com"}},
	{"KBC", []string{"kbc.be", "kbc.com"}},
	{"BNP Paribas", []string{"bnpparibas.com", "bnpparibas.fr", "bnpparibas.be"}},
	{"Deutsche Bank", []string{"deutsche-bank.de", "db.com"}},
	{"Commerzbank", []string{"commerzbank.de", "commerzbank.com"}},
	{"Sparkasse", []string{"sparkasse.de"}},
	{"Intesa Sanpaolo", []string{"intesasanpaolo.com"}},
	{"UniCredit", []string{"unicredit.it", "unicredit.eu", "unicreditgroup.eu"}},
	{"BBVA", []string{"bbva.com", "bbva.es"}},
	{"CaixaBank", []string{"caixabank.com", "caixabank.es"}},
	{"Banco do Brasil", []string{"bb.com.br"}},
	{"Itaú", []string{"itau.com.br"}},
	{"Nubank", []string{"nubank.com.br", "nu.com.br"}},
	{"DigiD", []string{"digid.nl", "logius.nl"}},
	{"CJIB", []string{"cjib.nl"}},
	{"Ameli", []string{"ameli.fr", "assurance-maladie.fr"}},
	{"Medicare", []string{"medicare.gov", "cms.gov"}},
	{"Social Security", []string{"ssa.gov"}},
	{"Geek Squad", []string{"geeksquad.com", "bestbuy.com"}},
	{"Best Buy", []string{"bestbuy.com"}},
	{"Walgreens", []string{"walgreens.com"}},
	{"Home Depot", []string{"homedepot.com"}},
	{"Webmail", nil},
	{"Mail Administrator", nil},
	{"IT Helpdesk", nil},
	{"IT Support", nil},
	{"Mailbox", nil},
	{"Proton", []string{"proton.me", "protonmail.com"}},
}

// freeHosting holds hosting and form services that anyone can publish on
// at once, and that credential phishing pages favour.
var freeHosting = setOf(
	"firebaseapp.com", "web.app", "appspot.com", "storage.googleapis.com", "firebasestorage.googleapis.com",
	"blob.core.windows.net", "web.core.windows.net", "azurewebsites.net", "r2.dev", "pages.dev",
	"workers.dev", "netlify.app", "vercel.app", "herokuapp.com", "glitch.me", "repl.co", "000webhostapp.com",
	"weebly.com", "wixsite.com", "square.site", "godaddysites.com", "webflow.io", "framer.app",
	"ipfs.io", "dweb.link", "cloudflare-ipfs.com", "fleek.co", "surge.sh", "github.io", "gitbook.io",
	"jimdosite.com", "yolasite.com", "blogspot.com", "sites.google.com", "forms.gle",
	"formspree.io", "jotform.com", "typeform.com", "zohopublic.com", "mailchimpsites.com",
	"s3.amazonaws.com", "translate.goog", "digitaloceanspaces.com", "backblazeb2.com", "wasabisys.com",
	"linodeobjects.com", "objectstorage.softlayer.net", "myqcloud.com", "aliyuncs.com", "ngrok.io", "ngrok-free.app", "trycloudflare.com",
)

// roleWords in a display name claim an organisation's service desk.
var roleWords = []string{
	"support", "service", "team", "security", "helpdesk", "help desk", "admin", "administrator",
	"billing", "account", "customer", "notification", "alert", "no-reply", "noreply", "webmaster",
	"postmaster", "it department", "klantenservice", "beheer", "kundenservice", "servicio",
	"assistance", "sécurité", "sicurezza", "verification", "compliance", "payroll",
}

// actionWords in a link's text ask for a log-in or a confirmation.
var actionWords = []string{
	"verify", "log in", "login", "sign in", "signin", "confirm", "unlock", "restore", "reactivate",
	"update your", "validate", "secure your", "claim", "review document", "view document",
	"open document", "access document", "download document", "pay now", "track your",
	"inloggen", "log in", "bevestig", "verifieer", "controleer", "vérifier", "connexion",
	"confirmer", "verificar", "iniciar sesión", "confirmar", "anmelden", "bestätigen",
	"verifizieren", "accedi", "verifica", "conferma",
}

// clickTrackers are the click-counting domains of mailing services, through
// which newsletters send their own links.
var clickTrackers = setOf(
	"list-manage.com", "mailchi.mp", "mcsv.net", "sendgrid.net", "ct.sendgrid.net", "mandrillapp.com",
	"exacttarget.com", "mkt.com", "eloqua.com", "en25.com", "hubspotlinks.com", "hs-sites.com",
	"mailjet.com", "mjt.lu", "sendinblue.com", "brevo.com", "sendibt2.com", "sendibt3.com",
	"constantcontact.com", "rs6.net", "campaign-archive.com", "createsend.com", "cmail19.com",
	"cmail20.com", "mailerlite.com", "mlsend.com", "klaviyo.com", "awstrack.me", "mailgun.org",
	"pardot.com", "salesforce.com", "marketo.com", "mktoweb.com", "emarsys.net", "tripolis.com",
	"dmdelivery.com", "mailplus.nl", "laposte.net", "acemlna.com", "lt.acemlnb.com", "substack.com",
	"govdelivery.com", "lnks.gd", "public.govdelivery.com", "icptrack.com", "msgfocus.com", "r.mailing.com",
)
