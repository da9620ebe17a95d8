package simtenant

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Options configures a simulated tenant. The zero value is usable.
type Options struct {
	TenantID, ClientID, ClientSecret string // defaults: DefaultTenantID, DefaultClientID, "demo-secret"
	Seed                             int64
	Users                            int              // default 500
	Now                              func() time.Time // clock for rows, tokens and throttling; default time.Now
	PageSize                         int              // rows per page when $top is absent or larger; default 1000
	RateLimit                        int              // Graph requests per RateWindow; default 5; negative disables throttling
	RateWindow                       time.Duration    // default 10s
	// LatenessScale multiplies the ingestion delay drawn for generated rows.
	// 0 means the default (1, realistic minutes); a negative value makes every
	// row visible immediately. The zero value cannot mean "no delay" because
	// it has to mean "unset".
	LatenessScale float64
	// NoPadding keeps fixture rows as written and makes generated rows omit
	// their bulky fields (the tenant's conditional access policies, device,
	// location and friends), for tests that need many rows and not their
	// size. Requirement providers and applications are still written, and so
	// are policies asked for with FloodCoverage.
	NoPadding bool
	Logger    *slog.Logger

	// Order is the order in which sign-in rows of one query are served when $orderby is not
	// honoured. The zero value is OrderNewestFirst, the order Microsoft documents for List
	// signIns.
	Order Order
	// OrderBy is what GET auditLogs/signIns does with $orderby, which the List signIns page does
	// not name among its query options. The zero value is OrderByReject (HTTP 400).
	OrderBy OrderByMode
	// IgnoreUpperBound makes sign-in queries ignore every "createdDateTime le" clause of $filter,
	// as Graph has been reported to ignore filter bounds: a query then returns every visible row
	// from its lower bound up to now.
	IgnoreUpperBound bool
	// Retention makes the tenant forget stored sign-in rows whose createdDateTime is older than
	// now minus Retention, as Entra forgets rows after its retention period. 0 keeps every row
	// (tests that read everything back). Truth is not affected: it counts what was generated.
	Retention time.Duration
	// MaxRows is the most sign-in rows held at once; beyond it the oldest (by createdDateTime) are
	// dropped first. 0 means DefaultMaxRows. There is no unlimited setting: a tenant left running
	// must not grow without bound, whatever else is configured.
	MaxRows int
}

// Order is the order of the sign-in rows within one query (Options.Order).
type Order int

// Orders of Options.Order. Every mode pages by key (the next link carries the last row's
// position), never by offset, so one query serves a stored row at most once: a row that becomes
// visible while a query pages is served by it if its position lies after the cursor and missed
// otherwise (a later query of the same window finds it).
const (
	// OrderNewestFirst serves rows by (createdDateTime, id) descending, Graph's documented
	// default. A late row older than the last row served joins the query; a newer one is missed.
	OrderNewestFirst Order = iota
	// OrderAscending serves rows by (createdDateTime, id) ascending. A late row newer than the
	// last row served joins the query; an older one is missed.
	OrderAscending
	// OrderShuffled serves the rows of the query in a random permutation, seeded per query (the
	// first request draws the seed, its next links carry it): the same query's pages are stable,
	// two queries (even of the same window) are permuted differently. A late row joins the query
	// if its place in the permutation lies after the last row served, and is missed otherwise.
	OrderShuffled
)

func (o Order) String() string {
	switch o {
	case OrderNewestFirst:
		return "newest_first"
	case OrderAscending:
		return "ascending"
	case OrderShuffled:
		return "shuffled"
	}
	return fmt.Sprintf("Order(%d)", int(o))
}

// OrderByMode is what the sign-ins endpoint does with $orderby (Options.OrderBy).
type OrderByMode int

