package localdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// startMariaDB runs mariadb-install-db and mariadbd in a new temporary
// directory. An --init-file creates the superuser "admin"@"127.0.0.1" with a
// password; root keeps Debian's socket authentication.
func startMariaDB() (*Server, error) {
	bins, err := binaries(MariaDB)
	if err != nil {
		return nil, err
	}
	certs, err := certificates()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gatehouse-mariadb-")
	if err != nil {
		return nil, fmt.Errorf("cannot make a directory for MariaDB: %w", err)
	}
	s := &Server{Kind: MariaDB, CACert: certs.caCert, dir: dir, socket: filepath.Join(dir, "mariadbd.sock"),
		logPath: filepath.Join(dir, "mariadbd.log"), stopSig: syscall.SIGTERM}
	if err := s.initMariaDB(bins, certs); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) initMariaDB(bins map[string]string, certs serverTLS) error {
	var asRoot []string
	if os.Geteuid() == 0 {
		asRoot = []string{"--user=root"} // mariadbd refuses root unless told
	}
	data := filepath.Join(s.dir, "data")
	install := exec.Command(bins["mariadb-install-db"], append([]string{"--no-defaults", "--datadir=" + data,
		"--skip-test-db", "--skip-name-resolve"}, asRoot...)...)
	install.Dir = s.dir
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb-install-db failed (%w): %s", err, out)
	}
	caFile, certFile, keyFile, err := certs.write(s.dir)
	if err != nil {
		return err
	}
	adminPassword := randomHex(12)
	initFile := filepath.Join(s.dir, "init.sql")
	initSQL := fmt.Sprintf("CREATE USER IF NOT EXISTS 'admin'@'127.0.0.1' IDENTIFIED BY '%s';\n"+
		"GRANT ALL PRIVILEGES ON *.* TO 'admin'@'127.0.0.1' WITH GRANT OPTION;\n", adminPassword)
	if err := os.WriteFile(initFile, []byte(initSQL), 0o600); err != nil {
		return fmt.Errorf("cannot write %s: %w", initFile, err)
	}

	var lastErr error
	for range 3 { // another process may take the port between freePort and mariadbd
		port, err := freePort()
		if err != nil {
			return err
		}
		cmd := exec.Command(bins["mariadbd"], append([]string{"--no-defaults", "--datadir=" + data,
			"--socket=" + s.socket, "--port=" + strconv.Itoa(port), "--bind-address=127.0.0.1",
			"--pid-file=" + filepath.Join(s.dir, "mariadbd.pid"), "--log-error=" + s.logPath,
			"--skip-name-resolve", "--init-file=" + initFile, "--max-connections=50",
			"--innodb-buffer-pool-size=16M", "--innodb-flush-log-at-trx-commit=0", "--performance-schema=OFF",
			"--ssl-ca=" + caFile, "--ssl-cert=" + certFile, "--ssl-key=" + keyFile}, asRoot...)...)
		if err := s.launch(cmd, nil); err != nil {
			return err
		}
		s.Admin = Conn{Host: "127.0.0.1", Port: port, User: "admin", Password: adminPassword}
		lastErr = s.waitReady(func() error {
			db := s.mariaAdmin()
			defer func() { _ = db.Close() }()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return db.PingContext(ctx)
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

// mariaAdmin returns a handle on the server as the superuser over TCP.
func (s *Server) mariaAdmin() *sql.DB {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd = "tcp", s.Admin.Addr(), s.Admin.User, s.Admin.Password
	cfg.Timeout = 5 * time.Second
	cfg.Logger = nopLogger{}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		panic(err) // NewConnector fails only on a malformed config
	}
	return sql.OpenDB(connector)
}

// mariaCreate creates c's user, with its password, and its database, on
// which it alone holds privileges.
func (s *Server) mariaCreate(c Conn) error {
	db := s.mariaAdmin()
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, stmt := range []string{
		fmt.Sprintf("CREATE DATABASE `%s`", c.Database),
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", c.User, c.Password),
		fmt.Sprintf("GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%%'", c.Database, c.User),
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("cannot create user and database %s: %w", c.Database, err)
		}
	}
	return nil
}

// nopLogger keeps the MySQL driver from writing to stderr.
type nopLogger struct{}

func (nopLogger) Print(...any) {}
