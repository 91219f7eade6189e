package probe

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// mySQL tests MySQL and MariaDB servers with go-sql-driver/mysql.
type mySQL struct{}

func (mySQL) connect(ctx context.Context, in Input) error {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", in.Addr(), in.Database
	cfg.User, cfg.Passwd = in.Username, in.Password
	cfg.Logger = nopLogger{} // the driver logs to stderr otherwise
	mode := in.sslMode()
	if mode != SSLModeDisable {
		cfg.TLS = tlsConfig(in)
		cfg.AllowFallbackToPlaintext = mode == SSLModeAllow || mode == SSLModePrefer
		// The password goes in clear text only to a server whose certificate
		// was verified (LDAP or PAM accounts need it).
		cfg.AllowCleartextPasswords = mode == SSLModeVerifyCA || mode == SSLModeVerifyFull
	}
	cfg.DialFunc = in.dial
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("cannot make a MySQL configuration: %w", err)
	}
	conn, err := connector.Connect(ctx)
	if err != nil {
		return err
	}
	if pinger, ok := conn.(driver.Pinger); ok {
		if err := pinger.Ping(ctx); err != nil {
			_ = conn.Close()
			return fmt.Errorf("logged in, but the ping failed: %w", err)
		}
	}
	return conn.Close()
}

// Error numbers of login failures (MySQL's and MariaDB's are the same).
const (
	myConCount          = 1040 // too many connections
	myDBAccessDenied    = 1044 // no privilege on the database (or it does not exist)
	myAccessDenied      = 1045 // wrong user name or password
	myBadDB             = 1049 // unknown database
	myHostNotPrivileged = 1130 // user may not connect from this host
	myHostBlocked       = 1129 // too many connection errors from this host
	myTooManyUserConns  = 1203
	myAccessDeniedNoPw  = 1698 // auth_socket and similar plugins
	myPasswordExpired   = 1820
	myPasswordExpired2  = 1862
	mySecureTransport   = 3159 // require_secure_transport: TLS only
)

func (mySQL) classifyServerError(c classifier, err error) (Result, bool) {
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) {
		return Result{}, false
	}
	said := detail(myErr.Message, c.in.Password)
	switch myErr.Number {
	case myAccessDenied, myAccessDeniedNoPw:
		return c.result(ReasonAuthenticationFailed, "%s rejected the password of user %s; fix the username or password in the connection's credential Secret",
			c.server(), c.in.Username), true
	case myPasswordExpired, myPasswordExpired2:
		return c.result(ReasonAuthenticationFailed, "the password of user %s on %s has expired; set a new one on the server and in the connection's credential Secret",
			c.in.Username, c.server()), true
	case myBadDB:
		return c.result(ReasonDatabaseNotFound, "database %s does not exist on %s; create it or fix parameter %s",
			c.in.Database, c.server(), ParamDatabase), true
	case myDBAccessDenied:
		return c.result(ReasonAccessDenied, "user %s has no privileges on database %s on %s, or the database does not exist; grant them or fix parameter %s",
			c.in.Username, c.in.Database, c.server(), ParamDatabase), true
	case myHostNotPrivileged:
		return c.result(ReasonAccessDenied, "%s does not let user %s connect from the operator's address (%s); allow that host for the user",
			c.server(), c.in.Username, said), true
	case myHostBlocked:
		return c.result(ReasonAccessDenied, "%s blocks the operator's address after too many failed connections (%s); run FLUSH HOSTS on the server",
			c.server(), said), true
	case mySecureTransport:
		return c.tlsRequired(), true
	case myConCount, myTooManyUserConns:
		return c.result(ReasonUnreachable, "%s has no connection left for user %s (%s); try again later or raise the limit",
			c.server(), c.in.Username, said), true
	default:
		return c.result(ReasonUnreachable, "%s refused the login with error %d (%s)", c.server(), myErr.Number, said), true
	}
}

func (mySQL) classifyProtocolError(c classifier, err error) (Result, bool) {
	switch {
	case errors.Is(err, mysql.ErrNoTLS):
		return c.tlsNotSupported(), true
	case errors.Is(err, mysql.ErrCleartextPassword):
		return c.result(ReasonAuthenticationFailed, "user %s on %s logs in with a clear-text password, which the operator sends only over verified TLS; "+
			"set parameter %s to %s or %s", c.in.Username, c.server(), ParamSSLMode, SSLModeVerifyCA, SSLModeVerifyFull), true
	case errors.Is(err, mysql.ErrOldPassword), errors.Is(err, mysql.ErrUnknownPlugin), errors.Is(err, mysql.ErrNativePassword):
		return c.result(ReasonAuthenticationFailed, "user %s on %s logs in with an authentication method the operator does not support (%s); "+
			"give the user mysql_native_password or caching_sha2_password", c.in.Username, c.server(), detail(err.Error(), c.in.Password)), true
	case errors.Is(err, mysql.ErrMalformPkt), errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, mysql.ErrOldProtocol):
		return c.result(ReasonUnreachable, "%s does not speak the MySQL protocol as expected; check that parameter %s is the port of a MySQL server",
			c.server(), ParamPort), true
	}
	return Result{}, false
}

// nopLogger keeps the MySQL driver from writing to stderr.
type nopLogger struct{}

func (nopLogger) Print(...any) {}
