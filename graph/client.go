package graph

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

const (
	userAgent               = "entra-mfa-exporter"
	defaultMaxRetries       = 5
	defaultMaxThrottleWaits = 10
	defaultRetryBaseDelay   = time.Second
	maxBackoff              = 30 * time.Second
	defaultRequestTimeout   = 2 * time.Minute
	defaultRetryAfter       = 10 * time.Second
	maxRetryAfter           = 5 * time.Minute
	// maxPageBytes bounds the memory one response can take. Real sign-in pages are 5-15 MB
	// (1,000 rows of 5-15 KB); 64 MiB is four times the largest, and the decoded rows add at most
	// as much again (maxDecodedBytes), so one read holds at most about 200 MiB even when hostile.
	maxPageBytes      = 64 << 20
	maxErrorBodyBytes = 64 << 10
	signInPageSize    = 1000

	// Bounds of one read, so that a server that pages without end (a next-link cycle, or ever new
	// links) fails the read instead of holding it forever. The collector reads a sign-in backlog
	// in slices (a fresh window is reconcile_delay plus a poll interval long; the reconcile pass
	// stops itself after three quarters of a poll interval), so even a tenant at Graph's
	// throughput limit (about 500 rows/s) needs a few hundred pages per read; 1,000 pages is a
	// million rows and about 33 minutes of the tenant's request budget (5 per 10 s). Directory
	// collections (users, registration details) are read whole: 10,000 pages hold 10 million
	// users. Each time box is the time its page cap takes at the budget's full rate, with slack.
	defaultSignInMaxPages     = 1000
	defaultSignInTimeBox      = time.Hour
	defaultCollectionMaxPages = 10000
	defaultCollectionTimeBox  = 6 * time.Hour
)

// Observer receives the client's metrics hooks. Implementations must be cheap: they are called on
// the request path.
type Observer interface {
	// Request reports one attempt; statusCode 0 means a transport error, timeout or cut body.
	Request(endpoint string, statusCode int, d time.Duration)
	Throttled(endpoint string, retryAfter time.Duration)
	// Retry reports a retry; reason is "429", "5xx", "timeout", "transport" or "truncated".
	Retry(endpoint string, reason string)
	// MalformedRows reports rows skipped because they could not be decoded.
	MalformedRows(endpoint string, n int)
}

type nopObserver struct{}

func (nopObserver) Request(string, int, time.Duration) {}
func (nopObserver) Throttled(string, time.Duration)    {}
func (nopObserver) Retry(string, string)               {}
func (nopObserver) MalformedRows(string, int)          {}

// Options configures a Client. Zero values take the documented defaults.
type Options struct {
	GraphEndpoint    string                 // "https://graph.microsoft.com" (no trailing slash)
	Credential       azcore.TokenCredential // token scope = GraphEndpoint + "/.default"
	HTTPClient       *http.Client           // nil: default client (TLS, timeouts)
	Pacer            *Pacer                 // nil: NewPacer(5, 10*time.Second); one per tenant, shared by every source
	AppPacer         *Pacer                 // optional: one for the whole app registration (122 per 10 s across tenants), shared by every tenant's client
	Observer         Observer               // nil ok
	Logger           *slog.Logger           // nil: discard
	MaxRetries       int                    // for 5xx/timeouts/transport errors; 0: 5; negative: no retry
	MaxThrottleWaits int                    // 429s tolerated per request before giving up; 0: 10; negative: none
	RetryBaseDelay   time.Duration          // default 1s; full-jitter exponential backoff capped at 30s
	RequestTimeout   time.Duration          // per attempt, default 2m (pages are 5-15 MB)
	// MaxPagesPerRead bounds the pages one read (one SignIns, Get, RegistrationDetails or Users
	// call) may fetch; a read that would fetch more fails with ErrTooManyPages. 0: 1,000 for
	// sign-ins and 10,000 for other collections; negative: no bound.
	MaxPagesPerRead int
	// ReadTimeBox bounds the wall time of one read, waits and retries included; a read still
	// running then fails with ErrReadTimeBox. 0: 1 hour for sign-ins and 6 hours for other
	// collections; negative: no bound.
	ReadTimeBox time.Duration
}

// readLimits are the bounds of one read; zero fields mean no bound.
type readLimits struct {
	maxPages int
	timeBox  time.Duration
}

