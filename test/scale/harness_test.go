package scale

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// fastConfig is cfg with client-side rate limits qps and burst.
func fastConfig(cfg *rest.Config, qps float32, burst int) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = qps, burst
	return c
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns the
// first error.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// create creates every object of w in ns, kind after kind, with workers
// parallel creates, retrying transient errors.
func create(ctx context.Context, c client.Client, ns string, w *world, workers int) (int, error) {
	total := 0
	for _, batch := range w.objects() {
		err := parallel(len(batch), workers, func(i int) error {
			obj := batch[i].(client.Object)
			obj.SetNamespace(ns)
			for attempt := 0; ; attempt++ {
				err := c.Create(ctx, obj)
				if err == nil || apierrors.IsAlreadyExists(err) {
					return nil
				}
				if attempt >= 5 || apierrors.IsInvalid(err) {
					return fmt.Errorf("cannot create %T %s: %w", obj, obj.GetName(), err)
				}
				time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
			}
		})
		if err != nil {
			return total, err
		}
		total += len(batch)
	}
	return total, nil
}

// listAll lists every object of list's kind in ns, page by page.
func listAll[T any](ctx context.Context, c client.Client, ns string, list client.ObjectList, items func() []T, opts ...client.ListOption) ([]T, error) {
	var out []T
	cont := ""
	for {
		o := append([]client.ListOption{client.InNamespace(ns), client.Limit(500), client.Continue(cont)}, opts...)
		if err := c.List(ctx, list, o...); err != nil {
			return nil, err
		}
		out = append(out, items()...)
		if cont = list.(metav1.ListInterface).GetContinue(); cont == "" {
			return out, nil
		}
	}
}

// snapshotOf reads the namespace back from the API server (creation
// timestamps, defaults) as an access.Snapshot.
func snapshotOf(ctx context.Context, c client.Client, ns string) (access.Snapshot, error) {
	s := access.Snapshot{Now: time.Now()}
	var err error
	var ul iamv1alpha1.UserList
	if s.Users, err = listAll(ctx, c, ns, &ul, func() []iamv1alpha1.User { return ul.Items }); err != nil {
		return s, err
	}
	var gl iamv1alpha1.GroupList
	if s.Groups, err = listAll(ctx, c, ns, &gl, func() []iamv1alpha1.Group { return gl.Items }); err != nil {
		return s, err
	}
	var cl iamv1alpha1.ConnectionList
	if s.Connections, err = listAll(ctx, c, ns, &cl, func() []iamv1alpha1.Connection { return cl.Items }); err != nil {
		return s, err
	}
	var sl iamv1alpha1.ShareList
	if s.Shares, err = listAll(ctx, c, ns, &sl, func() []iamv1alpha1.Share { return sl.Items }); err != nil {
		return s, err
	}
	var rl iamv1alpha1.ResourceGrantList
	if s.ResourceGrants, err = listAll(ctx, c, ns, &rl, func() []iamv1alpha1.ResourceGrant { return rl.Items }); err != nil {
		return s, err
	}
	var ll iamv1alpha1.LicenseList
	if err := c.List(ctx, &ll, client.InNamespace(ns)); err != nil {
		return s, err
	}
	if len(ll.Items) != 1 {
		return s, fmt.Errorf("%d Licenses in %s, want 1", len(ll.Items), ns)
	}
	s.License = &ll.Items[0]
	return s, nil
}

// statusMatches compares the fields of a User's status the permission
// engine decides: groups, seat, global permissions, resources and their
// count.
func statusMatches(got, want *iamv1alpha1.UserStatus) bool {
	return got.Seat == want.Seat && got.ResourceCount == want.ResourceCount &&
		got.ResourcesTruncated == want.ResourcesTruncated &&
		equality.Semantic.DeepEqual(got.Groups, want.Groups) &&
		equality.Semantic.DeepEqual(got.GlobalPermissions, want.GlobalPermissions) &&
		equality.Semantic.DeepEqual(got.Resources, want.Resources)
}

