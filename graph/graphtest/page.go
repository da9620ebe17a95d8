// Package graphtest builds realistic Microsoft Graph responses for tests and benchmarks, including
// those outside the graph package such as the Graph SDK baseline (bench/sdkbaseline), so that every
// decoder is measured on the same bytes.
package graphtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// signInRow is one beta sign-in row as Graph sends it, every field present.
//
//go:embed signin_row.json
var signInRow []byte

// SignInRow returns a copy of the realistic beta sign-in row.
func SignInRow() []byte { return bytes.Clone(signInRow) }

// SignInPage builds a page of rows realistic 5-15 KB rows: the row of SignInRow padded with the
// big fields real rows carry (more applied Conditional Access policies, processing details,
// network locations), varied per row so the sizes spread over the real range, and a next link.
// The output is deterministic.
func SignInPage(rows int) ([]byte, error) {
	var base map[string]any
	if err := json.Unmarshal(signInRow, &base); err != nil {
		return nil, err
	}
	policy := base["appliedConditionalAccessPolicies"].([]any)[0].(map[string]any)
	var buf bytes.Buffer
	buf.WriteString(`{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[`)
	for i := range rows {
		row := make(map[string]any, len(base))
		for k, v := range base {
			row[k] = v
		}
		row["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		row["correlationId"] = fmt.Sprintf("corr-%d", i/3)
		var policies []any
		for p := range 2 + i%22 { // tenants commonly have dozens of policies, each listed on every row
			cp := make(map[string]any, len(policy))
			for k, v := range policy {
				cp[k] = v
			}
			cp["id"] = fmt.Sprintf("policy-%d", p)
			cp["displayName"] = fmt.Sprintf("CA%03d - Require compliant device or MFA for workload %d", p, p)
			if p%2 == 1 {
				cp["result"] = "notApplied"
			}
			policies = append(policies, cp)
		}
		row["appliedConditionalAccessPolicies"] = policies
		row["authenticationProcessingDetails"] = append(base["authenticationProcessingDetails"].([]any),
			map[string]any{"key": "Root Key Type", "value": "Unknown"},
			map[string]any{"key": "Oauth Scope Info", "value": strings.Repeat(`"Directory.Read.All",`, 10+i%30)})
		row["networkLocationDetails"] = []any{
			map[string]any{"networkType": "trustedNamedLocation", "networkNames": []string{"Head office", "Branch " + fmt.Sprint(i%7)}},
			map[string]any{"networkType": "namedNetwork", "networkNames": []string{"VPN egress"}},
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		rb, err := json.Marshal(row)
		if err != nil {
			return nil, err
		}
		buf.Write(rb)
	}
	buf.WriteString(`],"@odata.nextLink":"https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=next"}`)
	return buf.Bytes(), nil
}
