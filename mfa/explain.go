package mfa

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Catalogue is one dimension of label values: the label's name, a title for
// people, and one entry per value the label can take.
type Catalogue struct {
	Name    string // label name, e.g. "result_code"; also the qualifier Explain accepts ("result_code:none")
	Title   string
	Entries []Entry
}

// Explanation is an Entry together with the catalogue it belongs to, for
// terms that several catalogues know ("none", "other", "success", "sms"...).
type Explanation struct {
	Catalogue string // Catalogue.Name
	Title     string // Catalogue.Title
	Entry
}

// catalogueIndex is a Catalogue with the lookup keys of its labels and wire
// strings.
type catalogueIndex struct {
	Catalogue
	labels map[string]int // comparison key of a label -> entry index
	wires  map[string]int // comparison key of a wire string -> entry index
	// match resolves free text the exact keys miss (drifted reason wording).
	match func(term string) (label string, ok bool)
}

// catalogues is the order Explain searches: what an administrator is most
// likely to paste first (a result code, a reason, a method, an error code)
// before the rarer dimensions. ExplainAll returns every match anyway.
var catalogues = buildCatalogues()

func buildCatalogues() []catalogueIndex {
	// Error codes need no wire strings: termKey drops the AADSTS prefix.
	errs := make([]Entry, 0, len(errorCodes)+1)
	for _, e := range append(slices.Clone(errorCodes), errorCodeOther) {
		errs = append(errs, Entry{Label: e.Label, Description: e.Description, Cause: e.Cause, Action: e.Action})
	}
	reasons := slices.Concat(satisfiedReasons, deniedReasons, reasonFallbacks)
	matchReason := func(term string) (string, bool) {
		n := normalizeReason(term)
		if notAReason(n) {
			return "", false
		}
		if l, ok := satisfiedMatcher.match(n); ok {
			return l, true
		}
		return deniedMatcher.match(n)
	}
	list := []struct {
		name, title string
		entries     []Entry
		match       func(string) (string, bool)
	}{
		{"result_code", "MFA result code", append(ResultCodes(), resultCodeNone), nil},
		{"reason", "MFA satisfied or denied reason", reasons, matchReason},
		{"method", "MFA method of a sign-in", methods, nil},
		{"error_code", "Sign-in error code", errs, nil},
		{"outcome", "MFA outcome of a sign-in row", outcomes, nil},
		{"result", "Sign-in result", results, nil},
		{"requirement", "Authentication requirement", requirements, nil},
		{"component", "MFA component", components, nil},
		{"client_app", "Client app", clientApps, nil},
		{"requirement_source", "Why MFA was required (requirement provider)", requirementSources, nil},
		{"policy_result", "Conditional Access policy result", policyResults, nil},
		{"grant_control", "Conditional Access grant control", grantControls, func(term string) (string, bool) {
			l, known := GrantControl(term)
			return l, known && strings.TrimSpace(term) != ""
		}},
		{"registration_method", "Registered or system-preferred authentication method", registrationMethods, nil},
		{"user_preferred_method", "User-preferred MFA method", userPreferredMethods, nil},
	}
	out := make([]catalogueIndex, 0, len(list))
	for _, c := range list {
		ci := catalogueIndex{
			Catalogue: Catalogue{Name: c.name, Title: c.title, Entries: cloneEntries(c.entries)},
			labels:    map[string]int{},
			wires:     map[string]int{},
			match:     c.match,
		}
		for i, e := range ci.Entries {
			ci.labels[termKey(e.Label)] = i
			for _, w := range e.Wire {
				if k := termKey(w); k != "" {
					if _, dup := ci.wires[k]; !dup {
						ci.wires[k] = i
					}
				}
			}
		}
		out = append(out, ci)
	}
	return out
}

// termKey is the comparison form of a term: methodKey, so case, spaces,
// underscores and punctuation do not matter ("FAILED_PHONE_APP_DENIED",
// "failed phone app denied"), and without the AADSTS prefix error codes carry
// in messages.
func termKey(s string) string {
	k := methodKey(s)
	if rest, ok := strings.CutPrefix(k, "aadsts"); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
		return rest
	}
	return k
}

// Catalogues returns every catalogue Explain searches, in its search order.
func Catalogues() []Catalogue {
	out := make([]Catalogue, len(catalogues))
	for i, c := range catalogues {
		out[i] = Catalogue{Name: c.Name, Title: c.Title, Entries: cloneEntries(c.Entries)}
	}
	return out
}