func newReadLimits(maxPages int, timeBox time.Duration, defPages int, defBox time.Duration) readLimits {
	l := readLimits{maxPages: maxPages, timeBox: timeBox}
	switch {
	case maxPages == 0:
		l.maxPages = defPages
	case maxPages < 0:
		l.maxPages = 0
	}
	switch {
	case timeBox == 0:
		l.timeBox = defBox
	case timeBox < 0:
		l.timeBox = 0
	}
	return l
}

// Client reads Microsoft Graph collections for one tenant. It is safe for concurrent use.
type Client struct {
	base        *url.URL // scheme and host the token may be sent to; path is a prefix for Get
	endpoint    string
	scope       string
	cred        azcore.TokenCredential
	hc          *http.Client
	pacer       *Pacer
	appPacer    *Pacer
	logLimit    *logLimiter // one retry/throttle warning per endpoint and reason per 5 minutes
	obs         Observer
	log         *slog.Logger
	maxRetries  int
	maxThrottle int
	baseDelay   time.Duration
	timeout     time.Duration
	clock       clock
	jitter      func(n int64) int64 // uniform in [0, n); injectable for tests
	signInReads readLimits
	otherReads  readLimits
}

// New validates the options and returns a client.
func New(o Options) (*Client, error) {
	if o.Credential == nil {
		return nil, errors.New("graph: no credential")
	}
	endpoint := strings.TrimRight(o.GraphEndpoint, "/")
	base, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("graph: endpoint %q: %w", o.GraphEndpoint, err)
	}
	if base.Host == "" || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("graph: endpoint %q must be a plain URL such as https://graph.microsoft.com", o.GraphEndpoint)
	}
	// A bearer token over plain HTTP is readable by anyone on the path; allow it only on loopback,
	// where tests and local proxies live.
	if base.Scheme != "https" && !(base.Scheme == "http" && isLoopback(base.Hostname())) {
		return nil, fmt.Errorf("graph: endpoint %q must use https", o.GraphEndpoint)
	}
	c := &Client{
		base:        base,
		endpoint:    endpoint,
		scope:       base.Scheme + "://" + base.Host + "/.default",
		cred:        o.Credential,
		pacer:       o.Pacer,
		appPacer:    o.AppPacer,
		obs:         o.Observer,
		log:         o.Logger,
		maxRetries:  positiveOr(o.MaxRetries, defaultMaxRetries),
		maxThrottle: positiveOr(o.MaxThrottleWaits, defaultMaxThrottleWaits),
		baseDelay:   o.RetryBaseDelay,
		timeout:     o.RequestTimeout,
		clock:       realClock{},
		logLimit:    newLogLimiter(5 * time.Minute),
		jitter:      rand.Int64N,
		signInReads: newReadLimits(o.MaxPagesPerRead, o.ReadTimeBox, defaultSignInMaxPages, defaultSignInTimeBox),
		otherReads:  newReadLimits(o.MaxPagesPerRead, o.ReadTimeBox, defaultCollectionMaxPages, defaultCollectionTimeBox),
	}
	if c.pacer == nil {
		c.pacer = NewPacer(5, 10*time.Second)
	}
	if c.obs == nil {
		c.obs = nopObserver{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.baseDelay <= 0 {
		c.baseDelay = defaultRetryBaseDelay
	}
	if c.timeout <= 0 {
		c.timeout = defaultRequestTimeout
	}
	c.hc = refuseRedirects(o.HTTPClient)
	return c, nil
}

func positiveOr(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func defaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   15 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}}
}

