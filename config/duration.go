package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written the way Prometheus writes them ("30s", "5m", "1h30m",
// "1d", "1w"), so operators use one syntax across their monitoring configs. Days and weeks are
// fixed 24h and 7×24h spans and a year is 365 days.
type Duration time.Duration

// Units from largest to smallest: Prometheus requires them in this order, each at most once,
// which rules out ambiguous spellings such as "30s1h".
var durationUnits = []struct {
	name string
	size time.Duration
}{
	{"y", 365 * 24 * time.Hour},
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
}

var errDurationSyntax = errors.New(`use whole numbers with the units y, w, d, h, m, s, ms from largest to smallest, e.g. "1h30m"`)

// ParseDuration parses a Prometheus-style duration. "0" is the only number accepted without a unit.
func ParseDuration(s string) (Duration, error) {
	switch {
	case s == "":
		return 0, errors.New("empty duration")
	case s == "0":
		return 0, nil
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("invalid duration %q: negative durations are not allowed", s)
	}
	var total time.Duration
	rest := s
	next := 0 // index of the smallest unit still allowed
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q: %w", s, errDurationSyntax)
		}
		digits := rest[:i]
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		if unit == "" {
			return 0, fmt.Errorf("invalid duration %q: missing unit after %s (%w)", s, digits, errDurationSyntax)
		}
		k := next
		for k < len(durationUnits) && durationUnits[k].name != unit {
			k++
		}
		if k == len(durationUnits) {
			return 0, fmt.Errorf("invalid duration %q: unknown or misplaced unit %q (%w)", s, unit, errDurationSyntax)
		}
		next = k + 1
		n, err := strconv.ParseInt(digits, 10, 64)
		size := durationUnits[k].size
		if err != nil || n > int64(math.MaxInt64-total)/int64(size) {
			return 0, fmt.Errorf("invalid duration %q: too large", s)
		}
		total += time.Duration(n) * size
	}
	return Duration(total), nil
}

// String formats like Prometheus: the largest units first, "0s" for zero.
func (d Duration) String() string {
	v := time.Duration(d)
	if v == 0 {
		return "0s"
	}
	var b strings.Builder
	if v < 0 {
		// Only reachable for a Config built in code; kept readable for the error message.
		b.WriteByte('-')
		v = -v
	}
	for _, u := range durationUnits {
		// Like Prometheus, weeks only when exact: "30d" reads better than "4w2d".
		if u.name == "w" && v%u.size != 0 {
			continue
		}
		if n := v / u.size; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			v -= n * u.size
		}
	}
	if v > 0 {
		// Sub-millisecond remainders cannot be written in Prometheus syntax; show them exactly.
		b.WriteString("+" + v.String())
	}
	return b.String()
}

// MarshalYAML writes the Prometheus form, so a marshalled config reads like a hand-written one.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalText lets log/slog and encoding/json show "5m" rather than nanoseconds.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText accepts the same syntax as the YAML file (for flags and environment values).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
