package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// POST /-/demo/burst accepts 1 to maxBurst rows per call (one burst of 100,000 took 18 s and
// 3 GB); anything else is refused before the simulated tenant generates a row.
func TestBurstHandlerCapsN(t *testing.T) {
	sim, err := simtenant.Start(simtenant.Options{NoPadding: true, LatenessScale: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	// Each burst row is a sign-in flow of its own (simtenant.Tenant.Burst).
	flows := func() int { return sim.Truth().Flows }
	h := burstHandler(sim)
	for _, tc := range []struct {
		method, query string
		want          int
		flows         int // sign-in flows the simulated tenant must add
	}{
		{http.MethodPost, "kind=user_declined&n=1", http.StatusOK, 1},
		{http.MethodPost, "kind=user_declined&n=1000", http.StatusOK, 1000},
		{http.MethodPost, "kind=user_declined&n=1001", http.StatusBadRequest, 0},
		{http.MethodPost, "kind=user_declined&n=100000", http.StatusBadRequest, 0},
		{http.MethodPost, "kind=user_declined&n=0", http.StatusBadRequest, 0},
		{http.MethodPost, "kind=user_declined&n=-5", http.StatusBadRequest, 0},
		{http.MethodPost, "kind=user_declined&n=1e3", http.StatusBadRequest, 0},
		{http.MethodPost, "kind=user_declined", http.StatusBadRequest, 0},
		{http.MethodPost, "kind=no_such_reason&n=10", http.StatusBadRequest, 0},
		{http.MethodGet, "kind=user_declined&n=10", http.StatusMethodNotAllowed, 0},
	} {
		before := flows()
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(tc.method, "/-/demo/burst?"+tc.query, nil))
		if rec.Code != tc.want {
			t.Errorf("%s ?%s: %d %q, want %d", tc.method, tc.query, rec.Code, rec.Body.String(), tc.want)
		}
		if got := flows() - before; got != tc.flows {
			t.Errorf("%s ?%s: the simulated tenant added %d flows, want %d", tc.method, tc.query, got, tc.flows)
		}
	}
}
