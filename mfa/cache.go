package mfa

import (
	"strings"
	"sync"
)

// Classifying a row normalises the same few hundred strings (method names, result details,
// additional details, client apps) again and again: tokenising them is most of what Classify
// costs. These memos keep the outcome per input string. They change nothing Classify returns,
// only how often the work is done: every value is a pure function of its key.
//
// A memo holds at most memoEntries strings of at most memoKeyBytes each; when it is full it starts
// over, so a flood of distinct strings (hostile or drifting wording) costs time, never unbounded
// memory, and the strings real rows repeat are soon cached again.
const (
	memoEntries  = 4096
	memoKeyBytes = 512
)

type memo[V any] struct {
	mu sync.RWMutex
	m  map[string]V
}

func (c *memo[V]) get(s string, compute func(string) V) V {
	if len(s) > memoKeyBytes {
		return compute(s)
	}
	c.mu.RLock()
	v, ok := c.m[s]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = compute(s)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= memoEntries {
		c.m = make(map[string]V, 64)
	}
	// A copy: the key must not keep alive the page buffer s may point into.
	c.m[strings.Clone(s)] = v
	c.mu.Unlock()
	return v
}

// textInfo is what the classifier needs to know about one result-detail or additionalDetails
// string.
type textInfo struct {
	norm        string // normalizeReason
	notAReason  bool   // empty, first-factor or neutral (notAReason)
	firstFactor bool   // isFirstFactorText
	satisfied   string // satisfiedMatcher's label, "" when none
	denied      string // deniedMatcher's label, "" when none
	namesMFA    bool   // a token is "mfa" or "multifactor"
}

var texts memo[*textInfo]

func analyzeText(s string) *textInfo {
	return texts.get(s, func(s string) *textInfo {
		n := normalizeReason(s)
		t := &textInfo{norm: n, notAReason: notAReason(n), firstFactor: isFirstFactorText(n)}
		t.satisfied, _ = satisfiedMatcher.match(n)
		t.denied, _ = deniedMatcher.match(n)
		for _, w := range tokens(s) {
			if w == "mfa" || w == "multifactor" {
				t.namesMFA = true
			}
		}
		return t
	})
}

// methodInfo is a step method resolved against the method catalogue.
type methodInfo struct {
	label string
	known bool
}

var methodMemo memo[methodInfo]

func lookupMethod(s string) methodInfo {
	return methodMemo.get(s, func(s string) methodInfo {
		l, ok := methodByName[normalizeName(s)]
		return methodInfo{label: l, known: ok}
	})
}

var clientAppMemo memo[string]

var lowered memo[string]

// lowerTrimmed is strings.ToLower(strings.TrimSpace(s)), without allocating for the strings rows
// repeat ("multiFactorAuthentication").
func lowerTrimmed(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return lowered.get(s, strings.ToLower)
		}
	}
	return s
}
