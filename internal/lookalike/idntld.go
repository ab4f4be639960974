package lookalike

// IDN policy by top-level domain.
//
// A homoglyph such as "rivm" with a Latin "í", or a whole label in
// Cyrillic, is a threat only where a registry accepts such a name. Many do
// not: SIDN (.nl), Nominet (.uk), CZ.NIC (.cz), SK-NIC (.sk), .int, .gov,
// .edu, .mil and .us take ASCII names only; JPRS (.jp), CNNIC (.cn) and
// TWNIC (.tw) take IDNs in their own scripts only, none of which our
// look-alikes use. The forward generator writes IDN candidates only under
// the TLDs below, for the scripts listed, unless -all-idn is given.
//
// Basis: the registries' published IDN policies and the language tables
// they have filed in IANA's Repository of IDN Practices
// (https://www.iana.org/domains/idn-tables), as known in 2025, cross-checked
// with the per-registry tables of dnstwist (glyphs_idn_by_tld). The list is
// deliberately conservative: a TLD that is not listed is treated as
// ASCII-only. Latin means Latin letters with diacritics (é, ø, ł); a
// registry listed for Cyrillic or Greek accepts labels in that script.
//
// The reverse matcher does not use this table: a name that exists is
// judged whatever its TLD's policy.

// idnScripts is a set of scripts a registry accepts in IDN labels.
type idnScripts uint8

const (
	idnLatin idnScripts = 1 << iota
	idnCyrillic
	idnGreek

	idnAll = idnLatin | idnCyrillic | idnGreek
)

var tldIDNScripts = map[string]idnScripts{
	// Generic TLDs.
	"com": idnAll, "net": idnAll, "tel": idnAll,
	"org": idnLatin | idnCyrillic, "info": idnLatin | idnCyrillic,
	"biz": idnLatin | idnCyrillic, "mobi": idnLatin | idnCyrillic,
	"name": idnLatin, "asia": idnLatin, "cat": idnLatin,
	"xyz": idnLatin | idnCyrillic, "top": idnLatin | idnCyrillic,
	"online": idnLatin | idnCyrillic, "site": idnLatin | idnCyrillic,
	"store": idnLatin | idnCyrillic, "shop": idnLatin,
	"space": idnLatin, "website": idnLatin, "tech": idnLatin, "fun": idnLatin,
	"club": idnLatin, "live": idnLatin, "email": idnLatin, "support": idnLatin,
	"health": idnLatin | idnCyrillic, "care": idnLatin | idnCyrillic,
	"clinic": idnLatin | idnCyrillic, "hospital": idnLatin | idnCyrillic,

	// Country-code TLDs. The EU's registry and the Polish one accept all
	// three scripts; DENIC, AFNIC and the Nordic registries accept Latin
	// letters of their languages; Bulgaria, Serbia and .su accept Cyrillic;
	// Greece accepts Greek.
	"eu": idnAll, "pl": idnAll,
	"de": idnLatin, "at": idnLatin, "ch": idnLatin, "li": idnLatin,
	"fr": idnLatin, "re": idnLatin, "yt": idnLatin, "pm": idnLatin, "wf": idnLatin, "tf": idnLatin,
	"be": idnLatin, "lu": idnLatin, "es": idnLatin, "pt": idnLatin, "it": idnLatin,
	"dk": idnLatin, "se": idnLatin, "no": idnLatin, "fi": idnLatin, "is": idnLatin,
	"ee": idnLatin, "lv": idnLatin, "lt": idnLatin, "hu": idnLatin, "si": idnLatin,
	"tr": idnLatin, "ie": idnLatin, "nz": idnLatin, "ca": idnLatin,
	"br": idnLatin, "ar": idnLatin, "cl": idnLatin, "pe": idnLatin, "ve": idnLatin,
	"bg": idnCyrillic, "rs": idnLatin | idnCyrillic, "su": idnLatin | idnCyrillic,
	"gr": idnGreek,
}

// tldScripts returns the scripts the registry of tld (the last label
// of a suffix, lower-case ASCII) accepts in IDN labels.
func tldScripts(tld string) idnScripts { return tldIDNScripts[tld] }

// tldAllowsIDN reports whether the registry of tld accepts IDN labels in
// any of the scripts ward's look-alikes use.
func tldAllowsIDN(tld string) bool { return tldIDNScripts[tld] != 0 }
