package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Endpoint labels of the registration reads, used in metrics, logs and errors (and to name the
// permission a 403 is missing).
const (
	EndpointRegistrationDetails = "userRegistrationDetails"
	EndpointUsers               = "users"
	EndpointRequirements        = "authenticationRequirements"
)

// RegistrationDetail is the lean subset of a v1.0 userRegistrationDetails row. Method strings are
// kept as Graph sends them: their vocabulary is open (live data mixes the documented enum with
// MSOnline names such as PhoneAppNotification), so normalising is the caller's job.
type RegistrationDetail struct {
	ID                                            string    `json:"id"`
	UserPrincipalName                             string    `json:"userPrincipalName"`
	UserDisplayName                               string    `json:"userDisplayName"`
	UserType                                      string    `json:"userType"`
	IsAdmin                                       bool      `json:"isAdmin"`
	IsMfaRegistered                               bool      `json:"isMfaRegistered"`
	IsMfaCapable                                  bool      `json:"isMfaCapable"`
	IsPasswordlessCapable                         bool      `json:"isPasswordlessCapable"`
	IsSsprRegistered                              bool      `json:"isSsprRegistered"`
	IsSsprEnabled                                 bool      `json:"isSsprEnabled"`
	IsSsprCapable                                 bool      `json:"isSsprCapable"`
	IsSystemPreferredAuthenticationMethodEnabled  bool      `json:"isSystemPreferredAuthenticationMethodEnabled"`
	SystemPreferredAuthenticationMethods          []string  `json:"systemPreferredAuthenticationMethods"`
	UserPreferredMethodForSecondaryAuthentication string    `json:"userPreferredMethodForSecondaryAuthentication"`
	MethodsRegistered                             []string  `json:"methodsRegistered"`
	LastUpdatedDateTime                           time.Time `json:"lastUpdatedDateTime"`
}

// registrationDetailsPath asks for the report with no query option. List userRegistrationDetails
// (v1.0) documents $filter only ("This method supports the $filter OData query parameter"), so
// $select or $top could be refused or change meaning without notice; without options the report
// returns every v1.0 property, which is exactly what RegistrationDetail decodes, and its order is
// undocumented, so the caller must not depend on it.
const registrationDetailsPath = "/v1.0/reports/authenticationMethods/userRegistrationDetails"

// User is the lean subset of a v1.0 user that the registration reads join on.
type User struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	// AccountEnabled is a pointer because Graph may send null; see Enabled.
	AccountEnabled *bool  `json:"accountEnabled"`
	UserType       string `json:"userType"`
}

// Enabled reports whether the account can sign in. A null accountEnabled is taken as enabled:
// only an explicit false proves the account is blocked, and dropping a user from the
// "not registered" report on a guess would hide exactly the accounts an admin must look at.
func (u User) Enabled() bool { return u.AccountEnabled == nil || *u.AccountEnabled }

// usersPageSize is the largest page /users serves; every page costs one request of the budget.
// List users (v1.0) documents $select and $top: "The default and maximum page sizes are 100 and
// 999 user objects respectively"; accountEnabled and userType are not among the properties
// returned by default, hence $select. The order of the list is undocumented.
const usersPageSize = 999

// RegistrationDetails pages through GET /v1.0/reports/authenticationMethods/userRegistrationDetails
// and hands each page's decoded rows to fn. Rows that do not decode, or have no id, are skipped
// and counted as malformed.
func (c *Client) RegistrationDetails(ctx context.Context, fn func(page []RegistrationDetail) error) error {
	return c.Get(ctx, EndpointRegistrationDetails, registrationDetailsPath, func(rows []json.RawMessage) error {
		return fn(decodeRows(c, EndpointRegistrationDetails, rows, func(r *RegistrationDetail) string { return r.ID }))
	})
}

// Users pages through GET /v1.0/users with the fields the registration join needs.
func (c *Client) Users(ctx context.Context, fn func(page []User) error) error {
	path := "/v1.0/users?$select=" + queryEscape("id,accountEnabled,userType,userPrincipalName") + "&$top=" + fmt.Sprint(usersPageSize)
	return c.Get(ctx, EndpointUsers, path, func(rows []json.RawMessage) error {
		return fn(decodeRows(c, EndpointUsers, rows, func(u *User) string { return u.ID }))
	})
}

// Per-user MFA states of the beta authentication requirements (the MSOnline
// StrongAuthenticationRequirements.State of the seed's report).
const (
	PerUserMFADisabled = "disabled"
	PerUserMFAEnabled  = "enabled"
	PerUserMFAEnforced = "enforced"
)

// userIDRE accepts the forms a user id takes in a Graph path (object id GUID, or a UPN); anything
// else could change the path or add a query.
var userIDRE = regexp.MustCompile(`^[A-Za-z0-9._@#'-]+$`)

// PerUserMFAState reads GET /beta/users/{id}/authentication/requirements and returns
// perUserMfaState as Graph sends it (normally disabled, enabled or enforced). An empty state is
// returned as "disabled", as MSOnline showed a user without requirements.
func (c *Client) PerUserMFAState(ctx context.Context, userID string) (string, error) {
	if !userIDRE.MatchString(userID) {
		return "", fmt.Errorf("graph %s: invalid user id %q", EndpointRequirements, userID)
	}
	var out struct {
		PerUserMfaState string `json:"perUserMfaState"`
	}
	if err := c.getObject(ctx, EndpointRequirements, "/beta/users/"+url.PathEscape(userID)+"/authentication/requirements", &out); err != nil {
		return "", err
	}
	if out.PerUserMfaState == "" {
		return PerUserMFADisabled, nil
	}
	return out.PerUserMfaState, nil
}

// getObject fetches a single object (no paging) with the same pacing and retries as collections.
func (c *Client) getObject(ctx context.Context, endpointLabel, path string, v any) error {
	buf, err := c.fetch(ctx, endpointLabel, c.endpoint+path, nil, nil)
	if err != nil {
		return err
	}
	defer putBuffer(buf)
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		return &MalformedPageError{Endpoint: endpointLabel, URL: c.endpoint + path, Err: err}
	}
	return nil
}

var errRowNoID = errors.New(`row has no "id"`)

// decodeRows decodes raw rows one by one, so one bad row costs only itself. Registration rows are
// small (a few hundred bytes), so the row-by-row pass costs little next to the request.
func decodeRows[T any](c *Client, endpoint string, rows []json.RawMessage, id func(*T) string) []T {
	out := make([]T, 0, len(rows))
	bad := 0
	var first error
	for i, r := range rows {
		var v T
		err := json.Unmarshal(r, &v)
		if err == nil && strings.TrimSpace(id(&v)) == "" {
			err = errRowNoID
		}
		if err != nil {
			bad++
			if first == nil {
				first = fmt.Errorf("row %d: %w", i, err)
			}
			continue
		}
		out = append(out, v)
	}
	if bad > 0 {
		c.obs.MalformedRows(endpoint, bad)
		c.log.Warn("graph page had rows that could not be decoded; skipped them", "endpoint", endpoint, "skipped", bad, "first_error", first)
	}
	return out
}
