package testenv

import (
	"bytes"
	"encoding/binary"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Deputy is a listener on a loopback port that speaks just enough of a
// protocol to be sent a credential (PostgreSQL asks for a cleartext
// password, MySQL offers mysql_clear_password, LDAP takes a simple bind)
// and records every byte it receives: the confused-deputy tests point a
// Connection or Directory at it and check what reaches it.
type Deputy struct {
	Host string
	Port int

	mu    sync.Mutex
	got   bytes.Buffer
	conns int
}

// Protocols a Deputy speaks.
const (
	DeputyPostgreSQL = "postgresql"
	DeputyMySQL      = "mysql"
	DeputyLDAP       = "ldap"
)

// StartDeputy listens on 127.0.0.1 and speaks protocol until the test ends.
func StartDeputy(t testing.TB, protocol string) *Deputy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	host, port, _ := net.SplitHostPort(l.Addr().String())
	d := &Deputy{Host: host}
	d.Port, _ = strconv.Atoi(port)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go d.serve(c, protocol)
		}
	}()
	return d
}

// Received returns every byte received so far, and from how many
// connections.
func (d *Deputy) Received() ([]byte, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return bytes.Clone(d.got.Bytes()), d.conns
}

func (d *Deputy) serve(c net.Conn, protocol string) {
	defer func() { _ = c.Close() }()
	d.mu.Lock()
	d.conns++
	d.mu.Unlock()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	read := func() []byte {
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		d.mu.Lock()
		d.got.Write(buf[:n])
		d.mu.Unlock()
		return buf[:n]
	}
	switch protocol {
	case DeputyPostgreSQL:
		msg := read()
		if len(msg) == 8 && binary.BigEndian.Uint32(msg[4:]) == 80877103 { // SSLRequest
			_, _ = c.Write([]byte("N"))
			read() // the StartupMessage
		}
		// AuthenticationCleartextPassword: the client answers with the
		// password itself.
		_, _ = c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 3})
		read()
	case DeputyMySQL:
		_, _ = c.Write(mysqlHandshake())
		read()
		// Switch to mysql_clear_password: a client that allows it answers
		// with the password itself.
		sw := append([]byte{0xfe}, "mysql_clear_password\x00"...)
		_, _ = c.Write(append([]byte{byte(len(sw)), 0, 0, 2}, sw...))
		read()
	case DeputyLDAP:
		read() // the BindRequest, with a simple bind's password in clear
	}
}

// mysqlHandshake is a protocol-10 handshake offering mysql_native_password,
// without SSL.
func mysqlHandshake() []byte {
	var caps uint32 = 0x00000001 | 0x00000200 | 0x00008000 | 0x00080000 | 0x00000008 // long password, protocol 41, secure connection, plugin auth, connect with db
	p := []byte{10}
	p = append(p, "8.0.0-deputy\x00"...)
	p = append(p, 1, 0, 0, 0)                     // connection id
	p = append(p, "abcdefgh"...)                  // auth data, part 1
	p = append(p, 0)                              // filler
	p = append(p, byte(caps), byte(caps>>8))      // capabilities, low
	p = append(p, 33)                             // utf8
	p = append(p, 2, 0)                           // status
	p = append(p, byte(caps>>16), byte(caps>>24)) // capabilities, high
	p = append(p, 21)                             // auth data length
	p = append(p, make([]byte, 10)...)            // reserved
	p = append(p, "ijklmnopqrst\x00"...)          // auth data, part 2
	p = append(p, "mysql_native_password\x00"...) // plugin
	return append([]byte{byte(len(p)), byte(len(p) >> 8), 0, 0}, p...)
}