// refuseRedirects copies the caller's client (so its own settings stay untouched) and makes it
// hand every redirect back unfollowed. Graph's list endpoints never redirect, and net/http would
// follow up to ten hops per attempt outside the pacer and the request metric; a redirect becomes
// a final error instead (see attempt), counted with its status code.
func refuseRedirects(hc *http.Client) *http.Client {
	var cp http.Client
	if hc == nil {
		cp = *defaultHTTPClient()
	} else {
		cp = *hc
	}
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// sameOrigin reports whether u has the configured endpoint's scheme and host: the only place the
// token may go.
func (c *Client) sameOrigin(u *url.URL) bool {
	return u.User == nil && strings.EqualFold(u.Scheme, c.base.Scheme) && originHost(u) == originHost(c.base)
}

func originHost(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if port == "" {
		return host
	}
	return net.JoinHostPort(host, port)
}

// SignInQuery selects sign-ins created in [From, To], both ends inclusive at whole seconds: the
// filter is `createdDateTime ge From and createdDateTime le To`, the operators Microsoft documents
// for createdDateTime on sign-ins (gt and lt are not documented there and have been reported to be
// silently ignored). EventTypes are Graph signInEventTypes values such as "interactiveUser" and
// "nonInteractiveUser"; empty means Graph's default (interactive only).
type SignInQuery struct {
	From, To   time.Time
	EventTypes []string
	// ReuseRows says that fn keeps nothing of a page's rows after it returns except their ID and
	// UserID strings (allocated apart): each page is then decoded into the previous page's
	// arrays, which saves the read a page's worth of garbage per page.
	ReuseRows bool
}

var eventTypeRE = regexp.MustCompile(`^[A-Za-z]+$`)

const filterTime = "2006-01-02T15:04:05Z"

// signInsPath builds the first page's path, using only the query options List signIns documents
// ($filter and $top). It sends no $orderby: the documented default order is newest first, and the
// exporter's counting does not depend on any order. Times are truncated to the second because
// Graph filters at that precision.
func signInsPath(q SignInQuery) (string, error) {
	from := q.From.UTC().Truncate(time.Second)
	to := q.To.UTC().Truncate(time.Second)
	if to.Before(from) {
		return "", fmt.Errorf("graph signIns: window ends (%s) before it starts (%s)", to.Format(filterTime), from.Format(filterTime))
	}
	filter := "createdDateTime ge " + from.Format(filterTime) + " and createdDateTime le " + to.Format(filterTime)
	if len(q.EventTypes) > 0 {
		terms := make([]string, len(q.EventTypes))
		for i, t := range q.EventTypes {
			// The value goes inside an OData string literal: anything but letters could break out.
			if !eventTypeRE.MatchString(t) {
				return "", fmt.Errorf("graph signIns: invalid sign-in event type %q", t)
			}
			terms[i] = "t eq '" + t + "'"
		}
		filter += " and signInEventTypes/any(t: " + strings.Join(terms, " or ") + ")"
	}
	return "/beta/auditLogs/signIns?$filter=" + queryEscape(filter) + "&$top=" + strconv.Itoa(signInPageSize), nil
}

// queryEscape encodes spaces as %20: "+" means a space only to form decoders, and OData servers
// are not all form decoders.
func queryEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// SignIns pages through GET {endpoint}/beta/auditLogs/signIns for q, following @odata.nextLink
// exactly as given. Rows come in whatever order Graph returns them (documented: newest first; not a
// contract) and may lie outside the window if Graph ignores a bound: the caller checks each row.
// fn receives each page's decoded rows (an empty page included) only after the whole page was
// read and decoded, so a retried page is never delivered twice. An error from fn stops paging and
// is returned as is.
func (c *Client) SignIns(ctx context.Context, q SignInQuery, fn func(page []SignIn) error) error {
	path, err := signInsPath(q)
	if err != nil {
		return err
	}
	// Without this Prefer header Graph hides the NPSExtension and ADFederationServicesMFAAdapter
	// token issuer types, which tell on-premises MFA apart from cloud MFA.
	hdr := http.Header{"Prefer": {"include-unknown-enum-members"}}
	dec := signInDecoder{reuse: q.ReuseRows} // one per read: strings repeated across its pages are allocated once
	return walk(ctx, c, "signIns", c.endpoint+path, hdr, c.signInReads, dec.decodePage, dec.decodeStream, fn)
}

// Get pages through any collection (pathAndQuery is relative to the endpoint, starting with "/")
// and hands each row raw to fn, with the same pacing, retries and paging as SignIns.
// endpointLabel names the endpoint in metrics, logs and errors.
func (c *Client) Get(ctx context.Context, endpointLabel, pathAndQuery string, fn func(rows []json.RawMessage) error) error {
	if !strings.HasPrefix(pathAndQuery, "/") {
		return fmt.Errorf("graph %s: path %q must start with /", endpointLabel, pathAndQuery)
	}
	return walk(ctx, c, endpointLabel, c.endpoint+pathAndQuery, nil, c.otherReads, decodeRawPage, nil, fn)
}

// ErrStopPaging, returned by a page callback, ends paging early. The paging function then returns
// it (wrapped as the callback did) if pages were left unread, or nil if that page was the last, so
// the caller can tell a complete read from an interrupted one.
var ErrStopPaging = errors.New("graph: paging stopped by the caller")

// Errors that end a read which pages without end; the collector maps them to a poll-error reason.
var (
	// ErrPagingLoop: a next link pointed at a page already read in the same read.
	ErrPagingLoop = errors.New("graph: next links form a loop")
	// ErrTooManyPages: a read reached Options.MaxPagesPerRead with next links still coming.
	ErrTooManyPages = errors.New("graph: read exceeded its page limit")
	// ErrReadTimeBox: a read was still running after Options.ReadTimeBox.
	ErrReadTimeBox = errors.New("graph: read exceeded its time box")
)

// walk is the paging loop shared by every collection.
func walk[T any](ctx context.Context, c *Client, endpoint, pageURL string, hdr http.Header, lim readLimits,
	decode func([]byte) (decodedPage[T], error), stream func(io.Reader, int64) (decodedPage[T], error), fn func([]T) error) error {
	parent := ctx
	if lim.timeBox > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, lim.timeBox, ErrReadTimeBox)
		defer cancel()
	}
	// The links of this read, hashed: remembering them whole would let long links cost memory.
	seed := maphash.MakeSeed()
	seen := make(map[uint64]struct{})
	for pages := 0; pageURL != ""; pages++ {
		h := maphash.String(seed, pageURL)
		if _, loop := seen[h]; loop {
			return fmt.Errorf("graph %s: %w: after %d pages, the next link %s points to a page already read", endpoint, ErrPagingLoop, pages, pageURL)
		}
		seen[h] = struct{}{}
		if lim.maxPages > 0 && pages >= lim.maxPages {
			return fmt.Errorf("graph %s: %w: %d pages read and the next link %s still follows", endpoint, ErrTooManyPages, pages, pageURL)
		}
		page, err := fetchPage(ctx, c, endpoint, pageURL, hdr, decode, stream)
		if err != nil {
			if parent.Err() == nil && errors.Is(context.Cause(ctx), ErrReadTimeBox) {
				return fmt.Errorf("graph %s: %w of %v (%d pages read; interrupted: %v)", endpoint, ErrReadTimeBox, lim.timeBox, pages, err)
			}
			return err
		}
		if page.malformed > 0 {
			c.obs.MalformedRows(endpoint, page.malformed)
			if ok, held := c.logLimit.allow(endpoint+"/malformed_rows", c.clock.Now()); ok {
				c.log.Warn("graph page had rows that could not be decoded; skipped them",
					"endpoint", endpoint, "url", pageURL, "skipped", page.malformed, "first_error", page.firstErr, "similar_since_last_line", held)
			}
		}
		if err := fn(page.rows); err != nil {
			if errors.Is(err, ErrStopPaging) && page.next == "" {
				return nil // nothing left to stop: the read is complete
			}
			return err
		}
		pageURL = page.next
	}
	return nil
}

