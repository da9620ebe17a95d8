package collector

import (
	"context"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
)

// OnChange's function runs each time Changes moves, after it moved: an applied configuration, a
// sign-in poll that ended, a registration poll that ended.
func TestOnChangeFollowsChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewManager(ctx, prometheus.NewRegistry(), Options{})
	before := m.Changes()
	m.Apply(&config.Config{}) // no notification registered yet: counted all the same
	if m.Changes() != before+1 {
		t.Fatalf("Changes %d after Apply, want %d", m.Changes(), before+1)
	}
	var seen []uint64
	m.OnChange(func() { seen = append(seen, m.Changes()) })
	m.Apply(&config.Config{})
	src := &signInSource{changes: &m.changes}
	src.changed()
	(&signInSource{}).changed() // a source outside a Manager counts nothing
	m.changes.add()             // as registrationSource.poll does when it ends
	want := []uint64{before + 2, before + 3, before + 4}
	if !slices.Equal(seen, want) {
		t.Errorf("OnChange saw Changes %v, want %v (once per move, after it)", seen, want)
	}
}
