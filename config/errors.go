package config

import (
	"fmt"
	"strconv"
)

// Error is one configuration mistake. Parse and Load fill File and Line; Validate on a Config
// built in code leaves them empty because there is no file to point at.
type Error struct {
	File string
	Line int    // 1-based; 0 when unknown
	Path string // key path such as tenants[0].sign_ins.poll_interval; empty for the whole file
	Msg  string

	cause error // the yaml error behind a syntax error, for errors.Is/As
}

func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	var s string
	if e.File != "" {
		s = e.File
		if e.Line > 0 {
			s += ":" + strconv.Itoa(e.Line)
		}
		s += ": "
	}
	if e.Path != "" {
		s += e.Path + ": "
	}
	return s + e.Msg
}

// errorList collects mistakes during validation so that all of them are reported together.
type errorList []*Error

func (l *errorList) add(path, format string, args ...any) {
	*l = append(*l, &Error{Path: path, Msg: fmt.Sprintf(format, args...)})
}
