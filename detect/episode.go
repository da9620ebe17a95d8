package detect

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"time"
)

// Episode is one detected attack on one user, as listed to an operator.
type Episode struct {
	// ID derives from the kind, the user and the first row: the same rows give the same id, in
	// whatever order and across restarts. It changes only if a late row becomes the first row
	// of an episode still open.
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Outcome   string    `json:"outcome"` // open, success or denied
	Final     bool      `json:"final"`   // no late row can change it any more
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Rows is the number of sign-in rows in the episode; Reasons splits them by MFA reason.
	Rows    int            `json:"rows"`
	Reasons map[string]int `json:"reasons"`
	Methods []string       `json:"methods"`
	Apps    []App          `json:"apps"`
	// Countries and IPPrefixes come from the rows; an address is kept only as its /24 or /48.
	Countries  []string `json:"countries"`
	IPPrefixes []string `json:"ip_prefixes"`
	UserID     string   `json:"user_id"`
	UPN        string   `json:"upn"`
	// SignInIDs are the earliest rows' ids, CorrelationIDs the earliest sessions' (the Entra
	// admin center's sign-in log filters on both); Truncated says a list hit MaxListLen.
	SignInIDs      []string `json:"sign_in_ids"`
	CorrelationIDs []string `json:"correlation_ids"`
	Truncated      bool     `json:"truncated"`
	// SuccessAt and SuccessSignInID name the row that ended the episode in success.
	SuccessAt       time.Time `json:"success_at,omitzero"`
	SuccessSignInID string    `json:"success_sign_in_id,omitempty"`
}

// App is an application of an episode's rows.
type App struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// episode is the detector's record of an Episode. Times are Unix nanoseconds.
type episode struct {
	id, userID, upn string
	k               int
	outcome         string
	final           bool
	first, last     int64
	successAt       int64
	successRow      string
	rows            int
	reasons         map[string]int
	methods         []string
	apps            []App
	countries       []string
	prefixes        []string
	signIns         []ref // the MaxListLen earliest rows, by (time, id)
	sessions        []ref // the MaxListLen earliest sessions, by first row time
	truncated       bool
	// Bookkeeping, not state: whether a user still refers to the episode (it then must not be
	// forgotten: late rows in its range must not start another one), and whether it left the
	// listing (retention).
	inUser, expired bool
	// pub is the public form as of the last change (Snapshot's listing), nil when it changed
	// since (markEpisode).
	pub *Episode
}

// ref is a row or session id with the time that orders it.
type ref struct {
	at int64
	id string
}

func cmpRef(a, b ref) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// episodeID derives an id from what identifies the episode when it starts, so that feeding the
// same rows again after a restore finds the same episode rather than a second one.
func episodeID(kind, userID, firstRow string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write([]byte(firstRow))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// add counts one row into the episode.
func (e *episode) add(ev *event, maxList int) {
	if e.rows == 0 || ev.at < e.first {
		e.first = ev.at
	}
	if e.rows == 0 || ev.at > e.last {
		e.last = ev.at
	}
	e.rows++
	if e.reasons == nil {
		e.reasons = map[string]int{}
	}
	e.reasons[ev.reason]++
	e.addString(&e.methods, ev.method, maxList)
	e.addString(&e.countries, ev.country, maxList)
	e.addString(&e.prefixes, ev.prefix, maxList)
	if ev.appID != "" || ev.appName != "" {
		a := App{ID: ev.appID, Name: ev.appName}
		if !slices.Contains(e.apps, a) {
			if len(e.apps) < maxList {
				e.apps = append(e.apps, a)
				slices.SortFunc(e.apps, func(x, y App) int { return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID)) })
			} else {
				e.truncated = true
			}
		}
	}
	e.keepEarliest(&e.signIns, ref{ev.at, ev.row}, maxList)
	if ev.corr != "" {
		e.addSession(ref{ev.at, ev.corr}, maxList)
	}
}

func (e *episode) addString(set *[]string, v string, maxList int) {
	if v == "" {
		return
	}
	i, found := slices.BinarySearch(*set, v)
	if found {
		return
	}
	if len(*set) >= maxList {
		e.truncated = true
		return
	}
	*set = slices.Insert(*set, i, v)
}

// keepEarliest keeps the maxList smallest refs. Whatever the order rows arrive in, the list ends
// up the same: a ref pushed out is larger than every ref kept, so it can never belong back.
func (e *episode) keepEarliest(list *[]ref, r ref, maxList int) {
	i, found := slices.BinarySearchFunc(*list, r, cmpRef)
	if found {
		return
	}
	if len(*list) >= maxList {
		e.truncated = true
		if i >= len(*list) {
			return
		}
		*list = (*list)[:len(*list)-1]
	}
	*list = slices.Insert(*list, i, r)
}

// addSession keeps the maxList sessions seen first, each at the time of its earliest row.
func (e *episode) addSession(r ref, maxList int) {
	for i, s := range e.sessions {
		if s.id == r.id {
			if r.at >= s.at {
				return
			}
			e.sessions = slices.Delete(e.sessions, i, i+1)
			break
		}
	}
	e.keepEarliest(&e.sessions, r, maxList)
}

// public renders the record for an operator.
func (e *episode) public() Episode {
	out := Episode{
		ID: e.id, Kind: Kinds()[e.k], Outcome: e.outcome, Final: e.final,
		FirstSeen: time.Unix(0, e.first).UTC(), LastSeen: time.Unix(0, e.last).UTC(),
		Rows: e.rows, Reasons: maps.Clone(e.reasons),
		Methods: slices.Clone(e.methods), Apps: slices.Clone(e.apps),
		Countries: slices.Clone(e.countries), IPPrefixes: slices.Clone(e.prefixes),
		UserID: e.userID, UPN: e.upn, Truncated: e.truncated,
		SuccessSignInID: e.successRow,
	}
	if out.Reasons == nil {
		out.Reasons = map[string]int{}
	}
	for _, r := range e.signIns {
		out.SignInIDs = append(out.SignInIDs, r.id)
	}
	for _, r := range e.sessions {
		out.CorrelationIDs = append(out.CorrelationIDs, r.id)
	}
	if e.successRow != "" {
		out.SuccessAt = time.Unix(0, e.successAt).UTC()
	}
	for _, l := range []*[]string{&out.Methods, &out.Countries, &out.IPPrefixes, &out.SignInIDs, &out.CorrelationIDs} {
		if *l == nil {
			*l = []string{}
		}
	}
	if out.Apps == nil {
		out.Apps = []App{}
	}
	return out
}