// Explain returns the entry for term: a label value or a wire string of any
// catalogue, compared without regard to case, spaces and punctuation, with
// error codes accepted with or without their AADSTS prefix. A term may be
// qualified by its catalogue ("method:other", `reason="other"`), which matters
// for values several catalogues share; unqualified, label matches win over
// wire matches and catalogues are searched in the order of Catalogues.
// ExplainAll lists every match.
func Explain(term string) (Entry, bool) {
	all := ExplainAll(term)
	if len(all) == 0 {
		return Entry{}, false
	}
	return cloneEntries([]Entry{all[0].Entry})[0], true
}

// ExplainAll returns every catalogue entry term names: label matches first,
// then wire-string matches, each in catalogue order, without duplicates.
func ExplainAll(term string) []Explanation {
	scope, term := splitQualifier(term)
	key := termKey(term)
	if key == "" {
		return nil
	}
	var out []Explanation
	add := func(c *catalogueIndex, i int) {
		for _, x := range out {
			if x.Catalogue == c.Name && x.Label == c.Entries[i].Label {
				return
			}
		}
		e := cloneEntries(c.Entries[i : i+1])[0]
		out = append(out, Explanation{Catalogue: c.Name, Title: c.Title, Entry: e})
	}
	for pass := 0; pass < 2; pass++ {
		for ci := range catalogues {
			c := &catalogues[ci]
			if scope != "" && c.Name != scope {
				continue
			}
			if pass == 0 {
				if i, ok := c.labels[key]; ok {
					add(c, i)
				}
				continue
			}
			if i, ok := c.wires[key]; ok {
				add(c, i)
			} else if c.match != nil {
				if l, ok := c.match(term); ok {
					if i, ok := c.labels[termKey(l)]; ok {
						add(c, i)
					}
				}
			}
		}
	}
	return out
}

// splitQualifier separates "name:value", "name=value" and `name="value"` when
// name is a catalogue; anything else (wire strings contain colons too) is
// returned whole.
func splitQualifier(term string) (scope, rest string) {
	term = strings.TrimSpace(term)
	i := strings.IndexAny(term, ":=")
	if i <= 0 {
		return "", unquote(term)
	}
	name := strings.ToLower(strings.TrimSpace(term[:i]))
	for _, c := range catalogues {
		if c.Name == name {
			return name, unquote(strings.TrimSpace(term[i+1:]))
		}
	}
	return "", unquote(term)
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	for _, q := range []string{`"`, "'", "`"} {
		if len(s) >= 2 && strings.HasPrefix(s, q) && strings.HasSuffix(s, q) {
			return strings.TrimSpace(s[1 : len(s)-1])
		}
	}
	return s
}

// ClosestTerms returns up to n label values and wire strings nearest to term,
// for an "unknown term, did you mean" message: nearest by edit distance on
// the lower-cased text, a candidate containing the term (or contained in it)
// counting as distance 1, ties broken by length then alphabetically. A
// qualified term ("method:pussh") searches its catalogue only.
func ClosestTerms(term string, n int) []string {
	scope, term := splitQualifier(term)
	t := strings.ToLower(term)
	if rest, ok := strings.CutPrefix(t, "aadsts"); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
		t = rest
	}
	if n <= 0 || t == "" {
		return nil
	}
	type cand struct {
		text string
		dist int
	}
	seen := map[string]bool{}
	var cands []cand
	consider := func(s string) {
		l := strings.ToLower(s)
		if l == "" || seen[l] {
			return
		}
		seen[l] = true
		d := editDistance(t, l)
		if d > 1 && utf8.RuneCountInString(t) >= 3 && (strings.Contains(l, t) || strings.Contains(t, l) && utf8.RuneCountInString(l) >= 3) {
			d = 1
		}
		cands = append(cands, cand{s, d})
	}
	for _, c := range catalogues {
		if scope != "" && c.Name != scope {
			continue
		}
		for _, e := range c.Entries {
			consider(e.Label)
			for _, w := range e.Wire {
				consider(w)
			}
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		if len(a.text) != len(b.text) {
			return len(a.text) - len(b.text)
		}
		return strings.Compare(a.text, b.text)
	})
	out := make([]string, 0, min(n, len(cands)))
	for _, c := range cands[:min(n, len(cands))] {
		out = append(out, c.text)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
