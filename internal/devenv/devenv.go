// Package devenv is `gatehouse dev` (and so `make run`): it starts a local
// control plane, or uses the cluster KUBECONFIG points at, installs the CRDs,
// runs the manager binary against it, applies the samples, and on
// cancellation stops everything it started.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatehouse-dev/gatehouse/config/crd"
	"github.com/gatehouse-dev/gatehouse/config/rbac"
	"github.com/gatehouse-dev/gatehouse/config/webhook"
	"github.com/gatehouse-dev/gatehouse/internal/controlplane"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
	"github.com/gatehouse-dev/gatehouse/internal/scheme"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// Options configure a development session.
type Options struct {
	// Out receives what a person reads: progress and the commands to try.
	Out io.Writer
	// ManagerOutput receives the manager's log; nil discards it.
	ManagerOutput io.Writer
	// ControlPlaneOutput receives kube-apiserver's and etcd's logs; nil
	// discards them.
	ControlPlaneOutput io.Writer
	// Kubeconfig, when set, is a real cluster to use instead of a local
	// control plane.
	Kubeconfig string
	// StateDir holds the local control plane's kubeconfig.
	StateDir string
	// ManagerPath is the manager binary; empty runs no manager.
	ManagerPath string
	// SamplesPostgres starts a local PostgreSQL for the samples' Global
	// PostgreSQL Connections (when its binaries are there) and points them
	// at it.
	SamplesPostgres bool
	// ManagerArgs are extra manager flags.
	ManagerArgs []string
	// SamplesDir is applied into SamplesNamespace on a local control plane.
	SamplesDir string
	// SamplesNamespace is where samples without a namespace go.
	SamplesNamespace string
}

// Run runs a development session until ctx is cancelled or the manager
// exits. Everything it started is stopped before it returns.
func Run(ctx context.Context, opts Options) (err error) {
	s := &session{opts: opts, out: opts.Out, local: opts.Kubeconfig == "", managerArgs: opts.ManagerArgs}
	defer func() { err = errors.Join(err, s.close()) }()
	// A step that fails because Ctrl-C arrived while it ran is a clean stop,
	// not an error of that step.
	interrupted := func(err error) error {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			fmt.Fprintln(s.out, "\n>> interrupted")
			return nil
		}
		return err
	}
	crds, err := crd.Load()
	if err != nil {
		return err
	}
	if s.local {
		err = s.startControlPlane(crds)
	} else {
		err = s.useCluster()
	}
	if err != nil {
		return err
	}
	c, err := client.New(s.cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return fmt.Errorf("cannot create a client for %s: %w", s.cfg.Host, err)
	}
	if !s.local {
		fmt.Fprintln(s.out, ">> installing the Gatehouse CRDs (server-side apply)")
		if err := InstallCRDs(ctx, c, crds); err != nil {
			return interrupted(err)
		}
	}
	// The ClusterRoles for people; on the local control plane also the
	// manager's own ServiceAccount and RBAC, which it then runs as.
	if err := InstallRBAC(ctx, c, s.local); err != nil {
		return interrupted(err)
	}
	newManager, err := s.startManager(ctx, c)
	if err != nil {
		return interrupted(err)
	}
	if err := s.applySamples(ctx, c); err != nil {
		return interrupted(err)
	}

	ns := opts.SamplesNamespace
	fmt.Fprintf(s.out, `
Gatehouse is running. In another terminal:

  export KUBECONFIG=%s
  kubectl get pu,pg,lic,conn,share,rg -n %s
  kubectl get gatehouse -n %s -o wide
  kubectl describe users -n %s

Press Ctrl-C to stop; nothing is left running.
`, s.kubeconfigPath, ns, ns, ns)

	if s.manager == nil {
		<-ctx.Done()
		fmt.Fprintln(s.out, "\n>> interrupted")
		return nil
	}
	return s.supervise(ctx, newManager)
}

// session is the state of one development session: what Run started, and
// how to stop it (cleanups, run last first).
type session struct {
	opts           Options
	out            io.Writer
	local          bool // a local control plane, not KUBECONFIG's cluster
	cfg            *rest.Config
	kubeconfigPath string
	managerArgs    []string
	webhookAddr    string   // where the manager serves its webhooks; "" if it does not
	manager        *process // the manager running now (the supervisor replaces it)
	cleanups       []func() error
}

// onClose adds a cleanup; close runs them in reverse order.
func (s *session) onClose(f func() error) { s.cleanups = append(s.cleanups, f) }

