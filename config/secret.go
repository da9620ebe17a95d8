package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Secret returns the client secret from client_secret_env or client_secret_file. It reads at
// call time: the Graph client calls it before every token request (see package graphclient), so
// a secret file rotated in place, as Kubernetes does with mounted secrets, is used from the next
// token request on, without a reload. Errors name the variable or file, never the value.
func (c Credential) Secret() (string, error) {
	switch {
	case c.ClientSecretEnv != "" && c.ClientSecretFile != "":
		return "", errors.New("set only one of client_secret_env and client_secret_file")
	case c.ClientSecretEnv != "":
		v, err := readEnv(c.ClientSecretEnv)
		return string(v), err
	case c.ClientSecretFile != "":
		v, err := readSecretFile(c.ClientSecretFile)
		return string(v), err
	}
	return "", errors.New("no client secret source: set client_secret_env or client_secret_file")
}

// CertificatePassword returns the password of the certificate file, or nil when none is
// configured (an unencrypted PEM or PKCS#12 file).
func (c Credential) CertificatePassword() ([]byte, error) {
	switch {
	case c.CertificatePasswordEnv != "" && c.CertificatePasswordFile != "":
		return nil, errors.New("set only one of certificate_password_env and certificate_password_file")
	case c.CertificatePasswordEnv != "":
		return readEnv(c.CertificatePasswordEnv)
	case c.CertificatePasswordFile != "":
		return readSecretFile(c.CertificatePasswordFile)
	}
	return nil, nil
}

func readEnv(name string) ([]byte, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return nil, fmt.Errorf("environment variable %s is not set", name)
	}
	if v == "" {
		return nil, fmt.Errorf("environment variable %s is empty", name)
	}
	return []byte(v), nil
}

// readSecretFile trims trailing newlines because `echo secret > file` and Kubernetes secrets
// written by hand commonly end with one, and no Entra secret ends with a newline.
func readSecretFile(path string) ([]byte, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	b = []byte(strings.TrimRight(string(b), "\r\n"))
	if len(b) == 0 {
		return nil, fmt.Errorf("secret file %s is empty", path)
	}
	return b, nil
}
