package mfa

// clientApps maps Graph's clientAppUsed values (a short, slowly growing list) to bounded labels,
// so the share of sign-ins protected by MFA can be shown per client type without one series per
// application. Legacy-authentication protocols cannot do MFA at all: seeing them here is itself a
// finding.
var clientApps = []Entry{
	{"browser", "Web browser", []string{"Browser"},
		"Users signing in to web applications and portals from any browser.",
		"Nothing."},
	{"mobile_desktop", "Modern-authentication mobile and desktop apps", []string{"Mobile Apps and Desktop clients"},
		"Office, Teams, Outlook and other apps using modern authentication.",
		"Nothing; these clients can do MFA."},
	{"exchange_activesync", "Exchange ActiveSync (legacy authentication when basic)", []string{"Exchange ActiveSync"},
		"Phone mail apps syncing with Exchange; with basic authentication they cannot do MFA.",
		"Move users to Outlook mobile or an app using modern authentication, and block legacy authentication with Conditional Access."},
	{"exchange_web_services", "Exchange Web Services (legacy)", []string{"Exchange Web Services"},
		"Scripts, integrations or older mail clients calling Exchange Web Services.",
		"Move integrations to Microsoft Graph; Microsoft is retiring Exchange Web Services in Exchange Online."},
	{"imap", "IMAP4 (legacy authentication)", []string{"IMAP4", "IMAP"},
		"A mail client or device reading mail over IMAP.",
		"Move it to OAuth or modern authentication; basic authentication over IMAP cannot do MFA."},
	{"pop", "POP3 (legacy authentication)", []string{"POP3", "POP"},
		"A mail client or device reading mail over POP.",
		"Move it to OAuth or modern authentication; basic authentication over POP cannot do MFA."},
	{"smtp", "Authenticated SMTP (legacy authentication)", []string{"Authenticated SMTP", "SMTP"},
		"Printers, scanners and applications sending mail with SMTP AUTH.",
		"Use OAuth for SMTP or a connector; SMTP AUTH with a password cannot do MFA."},
	{"mapi_over_http", "MAPI over HTTP (legacy)", []string{"MAPI Over HTTP"},
		"Older Outlook for Windows versions without modern authentication.",
		"Update Outlook and enable modern authentication."},
	{"outlook_anywhere", "Outlook Anywhere, RPC over HTTP (legacy)", []string{"Outlook Anywhere (RPC over HTTP)"},
		"Very old Outlook versions.",
		"Update Outlook to a version that uses MAPI over HTTP with modern authentication."},
	{"offline_address_book", "Offline Address Book (legacy)", []string{"Offline Address Book"},
		"Older Outlook downloading the address book with legacy authentication.",
		"Update Outlook and enable modern authentication."},
	{"autodiscover", "Exchange AutoDiscover (legacy)", []string{"AutoDiscover"},
		"Mail clients locating the mailbox with legacy authentication.",
		"Update the client to one using modern authentication."},
	{"exchange_powershell", "Exchange Online PowerShell (legacy)", []string{"Exchange Online PowerShell"},
		"Administrators or scripts using the old remote PowerShell connection.",
		"Use the Exchange Online PowerShell module with modern authentication."},
	{"reporting_web_services", "Reporting Web Services (legacy)", []string{"Reporting Web Services"},
		"Scripts reading Office 365 reports with legacy authentication.",
		"Move the scripts to Microsoft Graph reports."},
	{"other_clients", "Graph's own \"Other clients\" bucket", []string{"Other clients"},
		"Protocols Graph does not name, usually legacy ones.",
		"Treat them as legacy authentication: find the application and the protocol in the raw rows."},
	{"unknown", "clientAppUsed empty", []string{""},
		"Rows without a client app, common for non-interactive and service sign-ins.",
		"Nothing."},
	{LabelOther, "A value not in this list", nil,
		"Microsoft added a client app value this catalogue does not know.",
		"Read a raw row for the value and report it so the catalogue can grow."},
}

var clientAppIndex = func() map[string]string {
	m := map[string]string{}
	for _, e := range clientApps {
		for _, w := range e.Wire {
			m[normalizeName(w)] = e.Label
		}
	}
	return m
}()

// ClientApps lists the client_app label values.
func ClientApps() []Entry { return cloneEntries(clientApps) }

// ClientApp normalises a sign-in's clientAppUsed value to a bounded label; unknown values are
// "other".
func ClientApp(s string) string {
	return clientAppMemo.get(s, func(s string) string {
		if l, ok := clientAppIndex[normalizeName(s)]; ok {
			return l
		}
		return LabelOther
	})
}