func (s *session) close() error {
	var err error
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		err = errors.Join(err, s.cleanups[i]())
	}
	return err
}

// startControlPlane starts kube-apiserver, etcd and kube-controller-manager
// on loopback ports and writes their kubeconfig into the state directory.
func (s *session) startControlPlane(crds []*apiextensionsv1.CustomResourceDefinition) error {
	fmt.Fprintf(s.out, ">> starting a local control plane (kube-apiserver %s, etcd, kube-controller-manager)...\n", controlplane.KubernetesVersion)
	start := time.Now()
	// With kube-controller-manager's namespace controller and garbage
	// collector, as a cluster has them: owner references act, and a
	// namespace can be deleted.
	cpOpts := controlplane.Options{CRDs: crds, Output: s.opts.ControlPlaneOutput, ControllerManager: true}
	if s.opts.ManagerPath != "" {
		// The API server calls the manager's webhooks on a loopback
		// port, with a certificate generated for it.
		wh, err := webhook.Load(webhook.DefaultBreakGlassGroup)
		if err != nil {
			return err
		}
		cpOpts.Webhooks = []*admissionregistrationv1.ValidatingWebhookConfiguration{wh}
	}
	cp, err := controlplane.Start(cpOpts)
	if err != nil {
		return err
	}
	if s.opts.ManagerPath != "" {
		s.webhookAddr = net.JoinHostPort(cp.Webhook.Host, strconv.Itoa(cp.Webhook.Port))
		s.managerArgs = append([]string{"--webhook-certs=external", "--webhook-host=" + cp.Webhook.Host, "--webhook-port=" + strconv.Itoa(cp.Webhook.Port),
			"--webhook-cert-dir=" + cp.Webhook.CertDir}, s.managerArgs...)
	}
	s.onClose(func() error {
		fmt.Fprintln(s.out, ">> stopping the local control plane")
		return errors.Join(cp.Stop(), removeFile(s.kubeconfigPath))
	})
	s.kubeconfigPath, err = filepath.Abs(filepath.Join(s.opts.StateDir, "kubeconfig"))
	if err != nil {
		return fmt.Errorf("cannot resolve the state directory %s: %w", s.opts.StateDir, err)
	}
	if err := cp.WriteKubeconfig(s.kubeconfigPath); err != nil {
		return err
	}
	s.cfg = cp.Config
	fmt.Fprintf(s.out, ">> control plane ready in %s, CRDs installed (binaries from %s)\n", time.Since(start).Round(100*time.Millisecond), cp.AssetsDir)
	return nil
}

// useCluster points the session at the cluster KUBECONFIG names.
func (s *session) useCluster() error {
	s.kubeconfigPath = s.opts.Kubeconfig
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfigPath)
	if err != nil {
		return fmt.Errorf("cannot load the cluster from KUBECONFIG=%s: %w", s.kubeconfigPath, err)
	}
	s.cfg = cfg
	fmt.Fprintf(s.out, ">> using the cluster of KUBECONFIG=%s (%s)\n", s.kubeconfigPath, cfg.Host)
	// The cluster's API server cannot call back into this machine: the
	// webhooks are the installed operator's business.
	s.managerArgs = append([]string{"--enable-webhooks=false"}, s.managerArgs...)
	return nil
}

// startManager starts the manager binary, if the session has one, as its
// own ServiceAccount on a local control plane, and waits until it serves
// its webhooks. newManager makes the command to restart it.
func (s *session) startManager(ctx context.Context, c client.Client) (newManager func() *exec.Cmd, err error) {
	if s.opts.ManagerPath == "" {
		return nil, nil
	}
	managerKubeconfigPath := s.kubeconfigPath
	if s.local {
		managerKubeconfigPath = filepath.Join(filepath.Dir(s.kubeconfigPath), "manager.kubeconfig")
		if err := managerKubeconfig(ctx, c, s.cfg, managerKubeconfigPath); err != nil {
			return nil, err
		}
		s.onClose(func() error { return removeFile(managerKubeconfigPath) })
		fmt.Fprintf(s.out, ">> the manager runs as ServiceAccount %s/%s, bound to its generated ClusterRole\n", rbac.Namespace, rbac.ServiceAccount)
	}
	newManager = func() *exec.Cmd {
		cmd := exec.Command(s.opts.ManagerPath, s.managerArgs...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+managerKubeconfigPath)
		cmd.Stdout, cmd.Stderr = s.opts.ManagerOutput, s.opts.ManagerOutput
		// Its own process group: Ctrl-C reaches this process, which then
		// stops the manager in order, before the control plane.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd
	}
	cmd := newManager()
	if s.manager, err = start(cmd); err != nil {
		return nil, fmt.Errorf("cannot start the manager %s: %w", s.opts.ManagerPath, err)
	}
	// The supervisor may replace the manager: stop the one running then.
	s.onClose(func() error { return s.manager.stop(s.out) })
	fmt.Fprintf(s.out, ">> manager %s started (pid %d)\n", s.opts.ManagerPath, cmd.Process.Pid)
	if s.webhookAddr != "" {
		if err := waitListening(ctx, s.webhookAddr, s.manager.done); err != nil {
			return newManager, err
		}
	}
	return newManager, nil
}

