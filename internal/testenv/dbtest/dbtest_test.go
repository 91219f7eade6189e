package dbtest

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { os.Exit(Run(m, PostgreSQL, MariaDB)) }

// pgConnect connects to c over TCP, with TLS verified against the server's
// CA when ca is true.
func pgConnect(t *testing.T, s *Server, c Conn, verify bool) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg, err := pgconn.ParseConfig("sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host, cfg.Port, cfg.Database, cfg.User, cfg.Password = c.Host, uint16(c.Port), c.Database, c.User, c.Password
	cfg.Fallbacks = nil
	if verify {
		cfg.TLSConfig = &tls.Config{RootCAs: s.RootCAs(), ServerName: c.Host}
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// pgCode returns the SQLSTATE of err, or "" when the server sent none.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func TestPostgreSQL(t *testing.T) {
	s := Shared(t, PostgreSQL)
	other := s.NewDatabase(t)
	tests := map[string]struct {
		conn     Conn
		verify   bool
		wantCode string // "" is success
	}{
		"user":             {conn: s.Conn},
		"user over TLS":    {conn: s.Conn, verify: true},
		"admin":            {conn: s.Admin},
		"new database":     {conn: other},
		"wrong password":   {conn: Conn{Host: s.Host, Port: s.Port, Database: s.Database, User: s.User, Password: "wrong"}, wantCode: "28P01"},
		"other's database": {conn: Conn{Host: s.Host, Port: s.Port, Database: other.Database, User: s.User, Password: s.Password}, wantCode: "42501"},
		"no such database": {conn: Conn{Host: s.Host, Port: s.Port, Database: "nosuchdb", User: s.User, Password: s.Password}, wantCode: "3D000"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := pgConnect(t, s, tc.conn, tc.verify)
			if tc.wantCode == "" && err != nil {
				t.Fatalf("cannot connect as %s: %v", tc.conn, err)
			}
			if got := pgCode(err); got != tc.wantCode {
				t.Fatalf("connecting as %s: got SQLSTATE %q (%v), want %q", tc.conn, got, err, tc.wantCode)
			}
		})
	}
}

// myConnect connects to c over TCP, with TLS verified against the server's
// CA when verify is true.
func myConnect(t *testing.T, s *Server, c Conn, verify bool) error {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.DBName, cfg.User, cfg.Passwd = "tcp", c.Addr(), c.Database, c.User, c.Password
	cfg.Logger = nopLogger{}
	if verify {
		cfg.TLS = &tls.Config{RootCAs: s.RootCAs(), ServerName: c.Host}
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// myCode returns the error number of err, or 0 when the server sent none.
func myCode(err error) uint16 {
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number
	}
	return 0
}

func TestMariaDB(t *testing.T) {
	s := Shared(t, MariaDB)
	other := s.NewDatabase(t)
	tests := map[string]struct {
		conn     Conn
		verify   bool
		wantCode uint16 // 0 is success
	}{
		"user":             {conn: s.Conn},
		"user over TLS":    {conn: s.Conn, verify: true},
		"admin":            {conn: s.Admin},
		"new database":     {conn: other},
		"wrong password":   {conn: Conn{Host: s.Host, Port: s.Port, Database: s.Database, User: s.User, Password: "wrong"}, wantCode: 1045},
		"other's database": {conn: Conn{Host: s.Host, Port: s.Port, Database: other.Database, User: s.User, Password: s.Password}, wantCode: 1044},
		"no such database": {conn: Conn{Host: s.Host, Port: s.Port, Database: "nosuchdb", User: s.Admin.User, Password: s.Admin.Password}, wantCode: 1049},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := myConnect(t, s, tc.conn, tc.verify)
			if tc.wantCode == 0 && err != nil {
				t.Fatalf("cannot connect as %s: %v", tc.conn, err)
			}
			if got := myCode(err); got != tc.wantCode {
				t.Fatalf("connecting as %s: got error %d (%v), want %d", tc.conn, got, err, tc.wantCode)
			}
		})
	}
}

func TestNewStopsItsServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server of its own")
	}
	var s *Server
	t.Run("server", func(t *testing.T) {
		s = New(t, PostgreSQL)
		if err := pgConnect(t, s, s.Conn, false); err != nil {
			t.Fatal(err)
		}
	})
	if s == nil {
		t.Fatal("the subtest did not start a server")
	}
	if s.Running() {
		t.Fatal("the server still runs after its test ended")
	}
	if _, err := os.Stat(s.Dir()); !os.IsNotExist(err) {
		t.Errorf("the server's directory %s is still there", s.Dir())
	}
}

// nopLogger keeps the MySQL driver from writing to stderr.
type nopLogger struct{}

func (nopLogger) Print(...any) {}
