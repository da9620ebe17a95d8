package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// closeBound is how long a test waits for the server to close a connection whose timeout is
// 100 ms. The other timeouts of the server under test are an hour, so a connection still open
// after this bound is held by nothing but the timeout under test being absent.
const closeBound = time.Minute

// Connections that make no progress are closed by the server: an idle keep-alive connection
// after its request (IdleTimeout), and one that never sends a request (ReadHeaderTimeout), over
// plain HTTP and over exporter-toolkit's TLS.
func TestServerClosesStalledConnections(t *testing.T) {
	sim := startSim(t)
	cfgFile := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, cfgFile, sim.config("contoso"))
	tlsWeb, pool := tlsWebConfig(t, "")
	const hour = time.Hour
	for _, tc := range []struct {
		name      string
		timeouts  httpTimeouts
		tls       bool
		sendFirst bool // send one request, read its response, then go idle
	}{
		{"idle after a request", httpTimeouts{readHeader: hour, read: hour, write: hour, idle: 100 * time.Millisecond}, false, true},
		{"idle after a request over TLS", httpTimeouts{readHeader: hour, read: hour, write: hour, idle: 100 * time.Millisecond}, true, true},
		{"silent from the start", httpTimeouts{readHeader: 100 * time.Millisecond, read: hour, write: hour, idle: hour}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			webConfig := ""
			if tc.tls {
				webConfig = tlsWeb
			}
			addr, logs := startServer(t, serverOptions{configFile: cfgFile, timeouts: tc.timeouts}, webConfig)
			var conn net.Conn
			var err error
			if tc.tls {
				conn, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
			} else {
				conn, err = net.Dial("tcp", addr)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			if tc.sendFirst {
				fmt.Fprintf(conn, "GET /-/healthy HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					t.Fatalf("reading the response: %v; log:\n%s", err, logs.String())
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Close {
					t.Fatalf("GET /-/healthy: %d, close=%v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
				}
			}
			conn.SetReadDeadline(time.Now().Add(closeBound))
			_, err = r.ReadByte()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server still held the connection after %s", closeBound)
			}
			if err == nil {
				t.Fatal("the server sent data on a connection that asked for nothing")
			}
			// io.EOF (or a reset): the server closed it.
		})
	}
}

func TestDefaultHTTPTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), httpTimeouts{}, slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("a timeout is unset: header %s, read %s, write %s, idle %s", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	// A scrape that Prometheus still waits for must not be cut: its scrape_timeout defaults to
	// 10 s and usually stays at or under a minute.
	if srv.WriteTimeout < time.Minute {
		t.Errorf("WriteTimeout %s would cut slow /metrics scrapes", srv.WriteTimeout)
	}
	// Prometheus's default scrape interval is one minute: a kept-alive connection should last
	// from one scrape to the next.
	if srv.IdleTimeout < time.Minute {
		t.Errorf("IdleTimeout %s closes connections between one-minute scrapes", srv.IdleTimeout)
	}
}

// --web.config.file (exporter-toolkit) with TLS and basic auth protects /metrics.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig, pool := tlsWebConfig(t, fmt.Sprintf("basic_auth_users:\n  prometheus: %s\n", hash))
	base, stderr := startExporter(t, "--demo", "--web.config.file="+webConfig)
	base = "https" + base[len("http"):]
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "the exporter to answer over TLS", stderr, func() bool { return get("", "") != 0 })
	for _, tc := range []struct {
		user, pass string
		want       int
	}{
		{"", "", http.StatusUnauthorized},
		{"prometheus", "wrong", http.StatusUnauthorized},
		{"prometheus", "s3cret", http.StatusOK},
	} {
		if got := get(tc.user, tc.pass); got != tc.want {
			t.Errorf("GET /metrics over TLS as %q/%q: %d, want %d", tc.user, tc.pass, got, tc.want)
		}
	}
}

// tlsWebConfig writes an exporter-toolkit web configuration serving TLS with a fresh
// self-signed certificate for 127.0.0.1, plus extra; it returns the file and a pool trusting
// the certificate.
func tlsWebConfig(t *testing.T, extra string) (string, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	file := filepath.Join(dir, "web.yml")
	writeFile(t, file, fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\n", certFile, keyFile)+extra)
	return file, pool
}
