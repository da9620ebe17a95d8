package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// entraShaped has the shape of an Entra client secret: three characters, a digit, "Q~" and 34
// more (40 in all). It is made up.
const entraShaped = "Abc8Q~k2Vq.x_T9-mZ~rP4sW7yL0nB3dF6hJ8gC1"

// Each fixture is a real mistake whose unredacted error quotes a secret; the redacted error must
// not, and must still name the file, the line and the key.
func TestRedactFileErrorHidesSecretsInLoadErrors(t *testing.T) {
	setTestEnv(t)
	for _, tc := range []struct {
		file   string
		secret string
		keep   []string // still in the redacted message
	}{
		{"secret-in-client-id.yml", entraShaped, []string{"secret-in-client-id.yml:7: tenants[0].credential.client_id: must be the application (client) ID"}},
		{"secret-in-env-key.yml", "hunter2-correct-horse", []string{"secret-in-env-key.yml:8: tenants[0].credential.client_secret_env: environment variable " + Redacted + " is not set"}},
		{"secret-in-file-key.yml", "battery-staple-s3cret", []string{"secret-in-file-key.yml:8: tenants[0].credential.client_secret_file: read secret file", "no such file or directory"}},
		{"password-in-env-key.yml", `Tr0ub4dor"&\3`, []string{"password-in-env-key.yml:10: tenants[0].credential.certificate_password_env: environment variable " + Redacted}},
		{"secret-in-bool.yml", entraShaped, []string{"secret-in-bool.yml:9: tenants[0].credential.send_certificate_chain: expected true or false"}},
		// A YAML syntax error: the file does not parse, so only the line-by-line reading finds
		// the value.
		{"unknown-anchor.yml", "s3cr3t-value", []string{"unknown-anchor.yml:9: unknown anchor '" + Redacted + "' referenced"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "redact", tc.file)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load accepted the fixture")
			}
			if !strings.Contains(err.Error(), tc.secret) {
				t.Fatalf("the fixture no longer makes Load quote the secret, so it tests nothing: %v", err)
			}
			got := RedactFileError(path, err).Error()
			if strings.Contains(got, tc.secret) {
				t.Errorf("secret %q left in: %s", tc.secret, got)
			}
			for _, k := range tc.keep {
				if !strings.Contains(got, k) {
					t.Errorf("redacted message lost %q:\n%s", k, got)
				}
			}
		})
	}
}

func TestRedactorString(t *testing.T) {
	for _, tc := range []struct {
		name, data, in, want string
	}{
		{
			name: "inline secret quoted by a message",
			data: "credential:\n  client_secret: hunter2hunter2\n",
			in:   `line 2: "hunter2hunter2" is not allowed`,
			want: `line 2: "<redacted>" is not allowed`,
		},
		{
			name: "value quoted with escapes",
			data: "credential:\n  certificate_password_env: 'pa\"ss\\word'\n",
			in:   `got "pa\"ss\\word"`,
			want: `got "<redacted>"`,
		},
		{
			name: "value shortened by the decoder",
			data: "client_secret_env: abcdefghijklmnop\n",
			in:   "line 1: cannot unmarshal !!str `abcdefg...` into bool",
			want: "line 1: cannot unmarshal !!str `<redacted>` into bool",
		},
		{
			name: "Entra-shaped secret under an ordinary key, shortened",
			data: "client_id: " + entraShaped + "\n",
			in:   "cannot unmarshal !!str `Abc8Q~k...` into bool",
			want: "cannot unmarshal !!str `<redacted>` into bool",
		},
		{
			name: "Entra-shaped secret with no file at all",
			data: "",
			in:   "bad value " + entraShaped + " here",
			want: "bad value <redacted> here",
		},
		{
			// The file does not parse (the list is never closed); a message that quotes the
			// whole line must not show the password.
			name: "broken YAML, message quotes the line",
			data: "tenants: [\n  - name: x\n    password: Tr0ub4dor&3   # the old one\n",
			in:   `line 3: could not parse "    password: Tr0ub4dor&3   # the old one"`,
			want: `line 3: could not parse "    password: <redacted>   # the old one"`,
		},
		{
			name: "quoted key, value with a trailing comment",
			data: "\"api_key\": \"k-1234567\" # rotate yearly\n",
			in:   `api_key "k-1234567" rejected`,
			want: `api_key "<redacted>" rejected`,
		},
		{
			name: "flow mapping read through the parser",
			data: "credential: {type: client_secret, client_secret_env: opensesame99}\n",
			in:   "environment variable opensesame99 is not set",
			want: "environment variable <redacted> is not set",
		},
		{
			name: "longer value containing a shorter one is hidden whole",
			data: "a_token: abcd\nb_token: abcd-efgh-ijkl\n",
			in:   "saw abcd-efgh-ijkl and abcd",
			want: "saw <redacted> and <redacted>",
		},
		{
			name: "ordinary values stay",
			data: "tenant_id: not-a-guid\nsign_ins:\n  poll_interval: 1s\nclient_secret_env: MY_SECRET_VAR\n",
			in:   `tenant_id: must be a GUID (got "not-a-guid"); poll_interval: must be at least 10s (got "1s")`,
			want: `tenant_id: must be a GUID (got "not-a-guid"); poll_interval: must be at least 10s (got "1s")`,
		},
		{
			name: "values shorter than four characters are not searched for",
			data: "secret: ab\n",
			in:   "tab stops",
			want: "tab stops",
		},
		{
			name: "a colon inside a plain value is not a key",
			data: "notes:\n  - secret:value\n",
			in:   "saw secret:value",
			want: "saw secret:value",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewRedactor([]byte(tc.data)).String(tc.in); got != tc.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactFileErrorKeepsTheCause(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yml")
	_, err := Load(missing)
	red := RedactFileError(missing, err)
	if !errors.Is(red, os.ErrNotExist) {
		t.Errorf("RedactFileError lost the cause: %v", red)
	}
	if RedactFileError(missing, nil) != nil {
		t.Error("RedactFileError(nil) is not nil")
	}
	cause := &Error{File: "x.yml", Line: 3, Msg: "got " + entraShaped}
	red = RedactFileError(missing, fmt.Errorf("reload: %w", cause))
	var ce *Error
	if !errors.As(red, &ce) || ce != cause {
		t.Errorf("errors.As does not reach the *Error behind a redacted error: %v", red)
	}
	if want := "reload: x.yml:3: got " + Redacted; red.Error() != want {
		t.Errorf("got %q, want %q", red.Error(), want)
	}
}

// A FIFO named as the configuration must not hang the error report: opening one for reading
// blocks until a writer comes.
func TestRedactFileErrorDoesNotOpenAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "config.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- RedactFileError(fifo, errors.New("not a regular file: "+entraShaped)) }()
	select {
	case err := <-done:
		if want := "not a regular file: " + Redacted; err.Error() != want {
			t.Errorf("got %q, want %q", err.Error(), want)
		}
	case <-time.After(time.Minute):
		t.Fatal("RedactFileError blocked on a FIFO")
	}
}
