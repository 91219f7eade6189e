package probe

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
)

// wrapped wraps err the way the drivers do, several layers deep.
func wrapped(err error) error {
	return fmt.Errorf("failed to connect: %w", errors.Join(fmt.Errorf("127.0.0.1:5432: %w", err)))
}

// TestClassify covers the outcomes the real servers in probe_test.go do
// not produce: other certificate problems, servers without or insisting on
// TLS, unusual server errors, and server texts that quote the password.
func TestClassify(t *testing.T) {
	const password = "Hunter2-Secret"
	pg := Input{Type: iamv1alpha1.ConnectionPostgreSQL, Host: "warehouse.example", Port: 5432, Database: "analytics", Username: "svc", Password: password}
	my := pg
	my.Type, my.Port = iamv1alpha1.ConnectionMySQL, 3306
	withMode := func(in Input, m SSLMode) Input { in.SSLMode = m; return in }
	tests := map[string]struct {
		in          Input
		err         error
		expired     bool
		wantReason  string
		wantMessage string
	}{
		"certificate for another host": {
			in:          withMode(pg, SSLModeVerifyFull),
			err:         wrapped(x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"db.example"}}, Host: "warehouse.example"}),
			wantReason:  ReasonTLSFailed,
			wantMessage: "the TLS certificate of PostgreSQL at warehouse.example:5432 is not valid for host warehouse.example; set parameter host to a name the certificate holds, or parameter sslMode to verify-ca to verify the certificate authority only",
		},
		"expired certificate": {
			in:          withMode(my, SSLModeVerifyCA),
			err:         wrapped(x509.CertificateInvalidError{Cert: &x509.Certificate{}, Reason: x509.Expired, Detail: "current time is after 2020-01-01"}),
			wantReason:  ReasonTLSFailed,
			wantMessage: "the TLS certificate of MySQL at warehouse.example:3306 is not valid (x509: certificate has expired or is not yet valid: current time is after 2020-01-01); renew it on the server",
		},
		"postgresql without TLS, require": {
			in:          withMode(pg, SSLModeRequire),
			err:         wrapped(errors.New("tls error: server refused TLS connection")),
			wantReason:  ReasonTLSFailed,
			wantMessage: "PostgreSQL at warehouse.example:5432 does not offer TLS, but parameter sslMode is require; enable TLS on the server, or set parameter sslMode to prefer or disable",
		},
		"postgresql without TLS, prefer, then a refusal": {
			in:         withMode(pg, SSLModePrefer),
			err:        errors.Join(errors.New("tls error: server refused TLS connection"), wrapped(syscall.ECONNREFUSED)),
			wantReason: ReasonConnectionRefused,
		},
		"mysql without TLS": {
			in:          withMode(my, SSLModeVerifyFull),
			err:         mysql.ErrNoTLS,
			wantReason:  ReasonTLSFailed,
			wantMessage: "MySQL at warehouse.example:3306 does not offer TLS, but parameter sslMode is verify-full; enable TLS on the server, or set parameter sslMode to prefer or disable",
		},
		"postgresql insists on TLS": {
			in: withMode(pg, SSLModeDisable),
			err: wrapped(&pgconn.PgError{Severity: "FATAL", Code: "28000",
				Message: `no pg_hba.conf entry for host "10.0.0.7", user "svc", database "analytics", no encryption`}),
			wantReason:  ReasonTLSFailed,
			wantMessage: "PostgreSQL at warehouse.example:5432 accepts TLS connections only; set parameter sslMode to require, verify-ca or verify-full",
		},
		"postgresql pg_hba rejects": {
			in: withMode(pg, SSLModeRequire),
			err: wrapped(&pgconn.PgError{Severity: "FATAL", Code: "28000",
				Message: `no pg_hba.conf entry for host "10.0.0.7", user "svc", database "analytics", SSL encryption`}),
			wantReason: ReasonAccessDenied,
			wantMessage: `PostgreSQL at warehouse.example:5432 does not let user svc log in (no pg_hba.conf entry for host "10.0.0.7", user "svc", database "analytics", SSL encryption); ` +
				"allow the user and the operator's address in the server's pg_hba.conf, or use another user",
		},
		"mysql insists on TLS": {
			in:          withMode(my, SSLModeDisable),
			err:         &mysql.MySQLError{Number: 3159, Message: "Connections using insecure transport are prohibited while --require_secure_transport=ON."},
			wantReason:  ReasonTLSFailed,
			wantMessage: "MySQL at warehouse.example:3306 accepts TLS connections only; set parameter sslMode to require, verify-ca or verify-full",
		},
		"mysql host not allowed": {
			in:          my,
			err:         &mysql.MySQLError{Number: 1130, Message: "Host '10.0.0.7' is not allowed to connect to this MariaDB server"},
			wantReason:  ReasonAccessDenied,
			wantMessage: "MySQL at warehouse.example:3306 does not let user svc connect from the operator's address (Host '10.0.0.7' is not allowed to connect to this MariaDB server); allow that host for the user",
		},
		"mysql expired password": {
			in:          my,
			err:         &mysql.MySQLError{Number: 1862, Message: "Your password has expired."},
			wantReason:  ReasonAuthenticationFailed,
			wantMessage: "the password of user svc on MySQL at warehouse.example:3306 has expired; set a new one on the server and in the connection's credential Secret",
		},
		"mysql clear-text account over unverified TLS": {
			in:         withMode(my, SSLModeRequire),
			err:        mysql.ErrCleartextPassword,
			wantReason: ReasonAuthenticationFailed,
		},
		"server quotes the password": {
			in:          pg,
			err:         wrapped(&pgconn.PgError{Severity: "FATAL", Code: "XX000", Message: "bad option value " + password + " in startup"}),
			wantReason:  ReasonUnreachable,
			wantMessage: "PostgreSQL at warehouse.example:5432 refused the login with error XX000 (bad option value [redacted] in startup)",
		},
		"driver quotes the password": {
			in:          my,
			err:         fmt.Errorf("dial tcp: weird failure for %q", password),
			wantReason:  ReasonUnreachable,
			wantMessage: `cannot connect to MySQL at warehouse.example:3306: dial tcp: weird failure for "[redacted]"`,
		},
		"driver quotes a short password": {
			in:          func() Input { in := my; in.Password = "xyz"; return in }(),
			err:         errors.New("auth xyz failed"),
			wantReason:  ReasonUnreachable,
			wantMessage: "cannot connect to MySQL at warehouse.example:3306: details withheld because they might contain the password",
		},
		"too many connections": {
			in:         pg,
			err:        wrapped(&pgconn.PgError{Severity: "FATAL", Code: "53300", Message: "sorry, too many clients already"}),
			wantReason: ReasonUnreachable,
		},
		"dns server down": {
			in:          pg,
			err:         wrapped(&net.DNSError{Err: "server misbehaving", Name: "warehouse.example", IsTemporary: true}),
			wantReason:  ReasonHostNotFound,
			wantMessage: "host warehouse.example could not be resolved (server misbehaving); check parameter host and the DNS the operator uses",
		},
		"no route": {
			in:         pg,
			err:        wrapped(&net.OpError{Op: "dial", Err: syscall.EHOSTUNREACH}),
			wantReason: ReasonUnreachable,
		},
		"reset": {
			in:         my,
			err:        &net.OpError{Op: "read", Err: syscall.ECONNRESET},
			wantReason: ReasonUnreachable,
		},
		"deadline passed with a vague error": {
			in:         my,
			err:        mysql.ErrInvalidConn,
			expired:    true,
			wantReason: ReasonTimeout,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var e engine = postgreSQL{}
			if tc.in.Type == iamv1alpha1.ConnectionMySQL {
				e = mySQL{}
			}
			got := classifier{in: tc.in, timeout: time.Second, expired: tc.expired}.classify(tc.err, e)
			if got.Reason != tc.wantReason || got.Reachable {
				t.Errorf("classify() = %+v, want reason %s", got, tc.wantReason)
			}
			if tc.wantMessage != "" {
				if diff := cmp.Diff(tc.wantMessage, got.Message); diff != "" {
					t.Errorf("message mismatch (-want +got):\n%s", diff)
				}
			}
			if strings.Contains(got.Message, tc.in.Password) {
				t.Errorf("message %q holds the password", got.Message)
			}
		})
	}
}

