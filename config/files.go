package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// maxFileBytes bounds every file the configuration names, and the configuration file itself.
// The largest legitimate one is a CA bundle: Debian's whole system bundle is about 220 KB, while
// a secret, a certificate with its chain, a PKCS#12 file or a federated token is a few KB. 4 MiB
// leaves room for a generous private bundle, yet a mistaken path such as /dev/zero or a disk
// image cannot make the exporter (or check-config) read until memory runs out.
const maxFileBytes = 4 << 20

// readFile reads a file the configuration names. It accepts only a regular file (symbolic links
// are followed: Kubernetes mounts secrets as links that it swaps on rotation), never blocks on a
// named pipe, and reads at most maxFileBytes.
func readFile(path string) ([]byte, error) {
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Stat the open file, not the path: the path may be swapped between a stat and the open.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, fi); err != nil {
		return nil, err
	}
	// Read one byte past the limit so a file that grew after the stat is caught too.
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxFileBytes {
		return nil, tooLarge(path)
	}
	return b, nil
}

// statFile checks a file that something else reads later (azidentity reads the federated token
// file itself): it must be a regular file within the size limit. Stat never blocks, whatever
// the file is.
func statFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return checkRegular(path, fi)
}

func checkRegular(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is %s, not a regular file", path, describeMode(fi.Mode()))
	}
	if fi.Size() > maxFileBytes {
		return tooLarge(path)
	}
	return nil
}

func tooLarge(path string) error {
	return fmt.Errorf("%s is larger than %d MiB, more than any secret, certificate or CA bundle", path, maxFileBytes>>20)
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file (" + m.Type().String() + ")"
}

// readCAFile returns the PEM bundle of ca_file.
func readCAFile(path string) ([]byte, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	return b, nil
}

func checkCAFile(path string) error {
	b, err := readCAFile(path)
	if err != nil {
		return err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return fmt.Errorf("no PEM certificate found in %s", path)
	}
	return nil
}

// RootCAs returns the certificates trusted for the tenant's authority and Graph: nil (the
// system's roots) without ca_file, otherwise the system's roots plus those of ca_file, so a
// proxy or private cloud can be trusted without losing the public roots.
func (t Tenant) RootCAs() (*x509.CertPool, error) {
	if t.CAFile == "" {
		return nil, nil
	}
	b, err := readCAFile(t.CAFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("no PEM certificate found in %s", t.CAFile)
	}
	return pool, nil
}

// CertificateData returns the contents of certificate_file (PEM or PKCS#12). Like Secret, it
// reads at call time so that a certificate rotated in place is picked up.
func (c Credential) CertificateData() ([]byte, error) {
	if c.CertificateFile == "" {
		return nil, errors.New("no certificate_file")
	}
	b, err := readFile(c.CertificateFile)
	if err != nil {
		return nil, fmt.Errorf("read certificate file: %w", err)
	}
	return b, nil
}