// fetchPage fetches and decodes one page. A page whose top level does not decode is fetched once
// more, like a body cut short, before it is reported as malformed. With stream, the page is decoded
// as its body arrives (stream.go), and fetched again to be decoded whole only if its top level did
// not fit the decoding window.
func fetchPage[T any](ctx context.Context, c *Client, endpoint, pageURL string, hdr http.Header,
	decode func([]byte) (decodedPage[T], error), stream func(io.Reader, int64) (decodedPage[T], error)) (decodedPage[T], error) {
	refetched := false
	for {
		var page decodedPage[T]
		var derr error
		if stream != nil {
			_, err := c.fetch(ctx, endpoint, pageURL, hdr, func(body io.Reader, size int64) error {
				var err error
				page, err = stream(body, size)
				return err
			})
			var df *decodeFailure
			switch {
			case errors.As(err, &df):
				derr = df.err
			case err != nil:
				return decodedPage[T]{}, err
			}
			if errors.Is(derr, errNeedWhole) && ctx.Err() == nil {
				c.log.Debug("graph page's top level did not fit the decoding window; fetching it whole", "endpoint", endpoint, "url", pageURL)
				stream = nil
				continue
			}
		} else {
			buf, err := c.fetch(ctx, endpoint, pageURL, hdr, nil)
			if err != nil {
				return decodedPage[T]{}, err
			}
			page, derr = decode(buf.Bytes())
			// Decoding copied every string and raw row out of buf, so it can be reused now.
			putBuffer(buf)
		}
		if derr == nil {
			return page, nil
		}
		if ctx.Err() != nil {
			// The read ended (its time box, the caller) while this page arrived: an empty or cut
			// body is then the cancellation's doing, not a page to fetch again or report.
			return decodedPage[T]{}, fmt.Errorf("graph %s: page read as the read ended: %w (%w)", endpoint, context.Cause(ctx), derr)
		}
		if refetched {
			return decodedPage[T]{}, &MalformedPageError{Endpoint: endpoint, URL: pageURL, Err: derr}
		}
		refetched = true
		c.obs.Retry(endpoint, "truncated")
		if ok, held := c.logLimit.allow(endpoint+"/malformed_page", c.clock.Now()); ok {
			c.log.Warn("graph page could not be decoded; fetching it again", "endpoint", endpoint, "url", pageURL, "err", derr, "similar_since_last_line", held)
		}
	}
}