// fullStatus is the status the User controller writes for res on u: the
// computed status with its Ready and Licensed conditions (the baseline's
// payload).
func fullStatus(u *iamv1alpha1.User, res *access.UserResult) *iamv1alpha1.UserStatus {
	st := res.Status()
	st.ObservedGeneration = u.Generation
	now := metav1.Now()
	ready := metav1.Condition{Type: iamv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: iamv1alpha1.ReasonReconciled,
		Message: fmt.Sprintf("Effective permissions computed: %s, seat %s.", words.Count(st.ResourceCount, "resource", "resources"), st.Seat)}
	conds := []metav1.Condition{ready}
	conds = append(conds, st.Conditions...)
	for i := range conds {
		conds[i].ObservedGeneration = u.Generation
		conds[i].LastTransitionTime = now
	}
	st.Conditions = conds
	return &st
}

// applyStatus writes st to u's status subresource by server-side apply as
// fieldManager, the way controllers/internal/status does.
func applyStatus(ctx context.Context, c client.Client, u *iamv1alpha1.User, st *iamv1alpha1.UserStatus, fieldManager string) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(st)
	if err != nil {
		return err
	}
	x := &unstructured.Unstructured{Object: map[string]any{"status": m}}
	x.SetGroupVersionKind(iamv1alpha1.GroupVersion.WithKind("User"))
	x.SetName(u.Name)
	x.SetNamespace(u.Namespace)
	x.SetUID(u.UID)
	return c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(x), client.FieldOwner(fieldManager), client.ForceOwnership)
}

// manager is the manager binary running as a separate process.
type manager struct {
	cmd         *exec.Cmd
	started     time.Time
	metricsAddr string
	probeAddr   string
	pprofAddr   string
	logPath     string
	exited      chan struct{}
}

// freePort returns a free loopback address.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// buildManager builds cmd/manager into dir.
func buildManager(dir string) (string, error) {
	bin := filepath.Join(dir, "manager")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/manager").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("cannot build cmd/manager: %v\n%s", err, out)
	}
	return bin, nil
}

// startManager starts bin against kubeconfig with metrics on plain HTTP,
// no webhooks and no audit log, and the given client rate limit and
// workers.
func startManager(bin, kubeconfig, logPath string, qps, burst, workers int) (*manager, error) {
	maddr, err := freePort()
	if err != nil {
		return nil, err
	}
	paddr, err := freePort()
	if err != nil {
		return nil, err
	}
	pprofAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin,
		"--metrics-bind-address="+maddr, "--metrics-secure=false", "--enable-webhooks=false",
		"--health-probe-bind-address="+paddr, "--pprof-bind-address="+pprofAddr, "--audit-log=",
		"--kube-api-qps="+strconv.Itoa(qps), "--kube-api-burst="+strconv.Itoa(burst),
		"--max-concurrent-reconciles="+strconv.Itoa(workers))
	// The container memory limit of the chart and config/default (1Gi),
	// passed as the Deployment passes it.
	cmd.Env = append(managerEnv(), "KUBECONFIG="+kubeconfig, "GATEHOUSE_MEMORY_LIMIT="+strconv.Itoa(memoryLimit))
	cmd.Stdout, cmd.Stderr = logf, logf
	m := &manager{cmd: cmd, metricsAddr: maddr, probeAddr: paddr, pprofAddr: pprofAddr, logPath: logPath, exited: make(chan struct{})}
	m.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("cannot start the manager: %w", err)
	}
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(m.exited)
	}()
	return m, nil
}

