// Package e2e drives the built binaries the way a person does: `gatehouse
// dev` (what `make run` runs) with the manager binary as a separate process,
// and the real kubectl on the PATH.
package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/clientcmd"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gatehouse-dev/gatehouse/internal/controlplane"
)

var binDir string

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	dir, err := os.MkdirTemp("", "gatehouse-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for _, c := range []string{"manager", "gatehouse"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, c), "../../cmd/"+c).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: cannot build cmd/%s: %v\n%s", c, err, out)
			os.Exit(1)
		}
	}
	// kubectl finds the CLI as a plugin on the PATH.
	if err := os.Symlink("gatehouse", filepath.Join(dir, "kubectl-gatehouse")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// session is one running `gatehouse dev`.
type session struct {
	cmd        *exec.Cmd
	lines      chan string
	kubeconfig string
	managerPID int
}

var pidRE = regexp.MustCompile(`manager (?:.* started|restarted) \(pid (\d+)\)`)

// waitLine waits for a line of gatehouse dev's output that contains text,
// and notes a restarted manager's pid.
func (s *session) waitLine(t *testing.T, text string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("gatehouse dev exited before saying %q", text)
			}
			if m := pidRE.FindStringSubmatch(line); m != nil {
				s.managerPID, _ = strconv.Atoi(m[1])
			}
			if strings.Contains(line, text) {
				return
			}
		case <-deadline:
			t.Fatalf("gatehouse dev did not say %q within a minute", text)
		}
	}
}

// startDev runs `gatehouse dev` with env and waits until it says it is running.
func startDev(t *testing.T, env []string, args ...string) *session {
	t.Helper()
	state := t.TempDir()
	args = append([]string{"dev", "--quiet", "--state-dir", state, "--manager", filepath.Join(binDir, "manager"),
		"--manager-arg=--metrics-bind-address=0", "--manager-arg=--health-probe-bind-address=127.0.0.1:0"}, args...)
	cmd := exec.Command(filepath.Join(binDir, "gatehouse"), args...)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start gatehouse dev: %v", err)
	}
	s := &session{cmd: cmd, lines: make(chan string, 100), kubeconfig: filepath.Join(state, "kubeconfig")}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGINT)
			_ = cmd.Wait()
		}
	})
	var out []string
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("gatehouse dev exited before it was running; it printed:\n%s", strings.Join(out, "\n"))
			}
			out = append(out, line)
			if m := pidRE.FindStringSubmatch(line); m != nil {
				s.managerPID, _ = strconv.Atoi(m[1])
			}
			if strings.HasPrefix(line, "  export KUBECONFIG=") {
				s.kubeconfig = strings.TrimPrefix(line, "  export KUBECONFIG=")
			}
			if strings.Contains(line, "Press Ctrl-C to stop") {
				return s
			}
		case <-deadline:
			t.Fatalf("gatehouse dev did not say it was running within 3 minutes; it printed:\n%s", strings.Join(out, "\n"))
		}
	}
}

// stop sends Ctrl-C and checks that everything stopped.
func (s *session) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("gatehouse dev did not exit cleanly after Ctrl-C: %v", err)
		}
	case <-time.After(2 * time.Minute):
		_ = s.cmd.Process.Kill()
		t.Fatal("gatehouse dev did not stop within 2 minutes of Ctrl-C")
	}
	if s.managerPID != 0 && syscall.Kill(s.managerPID, 0) == nil {
		t.Errorf("the manager (pid %d) is still running after Ctrl-C", s.managerPID)
	}
}

