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
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/config/crd"
	"github.com/gatehouse-dev/gatehouse/internal/controlplane"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
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
	// ManagerArgs are extra manager flags.
	ManagerArgs []string
	// SamplesDir is applied into SamplesNamespace on a local control plane.
	SamplesDir string
	// SamplesNamespace is where samples without a namespace go.
	SamplesNamespace string
}

// Scheme knows the kinds `gatehouse dev` reads and writes.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = apiextensionsv1.AddToScheme(s)
	_ = iamv1alpha1.AddToScheme(s)
	return s
}

// Run runs a development session until ctx is cancelled or the manager
// exits. Everything it started is stopped before it returns.
func Run(ctx context.Context, opts Options) (err error) {
	out := opts.Out
	crds, err := crd.Load()
	if err != nil {
		return err
	}
	var (
		cfg            *rest.Config
		kubeconfigPath string
		local          = opts.Kubeconfig == ""
	)
	if local {
		fmt.Fprintf(out, ">> starting a local control plane (kube-apiserver %s and etcd)...\n", controlplane.KubernetesVersion)
		start := time.Now()
		cp, err := controlplane.Start(controlplane.Options{CRDs: crds, Output: opts.ControlPlaneOutput})
		if err != nil {
			return err
		}
		defer func() {
			fmt.Fprintln(out, ">> stopping the local control plane")
			err = errors.Join(err, cp.Stop(), removeFile(kubeconfigPath))
		}()
		kubeconfigPath, err = filepath.Abs(filepath.Join(opts.StateDir, "kubeconfig"))
		if err != nil {
			return fmt.Errorf("cannot resolve the state directory %s: %w", opts.StateDir, err)
		}
		if err := cp.WriteKubeconfig(kubeconfigPath); err != nil {
			return err
		}
		cfg = cp.Config
		fmt.Fprintf(out, ">> control plane ready in %s, CRDs installed (binaries from %s)\n", time.Since(start).Round(100*time.Millisecond), cp.AssetsDir)
	} else {
		kubeconfigPath = opts.Kubeconfig
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfigPath)
		if err != nil {
			return fmt.Errorf("cannot load the cluster from KUBECONFIG=%s: %w", kubeconfigPath, err)
		}
		fmt.Fprintf(out, ">> using the cluster of KUBECONFIG=%s (%s)\n", kubeconfigPath, cfg.Host)
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return fmt.Errorf("cannot create a client for %s: %w", cfg.Host, err)
	}
	if !local {
		fmt.Fprintln(out, ">> installing the Gatehouse CRDs (server-side apply)")
		if err := InstallCRDs(ctx, c, crds); err != nil {
			return err
		}
	}

	var manager *exec.Cmd
	exited := make(chan error, 1)
	if opts.ManagerPath != "" {
		manager = exec.Command(opts.ManagerPath, opts.ManagerArgs...)
		manager.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath)
		manager.Stdout, manager.Stderr = opts.ManagerOutput, opts.ManagerOutput
		// Its own process group: Ctrl-C reaches this process, which then
		// stops the manager in order, before the control plane.
		manager.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := manager.Start(); err != nil {
			return fmt.Errorf("cannot start the manager %s: %w", opts.ManagerPath, err)
		}
		go func() { exited <- manager.Wait() }()
		defer func() { err = errors.Join(err, stopManager(out, manager, exited)) }()
		fmt.Fprintf(out, ">> manager %s started (pid %d)\n", opts.ManagerPath, manager.Process.Pid)
	}

	if opts.SamplesDir != "" {
		if local {
			docs, err := manifest.ReadPaths(opts.SamplesDir)
			if err != nil {
				return err
			}
			if err := ApplyDocuments(ctx, c, docs, opts.SamplesNamespace); err != nil {
				return err
			}
			fmt.Fprintf(out, ">> applied %d sample objects from %s into namespace %s\n", len(docs), opts.SamplesDir, opts.SamplesNamespace)
		} else {
			fmt.Fprintf(out, ">> not applying samples to a real cluster; to try them: kubectl apply -k %s\n", opts.SamplesDir)
		}
	}

	ns := opts.SamplesNamespace
	fmt.Fprintf(out, `
Gatehouse is running. In another terminal:

  export KUBECONFIG=%s
  kubectl get pu,pg,lic,conn,share,rg -n %s
  kubectl get gatehouse -n %s -o wide
  kubectl describe users -n %s

Press Ctrl-C to stop; nothing is left running.
`, kubeconfigPath, ns, ns, ns)

	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "\n>> interrupted")
		return nil
	case werr := <-exited:
		exited <- werr // for stopManager
		return fmt.Errorf("the manager exited unexpectedly (%v); its log is above", werr)
	}
}

func stopManager(out io.Writer, cmd *exec.Cmd, exited chan error) error {
	select {
	case werr := <-exited: // already gone; Run reported it
		_ = werr
		return nil
	default:
	}
	fmt.Fprintln(out, ">> stopping the manager")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case werr := <-exited:
		if werr != nil {
			return fmt.Errorf("the manager did not stop cleanly: %w", werr)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		werr := <-exited
		return fmt.Errorf("the manager did not stop within 30s of SIGTERM and was killed (%v)", werr)
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
