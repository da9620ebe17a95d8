package graph

import (
	"context"
	"encoding/json"
)

// EndpointCAPolicies labels the Conditional Access policy inventory in metrics, logs and errors.
const EndpointCAPolicies = "conditionalAccessPolicies"

// caPoliciesPath asks for the four properties the inventory uses. List policies (v1.0) documents
// $select, $filter, $orderby, $top, $skip and $count; only $select is used, and the order of the
// list is not relied on.
var caPoliciesPath = "/v1.0/identity/conditionalAccess/policies?$select=" + queryEscape("id,displayName,state,grantControls")

// CAPolicy is the lean subset of a v1.0 conditionalAccessPolicy: what a policy is called, whether
// it is on, off or report-only, and what it grants on. Conditions and session controls are not
// read.
type CAPolicy struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// State is enabled, disabled or enabledForReportingButNotEnforced (report-only); an open enum.
	State         string           `json:"state"`
	GrantControls *CAGrantControls `json:"grantControls"`
}

// CAGrantControls is a policy's grantControls; null for policies with session controls only.
type CAGrantControls struct {
	Operator string `json:"operator"`
	// BuiltInControls are block, mfa, compliantDevice, domainJoinedDevice, approvedApplication,
	// compliantApplication, passwordChange, unknownFutureValue.
	BuiltInControls             []string        `json:"builtInControls"`
	CustomAuthenticationFactors []string        `json:"customAuthenticationFactors"`
	TermsOfUse                  []string        `json:"termsOfUse"`
	AuthenticationStrength      json.RawMessage `json:"authenticationStrength"`
}

// Controls lists the policy's grant controls in the spelling of the policy API: the built-in
// controls, "authenticationStrength" when the policy requires one, and the names of custom
// controls and terms of use (tenant-chosen strings, which a catalogue can only call "other").
func (p *CAPolicy) Controls() []string {
	g := p.GrantControls
	if g == nil {
		return nil
	}
	out := make([]string, 0, len(g.BuiltInControls)+1)
	out = append(out, g.BuiltInControls...)
	if s := string(g.AuthenticationStrength); s != "" && s != "null" {
		out = append(out, "authenticationStrength")
	}
	out = append(out, g.CustomAuthenticationFactors...)
	return append(out, g.TermsOfUse...)
}

// CAPolicies pages through GET /v1.0/identity/conditionalAccess/policies (application permission
// Policy.Read.All) and hands each page's policies to fn. Rows that do not decode, or have no id,
// are skipped and counted as malformed.
func (c *Client) CAPolicies(ctx context.Context, fn func(page []CAPolicy) error) error {
	return c.Get(ctx, EndpointCAPolicies, caPoliciesPath, func(rows []json.RawMessage) error {
		return fn(decodeRows(c, EndpointCAPolicies, rows, func(p *CAPolicy) string { return p.ID }))
	})
}