// decodeFailure carries a streamed page's decoding error out of fetch, which retries only what
// the request itself did wrong.
type decodeFailure struct{ err error }

func (e *decodeFailure) Error() string { return e.err.Error() }
func (e *decodeFailure) Unwrap() error { return e.err }

// retryable marks an attempt's failure as worth another attempt.
type retryable struct {
	reason     string        // Observer.Retry reason
	retryAfter time.Duration // server-requested wait, 0 if none
	err        error
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// fetch gets one URL with pacing and retries and returns its full body, or, with consume, hands
// the body to consume as it arrives and returns no buffer. Every attempt waits on the pacer:
// retries spend the tenant's budget like first tries do.
func (c *Client) fetch(ctx context.Context, endpoint, rawURL string, hdr http.Header, consume func(io.Reader, int64) error) (*bytes.Buffer, error) {
	retries, throttles := 0, 0
	for {
		if err := c.pacer.Wait(ctx); err != nil {
			return nil, fmt.Errorf("graph %s: %w", endpoint, err)
		}
		// The app-wide budget is taken after the tenant's own, so a tenant waiting out its own
		// window never holds an app-wide slot that another tenant could use.
		if c.appPacer != nil {
			if err := c.appPacer.Wait(ctx); err != nil {
				return nil, fmt.Errorf("graph %s: %w", endpoint, err)
			}
		}
		buf, err := c.attempt(ctx, endpoint, rawURL, hdr, consume)
		if err == nil {
			return buf, nil
		}
		var r *retryable
		if !errors.As(err, &r) {
			return nil, err
		}
		if r.reason == "429" {
			// Hold even when giving up: the tenant's budget is spent for every source.
			c.pacer.Hold(c.clock.Now().Add(r.retryAfter))
			c.obs.Throttled(endpoint, r.retryAfter)
			throttles++
			if throttles > c.maxThrottle {
				return nil, fmt.Errorf("graph %s: throttled %d times in a row, giving up: %w", endpoint, throttles, r.err)
			}
			c.obs.Retry(endpoint, r.reason)
			if ok, held := c.logLimit.allow(endpoint+"/429", c.clock.Now()); ok {
				c.log.Warn("graph throttled the tenant; holding every request", "endpoint", endpoint, "retry_after", r.retryAfter, "similar_since_last_line", held)
			} else {
				c.log.Debug("graph throttled the tenant; holding every request", "endpoint", endpoint, "retry_after", r.retryAfter)
			}
			continue
		}
		retries++
		if retries > c.maxRetries {
			return nil, fmt.Errorf("graph %s: giving up after %d retries: %w", endpoint, c.maxRetries, r.err)
		}
		delay := max(c.backoff(retries), r.retryAfter)
		c.obs.Retry(endpoint, r.reason)
		if ok, held := c.logLimit.allow(endpoint+"/"+r.reason, c.clock.Now()); ok {
			c.log.Warn("graph request failed; retrying", "endpoint", endpoint, "reason", r.reason, "retry", retries, "delay", delay, "err", r.err, "similar_since_last_line", held)
		} else {
			c.log.Debug("graph request failed; retrying", "endpoint", endpoint, "reason", r.reason, "retry", retries, "delay", delay, "err", r.err)
		}
		if err := c.clock.Sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("graph %s: waiting to retry: %w (after %v)", endpoint, err, r.err)
		}
	}
}

