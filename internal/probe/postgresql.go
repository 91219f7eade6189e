package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// postgreSQL tests PostgreSQL servers with pgx's pgconn.
type postgreSQL struct{}

// applicationName is what the server's pg_stat_activity shows for a test.
const applicationName = "gatehouse-connection-test"

func (postgreSQL) connect(ctx context.Context, in Input) error {
	// ParseConfig gives a Config that ConnectConfig accepts; everything that
	// matters is set below, from the Input only. The connection string holds
	// no value of the Input, so its errors cannot hold the password.
	cfg, err := pgconn.ParseConfig("user=gatehouse sslmode=disable")
	if err != nil {
		return fmt.Errorf("cannot make a PostgreSQL configuration: %w", err)
	}
	cfg.Host, cfg.Port, cfg.Database = in.Host, uint16(in.port()), in.Database
	cfg.User, cfg.Password = in.Username, in.Password
	if cfg.Database == "" {
		cfg.Database = in.Username // libpq's default
	}
	// Nothing of the operator's environment (PG* variables) changes the
	// test.
	cfg.ConnectTimeout = 0 // ctx bounds the test
	cfg.ValidateConnect = nil
	cfg.SSLNegotiation, cfg.SSLCertMode, cfg.RequireAuth, cfg.ChannelBinding = "", "", "", "prefer"
	cfg.RuntimeParams = map[string]string{"application_name": applicationName}
	tlsCfg := tlsConfig(in)
	switch in.sslMode() {
	case SSLModeDisable:
		cfg.TLSConfig, cfg.Fallbacks = nil, nil
	case SSLModeAllow:
		cfg.TLSConfig = nil
		cfg.Fallbacks = []*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port, TLSConfig: tlsCfg}}
	case SSLModePrefer:
		cfg.TLSConfig = tlsCfg
		cfg.Fallbacks = []*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port}}
	default:
		cfg.TLSConfig, cfg.Fallbacks = tlsCfg, nil
	}
	if in.dial != nil {
		// The dialer resolves the host itself (GuardedDial checks the
		// address it connects to).
		cfg.DialFunc = pgconn.DialFunc(in.dial)
		cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close(ctx)
		return fmt.Errorf("logged in, but the ping failed: %w", err)
	}
	return conn.Close(ctx)
}

// SQLSTATEs of login failures.
const (
	pgInvalidAuthorization = "28000" // no pg_hba.conf entry, role may not log in
	pgInvalidPassword      = "28P01"
	pgInvalidCatalogName   = "3D000" // database does not exist
	pgInsufficientPrivs    = "42501" // no CONNECT on the database
	pgTooManyConnections   = "53300"
	pgCannotConnectNow     = "57P03" // starting up, shutting down, recovering
)

func (postgreSQL) classifyServerError(c classifier, err error) (Result, bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return Result{}, false
	}
	said := detail(pgErr.Message, c.in.Password)
	switch pgErr.Code {
	case pgInvalidPassword:
		return c.result(ReasonAuthenticationFailed, "%s rejected the password of user %s; fix the username or password in the connection's credential Secret",
			c.server(), c.in.Username), true
	case pgInvalidAuthorization:
		if c.in.sslMode() == SSLModeDisable && strings.Contains(pgErr.Message, "no encryption") {
			return c.tlsRequired(), true
		}
		return c.result(ReasonAccessDenied, "%s does not let user %s log in (%s); allow the user and the operator's address in the server's pg_hba.conf, or use another user",
			c.server(), c.in.Username, said), true
	case pgInvalidCatalogName:
		return c.result(ReasonDatabaseNotFound, "database %s does not exist on %s; create it or fix parameter %s",
			c.database(), c.server(), ParamDatabase), true
	case pgInsufficientPrivs:
		return c.result(ReasonAccessDenied, "user %s may not connect to database %s on %s; grant it CONNECT on the database, or use another user",
			c.in.Username, c.database(), c.server()), true
	case pgTooManyConnections:
		return c.result(ReasonUnreachable, "%s has no connection slot left (%s); try again later or raise max_connections", c.server(), said), true
	case pgCannotConnectNow:
		return c.result(ReasonUnreachable, "%s does not accept connections now (%s); it is starting, stopping or recovering", c.server(), said), true
	default:
		return c.result(ReasonUnreachable, "%s refused the login with error %s (%s)", c.server(), pgErr.Code, said), true
	}
}

// database is the database PostgreSQL opens for c.in.
func (c classifier) database() string {
	if c.in.Database == "" {
		return c.in.Username
	}
	return c.in.Database
}

func (postgreSQL) classifyProtocolError(c classifier, err error) (Result, bool) {
	// pgconn returns a plain error for a server that answers the TLS request
	// with "no". In modes allow and prefer that is no failure: the plain
	// attempt's error, also in err, tells.
	text := err.Error()
	switch c.in.sslMode() {
	case SSLModeRequire, SSLModeVerifyCA, SSLModeVerifyFull:
		if strings.Contains(text, "server refused TLS connection") {
			return c.tlsNotSupported(), true
		}
	}
	// pgconn's words for a peer whose answers are not PostgreSQL messages.
	for _, garbled := range []string{"failed to receive message", "received unexpected message", "unexpected message type"} {
		if strings.Contains(text, garbled) {
			return c.result(ReasonUnreachable, "%s does not speak the PostgreSQL protocol as expected; check that parameter %s is the port of a PostgreSQL server",
				c.server(), ParamPort), true
		}
	}
	return Result{}, false
}
