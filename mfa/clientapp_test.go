package mfa

import "testing"

func TestClientApp(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Browser", "browser"},
		{"browser", "browser"},
		{"Mobile Apps and Desktop clients", "mobile_desktop"},
		{"Exchange ActiveSync", "exchange_activesync"},
		{"IMAP4", "imap"},
		{"POP3", "pop"},
		{"Authenticated SMTP", "smtp"},
		{"Outlook Anywhere (RPC over HTTP)", "outlook_anywhere"},
		{"Other clients", "other_clients"},
		{"", "unknown"},
		{"Holographic client", "other"},
	} {
		if got := ClientApp(tc.in); got != tc.want {
			t.Errorf("ClientApp(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	seen := map[string]bool{}
	for _, e := range ClientApps() {
		if seen[e.Label] {
			t.Errorf("duplicate client_app label %q", e.Label)
		}
		seen[e.Label] = true
		for _, w := range e.Wire {
			if got := ClientApp(w); got != e.Label {
				t.Errorf("wire %q maps to %q, want its own label %q", w, got, e.Label)
			}
		}
	}
}
