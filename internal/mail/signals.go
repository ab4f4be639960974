package mail

// The analyzer's own signals; docs/mail.md explains each with its score.
// Attachment signals come from internal/mail/attach and office.
const (
	sigLimit = "analysis_limit"

	sigAuthDMARCFail = "auth_dmarc_fail"
	sigAuthSPFFail   = "auth_spf_fail"
	sigAuthDKIMFail  = "auth_dkim_fail"
	sigDKIMInvalid   = "dkim_invalid"
	sigDMARCUnalign  = "dmarc_unaligned"

	sigDisplayNameAddress     = "display_name_address"
	sigDisplayNameBrand       = "display_name_brand"
	sigDisplayNameOwnOrg      = "display_name_own_org"
	sigFreemailRole           = "freemail_role_name"
	sigDisplayNameMixedScript = "display_name_mixed_script"
	sigFromMalformed          = "from_malformed"
	sigSubjectRecipient       = "subject_recipient"
	sigFromRecipient          = "from_recipient"
	sigSenderFreeHosting      = "sender_free_hosting"
	sigSenderHomograph        = "sender_homograph"
	sigSenderBrandWord        = "sender_brand_word"
	sigLinkHomograph          = "link_homograph"
	sigLinkRecipient          = "link_recipient"
	sigObfuscatedText         = "obfuscated_text"
	sigBrandDisguised         = "brand_name_disguised"

	sigLookalikeSender     = "lookalike_sender"
	sigLookalikeReplyTo    = "lookalike_reply_to"
	sigLookalikeReturnPath = "lookalike_return_path"
	sigLookalikeLink       = "lookalike_link"

	sigReplyToDiffers     = "reply_to_differs"
	sigReplyToFreemail    = "reply_to_freemail"
	sigReturnPathFreemail = "return_path_freemail"

	sigLinkTextMismatch = "link_text_mismatch"
	sigLinkIP           = "link_ip_host"
	sigLinkUserinfo     = "link_userinfo"
	sigLinkPunycode     = "link_punycode"
	sigLinkMixedScript  = "link_mixed_script"
	sigLinkShortener    = "link_shortener"
	sigLinkDataURL      = "link_data_url"
	sigLinkJavascript   = "link_javascript"
	sigLinkAction       = "link_action_text"
	sigLinkFreeHosting  = "link_free_hosting"

	sigHTMLForm        = "html_password_form"
	sigHTMLExtForm     = "html_form"
	sigHTMLSmuggling   = "html_smuggling"
	sigHTMLMetaRefresh = "html_meta_refresh"
	sigHTMLScript      = "html_script"

	// Attachment signals of internal/mail/attach that the analyzer
	// combines with Office findings.
	sigTypeExtMismatch = "type_extension_mismatch"
	sigDoubleExtension = "double_extension"
	sigNameBidi        = "name_bidi_control"
	sigDisguisedMacro  = "attachment_disguised_macro"

	sigCredentialRequest = "credential_request"
	sigDeliveryFee       = "delivery_fee_lure"
	sigExtortion         = "extortion"
	sigCryptoWallet      = "crypto_wallet"
	sigGreetingAddress   = "greeting_address"
	sigMessageIDBogus    = "message_id_bogus"
	sigDateBogus         = "date_bogus"
	sigEnvelopeMismatch  = "sender_envelope_mismatch"
	sigHiddenText        = "html_hidden_text"
	sigImageOnly         = "html_image_only"
	sigSenderAbusedTLD   = "sender_abused_tld"
	sigLinkAbusedTLD     = "link_abused_tld"

	sigIOCURL    = "ioc_url"
	sigIOCDomain = "ioc_domain"
	sigIOCIP     = "ioc_ip"
	sigIOCHash   = "ioc_hash"

	sigLureCovid      = "lure_covid"
	sigLureAuthority  = "lure_health_authority"
	sigLureVaccine    = "lure_vaccine"
	sigLureTest       = "lure_test_appointment"
	sigLureDonation   = "lure_donation"
	sigLurePayment    = "lure_payment"
	sigLureAccount    = "lure_account"
	sigLurePrize      = "lure_prize"
	sigLureFileShare  = "lure_file_share"
	sigLureAdvanceFee = "lure_advance_fee"
)
