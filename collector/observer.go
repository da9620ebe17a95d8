package collector

import (
	"fmt"
	"time"
)

// observer feeds the Graph client's request events into the tenant's self-metrics.
type observer struct {
	m      *Metrics
	tenant string
}

func (o observer) Request(endpoint string, code int, d time.Duration) {
	o.m.GraphRequests.WithLabelValues(o.tenant, endpoint, fmt.Sprint(code)).Inc()
	o.m.GraphDuration.WithLabelValues(o.tenant, endpoint).Observe(d.Seconds())
}

func (o observer) Throttled(endpoint string, _ time.Duration) {
	o.m.GraphThrottled.WithLabelValues(o.tenant, endpoint).Inc()
}

func (o observer) Retry(endpoint, reason string) {
	o.m.GraphRetries.WithLabelValues(o.tenant, endpoint, reason).Inc()
}

func (o observer) MalformedRows(endpoint string, n int) {
	o.m.MalformedRows.WithLabelValues(o.tenant, endpoint).Add(float64(n))
}
