package mfa

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type fixtureRow struct {
	In   SignIn         `json:"in"`
	Want Classification `json:"want"`
}

type fixtureCase struct {
	Name string `json:"name"`
	fixtureRow
}

type fixtureFlow struct {
	Name            string       `json:"name"`
	Rows            []fixtureRow `json:"rows"`
	WantAttempts    int          `json:"wantAttempts"`
	WantFailures    int          `json:"wantFailures"`
	WantInterrupted int          `json:"wantInterrupted"`
}

type fixtures struct {
	Cases []fixtureCase `json:"cases"`
	Flows []fixtureFlow `json:"flows"`
}

func loadFixtures(tb testing.TB) fixtures {
	tb.Helper()
	raw, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		tb.Fatalf("read fixtures: %v", err)
	}
	var f fixtures
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		tb.Fatalf("decode fixtures: %v", err)
	}
	if len(f.Cases) == 0 || len(f.Flows) == 0 {
		tb.Fatalf("fixtures hold %d cases and %d flows", len(f.Cases), len(f.Flows))
	}
	return f
}

// canonical makes Unknown order-insensitive and nil-equal-to-empty, since
// callers count unknown strings and do not depend on their order.
func canonical(c Classification) Classification {
	u := slices.Clone(c.Unknown)
	slices.SortFunc(u, func(a, b Unknown) int {
		return strings.Compare(a.Field+"\x00"+a.Value, b.Field+"\x00"+b.Value)
	})
	if len(u) == 0 {
		u = nil
	}
	c.Unknown = u
	return c
}

func diff(got, want Classification) string {
	got, want = canonical(got), canonical(want)
	var b strings.Builder
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			fmt.Fprintf(&b, "\n  %s: got %v, want %v", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
	return b.String()
}

func TestClassifyCases(t *testing.T) {
	for _, tc := range loadFixtures(t).Cases {
		t.Run(tc.Name, func(t *testing.T) {
			got := Classify(tc.In)
			if d := diff(got, tc.Want); d != "" {
				t.Errorf("Classify mismatch:%s", d)
			}
			checkInvariants(t, tc.In, got)
		})
	}
}

func TestClassifyFlows(t *testing.T) {
	for _, fl := range loadFixtures(t).Flows {
		t.Run(fl.Name, func(t *testing.T) {
			attempts, failures, interrupted := 0, 0, 0
			for i, r := range fl.Rows {
				got := Classify(r.In)
				if d := diff(got, r.Want); d != "" {
					t.Errorf("row %d (errorCode %d):%s", i, r.In.ErrorCode, d)
				}
				if IsAttempt(got) {
					attempts++
				}
				switch got.Result {
				case ResultFailure:
					failures++
				case ResultInterrupted:
					interrupted++
				}
			}
			if attempts != fl.WantAttempts || failures != fl.WantFailures || interrupted != fl.WantInterrupted {
				t.Errorf("attempts/failures/interrupted = %d/%d/%d, want %d/%d/%d",
					attempts, failures, interrupted, fl.WantAttempts, fl.WantFailures, fl.WantInterrupted)
			}
		})
	}
}

func TestIsAttempt(t *testing.T) {
	for _, o := range outcomes {
		want := o.Label == OutcomeSatisfied || o.Label == OutcomeDenied
		if got := IsAttempt(Classification{Outcome: o.Label}); got != want {
			t.Errorf("IsAttempt(outcome %s) = %v, want %v", o.Label, got, want)
		}
	}
}

// TestFixtureCoverage keeps cases.json honest: the fixtures must exercise
// every reason (in two spellings), every method wire string, every result
// code the mapping can produce, and every outcome, component, requirement,
// result and unknown field.
func TestFixtureCoverage(t *testing.T) {
	f := loadFixtures(t)
	rows := make([]fixtureRow, 0, len(f.Cases))
	for _, c := range f.Cases {
		rows = append(rows, c.fixtureRow)
	}
	for _, fl := range f.Flows {
		rows = append(rows, fl.Rows...)
	}

	texts := map[string]map[string]bool{} // reason -> distinct raw texts
	methodWires := map[string]map[string]bool{}
	seen := map[string]map[string]bool{}
	mark := func(dim, v string) {
		if seen[dim] == nil {
			seen[dim] = map[string]bool{}
		}
		seen[dim][v] = true
	}
	for _, r := range rows {
		w := r.Want
		mark("outcome", w.Outcome)
		mark("component", w.Component)
		mark("requirement", w.Requirement)
		mark("result", w.Result)
		mark("result_code", w.ResultCode)
		for _, u := range w.Unknown {
			mark("unknown", u.Field)
		}
		if IsAttempt(w) {
			if texts[w.Reason] == nil {
				texts[w.Reason] = map[string]bool{}
			}
			for _, s := range r.In.Steps {
				if s.ResultDetail != "" {
					texts[w.Reason][s.ResultDetail] = true
				}
			}
			if r.In.AdditionalDetails != "" {
				texts[w.Reason][r.In.AdditionalDetails] = true
			}
		}
		for _, s := range r.In.Steps {
			if methodWires[s.Method] == nil {
				methodWires[s.Method] = map[string]bool{}
			}
			methodWires[s.Method][w.Method] = true
		}
	}

	for _, e := range append(slices.Clone(satisfiedReasons), deniedReasons...) {
		if n := len(texts[e.Label]); n < 2 {
			t.Errorf("reason %s is exercised by %d distinct wire texts, want at least 2 (canonical and drifted)", e.Label, n)
		}
	}
	for _, e := range methods {
		for _, w := range e.Wire {
			if !methodWires[w][e.Label] {
				t.Errorf("method wire string %q (-> %s) is not exercised by a case expecting %s", w, e.Label, e.Label)
			}
		}
	}
	for _, e := range resultCodes {
		if resultCodeProduced[e.Label] && !seen["result_code"][e.Label] {
			t.Errorf("result code %s can be produced but no case expects it", e.Label)
		}
	}
	for dim, es := range map[string][]Entry{"outcome": outcomes, "component": components, "requirement": requirements, "result": results} {
		for _, e := range es {
			if !seen[dim][e.Label] {
				t.Errorf("%s %s is not exercised by any case", dim, e.Label)
			}
		}
	}
	for _, field := range []string{FieldMethod, FieldReason, FieldErrorCode, FieldTokenIssuerType} {
		if !seen["unknown"][field] {
			t.Errorf("no case expects an unknown %s", field)
		}
	}
}

func TestClassifyDoesNotModifyInput(t *testing.T) {
	for _, tc := range loadFixtures(t).Cases {
		before, err := json.Marshal(tc.In)
		if err != nil {
			t.Fatal(err)
		}
		Classify(tc.In)
		after, err := json.Marshal(tc.In)
		if err != nil {
			t.Fatal(err)
		}
		if string(before) != string(after) {
			t.Errorf("%s: Classify modified its input", tc.Name)
		}
	}
}