func kubectl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func environWithout(names ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

func apiServerAddress(t *testing.T, kubeconfig string) string {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("the kubeconfig gatehouse dev printed does not load: %v", err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestDevLocalControlPlane is `make run` on a machine with no cluster.
func TestDevLocalControlPlane(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl is not on the PATH; the e2e tests drive the cluster with it")
	}
	s := startDev(t, environWithout("KUBECONFIG"), "--samples", "../../config/samples")
	addr := apiServerAddress(t, s.kubeconfig)

	names := kubectl(t, s.kubeconfig, "get", "pu,pg,lic,conn,share,rg,dir", "-n", "demo", "-o", "name")
	want := map[string]int{"user": 6, "group": 3, "license": 1, "connection": 2, "share": 3, "resourcegrant": 3, "directory": 1}
	got := map[string]int{}
	for _, n := range strings.Fields(names) {
		got[strings.SplitN(n, ".", 2)[0]]++
	}
	for kind, n := range want {
		if got[kind] != n {
			t.Errorf("kubectl get -n demo shows %d %s objects, want %d:\n%s", got[kind], kind, n, names)
		}
	}
	table := kubectl(t, s.kubeconfig, "get", "pu", "-n", "demo")
	for _, col := range []string{"LOGIN", "PROFILE", "SEAT", "READY", "AGE", "alice", "frank"} {
		if !strings.Contains(table, col) {
			t.Errorf("kubectl get pu does not show %q:\n%s", col, table)
		}
	}
	if all := kubectl(t, s.kubeconfig, "get", "gatehouse", "-n", "demo", "-o", "name"); len(strings.Fields(all)) != 19 {
		t.Errorf("kubectl get gatehouse (the category) lists %d objects, want 19:\n%s", len(strings.Fields(all)), all)
	}

	// The manager binary computes every status, and a change made with
	// kubectl reaches the user's status.
	kubectl(t, s.kubeconfig, "wait", "--for=condition=Ready", "--timeout=60s", "-n", "demo", "users,groups,licenses,shares,resourcegrants", "--all")
	// gatehouse dev points the warehouse sample at a local PostgreSQL: the
	// operator logs in to it for real.
	kubectl(t, s.kubeconfig, "wait", "--for=condition=Reachable", "--timeout=60s", "-n", "demo", "connection/warehouse")
	if seat := kubectl(t, s.kubeconfig, "get", "pu", "dave", "-n", "demo", "-o", "jsonpath={.status.seat}"); seat != "Pending" {
		t.Errorf("dave (the fourth designer for 3 seats) has seat %q, want Pending", seat)
	}
	kubectl(t, s.kubeconfig, "patch", "pu", "alice", "-n", "demo", "--type=merge", "-p", `{"spec":{"active":false}}`)
	kubectl(t, s.kubeconfig, "wait", "--for=jsonpath={.status.seat}=Granted", "--timeout=30s", "-n", "demo", "pu/dave")
	if events := kubectl(t, s.kubeconfig, "get", "events", "-n", "demo", "--field-selector", "reason=SeatGranted,involvedObject.name=dave"); !strings.Contains(events, "dave holds a seat of profile designer") {
		t.Errorf("no SeatGranted Event on dave:\n%s", events)
	}

	// Deleting a User deletes its per-user credential (the garbage collector
	// of gatehouse dev's kube-controller-manager follows the owner
	// reference the operator set).
	kubectl(t, s.kubeconfig, "wait", "--for=jsonpath={.metadata.ownerReferences[0].name}=bob", "--timeout=30s", "-n", "demo", "secret/lake-bob")
	kubectl(t, s.kubeconfig, "delete", "pu", "bob", "-n", "demo")
	eventuallyTrue(t, "bob's credential Secret garbage-collected", func() bool {
		out, _ := exec.Command("kubectl", "--kubeconfig", s.kubeconfig, "-n", "demo", "get", "secret", "lake-bob").CombinedOutput()
		return strings.Contains(string(out), "NotFound")
	})

	// gatehouse dev supervises the manager: killed, it is started again,
	// and the control plane (and its state) stays.
	if err := syscall.Kill(s.managerPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.waitLine(t, "restarting it in")
	s.waitLine(t, "manager restarted")
	kubectl(t, s.kubeconfig, "patch", "pu", "alice", "-n", "demo", "--type=merge", "-p", `{"spec":{"active":true}}`)
	kubectl(t, s.kubeconfig, "wait", "--for=jsonpath={.status.seat}=Granted", "--timeout=60s", "-n", "demo", "pu/alice")

	s.stop(t)
	if _, err := os.Stat(s.kubeconfig); !os.IsNotExist(err) {
		t.Errorf("the kubeconfig %s was left behind (stat: %v)", s.kubeconfig, err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = conn.Close()
		t.Errorf("the API server at %s still answers after Ctrl-C", addr)
	}
}

// TestOperatorWithKubectl is the operator as a platform team uses it: the
// manager binary runs as its own process against a local control plane
// (gatehouse dev, without samples), and everything else is real kubectl:
// the samples applied with kubectl apply -k, statuses awaited with kubectl
// wait, a membership changed, a share denied to a person, the audit log
// read, and kubectl gatehouse on the live cluster.
func TestOperatorWithKubectl(t *testing.T) {
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	s := startDev(t, environWithout("KUBECONFIG"), "--manager-arg=--audit-log="+auditLog)
	kubectl(t, s.kubeconfig, "apply", "--server-side", "-k", "../../config/samples")
	kubectl(t, s.kubeconfig, "wait", "--for=condition=Ready", "--timeout=60s", "-n", "demo", "users,groups,licenses,shares,resourcegrants", "--all")

	// kubectl gatehouse reads the live cluster and says what the offline
	// CLI says of the same manifests, down to whose own credential of the
	// PerUser Connection lake is ready (offline: computed from the
	// samples' Secrets; live: the Users' status.credentials).
	for _, u := range []string{"alice", "bob", "carol", "erin"} {
		kubectl(t, s.kubeconfig, "wait", "--for=jsonpath={.status.credentials[*].connection}=lake", "--timeout=30s", "-n", "demo", "pu/"+u)
	}
	for _, args := range [][]string{
		{"who-can", "downloadDataset", "dataset/sales"},
		{"explain", "erin", "dataset/sales"},
		{"access", "--user", "carol"},
		{"who-can", "use", "connection/lake"},
		{"explain", "erin", "connection/lake"},
		{"explain", "bob", "connection/lake"},
	} {
		// A plugin takes no kubectl flags before its name: KUBECONFIG it is.
		cmd := exec.Command("kubectl", append([]string{"gatehouse"}, append(args, "-n", "demo")...)...)
		cmd.Env = append(environWithout("KUBECONFIG"), "KUBECONFIG="+s.kubeconfig)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl gatehouse %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		live := string(out)
		offlineCmd := exec.Command(filepath.Join(binDir, "gatehouse"), append(args, "-f", "config/samples")...)
		offlineCmd.Dir = filepath.Join("..", "..") // the input root: the checkout
		offline, err := offlineCmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gatehouse %s -f config/samples: %v\n%s", strings.Join(args, " "), err, offline)
		}
		if live != string(offline) {
			t.Errorf("kubectl gatehouse %s on the live cluster says\n%s\noffline on the samples\n%s", strings.Join(args, " "), live, offline)
		}
	}

	// A group membership changed with kubectl reaches the user's status:
	// carol joins data-team, and with it the warehouse connection.
	kubectl(t, s.kubeconfig, "patch", "pu", "carol", "-n", "demo", "--type=merge", "-p", `{"spec":{"groups":["analysts","data-team"]}}`)
	kubectl(t, s.kubeconfig, "wait", "--for=jsonpath={.status.groups[1]}=data-team", "--timeout=30s", "-n", "demo", "pu/carol")
	if res := kubectl(t, s.kubeconfig, "get", "pu", "carol", "-n", "demo", "-o", "jsonpath={.status.resources[*].name}"); !strings.Contains(res, "warehouse") {
		t.Errorf("carol joined data-team but reaches only %q", res)
	}

	// A person is denied a share they may not make, and told why: carol
	// (Editor with allowSharing through analysts) cannot grant Owner. The
	// samples bind platform-users to the shipped gatehouse-user role.
	out, err := exec.Command("kubectl", "--kubeconfig", s.kubeconfig, "--as=carol", "--as-group=platform-users", "-n", "demo",
		"patch", "share", "sales", "--type=json", "-p", `[{"op":"add","path":"/spec/grantees/-","value":{"kind":"User","name":"erin","role":"Owner"}}]`).CombinedOutput()
	if want := "carol is Editor on dataset/sales and cannot grant Owner to User erin (rule 2"; err == nil || !strings.Contains(string(out), want) {
		t.Errorf("kubectl --as=carol granting Owner: %v\n%s\nwant a denial saying %q", err, out, want)
	}

	// The perimeter against a person holding every verb on every Gatehouse
	// kind: each attack of the attacker's trial is refused by the webhooks.
	kubectl(t, s.kubeconfig, "create", "clusterrole", "broad", "--verb=*", "--resource=*.iam.gatehouse.dev")
	kubectl(t, s.kubeconfig, "create", "clusterrolebinding", "broad", "--clusterrole=broad", "--group=broad-rbac")
	for _, a := range []struct {
		what string
		args []string
		want string
	}{
		{"carol joins administrators", []string{"patch", "pu", "carol", "--type=merge", "-p", `{"spec":{"groups":["analysts","administrators"]}}`},
			"may change only spec.displayName and spec.email of its own User"},
		{"carol writes her own status", []string{"patch", "pu", "carol", "--subresource=status", "--type=merge", "-p", `{"status":{"globalPermissions":["admin"]}}`},
			"only the Gatehouse operator writes the status"},
		{"carol raises the seats", []string{"patch", "lic", "default", "--type=json", "-p", `[{"op":"replace","path":"/spec/profiles/0/seats","value":100}]`},
			"only the configured administrator identities"},
		{"carol maps analysts onto everyone", []string{"patch", "pg", "analysts", "--type=merge", "-p", `{"spec":{"kubernetesGroup":"system:authenticated"}}`},
			"kubernetesGroup cannot be a system: group"},
		{"carol gives her group admin", []string{"patch", "pg", "analysts", "--type=merge", "-p", `{"spec":{"globalPermissions":["admin"]}}`},
			"cannot change Group demo/analysts"},
		{"carol changes dave", []string{"patch", "pu", "dave", "--type=merge", "-p", `{"spec":{"active":false}}`},
			"only administrators (the groups of --admin-groups, or a User holding admin) change other people's Users"},
	} {
		out, err := exec.Command("kubectl", append([]string{"--kubeconfig", s.kubeconfig, "--as=carol", "--as-group=broad-rbac", "-n", "demo"}, a.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), a.want) {
			t.Errorf("%s (kubectl %s): %v\n%s\nwant a refusal saying %q", a.what, strings.Join(a.args, " "), err, out, a.want)
		}
	}
	// An administrator of the platform (alice, in Group administrators) may
	// create Users, but not one that takes over bob's identity.
	thief := exec.Command("kubectl", "--kubeconfig", s.kubeconfig, "--as=alice", "--as-group=gatehouse:administrators", "-n", "demo", "apply", "-f", "-")
	thief.Stdin = strings.NewReader(`{"apiVersion":"iam.gatehouse.dev/v1alpha1","kind":"User","metadata":{"name":"mallory"},
		"spec":{"login":"mallory","profile":"reader","kubernetesUsername":"bob@acme.example"}}`)
	if out, err := thief.CombinedOutput(); err == nil || !strings.Contains(string(out), `the Kubernetes identity "bob@acme.example" is already User bob's`) {
		t.Errorf("alice creating a User with bob's identity: %v\n%s", err, out)
	}

	// The confused deputy: a Connection naming the warehouse's Secret, to
	// have it granted to everyone and sent to a host of one's choosing.
	scratch := `{"apiVersion":"iam.gatehouse.dev/v1alpha1","kind":"Connection","metadata":{"name":"carols-scratch","annotations":{"iam.gatehouse.dev/created-by":"carol"}},
		"spec":{"type":"PostgreSQL","parameters":{"host":"127.0.0.1","port":"5432","database":"x"},
		"credentials":{"mode":"Global","secretRef":{"name":"warehouse-credentials"}},"detailsReadableBy":{"mode":"All"}}}`
	for who, want := range map[string]string{
		// carol holds createPersonalConnections (through data-team, above).
		"--as-group=broad-rbac":               "may be used and read only by groups you belong to, and spec.detailsReadableBy is All",
		"--as-group=gatehouse:administrators": "naming Secret warehouse-credentials (spec.credentials.secretRef): it may not read that Secret itself",
	} {
		user := "--as=carol"
		if strings.Contains(who, "administrators") {
			user = "--as=alice"
		}
		cmd := exec.Command("kubectl", "--kubeconfig", s.kubeconfig, user, who, "-n", "demo", "apply", "-f", "-")
		cmd.Stdin = strings.NewReader(scratch)
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), want) {
			t.Errorf("kubectl %s %s creating carols-scratch: %v\n%s\nwant a refusal saying %q", user, who, err, out, want)
		}
	}

	// Self-service: bob stores his own credential for the lake connection
	// (as kubectl gatehouse, with the shipped gatehouse-user role); the one
	// the samples gave him is replaced, and his status says it is ready.
	dir := t.TempDir()
	for k, v := range map[string]string{"accessKeyId": "AKIABOBNEW", "secretAccessKey": "bobs-new-key-4711"} {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	asBob := []string{"-n", "demo", "--as=bob@acme.example", "--as-group=platform-users"}
	set := exec.Command("kubectl", append([]string{"gatehouse", "credentials", "set", "lake",
		"--from-file", "accessKeyId=" + filepath.Join(dir, "accessKeyId"), "--from-file", "secretAccessKey=" + filepath.Join(dir, "secretAccessKey")}, asBob...)...)
	set.Env = append(environWithout("KUBECONFIG"), "KUBECONFIG="+s.kubeconfig)
	if out, err := set.CombinedOutput(); err != nil || !strings.Contains(string(out), "Stored bob's credential for Connection lake") {
		t.Errorf("kubectl gatehouse credentials set lake as bob: %v\n%s", err, out)
	}
	eventuallyTrue(t, "the sample's lake-bob Secret replaced", func() bool {
		out, _ := exec.Command("kubectl", "--kubeconfig", s.kubeconfig, "-n", "demo", "get", "secret", "lake-bob").CombinedOutput()
		return strings.Contains(string(out), "NotFound")
	})
	list := exec.Command("kubectl", append([]string{"gatehouse", "credentials", "list"}, asBob...)...)
	list.Env = set.Env
	if out, err := list.CombinedOutput(); err != nil || !strings.Contains(string(out), "lake") || !strings.Contains(string(out), "true") {
		t.Errorf("kubectl gatehouse credentials list as bob: %v\n%s", err, out)
	}
	// carol cannot store one in bob's name.
	theft := exec.Command("kubectl", "--kubeconfig", s.kubeconfig, "--as=carol", "--as-group=platform-users", "-n", "demo", "create", "-f", "-")
	theft.Stdin = strings.NewReader(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"lake-bob-2","labels":{"iam.gatehouse.dev/connection":"lake","iam.gatehouse.dev/user":"bob"}},
		"stringData":{"accessKeyId":"x","secretAccessKey":"y"}}`)
	if out, err := theft.CombinedOutput(); err == nil || !strings.Contains(string(out), "it is User bob's credential") {
		t.Errorf("carol storing a credential as bob's: %v\n%s", err, out)
	}

	// The namespace can be deleted, Shares and all: kube-controller-manager's
	// namespace controller is admitted by every webhook (gatehouse dev runs
	// it, as each of its controllers' own ServiceAccount).
	kubectl(t, s.kubeconfig, "delete", "namespace", "demo", "--wait=true", "--timeout=90s")
	if out, err := exec.Command("kubectl", "--kubeconfig", s.kubeconfig, "get", "namespace", "demo").CombinedOutput(); err == nil || !strings.Contains(string(out), "NotFound") {
		t.Errorf("namespace demo is still there after kubectl delete: %v\n%s", err, out)
	}

	// The audit log says what changed for carol and why.
	eventuallyTrue(t, "the audit log records carol's new access", func() bool {
		b, _ := os.ReadFile(auditLog)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, `"user":"carol"`) && strings.Contains(l, `"resource":"connection/warehouse"`) && strings.Contains(l, `"User carol changed"`) {
				return true
			}
		}
		return false
	})

}

// startCluster starts a bare control plane (no CRDs), standing in for a
// real cluster, and returns its administrator kubeconfig. It stops with the
// test.
func startCluster(t *testing.T) string {
	t.Helper()
	cluster, err := controlplane.Start(controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := cluster.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// TestDevExistingCluster is `make run` with KUBECONFIG pointing at a cluster:
// CRDs are installed there, the manager runs, no samples are applied.
func TestDevExistingCluster(t *testing.T) {
	kubeconfig := startCluster(t)

	s := startDev(t, append(environWithout("KUBECONFIG"), "KUBECONFIG="+kubeconfig), "--samples", "../../config/samples")
	if s.kubeconfig != kubeconfig {
		t.Errorf("gatehouse dev printed KUBECONFIG=%s, want the cluster's %s", s.kubeconfig, kubeconfig)
	}
	crds := kubectl(t, kubeconfig, "get", "crd", "-o", "name")
	for _, k := range []string{"users", "groups", "licenses", "directories", "connections", "resourcegrants", "shares"} {
		if !strings.Contains(crds, "customresourcedefinition.apiextensions.k8s.io/"+k+".iam.gatehouse.dev") {
			t.Errorf("CRD %s.iam.gatehouse.dev was not installed:\n%s", k, crds)
		}
	}
	if ns := kubectl(t, kubeconfig, "get", "ns", "-o", "name"); strings.Contains(ns, "namespace/demo") {
		t.Errorf("samples were applied to an existing cluster; they must not be")
	}
	s.stop(t)
	if _, err := os.Stat(kubeconfig); err != nil {
		t.Errorf("the cluster's kubeconfig must be left alone: %v", err)
	}
}

// TestKustomizeInstall applies config/default as a platform team would:
// `kubectl apply -k`, server-side, first as a dry run and then for real. No
// pods run here; the API server accepting every object is what is checked.
// (A server-side dry run of a fresh install cannot pass: its namespace does
// not exist yet; so the dry run checks the re-apply.)
func TestKustomizeInstall(t *testing.T) {
	kubeconfig := startCluster(t)
	kubectl(t, kubeconfig, "apply", "--server-side", "-k", "../../config/default")
	// Applying again changes nothing and is accepted (what a GitOps sync does).
	kubectl(t, kubeconfig, "apply", "--server-side", "--dry-run=server", "-k", "../../config/default")
	kubectl(t, kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
	deploy := kubectl(t, kubeconfig, "get", "deployment", "gatehouse-manager", "-n", "gatehouse-system", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
	if deploy != "ghcr.io/gatehouse-dev/gatehouse:v0.1.0" {
		t.Errorf("the manager's image is %q", deploy)
	}
	// The CRDs are served, but no operator pod runs here, and every
	// perimeter webhook fails closed: a security check is never skipped.
	// The samples' Namespace, RBAC and unmarked Secrets apply; no Gatehouse
	// object does, nor a Secret marked for Gatehouse.
	out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "apply", "--server-side", "-k", "../../config/samples").CombinedOutput()
	for _, hook := range []string{"users", "groups", "licenses", "shares", "resourcegrants", "directories", "connections", "secrets"} {
		if err == nil || !strings.Contains(string(out), `failed calling webhook "`+hook+`.iam.gatehouse.dev"`) {
			t.Errorf("with no operator running, applying the samples' %s: %v\n%s", hook, err, out)
		}
	}
	if objs := kubectl(t, kubeconfig, "get", "pu,pg,lic,share,rg,dir", "-n", "demo", "-o", "name"); strings.TrimSpace(objs) != "" {
		t.Errorf("objects were admitted with no webhook answering:\n%s", objs)
	}
	// The break-glass group of the perimeter ConfigMap is in the webhooks.
	if expr := kubectl(t, kubeconfig, "get", "validatingwebhookconfiguration", "gatehouse-validating-webhook-configuration",
		"-o", `jsonpath={.webhooks[?(@.name=="shares.iam.gatehouse.dev")].matchConditions[0].expression}`); expr != "!('gatehouse:break-glass' in request.userInfo.groups)" {
		t.Errorf("the Share webhook's matchCondition is %q", expr)
	}
}

// eventuallyTrue polls cond for up to 30 s.
func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Errorf("%s: not so after 30s", what)
}
