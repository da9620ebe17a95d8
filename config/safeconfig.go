package config

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
)

// SafeConfig holds the current configuration for concurrent readers and swaps it on reload,
// like blackbox_exporter's SafeConfig. A failed reload keeps the previous configuration so
// that a typo pushed to a running exporter does not stop it.
type SafeConfig struct {
	mu  sync.RWMutex
	cfg *Config

	successful prometheus.Gauge
	timestamp  prometheus.Gauge
	now        func() time.Time // replaced in tests
}

// NewSafeConfig creates an empty holder and registers its two reload metrics with reg
// (skipped when reg is nil).
func NewSafeConfig(reg prometheus.Registerer) *SafeConfig {
	s := &SafeConfig{
		successful: metricdef.ConfigLastReloadSuccessful.Gauge(),
		timestamp:  metricdef.ConfigLastReloadSuccessTimestamp.Gauge(),
		now:        time.Now,
	}
	if reg != nil {
		reg.MustRegister(s.successful, s.timestamp)
	}
	return s
}

// Reload loads path, makes it current and returns it. A caller applies the returned
// configuration, not Get's: another reload may have replaced the current one since. On error the
// previous configuration stays, entra_exporter_config_last_reload_successful drops to 0, and
// the error has the file's secret-looking values redacted (RedactFileError) because it ends up
// in the log.
func (s *SafeConfig) Reload(path string) (*Config, error) {
	c, err := Load(path)
	if err != nil {
		s.successful.Set(0)
		return nil, fmt.Errorf("reload config: %w", RedactFileError(path, err))
	}
	s.Set(c)
	return c, nil
}

// Set makes c current and counts as a successful load; it is meant for configurations built
// in code, which the caller is expected to have defaulted and validated.
func (s *SafeConfig) Set(c *Config) {
	s.mu.Lock()
	s.cfg = c
	s.mu.Unlock()
	s.successful.Set(1)
	s.timestamp.Set(float64(s.now().UnixNano()) / 1e9)
}

// Get returns the current configuration, nil before the first successful load. Callers must
// treat it as read-only: it is shared with every other reader.
func (s *SafeConfig) Get() *Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg
}
