package localdb

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// startPostgreSQL runs initdb and postgres in a new temporary directory, as
// the postgres account when the tests run as root (PostgreSQL refuses to run
// as root). Local socket connections are trusted (the harness administers
// the server through the socket); TCP connections on 127.0.0.1 need a
// password (scram-sha-256).
func startPostgreSQL() (*Server, error) {
	bins, err := binaries(PostgreSQL)
	if err != nil {
		return nil, err
	}
	cred, err := serviceUser("postgres")
	if err != nil {
		return nil, err
	}
	certs, err := certificates()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gatehouse-pg-")
	if err != nil {
		return nil, fmt.Errorf("cannot make a directory for PostgreSQL: %w", err)
	}
	s := &Server{Kind: PostgreSQL, CACert: certs.caCert, dir: dir, socket: dir, logPath: filepath.Join(dir, "postgres.log"), stopSig: syscall.SIGINT}
	if err := s.initPostgreSQL(bins, cred, certs); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) initPostgreSQL(bins map[string]string, cred *syscall.Credential, certs serverTLS) error {
	adminPassword := randomHex(12)
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(adminPassword+"\n"), 0o600); err != nil {
		return fmt.Errorf("cannot write the superuser's password file: %w", err)
	}
	caFile, certFile, keyFile, err := certs.write(s.dir)
	if err != nil {
		return err
	}
	if err := chown(cred, s.dir, pwfile, caFile, certFile, keyFile); err != nil {
		return fmt.Errorf("cannot give %s to the postgres account: %w", s.dir, err)
	}
	data := filepath.Join(s.dir, "data")
	initdb := exec.Command(bins["initdb"], "-D", data, "-U", "postgres", "--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Dir = s.dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb failed (%w): %s", err, out)
	}
	_ = os.Remove(pwfile)

	var lastErr error
	for range 3 { // another process may take the port between freePort and postgres
		port, err := freePort()
		if err != nil {
			return err
		}
		cmd := exec.Command(bins["postgres"], "-D", data, "-k", s.dir, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
			"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
			"-c", "shared_buffers=16MB", "-c", "max_connections=50",
			"-c", "ssl=on", "-c", "ssl_cert_file="+certFile, "-c", "ssl_key_file="+keyFile)
		if err := s.launch(cmd, cred); err != nil {
			return err
		}
		s.Admin = Conn{Host: "127.0.0.1", Port: port, Database: "postgres", User: "postgres", Password: adminPassword}
		lastErr = s.waitReady(func() error {
			conn, err := s.pgAdmin(context.Background())
			if err != nil {
				return err
			}
			return conn.Close(context.Background())
		})
		if lastErr == nil {
			break
		}
		if !s.portInUse() {
			return lastErr
		}
	}
	if lastErr != nil {
		return lastErr
	}
	c, err := s.newDatabase("gatehouse")
	if err != nil {
		return fmt.Errorf("cannot create the test user and database: %w", err)
	}
	s.Conn = c
	return nil
}

// pgAdmin connects as the superuser through the unix socket.
func (s *Server) pgAdmin(ctx context.Context) (*pgconn.PgConn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cfg, err := pgconn.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, fmt.Errorf("cannot configure the admin connection: %w", err)
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Database, cfg.Password = s.socket, uint16(s.Admin.Port), "postgres", "postgres", ""
	cfg.Fallbacks = nil
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to PostgreSQL as superuser: %w", err)
	}
	return conn, nil
}

// pgCreate creates c's role, with its password, and its database, which
// only it may connect to.
func (s *Server) pgCreate(c Conn) error {
	ctx := context.Background()
	conn, err := s.pgAdmin(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx) //nolint:errcheck // the statements' errors are the ones that matter
	for _, sql := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", c.User, c.Password),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s", c.Database, c.User),
		fmt.Sprintf("REVOKE CONNECT ON DATABASE %s FROM PUBLIC", c.Database),
	} {
		if _, err := conn.Exec(ctx, sql).ReadAll(); err != nil {
			return fmt.Errorf("cannot create user and database %s: %w", c.Database, err)
		}
	}
	return nil
}
