package detect

import (
	"net/netip"
	"strings"
	"time"
)

// Event is one classified sign-in row. The MFA fields are the mfa package's labels
// (Classification.Outcome, Method, Reason).
type Event struct {
	ID            string    // the sign-in's id
	Time          time.Time // createdDateTime
	UserID        string    // user object id; empty rows are counted as unattributable
	UPN           string    // carried as given: the caller pseudonymises it
	CorrelationID string    // the sign-in session
	AppID         string
	AppName       string
	Country       string
	IPAddress     string // only its /24 (IPv4) or /48 (IPv6) is kept
	Outcome       string // satisfied, denied, interrupted, ...
	Method        string // mobile_app_notification, oath_verification_code, ...
	Reason        string // user_declined, no_response_to_notification, fraud_reported, ...
}

// KeepsUPN tells whether the detector may keep the UPN of a row with ev's Outcome, Method and
// Reason: only rows that enter a detection window do (prompts are kept without it). A caller
// that pseudonymises UPNs can leave UPN empty for the other rows and save the hash.
func (ev *Event) KeepsUPN() bool { return classify(ev)&fDetail != 0 }

// flags say what a row is to the rules.
type flags uint8

const (
	fPush    flags = 1 << iota // push failure: counts toward fatigue rule 1, belongs to fatigue episodes
	fDecline                   // counts toward fatigue rule 2
	fFraud                     // a fraud report: an episode of its own
	fBlocked                   // user_blocked: joins the fraud report it follows
	fOATH                      // a failed OATH-code step
	fSuccess                   // MFA completed just now: ends an open episode in success
	fPrompt                    // a prompt, for the prompts-per-user distribution

	fDetail = fPush | fDecline | fFraud | fBlocked | fOATH | fSuccess
)

// classify tells what the row is to the rules. A row the rules ignore gets 0.
func classify(ev *Event) flags {
	var f flags
	switch ev.Outcome {
	case mfaOutcomeDenied:
		switch ev.Reason {
		case mfaDeniedUserDeclined:
			f |= fPush | fDecline
		case mfaDeniedNoResponse:
			f |= fPush
		case mfaDeniedFraudReported:
			f |= fPush | fDecline | fFraud
		case mfaDeniedUserBlocked:
			f |= fBlocked
		}
		// Elastic's rule counts every failed step whose method is the OATH code, whatever the
		// reason (wrong code, code already used, too many attempts...).
		if ev.Method == mfaMethodOATH {
			f |= fOATH
		}
		if !notPromptDenied[ev.Reason] {
			f |= fPrompt
		}
	case mfaOutcomeSatisfied:
		if ev.Reason == mfaSatisfiedSuccessfullyCompleted || ev.Reason == mfaSatisfiedCompletedInCloud {
			f |= fSuccess
		}
		if ev.Method != mfaMethodPreviouslySatisfied && !notPromptSatisfied[ev.Reason] {
			f |= fPrompt
		}
	}
	return f
}

// ipPrefix reduces an address to its /24 (IPv4) or /48 (IPv6) network, so that the full address
// is never kept. Anything that is not an address gives "".
func ipPrefix(s string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// maxString bounds every string kept from a row: hostile input must not grow the state.
const maxString = 256

func clip(s string) string {
	if len(s) <= maxString {
		return s
	}
	// Cutting may split a character; drop the broken tail rather than keep invalid UTF-8.
	return strings.ToValidUTF8(s[:maxString], "")
}

// userKey identifies a user in the maps and in the packed prompt windows. A 64-bit hash keeps a
// user who only has prompts at 8 bytes of key; user object ids are assigned by Entra, not chosen
// by whoever produces the rows, so collisions are a matter of chance only (about 1 in 10^9 for
// 200,000 users).
func userKey(userID string) uint64 {
	// FNV-1a, inline: the hash/fnv interface would allocate on every row.
	h := uint64(14695981039346656037)
	for i := 0; i < len(userID); i++ {
		h ^= uint64(userID[i])
		h *= 1099511628211
	}
	return h
}

// rowKey tells two prompt rows of one user apart; among at most a few dozen prompts of one user
// in the same second, 32 bits are plenty.
func rowKey(rowID string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(rowID); i++ {
		h ^= uint32(rowID[i])
		h *= 16777619
	}
	return h
}