// Modes of Options.OrderBy.
const (
	// OrderByReject answers HTTP 400 "Query option 'OrderBy' is not allowed", as the older
	// reporting API did for sign-ins.
	OrderByReject OrderByMode = iota
	// OrderByIgnore accepts "createdDateTime", "createdDateTime asc" and "createdDateTime desc"
	// and serves Options.Order anyway.
	OrderByIgnore
	// OrderByHonour accepts the same clauses and serves rows in the order they ask for.
	OrderByHonour
)

// Limits that keep a long-running tenant (--demo) bounded.
const (
	// DefaultMaxRows is Options.MaxRows when it is 0.
	DefaultMaxRows = 500_000
	// MaxBurst is the largest n Burst accepts.
	MaxBurst = 1000
	// maxTokens is the most unexpired access tokens remembered; beyond it the ones closest to
	// expiry are forgotten (their holders get 401 and fetch another, as after an expiry).
	maxTokens = 1024
)

// Defaults used when Options leaves a field empty.
const (
	DefaultTenantID     = "7d5c2f1e-3b4a-4c8d-9e0f-1a2b3c4d5e6f"
	DefaultClientID     = "0f1e2d3c-4b5a-4968-8776-655443322110"
	DefaultClientSecret = "demo-secret"
)

// Tenant is a running simulated tenant. All methods are safe for concurrent use.
type Tenant struct {
	opts     Options
	log      *slog.Logger
	srv      *http.Server
	ln       net.Listener
	base     string // https://127.0.0.1:PORT
	caPEM    []byte
	client   *http.Client
	closed   chan struct{}
	closeOne sync.Once
	serveErr chan error

	mu          sync.Mutex
	store       store
	tokens      map[string]time.Time // access token -> expiry
	faults      []*Fault             // Graph faults, applied in order
	routeFaults map[string][]*Fault  // faults of the registration routes, by route
	poison      [2]time.Time         // SetPoisonRange: pages holding a row of [from, to) are broken
	tokenFaults []*Fault             // token endpoint faults
	window      []time.Time          // accepted Graph request times inside RateWindow
	stats       Stats
	skew        time.Duration
	querySeeds  *mrand.Rand // seeds of shuffled queries, derived from Options.Seed
	evictWarned bool        // MaxRows has dropped rows and said so once
	auth        authState   // credentials registered or rotated at run time (authority.go)

	reg      *registrationData
	regTruth RegistrationTruth

	genMu sync.Mutex
	gen   *generator
}