func TestInputFrom(t *testing.T) {
	global := iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModeGlobal, SecretRef: &iamv1alpha1.LocalSecretReference{Name: "warehouse"}}
	cred := outbound.Basic{Username: "svc-dss", Password: "s3rvice-Acc0unt"}
	tests := map[string]struct {
		spec       iamv1alpha1.ConnectionSpec
		want       Input
		wantReason string // of the *SpecError
		wantMsg    string
	}{
		"sample warehouse": {
			spec: iamv1alpha1.ConnectionSpec{Type: iamv1alpha1.ConnectionPostgreSQL, Credentials: global,
				Parameters: map[string]string{"host": "warehouse.acme.example", "port": "5432", "database": "analytics"}},
			want: Input{Type: iamv1alpha1.ConnectionPostgreSQL, Host: "warehouse.acme.example", Port: 5432, Database: "analytics", Username: "svc-dss", Password: "s3rvice-Acc0unt"},
		},
		"mysql with defaults": {
			spec: iamv1alpha1.ConnectionSpec{Type: iamv1alpha1.ConnectionMySQL, Credentials: global,
				Parameters: map[string]string{"host": "mariadb.data", "sslMode": "verify-full", "bucket": "ignored"}},
			want: Input{Type: iamv1alpha1.ConnectionMySQL, Host: "mariadb.data", SSLMode: SSLModeVerifyFull, Username: "svc-dss", Password: "s3rvice-Acc0unt"},
		},
		"per-user": {
			spec: iamv1alpha1.ConnectionSpec{Type: iamv1alpha1.ConnectionPostgreSQL, Parameters: map[string]string{"host": "h"},
				Credentials: iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModePerUser, Type: iamv1alpha1.CredentialBasic}},
			wantReason: ReasonNotTestable,
			wantMsg:    "the connection has per-user credentials: every user logs in as themselves, and the operator has no credential of its own to test it with",
		},
		"object store": {
			spec:       iamv1alpha1.ConnectionSpec{Type: "S3", Credentials: global, Parameters: map[string]string{"bucket": "acme-lake"}},
			wantReason: ReasonNotTestable,
			wantMsg:    "the operator tests PostgreSQL and MySQL connections only, not S3 connections",
		},
		"global key pair": {
			spec: iamv1alpha1.ConnectionSpec{Type: iamv1alpha1.ConnectionPostgreSQL, Parameters: map[string]string{"host": "h"},
				Credentials: iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModeGlobal, Type: iamv1alpha1.CredentialKeyPair}},
			wantReason: ReasonNotTestable,
			wantMsg:    "the operator tests PostgreSQL connections with Basic credentials (username and password), not KeyPair",
		},
		"no host": {
			spec:       iamv1alpha1.ConnectionSpec{Type: iamv1alpha1.ConnectionPostgreSQL, Credentials: global, Parameters: map[string]string{"hostname": "h"}},
			wantReason: ReasonInvalidSpec,
			wantMsg:    "parameter host is missing; set spec.parameters.host to the PostgreSQL server's host name",
		},
		"bad port": {
			spec:       iamv1alpha1.ConnectionSpec{Type: iamv1alpha1.ConnectionMySQL, Credentials: global, Parameters: map[string]string{"host": "h", "port": "3306/tcp"}},
			wantReason: ReasonInvalidSpec,
			wantMsg:    `parameter port is "3306/tcp", not a port number from 1 to 65535; fix spec.parameters.port`,
		},
		"bad sslMode": {
			spec:       iamv1alpha1.ConnectionSpec{Type: iamv1alpha1.ConnectionMySQL, Credentials: global, Parameters: map[string]string{"host": "h", "sslMode": "REQUIRED"}},
			wantReason: ReasonInvalidSpec,
			wantMsg:    `parameter sslMode is "REQUIRED"; set spec.parameters.sslMode to one of disable, allow, prefer, require, verify-ca, verify-full`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := InputFrom(&tc.spec, cred)
			if tc.wantReason == "" {
				if err != nil {
					t.Fatalf("InputFrom() error = %v", err)
				}
				if got.String() != tc.want.String() || got.Password != tc.want.Password {
					t.Errorf("InputFrom() = %v, want %v", got, tc.want)
				}
				if err := Testable(&tc.spec); err != nil {
					t.Errorf("Testable() = %v, want nil", err)
				}
				return
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("InputFrom() error = %v, want a *SpecError", err)
			}
			if diff := cmp.Diff(Result{Reason: tc.wantReason, Message: tc.wantMsg}, se.Result()); diff != "" {
				t.Errorf("InputFrom() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInputRedaction(t *testing.T) {
	in := Input{Type: iamv1alpha1.ConnectionPostgreSQL, Host: "h", Username: "svc", Password: "Sup3rSecretValue"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out := fmt.Sprintf(format, in) + fmt.Sprintf(format, struct{ In Input }{in}) + fmt.Sprintf(format, &in)
		if strings.Contains(out, "Sup3rSecretValue") || strings.Contains(out, fmt.Sprintf("%x", "Sup3rSecretValue")) {
			t.Errorf("%s shows the password: %s", format, out)
		}
	}
	want := "PostgreSQL{host: h, port: 5432, database: , sslMode: prefer, username: svc, password: <redacted>}"
	if got := in.String(); got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

// FuzzNoPasswordInMessages: whatever the server or the driver says, and
// whatever the names are, a message never holds a password of 4 bytes or
// more.
func FuzzNoPasswordInMessages(f *testing.F) {
	f.Add("svc", "warehouse.example", "analytics", "Hunter2-Secret", "password authentication failed for user svc")
	f.Add("svc", "h", "db", "[redacted]", "[redacted]")
	f.Add("d]ab", "h", "db", "d]ab", "x[redacted]ab")
	f.Add("user", "host", "database", "user", "user user")
	f.Fuzz(func(t *testing.T, user, host, database, password, said string) {
		if len(password) < minRedact {
			return
		}
		errs := []error{
			errors.New(said),
			wrapped(&pgconn.PgError{Code: "XX000", Message: said}),
			wrapped(&pgconn.PgError{Code: "28000", Message: said}),
			wrapped(&pgconn.PgError{Code: "53300", Message: said}),
			&mysql.MySQLError{Number: 1130, Message: said},
			&mysql.MySQLError{Number: 9999, Message: said},
			&net.DNSError{Err: said, Name: host},
			x509.CertificateInvalidError{Cert: &x509.Certificate{}, Reason: x509.NotAuthorizedToSign, Detail: said},
		}
		for _, typ := range []iamv1alpha1.ConnectionType{iamv1alpha1.ConnectionPostgreSQL, iamv1alpha1.ConnectionMySQL} {
			in := Input{Type: typ, Host: host, Database: database, Username: user, Password: password}
			var e engine = postgreSQL{}
			if typ == iamv1alpha1.ConnectionMySQL {
				e = mySQL{}
			}
			c := classifier{in: in, timeout: time.Second}
			for _, err := range errs {
				if r := c.classify(err, e); strings.Contains(r.Message, password) {
					t.Fatalf("message holds the password %q: %s", password, r.Message)
				}
			}
			if r := reachable(in); strings.Contains(r.Message, password) {
				t.Fatalf("message holds the password %q: %s", password, r.Message)
			}
		}
	})
}