// saveHeapProfile writes the manager's heap profile (live objects at the
// last GC) to path, for go tool pprof.
func (m *manager) saveHeapProfile(path string) error {
	resp, err := http.Get("http://" + m.pprofAddr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return fmt.Errorf("cannot read the manager's heap profile: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cannot read the manager's heap profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return f.Close()
}

// stop sends SIGTERM and waits for the exit.
func (m *manager) stop() {
	select {
	case <-m.exited:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
}

// get fetches a path of the manager's metrics or probe server.
func get(addr, path string) (string, int, error) {
	cl := http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get("http://" + addr + path)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String(), resp.StatusCode, sc.Err()
}

// waitReady waits until the manager's /readyz answers 200.
func (m *manager) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-m.exited:
			return fmt.Errorf("the manager exited; see %s", m.logPath)
		default:
		}
		if _, code, err := get(m.probeAddr, "/readyz"); err == nil && code == http.StatusOK {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the manager was not ready within %s; see %s", timeout, m.logPath)
}

// metrics is one scrape of the manager's /metrics: sample name with its
// sorted labels, to value.
type metrics map[string]float64

// scrape reads the manager's metrics.
func (m *manager) scrape() (metrics, error) {
	body, code, err := get(m.metricsAddr, "/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %d", code)
	}
	out := metrics{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, nil
}

// sum adds the samples of name whose labels include every label of want
// (`key="value"` strings).
func (ms metrics) sum(name string, want ...string) float64 {
	var t float64
next:
	for k, v := range ms {
		n, labels, _ := strings.Cut(k, "{")
		if n != name {
			continue
		}
		for _, l := range want {
			if !strings.Contains(labels, l) {
				continue next
			}
		}
		t += v
	}
	return t
}

// counters are the figures of one scrape the harness follows.
type counters struct {
	userReconciles, enqueuedUsers float64
	writes                        map[string]float64
	cpu, rss                      float64
}

// writesTotal is the sum of the status writes of every kind.
func (c counters) writesTotal() float64 {
	var t float64
	for _, v := range c.writes {
		t += v
	}
	return t
}

// read scrapes the counters.
func (m *manager) read() (counters, error) {
	ms, err := m.scrape()
	if err != nil {
		return counters{}, err
	}
	c := counters{
		userReconciles: ms.sum("controller_runtime_reconcile_total", `controller="user"`),
		enqueuedUsers:  ms.sum("gatehouse_engine_enqueued_total", `kind="User"`),
		cpu:            ms.sum("process_cpu_seconds_total"),
		rss:            ms.sum("process_resident_memory_bytes"),
		writes:         map[string]float64{},
	}
	for _, k := range []string{"User", "Group", "License", "Share", "ResourceGrant", "Connection"} {
		c.writes[k] = ms.sum("gatehouse_status_writes_total", `kind="`+k+`"`)
	}
	return c, nil
}

// settle waits until the user reconciles, the enqueues and the writes stop
// changing for quiet, at most timeout, and returns the last read.
func (m *manager) settle(quiet, timeout time.Duration) (counters, error) {
	deadline := time.Now().Add(timeout)
	prev, err := m.read()
	if err != nil {
		return prev, err
	}
	stable := time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		cur, err := m.read()
		if err != nil {
			return cur, err
		}
		if cur.userReconciles != prev.userReconciles || cur.enqueuedUsers != prev.enqueuedUsers || cur.writesTotal() != prev.writesTotal() {
			stable = time.Now()
		}
		prev = cur
		if time.Since(stable) >= quiet {
			return cur, nil
		}
	}
	return prev, nil
}

// peakRSS reads VmHWM and VmRSS of pid from /proc, in bytes.
func peakRSS(pid int) (hwm, rss float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmHWM:":
			hwm = kb * 1024
		case "VmRSS:":
			rss = kb * 1024
		}
	}
	return hwm, rss, nil
}

// seen is when the watcher saw one resourceVersion of a User.
type seen struct {
	rv string
	at time.Time
}

// userWatcher timestamps every change of the Users of a namespace from a
// metadata-only watch (cheap: no status crosses the wire), keeping the
// recent resourceVersions of each User with the time each arrived.
type userWatcher struct {
	mu      sync.Mutex
	history map[string][]seen
	changes int
}

