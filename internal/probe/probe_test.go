package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m, dbtest.PostgreSQL, dbtest.MariaDB)) }

// babblingListener accepts connections, answers like a web server and hangs
// up: something that is not a database on the port.
func babblingListener(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// serverCase is one connection test against a real server.
type serverCase struct {
	reason  string
	in      func(in Input) Input // changes the input of the server's user
	timeout time.Duration
	want    string   // Reason
	wantIn  []string // pieces the message must hold
}

// runServerCases tests each case and checks the reason, the message's
// pieces, and that the message holds neither the password given nor the
// user's real password.
func runServerCases(t *testing.T, typ iamv1alpha1.ConnectionType, s *dbtest.Server, tests map[string]serverCase) {
	t.Helper()
	base := Input{Type: typ, Host: s.Host, Port: s.Port, Database: s.Database, SSLMode: SSLModeDisable, Username: s.User, Password: s.Password}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := tc.in(base)
			got, err := Tester{Timeout: tc.timeout}.Test(context.Background(), in)
			if err != nil {
				t.Fatalf("Test(%v) error = %v", in, err)
			}
			if got.Reason != tc.want || got.Reachable != (tc.want == ReasonReachable) {
				t.Fatalf("%s\nTest(%v) = %+v, want reason %s", tc.reason, in, got, tc.want)
			}
			for _, piece := range tc.wantIn {
				if !strings.Contains(got.Message, piece) {
					t.Errorf("message %q does not hold %q", got.Message, piece)
				}
			}
			for _, pw := range []string{in.Password, s.Password, s.Admin.Password} {
				if strings.Contains(got.Message, pw) {
					t.Errorf("message %q holds a password", got.Message)
				}
			}
			t.Logf("%s: %s", got.Reason, got.Message)
		})
	}
}

// commonCases are the outcomes both engines tell apart the same way.
func commonCases(t *testing.T, s *dbtest.Server) map[string]serverCase {
	return map[string]serverCase{
		"success": {
			reason: "the service account logs in",
			in:     func(in Input) Input { return in },
			want:   ReasonReachable,
			wantIn: []string{s.Addr(), s.User, s.Database},
		},
		"success over TLS, not verified": {
			reason: "require encrypts without verifying",
			in:     func(in Input) Input { in.SSLMode = SSLModeRequire; return in },
			want:   ReasonReachable,
		},
		"success preferring TLS": {
			reason: "prefer, the default, takes TLS when offered",
			in:     func(in Input) Input { in.SSLMode = ""; return in },
			want:   ReasonReachable,
		},
		"success over verified TLS": {
			reason: "verify-full with the server's CA",
			in:     func(in Input) Input { in.SSLMode, in.RootCAs = SSLModeVerifyFull, s.RootCAs(); return in },
			want:   ReasonReachable,
		},
		"success over TLS verifying the CA only": {
			reason: "verify-ca with the server's CA",
			in:     func(in Input) Input { in.SSLMode, in.RootCAs = SSLModeVerifyCA, s.RootCAs(); return in },
			want:   ReasonReachable,
		},
		"untrusted certificate": {
			reason: "verify-full against the system's roots: the test CA is not among them",
			in:     func(in Input) Input { in.SSLMode = SSLModeVerifyFull; return in },
			want:   ReasonTLSFailed,
			wantIn: []string{"not signed by a certificate authority the operator trusts", "sslMode"},
		},
		"wrong password": {
			reason: "the password in the Secret is not the account's",
			in:     func(in Input) Input { in.Password = "Wr0ng-Passw0rd-" + s.Password[:6]; return in },
			want:   ReasonAuthenticationFailed,
			wantIn: []string{"rejected the password of user " + s.User},
		},
		"wrong password over TLS": {
			reason: "the same, encrypted",
			in:     func(in Input) Input { in.SSLMode, in.Password = SSLModeRequire, "An0ther-Wr0ng-One"; return in },
			want:   ReasonAuthenticationFailed,
		},
		"unknown user": {
			reason: "a user that does not exist looks like a wrong password",
			in:     func(in Input) Input { in.Username = "nobody"; return in },
			want:   ReasonAuthenticationFailed,
		},
		"connection refused": {
			reason: "nothing listens on the port",
			in:     func(in Input) Input { in.Port = closedPort(t); return in },
			want:   ReasonConnectionRefused,
			wantIn: []string{"refused the connection", "port"},
		},
		"host not found": {
			reason: "the host name does not resolve (.invalid never does)",
			in:     func(in Input) Input { in.Host = "warehouse.gatehouse.invalid"; return in },
			want:   ReasonHostNotFound,
			wantIn: []string{"warehouse.gatehouse.invalid"},
		},
		"timeout": {
			reason:  "the port accepts connections and never answers",
			in:      func(in Input) Input { in.Port, _ = testenv.SilentListener(t); return in },
			timeout: 300 * time.Millisecond,
			want:    ReasonTimeout,
			wantIn:  []string{"did not answer within 300ms"},
		},
		"timeout preferring TLS": {
			reason:  "the same, while asking for TLS",
			in:      func(in Input) Input { in.Port, _ = testenv.SilentListener(t); in.SSLMode = SSLModePrefer; return in },
			timeout: 300 * time.Millisecond,
			want:    ReasonTimeout,
		},
		"not a database": {
			reason: "a web server on the port",
			in:     func(in Input) Input { in.Port = babblingListener(t); return in },
			want:   ReasonUnreachable,
		},
	}
}