// applySamples applies the samples on a local control plane (with a local
// PostgreSQL for the warehouse Connection when asked), and says how to try
// them on a real cluster.
func (s *session) applySamples(ctx context.Context, c client.Client) error {
	if s.opts.SamplesDir == "" {
		return nil
	}
	if !s.local {
		fmt.Fprintf(s.out, ">> not applying samples to a real cluster; to try them: kubectl apply -k %s\n", s.opts.SamplesDir)
		return nil
	}
	docs, err := manifest.ReadPaths(s.opts.SamplesDir)
	if err != nil {
		return err
	}
	if s.opts.SamplesPostgres {
		stop := localPostgres(s.out, docs)
		s.onClose(func() error { stop(); return nil })
	}
	if err := ApplyDocuments(ctx, c, docs, s.opts.SamplesNamespace); err != nil {
		return err
	}
	fmt.Fprintf(s.out, ">> applied %s from %s into namespace %s\n", words.Count(len(docs), "sample object", "sample objects"), s.opts.SamplesDir, s.opts.SamplesNamespace)
	return nil
}

// supervise keeps the manager running until ctx is cancelled, as a
// cluster's kubelet would: a manager that exits is logged and started
// again after a back-off (1s, doubling to 30s, back to 1s once it ran a
// minute), and the control plane keeps running meanwhile. A restarted
// manager is announced once it serves its webhooks, as the first one is
// (a manager that exits before that is restarted again).
func (s *session) supervise(ctx context.Context, newManager func() *exec.Cmd) error {
	out := s.out
	backoff, started := time.Second, time.Now()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "\n>> interrupted")
			return nil
		case <-s.manager.done:
		}
		if time.Since(started) > time.Minute {
			backoff = time.Second
		}
		fmt.Fprintf(out, ">> the manager exited (%v); restarting it in %s, the control plane keeps running\n", s.manager.err, backoff)
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "\n>> interrupted")
			return nil
		case <-time.After(backoff):
		}
		cmd := newManager()
		p, err := start(cmd)
		if err != nil {
			return fmt.Errorf("cannot restart the manager: %w", err)
		}
		s.manager, started = p, time.Now()
		backoff = min(2*backoff, 30*time.Second)
		if s.webhookAddr != "" {
			if err := waitListening(ctx, s.webhookAddr, p.done); err != nil {
				if ctx.Err() != nil {
					fmt.Fprintln(out, "\n>> interrupted")
					return nil
				}
				fmt.Fprintf(out, ">> the restarted manager does not serve its webhooks: %v\n", err)
				continue // once it exits, the next turn restarts it
			}
		}
		fmt.Fprintf(out, ">> manager restarted (pid %d)\n", cmd.Process.Pid)
	}
}

// process is a child process and, once it has exited, how.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // what Wait returned; read after done
}

func start(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM and waits for the process, killing it after 30s. A
// process that had already exited was reported by Run.
func (p *process) stop(out io.Writer) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	fmt.Fprintln(out, ">> stopping the manager")
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("the manager did not stop cleanly: %w", p.err)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("the manager did not stop within 30s of SIGTERM and was killed (%v)", p.err)
	}
}

func removeFile(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("cannot remove %s: %w", path, err)
	}
	return nil
}

// waitListening waits until something accepts connections at addr (the
// manager's webhook server), the manager exits, or ctx ends.
func waitListening(ctx context.Context, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(time.Minute)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the manager's webhook server did not listen on %s within a minute: %w", addr, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("the manager exited before its webhook server started; its log above says why")
		case <-time.After(100 * time.Millisecond):
		}
	}
}
