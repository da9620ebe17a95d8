package graph

import (
	"encoding/json"
	"fmt"
)

// referenceDecodeSignInPage is the encoding/json decoding the streaming decoder replaced, kept as
// the reference it is compared with: the whole page decoded into []SignIn, and only when that
// fails, row by row, so one bad row costs only itself.
func referenceDecodeSignInPage(body []byte) (decodedPage[SignIn], error) {
	var p struct {
		Value    []SignIn `json:"value"`
		NextLink string   `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(body, &p); err == nil {
		if p.Value == nil {
			return decodedPage[SignIn]{}, errNoValue
		}
		out := decodedPage[SignIn]{next: p.NextLink}
		for i, s := range p.Value {
			if s.ID == "" {
				out.malformed++
				if out.firstErr == nil {
					out.firstErr = fmt.Errorf("row %d: %w", i, errNoID)
				}
				continue
			}
			out.rows = append(out.rows, s)
		}
		return out, nil
	}
	var raw struct {
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return decodedPage[SignIn]{}, fmt.Errorf("decoding page: %w", err)
	}
	if raw.Value == nil {
		return decodedPage[SignIn]{}, errNoValue
	}
	out := decodedPage[SignIn]{next: raw.NextLink}
	for i, r := range raw.Value {
		var s SignIn
		err := json.Unmarshal(r, &s)
		if err == nil && s.ID == "" {
			err = errNoID
		}
		if err != nil {
			out.malformed++
			if out.firstErr == nil {
				out.firstErr = fmt.Errorf("row %d: %w", i, err)
			}
			continue
		}
		out.rows = append(out.rows, s)
	}
	return out, nil
}

// referenceRawRows is the number of elements of the page's "value" array by encoding/json, or -1.
func referenceRawRows(body []byte) int {
	var raw struct {
		Value []json.RawMessage `json:"value"`
	}
	if json.Unmarshal(body, &raw) != nil || raw.Value == nil {
		return -1
	}
	return len(raw.Value)
}