func TestPostgreSQL(t *testing.T) {
	s := dbtest.Shared(t, dbtest.PostgreSQL)
	other := s.NewDatabase(t)
	tests := commonCases(t, s)
	tests["database not found"] = serverCase{
		reason: "the database was never created",
		in:     func(in Input) Input { in.Database = "nosuchdb"; return in },
		want:   ReasonDatabaseNotFound,
		wantIn: []string{"database nosuchdb does not exist"},
	}
	tests["default database"] = serverCase{
		reason: "without a database PostgreSQL opens the user's namesake, which the harness made",
		in:     func(in Input) Input { in.Database = ""; return in },
		want:   ReasonReachable,
	}
	tests["no CONNECT on the database"] = serverCase{
		reason: "the user logs in, but may not open another user's database",
		in:     func(in Input) Input { in.Database = other.Database; return in },
		want:   ReasonAccessDenied,
		wantIn: []string{"grant it CONNECT"},
	}
	runServerCases(t, iamv1alpha1.ConnectionPostgreSQL, s, tests)
}

func TestMySQL(t *testing.T) {
	s := dbtest.Shared(t, dbtest.MariaDB)
	other := s.NewDatabase(t)
	tests := commonCases(t, s)
	tests["database not found"] = serverCase{
		reason: "a user with privileges on every database learns that one is missing",
		in: func(in Input) Input {
			in.Database, in.Username, in.Password = "nosuchdb", s.Admin.User, s.Admin.Password
			return in
		},
		want:   ReasonDatabaseNotFound,
		wantIn: []string{"database nosuchdb does not exist"},
	}
	tests["no privileges on the database"] = serverCase{
		reason: "MySQL does not tell a user without privileges whether the database exists",
		in:     func(in Input) Input { in.Database = other.Database; return in },
		want:   ReasonAccessDenied,
		wantIn: []string{"has no privileges on database " + other.Database},
	}
	tests["no database"] = serverCase{
		reason: "MySQL logs in without a database",
		in:     func(in Input) Input { in.Database = ""; return in },
		want:   ReasonReachable,
	}
	runServerCases(t, iamv1alpha1.ConnectionMySQL, s, tests)
}

func TestTestConnection(t *testing.T) {
	s := dbtest.Shared(t, dbtest.PostgreSQL)
	spec := &iamv1alpha1.ConnectionSpec{
		Type:        iamv1alpha1.ConnectionPostgreSQL,
		Parameters:  map[string]string{ParamHost: s.Host, ParamPort: "0", ParamDatabase: s.Database},
		Credentials: iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModeGlobal, SecretRef: &iamv1alpha1.LocalSecretReference{Name: "warehouse"}},
	}
	cred := outbound.Basic{Username: s.User, Password: outbound.Secret(s.Password)}

	got, err := TestConnection(context.Background(), spec, cred)
	if err != nil || got.Reason != ReasonInvalidSpec {
		t.Errorf("port 0: TestConnection() = %+v, %v; want reason %s", got, err, ReasonInvalidSpec)
	}
	spec.Parameters[ParamPort] = strconv.Itoa(s.Port)
	got, err = TestConnection(context.Background(), spec, cred)
	if err != nil || !got.Reachable {
		t.Errorf("TestConnection() = %+v, %v; want Reachable", got, err)
	}
	spec.Credentials = iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModePerUser, Type: iamv1alpha1.CredentialBasic}
	got, err = TestConnection(context.Background(), spec, cred)
	if err != nil || got.Reason != ReasonNotTestable {
		t.Errorf("PerUser: TestConnection() = %+v, %v; want reason %s", got, err, ReasonNotTestable)
	}
}

// TestCancelled: a test whose context ends early says nothing about the
// connection.
func TestCancelled(t *testing.T) {
	port, _ := testenv.SilentListener(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	in := Input{Type: iamv1alpha1.ConnectionPostgreSQL, Host: "127.0.0.1", Port: port, Username: "u", Password: "p"}
	got, err := Tester{Timeout: 10 * time.Second}.Test(ctx, in)
	if err == nil {
		t.Fatalf("Test() = %+v, want an error: the caller's context ended first", got)
	}
}

// GuardedDial refuses loopback, link-local and metadata addresses unless a
// range allows them, and connects to the address it checked.
func TestGuardedDial(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	ctx := context.Background()
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := GuardedDial(nil)(ctx, "tcp", net.JoinHostPort(host, port)); !errors.Is(err, ErrAddressNotAllowed) {
			t.Errorf("dialling %s: %v, want ErrAddressNotAllowed", host, err)
		}
	}
	c, err := GuardedDial([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})(ctx, "tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatalf("an allowed range: %v", err)
	}
	_ = c.Close()
	for addr, ok := range map[string]bool{"169.254.169.254": false, "::1": false, "fe80::1": false, "0.0.0.0": false, "10.1.2.3": true, "203.0.113.7": true, "::ffff:127.0.0.1": false} {
		if got := AddressAllowed(netip.MustParseAddr(addr), nil); got != ok {
			t.Errorf("AddressAllowed(%s) = %v, want %v", addr, got, ok)
		}
	}
}
