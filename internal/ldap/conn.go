package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Scope is the scope of a search below its base DN. The values are those of
// the Directory's SearchScope, so a conversion is a type cast.
type Scope string

// The search scopes.
const (
	// ScopeBase reads the base entry only.
	ScopeBase Scope = "Base"
	// ScopeOne reads the entries right below the base.
	ScopeOne Scope = "One"
	// ScopeSub reads the base and its whole subtree.
	ScopeSub Scope = "Sub"
)

// SearchRequest is one search.
type SearchRequest struct {
	// BaseDN is where the search starts.
	BaseDN string
	// Scope is the part of the tree below BaseDN that is searched. Empty
	// means ScopeSub.
	Scope Scope
	// Filter is an RFC 4515 filter. Empty means (objectClass=*).
	Filter string
	// Attributes are the attributes to return. Empty means all user
	// attributes; "1.1" alone means none (only DNs).
	Attributes []string
	// PageSize > 0 asks for RFC 2696 paged results of that size; the pages
	// are read one after the other and every entry is handed to the callback
	// as it arrives, so memory does not grow with the directory.
	PageSize int
}

// Entry is one entry a search returned.
type Entry struct {
	// DN is the entry's distinguished name as the server spelled it.
	DN string
	// Attributes are the entry's attributes in the server's order. A name
	// may carry options, such as member;range=0-1499.
	Attributes []Attribute
}

// Attribute is one attribute description and its values.
type Attribute struct {
	// Name is the attribute description, options included.
	Name string
	// Values are the attribute's values.
	Values []string
}

// Values returns the values of the attribute whose description is name,
// compared case-insensitively, or nil.
func (e *Entry) Values(name string) []string {
	for _, a := range e.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a.Values
		}
	}
	return nil
}

