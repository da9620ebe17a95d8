package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
)

var (
	usersChallengedDesc = metricdef.UsersChallenged.Desc()
	usersFailedDesc     = metricdef.UsersFailed.Desc()
	usersTrackedDesc    = metricdef.UsersTracked.Desc()
)

// usersCollector computes the distinct-user gauges at scrape time from each tenant's tracker.
type usersCollector struct{ m *Manager }

func (c *usersCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- usersChallengedDesc
	ch <- usersFailedDesc
	ch <- usersTrackedDesc
}

func (c *usersCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	trackers := map[string]*userTracker{}
	for name, r := range c.m.tenants {
		trackers[name] = r.users
	}
	c.m.mu.Unlock()
	now := c.m.now()
	for name, u := range trackers {
		for _, w := range u.counts(now) {
			ch <- prometheus.MustNewConstMetric(usersChallengedDesc, prometheus.GaugeValue, float64(w.challenged), name, windowLabel(w.window))
			ch <- prometheus.MustNewConstMetric(usersFailedDesc, prometheus.GaugeValue, float64(w.failed), name, windowLabel(w.window))
		}
		ch <- prometheus.MustNewConstMetric(usersTrackedDesc, prometheus.GaugeValue, float64(u.size()), name)
	}
}
