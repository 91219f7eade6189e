package ldaptest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// tagSearchResultDone is the protocolOp tag of a SearchResultDone (RFC
// 4511, [APPLICATION 5] constructed).
const tagSearchResultDone = 0x65

// Proxy is a TCP proxy on a loopback port in front of a plain ldap://
// server that injects faults: it can cut every connection after the n-th
// SearchResultDone it forwarded on it, e.g. right after the first page of a
// paged search. It understands LDAP's BER framing only as far as that needs.
type Proxy struct {
	// Addr is the proxy's host:port; URL is ldap://Addr.
	Addr, URL string

	target    string
	ln        net.Listener
	closeDone atomic.Int64
	stallDone atomic.Int64
	closed    chan struct{}
	cuts      atomic.Int64
	dones     atomic.Int64
	mu        sync.Mutex
	conns     map[net.Conn]bool
	wg        sync.WaitGroup
}

// NewProxy starts a proxy to target (host:port) and closes it when the test
// ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ldaptest: proxy listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}, closed: make(chan struct{})}
	p.URL = "ldap://" + p.Addr
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// CutAfterSearchDone makes the proxy close a connection, both ways, right
// after it forwarded the n-th SearchResultDone on it; 0 turns that off. It
// applies to connections made afterwards and to open ones.
func (p *Proxy) CutAfterSearchDone(n int) { p.closeDone.Store(int64(n)) }

// StallAfterSearchDone makes the proxy stop passing the server's answers on,
// without closing anything, after it forwarded the n-th SearchResultDone on
// a connection: a server that hangs. 0 turns that off.
func (p *Proxy) StallAfterSearchDone(n int) { p.stallDone.Store(int64(n)) }

// Cuts is how many connections the proxy has cut.
func (p *Proxy) Cuts() int { return int(p.cuts.Load()) }

// SearchDones is how many SearchResultDone messages the proxy forwarded, on
// all connections: one per page of a paged search.
func (p *Proxy) SearchDones() int { return int(p.dones.Load()) }

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() {
	select {
	case <-p.closed:
	default:
		close(p.closed)
	}
	_ = p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.track(client, true)
		p.track(server, true)
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(server, client)
			_ = server.Close()
			_ = client.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.relay(client, server)
			_ = server.Close()
			_ = client.Close()
			p.track(client, false)
			p.track(server, false)
		}()
	}
}

// relay forwards the server's messages one by one and cuts the connection
// when the rule says so.
func (p *Proxy) relay(client, server net.Conn) {
	r := bufio.NewReader(server)
	dones := int64(0)
	for {
		msg, err := readMessage(r)
		if err != nil {
			return
		}
		if _, err := client.Write(msg); err != nil {
			return
		}
		if op, ok := protocolOp(msg); ok && op == tagSearchResultDone {
			dones++
			p.dones.Add(1)
			if n := p.closeDone.Load(); n > 0 && dones >= n {
				p.cuts.Add(1)
				return
			}
			if n := p.stallDone.Load(); n > 0 && dones >= n {
				<-p.closed
				return
			}
		}
	}
}

// readMessage reads one BER TLV (an LDAPMessage SEQUENCE) whole.
func readMessage(r *bufio.Reader) ([]byte, error) {
	tag, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	first, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	msg := []byte{tag, first}
	length := int(first)
	if first&0x80 != 0 {
		n := int(first & 0x7f)
		if n == 0 || n > 4 {
			return nil, fmt.Errorf("unsupported BER length form 0x%x", first)
		}
		length = 0
		for range n {
			b, err := r.ReadByte()
			if err != nil {
				return nil, err
			}
			msg = append(msg, b)
			length = length<<8 | int(b)
		}
	}
	if length > 64<<20 {
		return nil, errors.New("LDAP message larger than 64 MiB")
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(msg, body...), nil
}

// protocolOp returns the tag of an LDAPMessage's protocolOp: the element
// after the messageID INTEGER.
func protocolOp(msg []byte) (byte, bool) {
	i := 1
	if i >= len(msg) {
		return 0, false
	}
	if msg[i]&0x80 != 0 {
		i += int(msg[i] & 0x7f)
	}
	i++ // first byte of the body: the messageID's tag
	if i+1 >= len(msg) || msg[i] != 0x02 {
		return 0, false
	}
	i += 2 + int(msg[i+1]) // tag, length, value (a short messageID)
	if i >= len(msg) {
		return 0, false
	}
	return msg[i], true
}
