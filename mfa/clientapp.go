package mfa

// clientApps maps Graph's clientAppUsed values (a short, slowly growing list) to bounded labels,
// so the share of sign-ins protected by MFA can be shown per client type without one series per
// application. Legacy-authentication protocols cannot do MFA at all: seeing them here is itself a
// finding.
var clientApps = []Entry{
	{Label: "browser", Description: "Web browser", Wire: []string{"Browser"}},
	{Label: "mobile_desktop", Description: "Modern-authentication mobile and desktop apps", Wire: []string{"Mobile Apps and Desktop clients"}},
	{Label: "exchange_activesync", Description: "Exchange ActiveSync (legacy authentication when basic)", Wire: []string{"Exchange ActiveSync"}},
	{Label: "exchange_web_services", Description: "Exchange Web Services (legacy)", Wire: []string{"Exchange Web Services"}},
	{Label: "imap", Description: "IMAP4 (legacy authentication)", Wire: []string{"IMAP4", "IMAP"}},
	{Label: "pop", Description: "POP3 (legacy authentication)", Wire: []string{"POP3", "POP"}},
	{Label: "smtp", Description: "Authenticated SMTP (legacy authentication)", Wire: []string{"Authenticated SMTP", "SMTP"}},
	{Label: "mapi_over_http", Description: "MAPI over HTTP (legacy)", Wire: []string{"MAPI Over HTTP"}},
	{Label: "outlook_anywhere", Description: "Outlook Anywhere, RPC over HTTP (legacy)", Wire: []string{"Outlook Anywhere (RPC over HTTP)"}},
	{Label: "offline_address_book", Description: "Offline Address Book (legacy)", Wire: []string{"Offline Address Book"}},
	{Label: "autodiscover", Description: "Exchange AutoDiscover (legacy)", Wire: []string{"AutoDiscover"}},
	{Label: "exchange_powershell", Description: "Exchange Online PowerShell (legacy)", Wire: []string{"Exchange Online PowerShell"}},
	{Label: "reporting_web_services", Description: "Reporting Web Services (legacy)", Wire: []string{"Reporting Web Services"}},
	{Label: "other_clients", Description: "Graph's own \"Other clients\" bucket", Wire: []string{"Other clients"}},
	{Label: "unknown", Description: "clientAppUsed empty", Wire: []string{""}},
	{Label: LabelOther, Description: "A value not in this list", Wire: nil},
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
	if l, ok := clientAppIndex[normalizeName(s)]; ok {
		return l
	}
	return LabelOther
}