// Start generates a CA and a server certificate, then serves the login
// authority and Graph on one TLS listener on 127.0.0.1.
func Start(opts Options) (*Tenant, error) {
	if opts.TenantID == "" {
		opts.TenantID = DefaultTenantID
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.Users <= 0 {
		opts.Users = 500
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageSize <= 0 || opts.PageSize > maxTop {
		opts.PageSize = maxTop
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 5
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = 10 * time.Second
	}
	if opts.LatenessScale == 0 {
		opts.LatenessScale = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.Retention < 0 {
		return nil, fmt.Errorf("simtenant: Retention %v is negative", opts.Retention)
	}
	switch opts.Order {
	case OrderNewestFirst, OrderAscending, OrderShuffled:
	default:
		return nil, fmt.Errorf("simtenant: unknown Order %d", int(opts.Order))
	}
	switch opts.OrderBy {
	case OrderByReject, OrderByIgnore, OrderByHonour:
	default:
		return nil, fmt.Errorf("simtenant: unknown OrderBy mode %d", int(opts.OrderBy))
	}

	caPEM, serverCert, err := newCertificates()
	if err != nil {
		return nil, fmt.Errorf("simtenant: generating certificates: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simtenant: listening on loopback: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		_ = ln.Close()
		return nil, errors.New("simtenant: generated CA certificate does not parse")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	transport.ForceAttemptHTTP2 = true

	t := &Tenant{
		opts:     opts,
		log:      opts.Logger,
		ln:       ln,
		base:     "https://" + ln.Addr().String(),
		caPEM:    caPEM,
		client:   &http.Client{Transport: transport},
		closed:   make(chan struct{}),
		serveErr: make(chan error, 1),
		tokens:   map[string]time.Time{},
		stats:    Stats{Requests: map[RequestKey]int{}},

		querySeeds: mrand.New(mrand.NewPCG(uint64(opts.Seed), 0x0bde5)),
	}
	t.gen = newGenerator(opts)
	t.reg, t.regTruth = newRegistrationData(t.gen.users, opts.Seed, opts.Now())
	t.routeFaults = map[string][]*Fault{}
	t.srv = &http.Server{
		Handler:           t.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
	go func() {
		err := t.srv.ServeTLS(ln, "", "")
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		t.serveErr <- err
	}()
	t.log.Info("simulated tenant started", "graph", t.base, "tenant", opts.TenantID)
	return t, nil
}

// AuthorityHost is the login authority URL with a trailing slash, the form
// azcore's cloud.Configuration expects.
func (t *Tenant) AuthorityHost() string { return t.base + "/" }

// GraphEndpoint is the Graph base URL without a trailing slash.
func (t *Tenant) GraphEndpoint() string { return t.base }

// TenantID returns the tenant the authority accepts.
func (t *Tenant) TenantID() string { return t.opts.TenantID }

// ClientID returns the application id the authority accepts.
func (t *Tenant) ClientID() string { return t.opts.ClientID }

// ClientSecret returns the secret the authority accepts (the first, after SetClientSecrets).
func (t *Tenant) ClientSecret() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.opts.ClientSecret
}

// CACertPEM returns the PEM of the CA that signed the server certificate.
func (t *Tenant) CACertPEM() []byte { return append([]byte(nil), t.caPEM...) }

// HTTPClient returns a client that trusts the tenant's CA and nothing else.
func (t *Tenant) HTTPClient() *http.Client { return t.client }

// WriteCACert writes the CA certificate as PEM, so that a child process can
// be told to trust it (for example through SSL_CERT_FILE).
func (t *Tenant) WriteCACert(path string) error {
	if err := os.WriteFile(path, t.caPEM, 0o644); err != nil {
		return fmt.Errorf("simtenant: writing CA certificate: %w", err)
	}
	return nil
}

// Close stops the server, dropping open connections (a request held by a
// delay fault ends at once).
func (t *Tenant) Close() error {
	var err error
	t.closeOne.Do(func() {
		close(t.closed)
		if cerr := t.srv.Close(); cerr != nil {
			err = fmt.Errorf("simtenant: closing server: %w", cerr)
			return
		}
		if serr := <-t.serveErr; serr != nil {
			err = fmt.Errorf("simtenant: server stopped with an error: %w", serr)
		}
		t.client.CloseIdleConnections()
	})
	return err
}

// SetClockSkew shifts the createdDateTime of rows generated from now on by d
// relative to the generator's clock, as if Entra's clock were off by d.
// Visibility still follows the generator's clock.
func (t *Tenant) SetClockSkew(d time.Duration) {
	t.mu.Lock()
	t.skew = d
	t.mu.Unlock()
}

func (t *Tenant) clockSkew() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.skew
}

// newCertificates makes an ECDSA P-256 CA and a server certificate for
// 127.0.0.1 and localhost, valid from an hour ago (to tolerate small clock
// differences) for a week.
func newCertificates() (caPEM []byte, server tls.Certificate, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("CA key: %w", err)
	}
	notBefore := time.Now().Add(-time.Hour)
	notAfter := notBefore.Add(7 * 24 * time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "entra-mfa-exporter simulated tenant CA", Organization: []string{"simtenant"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("parsing CA certificate: %w", err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("server key: %w", err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("server certificate: %w", err)
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{srvDER, caDER}, PrivateKey: srvKey}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		// crypto/rand does not fail on supported platforms; a fixed serial
		// would still make a valid certificate.
		return big.NewInt(1)
	}
	return n
}