// watchUsers starts a userWatcher on ns until ctx ends.
func watchUsers(ctx context.Context, cfg *rest.Config, ns string) (*userWatcher, error) {
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	res := mc.Resource(schema.GroupVersionResource{Group: iamv1alpha1.GroupVersion.Group, Version: iamv1alpha1.GroupVersion.Version, Resource: "users"}).Namespace(ns)
	list, err := res.List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	w := &userWatcher{history: map[string][]seen{}}
	now := time.Now()
	for _, it := range list.Items {
		w.history[it.Name] = []seen{{rv: it.ResourceVersion, at: now}}
	}
	rv := list.ResourceVersion
	ready := make(chan error, 1)
	go func() {
		first := true
		for ctx.Err() == nil {
			wi, err := res.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
			if first {
				ready <- err
				first = false
			}
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			for ev := range wi.ResultChan() {
				if ev.Type == watch.Error {
					// Too old a resourceVersion: go on from now.
					rv = ""
					break
				}
				o, ok := ev.Object.(*metav1.PartialObjectMetadata)
				if !ok {
					continue
				}
				rv = o.ResourceVersion
				if ev.Type == watch.Bookmark {
					continue
				}
				w.record(o.Name, o.ResourceVersion, time.Now())
			}
			wi.Stop()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return w, nil
}

func (w *userWatcher) record(name, rv string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := append(w.history[name], seen{rv: rv, at: at})
	if len(h) > 16 {
		h = h[len(h)-16:]
	}
	w.history[name] = h
	w.changes++
}

// at returns when the watcher saw name at resourceVersion rv.
func (w *userWatcher) at(name, rv string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.history[name] {
		if s.rv == rv {
			return s.at, true
		}
	}
	return time.Time{}, false
}

// last returns the last change the watcher saw of name.
func (w *userWatcher) last(name string) seen {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.history[name]
	if len(h) == 0 {
		return seen{}
	}
	return h[len(h)-1]
}

// waitStatuses waits until every User of want shows its wanted status, and
// returns the time the last of them changed into it (as the watch saw the
// resourceVersion that holds it). A User is read again only once the watch
// saw it change since it was last read; when more than bulk Users are to be
// read, they are read by a paginated List (with opts) once the watch has
// been quiet for them for a second, so that verifying does not load the
// API server while it is being measured.
func waitStatuses(ctx context.Context, c client.Client, w *userWatcher, ns string, want map[string]*iamv1alpha1.UserStatus,
	timeout time.Duration, bulk int, opts ...client.ListOption) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	readAt := map[string]string{} // name -> resourceVersion last read
	var lastOK time.Time
	pending := make(map[string]bool, len(want))
	for n := range want {
		pending[n] = true
	}
	quietSince := time.Now()
	lastCount := -1
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			return lastOK, fmt.Errorf("%d of %d users still differ after %s (one: %s)", len(pending), len(want), timeout, anyKey(pending))
		}
		var stale []string
		w.mu.Lock()
		changes := w.changes
		w.mu.Unlock()
		if changes != lastCount {
			lastCount, quietSince = changes, time.Now()
		}
		for n := range pending {
			if l := w.last(n); l.rv != readAt[n] {
				stale = append(stale, n)
			}
		}
		check := func(u *iamv1alpha1.User) {
			if !pending[u.Name] {
				return
			}
			readAt[u.Name] = u.ResourceVersion
			if !statusMatches(&u.Status, want[u.Name]) {
				return
			}
			at, ok := w.at(u.Name, u.ResourceVersion)
			if !ok {
				// The watch has not delivered this version yet: read again.
				readAt[u.Name] = ""
				return
			}
			delete(pending, u.Name)
			if at.After(lastOK) {
				lastOK = at
			}
		}
		switch {
		case len(stale) == 0:
		case len(stale) > bulk:
			if time.Since(quietSince) < time.Second && len(stale) < len(pending) {
				break
			}
			var ul iamv1alpha1.UserList
			users, err := listAll(ctx, c, ns, &ul, func() []iamv1alpha1.User { return ul.Items }, opts...)
			if err != nil {
				return lastOK, err
			}
			for i := range users {
				check(&users[i])
			}
		default:
			for _, n := range stale {
				var u iamv1alpha1.User
				if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: n}, &u); err != nil {
					return lastOK, err
				}
				check(&u)
			}
		}
		if len(pending) > 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return lastOK, nil
}

func anyKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

// apiServerMemoryLimit is the test control plane's Go soft memory limit
// (GOMEMLIMIT), well under this machine's 24 GiB.
const apiServerMemoryLimit = "14GiB"

// managerEnv is the harness's environment without GOMEMLIMIT, which is the
// control plane's: an explicit GOMEMLIMIT would win over the manager's
// GATEHOUSE_MEMORY_LIMIT.
func managerEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOMEMLIMIT=") })
}