// backoff is full-jitter exponential: a random delay in [0, min(cap, base*2^(n-1))], which spreads
// the retries of many sources instead of synchronising them.
func (c *Client) backoff(n int) time.Duration {
	ceiling := maxBackoff
	if n-1 < 30 {
		if d := c.baseDelay << (n - 1); d > 0 && d < maxBackoff {
			ceiling = d
		}
	}
	return time.Duration(c.jitter(int64(ceiling) + 1))
}

// attempt makes one request and reads the whole body, or hands it to consume, so a body cut short
// is noticed before any row is handed out.
func (c *Client) attempt(ctx context.Context, endpoint, rawURL string, hdr http.Header, consume func(io.Reader, int64) error) (*bytes.Buffer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("graph %s: bad page URL: %w", endpoint, err)
	}
	if !c.sameOrigin(u) {
		return nil, fmt.Errorf("graph %s: refusing to request %s://%s: not the configured Graph endpoint %s, and the access token is only sent there",
			endpoint, u.Scheme, u.Host, c.endpoint)
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	tok, err := c.cred.GetToken(actx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return nil, fmt.Errorf("graph %s: %w: acquiring a token for %s: %w", endpoint, ErrAuthentication, c.scope, err)
	}
	req, err := http.NewRequestWithContext(actx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("graph %s: building request: %w", endpoint, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Authorization", "Bearer "+tok.Token)

	start := c.clock.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.obs.Request(endpoint, 0, c.clock.Now().Sub(start))
		return nil, classify(ctx, endpoint, "transport", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode >= 200 && resp.StatusCode < 300 && consume != nil {
		err := consume(resp.Body, resp.ContentLength)
		var bodyErr *bodyReadError
		switch {
		case errors.As(err, &bodyErr):
			c.obs.Request(endpoint, 0, c.clock.Now().Sub(start))
			return nil, classify(ctx, endpoint, "truncated", bodyErr)
		case errors.Is(err, errPageTooBig):
			c.obs.Request(endpoint, resp.StatusCode, c.clock.Now().Sub(start))
			return nil, fmt.Errorf("graph %s: page larger than %d MiB", endpoint, maxPageBytes>>20)
		}
		c.obs.Request(endpoint, resp.StatusCode, c.clock.Now().Sub(start))
		if err != nil {
			return nil, &decodeFailure{err}
		}
		return nil, nil
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		buf := getBuffer(resp.ContentLength)
		_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxPageBytes+1))
		if err != nil {
			putBuffer(buf)
			c.obs.Request(endpoint, 0, c.clock.Now().Sub(start))
			return nil, classify(ctx, endpoint, "truncated", fmt.Errorf("reading body: %w", err))
		}
		c.obs.Request(endpoint, resp.StatusCode, c.clock.Now().Sub(start))
		if buf.Len() > maxPageBytes {
			putBuffer(buf)
			return nil, fmt.Errorf("graph %s: page larger than %d MiB", endpoint, maxPageBytes>>20)
		}
		return buf, nil
	}

	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	c.obs.Request(endpoint, resp.StatusCode, c.clock.Now().Sub(start))
	apiErr := newAPIError(endpoint, resp.StatusCode, body, resp.Header)
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())
		if !ok {
			ra = defaultRetryAfter
		}
		return nil, &retryable{reason: "429", retryAfter: ra, err: apiErr}
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		ra, _ := parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())
		return nil, &retryable{reason: "5xx", retryAfter: ra, err: apiErr}
	}
	return nil, apiErr
}

// classify sorts a transport or body-read error into retryable or final. fallback is the reason
// for errors that are neither timeouts nor final.
func classify(parent context.Context, endpoint, fallback string, err error) error {
	wrapped := fmt.Errorf("graph %s: %w", endpoint, err)
	if parent.Err() != nil {
		return wrapped // the caller gave up: not a failure to retry
	}
	var (
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalid    x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
		netErr     net.Error
		isTimeout  = errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
		isTLSFinal = errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verifyErr)
	)
	switch {
	case isTLSFinal:
		// Retrying cannot fix a certificate the client does not trust.
		return wrapped
	case isTimeout:
		return &retryable{reason: "timeout", err: wrapped}
	}
	return &retryable{reason: fallback, err: wrapped}
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date, capped at 5 minutes so a bogus
// header cannot stall the tenant for hours.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, 0), maxRetryAfter), true
}

// CloseIdleConnections closes the client's idle connections (a client about to be replaced).
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }
