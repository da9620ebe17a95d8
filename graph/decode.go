package graph

import (
	"encoding/json"
	"errors"
	"fmt"
)

// decodedPage is one page after decoding: the usable rows, the next link, and how many rows were
// skipped because they could not be decoded alone.
type decodedPage[T any] struct {
	rows      []T
	next      string
	malformed int
	firstErr  error // first row error, for the one log line per page
}

type signInPage struct {
	Value    []SignIn `json:"value"`
	NextLink string   `json:"@odata.nextLink"`
}

type rawPage struct {
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

var (
	errNoValue = errors.New(`no "value" array`)
	errNoID    = errors.New(`row has no "id"`)
)

// decodeSignInPage decodes a sign-in page. The fast path decodes the whole page at once. Only when
// that fails does it pay for decoding row by row, so one bad row costs its own page a second pass
// but never the other rows. An error means the page's top level is unusable.
func decodeSignInPage(body []byte) (decodedPage[SignIn], error) {
	var p signInPage
	if err := json.Unmarshal(body, &p); err == nil {
		if p.Value == nil {
			return decodedPage[SignIn]{}, errNoValue
		}
		return dropRowsWithoutID(p.Value, p.NextLink), nil
	}
	var raw rawPage
	if err := json.Unmarshal(body, &raw); err != nil {
		return decodedPage[SignIn]{}, fmt.Errorf("decoding page: %w", err)
	}
	if raw.Value == nil {
		return decodedPage[SignIn]{}, errNoValue
	}
	out := decodedPage[SignIn]{rows: make([]SignIn, 0, len(raw.Value)), next: raw.NextLink}
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

// dropRowsWithoutID removes rows with no id (a JSON null in the array decodes to a zero row without
// error): the collector deduplicates by id, so such a row could only be double-counted or lost.
func dropRowsWithoutID(rows []SignIn, next string) decodedPage[SignIn] {
	out := decodedPage[SignIn]{rows: rows, next: next}
	kept := rows[:0]
	for i, s := range rows {
		if s.ID == "" {
			out.malformed++
			if out.firstErr == nil {
				out.firstErr = fmt.Errorf("row %d: %w", i, errNoID)
			}
			continue
		}
		kept = append(kept, s)
	}
	out.rows = kept
	return out
}

// decodeRawPage splits a page of any collection into raw rows for callers that decode their own
// row type.
func decodeRawPage(body []byte) (decodedPage[json.RawMessage], error) {
	var raw rawPage
	if err := json.Unmarshal(body, &raw); err != nil {
		return decodedPage[json.RawMessage]{}, fmt.Errorf("decoding page: %w", err)
	}
	if raw.Value == nil {
		return decodedPage[json.RawMessage]{}, errNoValue
	}
	return decodedPage[json.RawMessage]{rows: raw.Value, next: raw.NextLink}, nil
}
