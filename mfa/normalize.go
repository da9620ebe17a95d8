package mfa

import (
	"slices"
	"strings"
	"unicode"
)

// contractions are expanded after apostrophes have been dropped, so "didn't",
// "didn’t" and "didnt" all become "did not": Microsoft's newer pages write the
// contracted forms of strings the service has long emitted in full.
var contractions = map[string][]string{
	"didnt":    {"did", "not"},
	"doesnt":   {"does", "not"},
	"dont":     {"do", "not"},
	"isnt":     {"is", "not"},
	"wasnt":    {"was", "not"},
	"arent":    {"are", "not"},
	"werent":   {"were", "not"},
	"hasnt":    {"has", "not"},
	"havent":   {"have", "not"},
	"couldnt":  {"could", "not"},
	"wouldnt":  {"would", "not"},
	"shouldnt": {"should", "not"},
	"cant":     {"cannot"},
	"wont":     {"will", "not"},
}

// entraNames lists the product's successive names, longest first so that
// "microsoft entra id" is not half-consumed by "microsoft entra". They all
// become the single token "entra": "MFA completed in Azure AD" and "MFA
// completed in Microsoft Entra ID" are the same event.
var entraNames = [][]string{
	{"azure", "active", "directory"},
	{"microsoft", "entra", "id"},
	{"microsoft", "entra"},
	{"azure", "ad"},
	{"entra", "id"},
	{"aad"},
}

// reasonPrefixes are the decorations the service puts in front of a reason.
// They carry no information once the caller knows whether the row is
// satisfied or denied, and drift in case and punctuation ("MFA denied;" vs
// "MFA Denied:").
var reasonPrefixes = [][]string{
	{"multi", "factor", "authentication"},
	{"multifactor", "authentication"},
	{"mfa", "requirement"},
	{"mfa", "denied"},
	{"mfa"},
}

// isApostrophe covers the typographic variants seen in documentation and
// localised portals next to the ASCII one.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', '`', '´', 'ʼ', '′':
		return true
	}
	return false
}

// tokens lowercases s, drops apostrophes, turns every other non-alphanumeric
// rune into a separator, expands contractions and canonicalises Entra's names.
// Working on words rather than bytes makes trailing dots, semicolons, hyphens
// ("in-progress") and doubled spaces irrelevant.
func tokens(s string) []string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case isApostrophe(r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	out := make([]string, 0, len(words)+2)
	for i := 0; i < len(words); {
		if n := matchSeq(words[i:], entraNames); n > 0 {
			out = append(out, "entra")
			i += n
			continue
		}
		if exp, ok := contractions[words[i]]; ok {
			out = append(out, exp...)
		} else {
			out = append(out, words[i])
		}
		i++
	}
	return out
}

// matchSeq returns the length of the first sequence in seqs that words starts
// with, or 0.
func matchSeq(words []string, seqs [][]string) int {
	for _, seq := range seqs {
		if len(words) < len(seq) {
			continue
		}
		ok := true
		for j, w := range seq {
			if words[j] != w {
				ok = false
				break
			}
		}
		if ok {
			return len(seq)
		}
	}
	return 0
}

// normalizeName is the comparison form of an enum-like value (method names,
// token issuer types).
func normalizeName(s string) string {
	return strings.Join(tokens(s), " ")
}

// normalizeReason is the comparison form of a result-detail string: like
// normalizeName, with the "MFA denied;"/"MFA requirement" prefixes removed.
func normalizeReason(s string) string {
	t := tokens(s)
	for {
		n := matchSeq(t, reasonPrefixes)
		if n == 0 {
			break
		}
		t = t[n:]
	}
	return strings.Join(t, " ")
}

// isFirstFactorText reports strings that describe the first factor, or the
// interrupt that announces MFA, rather than how MFA ended. They must neither
// be matched as a reason (the "satisfied by claim in the token" inside "First
// factor requirement satisfied by claim in the token" is not MFA) nor be
// reported as unknown.
func isFirstFactorText(norm string) bool {
	for _, p := range []string{"first factor", "primary authentication", "correct password", "required in entra"} {
		if norm == p || strings.HasPrefix(norm, p+" ") {
			return true
		}
	}
	return false
}

// neutralTexts are result details that say a step worked without saying how
// MFA was satisfied ("methodSucceeded" in Microsoft's documentation examples).
// They are neither a reason nor unknown.
var neutralTexts = map[string]bool{
	"methodsucceeded":  true,
	"method succeeded": true,
}

// notAReason reports normalised texts that must neither be matched as a
// reason nor reported as unknown: empty, first-factor and neutral strings.
func notAReason(norm string) bool {
	return norm == "" || isFirstFactorText(norm) || neutralTexts[norm]
}

// phraseMatcher maps normalised reason strings to labels: exact matches
// first, then the longest catalogue fragment contained in the string on word
// boundaries, so that "entered incorrect code too many times" wins over "user
// entered incorrect code" and "... notification to the device" over "...
// notification".
type phraseMatcher struct {
	exact map[string]string
	frags []fragment
}

type fragment struct {
	padded string // " fragment words "
	label  string
}

func newPhraseMatcher(entries []Entry) *phraseMatcher {
	m := &phraseMatcher{exact: map[string]string{}}
	seen := map[string]bool{}
	for _, e := range entries {
		for _, w := range e.Wire {
			n := normalizeReason(w)
			if n == "" || seen[n] {
				continue
			}
			seen[n] = true
			m.exact[n] = e.Label
			m.frags = append(m.frags, fragment{padded: " " + n + " ", label: e.Label})
		}
	}
	// Longest first; ties broken by text so the order never depends on map
	// iteration or catalogue order.
	slices.SortFunc(m.frags, func(a, b fragment) int {
		if d := len(b.padded) - len(a.padded); d != 0 {
			return d
		}
		return strings.Compare(a.padded, b.padded)
	})
	return m
}

func (m *phraseMatcher) match(norm string) (string, bool) {
	if norm == "" {
		return "", false
	}
	if l, ok := m.exact[norm]; ok {
		return l, true
	}
	padded := " " + norm + " "
	for _, f := range m.frags {
		if strings.Contains(padded, f.padded) {
			return f.label, true
		}
	}
	return "", false
}