// First returns the first non-empty value of the attribute name, with
// surrounding spaces removed, or "".
func (e *Entry) First(name string) string {
	for _, v := range e.Values(name) {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// Conn is one bound connection to a directory server.
//
// Search runs req and calls fn with each entry, in the order the server
// sends them, while the search runs: with paging, page after page. It
// returns nil only when every page was read to its end; a search that stops
// early for any reason (a lost connection, a timeout, a server error, ctx)
// returns an error, never a partial success. When fn returns an error the
// search stops and Search returns that error unchanged. fn must not call
// Search on the same Conn. A Conn runs one Search at a time.
//
// Search never changes the directory.
type Conn interface {
	Search(ctx context.Context, req SearchRequest, fn func(*Entry) error) error
	Close() error
}

// Dialer connects and binds to a directory server. The controller holds one
// so that its tests can put a fake in.
type Dialer interface {
	Dial(ctx context.Context, cfg Config) (Conn, error)
}

// DialerFunc is a function that is a Dialer.
type DialerFunc func(ctx context.Context, cfg Config) (Conn, error)

// Dial calls f.
func (f DialerFunc) Dial(ctx context.Context, cfg Config) (Conn, error) { return f(ctx, cfg) }

// DefaultDialer dials with Dial.
var DefaultDialer Dialer = DialerFunc(Dial)

// Dial connects to cfg.URL, sets TLS up (ldaps:// or StartTLS) and binds as
// cfg.BindDN, all within cfg.Timeout and ctx. The errors are *Error values
// whose Reason tells what failed.
func Dial(ctx context.Context, cfg Config) (Conn, error) {
	ep, tlsCfg, err := cfg.dialSettings()
	if err != nil {
		return nil, err
	}
	timeout := cfg.timeout()
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	raw, err := (&net.Dialer{}).DialContext(dctx, "tcp", ep.addr)
	if err != nil {
		return nil, dialError(ctx, dctx, cfg, timeout, err)
	}
	// Until the bind is done, dctx bounds every read and write: when it ends,
	// the connection's deadline moves to the past and whatever waits on it
	// fails. Afterwards each search has its own timeout.
	stop := context.AfterFunc(dctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })

	nc := raw
	if ep.tls {
		tc := tls.Client(raw, tlsCfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = raw.Close()
			if ce := setupCtxError(ctx, dctx, cfg, timeout); ce != nil {
				return nil, ce
			}
			return nil, tlsError(cfg, tlsCfg, err)
		}
		nc = tc
	}

	lc := goldap.NewConn(nc, ep.tls)
	lc.Start()
	fail := func(e error) (Conn, error) {
		_ = lc.Close()
		if ce := setupCtxError(ctx, dctx, cfg, timeout); ce != nil {
			return nil, ce
		}
		return nil, e
	}

	if cfg.StartTLS {
		if err := lc.StartTLS(tlsCfg); err != nil {
			return fail(startTLSError(cfg, tlsCfg, err))
		}
	}
	if cfg.BindDN != "" {
		if err := lc.Bind(cfg.BindDN, cfg.BindPassword); err != nil {
			return fail(bindError(cfg, err))
		}
	}
	if !stop() {
		// dctx ended just now and the deadline moved to the past.
		return fail(newError(ReasonTimeout, dctx.Err(), "connecting to %s timed out", cfg.URL))
	}
	return &client{conn: lc, url: cfg.URL, timeout: timeout}, nil
}

// dialSettings checks the bind settings of c and returns its endpoint and
// TLS configuration (nil without TLS).
func (c Config) dialSettings() (endpoint, *tls.Config, error) {
	ep, err := c.endpoint()
	if err != nil {
		return endpoint{}, nil, err
	}
	if c.BindDN == "" && c.BindPassword != "" {
		return endpoint{}, nil, newError(ReasonInvalidConfig, nil,
			"a bind password is configured (%s) but no bind DN; set bindDN, or drop the password for an anonymous bind", c.passwordSource())
	}
	if c.BindDN != "" && c.BindPassword == "" {
		return endpoint{}, nil, newError(ReasonInvalidConfig, nil,
			"bind DN %s has an empty password; put the password into %s (an empty password would be an unauthenticated bind)", c.BindDN, c.passwordSource())
	}
	if !ep.tls && !c.StartTLS {
		return ep, nil, nil
	}
	tlsCfg, err := c.tlsConfig(ep)
	if err != nil {
		return endpoint{}, nil, err
	}
	return ep, tlsCfg, nil
}

func dialError(ctx, dctx context.Context, cfg Config, timeout time.Duration, err error) error {
	if ce := setupCtxError(ctx, dctx, cfg, timeout); ce != nil {
		return ce
	}
	return newError(ReasonUnreachable, err,
		"cannot reach the LDAP server %s: %s; check the url and that the server is up and reachable from the operator", cfg.URL, netReason(err))
}

// setupCtxError reports a cancelled ctx or an expired setup deadline, or nil.
func setupCtxError(ctx, dctx context.Context, cfg Config, timeout time.Duration) error {
	if ctx.Err() != nil {
		return newError(ReasonTimeout, ctx.Err(), "connecting to %s was cancelled: %v", cfg.URL, ctx.Err())
	}
	if dctx.Err() != nil {
		return newError(ReasonTimeout, dctx.Err(),
			"the LDAP server %s did not answer within %s (connect, TLS and bind); check that it is up and not overloaded, or raise timeout", cfg.URL, timeout)
	}
	return nil
}

// netReason shortens a dial error to its cause: "connection refused".
func netReason(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) && se.Err != nil {
		return se.Err.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

func tlsError(cfg Config, tlsCfg *tls.Config, err error) error {
	return newError(ReasonTLSFailed, err,
		"TLS handshake with %s failed: %s; check %s and that the server's certificate is valid for %q (tls.serverName overrides the name)",
		cfg.URL, err.Error(), cfg.caSource(), tlsCfg.ServerName)
}

func startTLSError(cfg Config, tlsCfg *tls.Config, err error) error {
	var le *goldap.Error
	if errors.As(err, &le) && le.ResultCode < goldap.ErrorNetwork {
		return newError(ReasonTLSFailed, err,
			"the LDAP server %s refused StartTLS: %s; it may not offer StartTLS: use ldaps:// or turn startTLS off", cfg.URL, describe(err))
	}
	if strings.Contains(err.Error(), "TLS handshake failed") {
		return tlsError(cfg, tlsCfg, errors.New(strings.TrimSuffix(strings.TrimPrefix(describe(err), "TLS handshake failed ("), ")")))
	}
	return newError(ReasonUnreachable, err, "lost the connection to %s during StartTLS: %s; check that the server is up", cfg.URL, describe(err))
}

func bindError(cfg Config, err error) error {
	switch resultCode(err) {
	case goldap.LDAPResultInvalidCredentials:
		return newError(ReasonBindFailed, err,
			"bind as %s failed: %s; check the bind DN and the password in %s", cfg.BindDN, describe(err), cfg.passwordSource())
	case goldap.LDAPResultInvalidDNSyntax:
		return newError(ReasonBindFailed, err,
			"bind as %s failed: %s; the bind DN is not a valid DN, write it as cn=name,dc=example,dc=org", cfg.BindDN, describe(err))
	case goldap.LDAPResultConfidentialityRequired, goldap.LDAPResultStrongAuthRequired:
		return newError(ReasonBindFailed, err,
			"bind as %s failed: %s; the server only accepts a bind over TLS: use ldaps:// or startTLS", cfg.BindDN, describe(err))
	case goldap.LDAPResultUnwillingToPerform, goldap.LDAPResultInappropriateAuthentication:
		return newError(ReasonBindFailed, err,
			"bind as %s failed: %s; the account may be disabled, or the server refuses simple binds for it", cfg.BindDN, describe(err))
	case goldap.ErrorNetwork:
		return newError(ReasonUnreachable, err,
			"lost the connection to %s while binding as %s: %s; check that the server is up", cfg.URL, cfg.BindDN, describe(err))
	}
	return newError(ReasonBindFailed, err, "bind as %s failed: %s", cfg.BindDN, describe(err))
}

// client is the Conn of Dial.
type client struct {
	conn    *goldap.Conn
	url     string
	timeout time.Duration
}

// Close closes the connection.
func (c *client) Close() error {
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("closing the connection to %s: %w", c.url, err)
	}
	return nil
}

var scopes = map[Scope]int{
	"":        goldap.ScopeWholeSubtree,
	ScopeSub:  goldap.ScopeWholeSubtree,
	ScopeOne:  goldap.ScopeSingleLevel,
	ScopeBase: goldap.ScopeBaseObject,
}

// Search implements Conn with a manual loop over RFC 2696 pages: every page
// is streamed to fn, and nothing is kept once fn has seen it.
func (c *client) Search(ctx context.Context, req SearchRequest, fn func(*Entry) error) error {
	if fn == nil {
		return newError(ReasonInvalidConfig, nil, "a search needs a callback for its entries")
	}
	scope, ok := scopes[req.Scope]
	if !ok {
		return newError(ReasonInvalidConfig, nil, "search scope %q is not one of Base, One, Sub", req.Scope)
	}
	filter := req.Filter
	if filter == "" {
		filter = "(objectClass=*)"
	}
	var paging *goldap.ControlPaging
	if req.PageSize > 0 {
		paging = goldap.NewControlPaging(uint32(min(req.PageSize, math.MaxInt32)))
	}
	timeLimit := int((c.timeout + time.Second - 1) / time.Second)

	for page := 1; ; page++ {
		var controls []goldap.Control
		if paging != nil {
			controls = []goldap.Control{paging}
		}
		sr := goldap.NewSearchRequest(req.BaseDN, scope, goldap.NeverDerefAliases, 0, timeLimit, false,
			filter, req.Attributes, controls)
		cookie, err := c.searchPage(ctx, sr, fn)
		if err != nil {
			return c.searchError(ctx, req, filter, page, err)
		}
		if paging == nil || len(cookie) == 0 {
			return nil
		}
		paging.SetCookie(cookie)
	}
}

// errCallback carries the callback's error through searchPage unchanged.
type errCallback struct{ err error }

func (e errCallback) Error() string { return e.err.Error() }

// searchPage runs one page and returns the paging cookie of its end.
func (c *client) searchPage(ctx context.Context, sr *goldap.SearchRequest, fn func(*Entry) error) ([]byte, error) {
	pctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp := c.conn.SearchAsync(pctx, sr, 64)
	var cookie []byte
	done := false // a SearchResultDone with a paging control arrived
	for resp.Next() {
		if e := resp.Entry(); e != nil {
			if err := fn(fromGoLDAP(e)); err != nil {
				// Stop go-ldap's reader goroutine and let it close the
				// results channel.
				cancel()
				for resp.Next() {
				}
				return nil, errCallback{err}
			}
			continue
		}
		if ctl := goldap.FindControl(resp.Controls(), goldap.ControlTypePaging); ctl != nil {
			if p, ok := ctl.(*goldap.ControlPaging); ok {
				cookie, done = p.Cookie, true
			}
		}
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	if done {
		return cookie, nil
	}
	// go-ldap reports neither a cancelled context nor a connection that was
	// already closing as an error, and a SearchResultDone without controls
	// is not passed on: without a paging control the page is complete only
	// if neither happened.
	if err := pctx.Err(); err != nil {
		return nil, err
	}
	if c.conn.IsClosing() {
		return nil, goldap.NewError(goldap.ErrorNetwork, errors.New("the connection was closed"))
	}
	return cookie, nil
}

func (c *client) searchError(ctx context.Context, req SearchRequest, filter string, page int, err error) error {
	var cb errCallback
	if errors.As(err, &cb) {
		return cb.err
	}
	where := fmt.Sprintf("search below %s with filter %s", displayDN(req.BaseDN), filter)
	if page > 1 {
		where += fmt.Sprintf(" (page %d)", page)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if ctx.Err() != nil {
			return newError(ReasonTimeout, ctx.Err(), "%s was cancelled: %v", where, ctx.Err())
		}
		return newError(ReasonTimeout, err,
			"%s on %s did not finish within %s; check the server's load, or raise timeout (or lower pageSize)", where, c.url, c.timeout)
	}
	code := resultCode(err)
	if code == -1 || code >= goldap.ErrorNetwork {
		return newError(ReasonUnreachable, err,
			"lost the connection to %s during the %s: %s; the result is incomplete and was discarded, check that the server is up", c.url, where, describe(err))
	}
	hint := ""
	switch code {
	case goldap.LDAPResultNoSuchObject:
		hint = "; check that the base DN exists"
	case goldap.LDAPResultInsufficientAccessRights:
		hint = "; check that the bind DN may read it"
	case goldap.LDAPResultSizeLimitExceeded, goldap.LDAPResultAdminLimitExceeded:
		hint = "; the server's size limit stopped it: set pageSize below the server's limit, or raise the limit for the bind DN"
	case goldap.LDAPResultTimeLimitExceeded:
		hint = "; the server's time limit stopped it: raise timeout, or narrow the filter"
	case goldap.LDAPResultUnavailableCriticalExtension:
		hint = "; the server does not support paged results (RFC 2696)"
	case goldap.LDAPResultInappropriateMatching, goldap.LDAPResultUndefinedAttributeType, goldap.LDAPResultProtocolError:
		hint = "; check the filter and the attribute names"
	}
	return newError(ReasonSearchFailed, err, "%s failed: %s%s", where, describe(err), hint)
}

// displayDN shows the root DSE as "the root DSE" rather than an empty string.
func displayDN(dn string) string {
	if dn == "" {
		return "the root DSE"
	}
	return dn
}

func fromGoLDAP(e *goldap.Entry) *Entry {
	out := &Entry{DN: e.DN, Attributes: make([]Attribute, len(e.Attributes))}
	for i, a := range e.Attributes {
		out.Attributes[i] = Attribute{Name: a.Name, Values: a.Values}
	}
	return out
}
