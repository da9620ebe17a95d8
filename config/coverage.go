package config

// Coverage bounds the series of the coverage metrics (why MFA was or was not required): one
// series set per Conditional Access policy id and per application id seen in the sign-in rows.
// Both come from Graph and have no upper bound of their own, so each tenant admits at most this
// many distinct values; later values are counted under "other". A zero value means "use the
// default".
type Coverage struct {
	// MaxPolicies is the most Conditional Access policy ids with series of their own. Entra
	// allows 195 policies per tenant; the default leaves room for deleted ones.
	MaxPolicies int `yaml:"max_policies"`
	// MaxApplications is the most application ids with series of their own. Each costs about
	// fifteen series (authentication requirement × MFA outcome).
	MaxApplications int `yaml:"max_applications"`
}

// Defaults and limits of the coverage section.
const (
	DefaultMaxPolicies     = 300
	DefaultMaxApplications = 500
	// MaxCoverageValues keeps a typo (an extra zero or three) from lifting the bound altogether:
	// 10,000 applications are already 150,000 series.
	MaxCoverageValues = 10000
)

// Policies returns the policy cap, the default when unset.
func (c Coverage) Policies() int {
	if c.MaxPolicies == 0 {
		return DefaultMaxPolicies
	}
	return c.MaxPolicies
}

// Applications returns the application cap, the default when unset.
func (c Coverage) Applications() int {
	if c.MaxApplications == 0 {
		return DefaultMaxApplications
	}
	return c.MaxApplications
}

func (c Coverage) validate(p string, errs *errorList) {
	for _, f := range []struct {
		key string
		v   int
	}{{"max_policies", c.MaxPolicies}, {"max_applications", c.MaxApplications}} {
		// 0 is the absent key (the default); an explicit 0 would leave no series at all, which
		// nobody wants, so it takes the default too.
		if f.v < 0 || f.v > MaxCoverageValues {
			errs.add(p+"."+f.key, "must be between 1 and %d (got %d)", MaxCoverageValues, f.v)
		}
	}
}
