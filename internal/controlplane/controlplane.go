// Package controlplane runs a local Kubernetes control plane — a real
// kube-apiserver and etcd, built from Go modules by hack/tools.sh — for
// `gatehouse dev`, `make run` and the tests. It wraps controller-runtime's
// envtest so that every user of it finds the binaries the same way.
package controlplane

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// KubernetesVersion is the version of kube-apiserver that hack/tools.sh
// builds (pinned in hack/tools/controlplane/go.mod; a test keeps the two
// equal).
const KubernetesVersion = "1.37.2"

// AssetsEnv is the environment variable that points at the directory holding
// kube-apiserver and etcd, as envtest understands it.
const AssetsEnv = "KUBEBUILDER_ASSETS"

var binaries = []string{"kube-apiserver", "etcd"}

// AssetsDir finds the directory holding kube-apiserver and etcd: the one
// KUBEBUILDER_ASSETS names, else bin/k8s/<version> in the enclosing
// repository or beside the running executable, else the build cache of
// hack/tools.sh.
func AssetsDir() (string, error) {
	if dir := os.Getenv(AssetsEnv); dir != "" {
		if err := hasBinaries(dir); err != nil {
			return "", fmt.Errorf("%s=%s: %w", AssetsEnv, dir, err)
		}
		return dir, nil
	}
	rel := filepath.Join("bin", "k8s", KubernetesVersion)
	var candidates []string
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, rel))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "k8s", KubernetesVersion))
	}
	if cache := cacheDir(); cache != "" {
		candidates = append(candidates, filepath.Join(cache, "k8s", KubernetesVersion))
	}
	for _, dir := range candidates {
		if hasBinaries(dir) == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("kube-apiserver and etcd for Kubernetes %s were not found: run `make controlplane` "+
		"(it builds them once into bin/k8s/%s, about 9 minutes the first time) or set %s to a directory holding them",
		KubernetesVersion, KubernetesVersion, AssetsEnv)
}

func cacheDir() string {
	if d := os.Getenv("GATEHOUSE_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "gatehouse")
	}
	return ""
}

func hasBinaries(dir string) error {
	var missing []error
	for _, b := range binaries {
		info, err := os.Stat(filepath.Join(dir, b))
		switch {
		case err != nil:
			missing = append(missing, fmt.Errorf("%s is missing", b))
		case info.Mode()&0o111 == 0:
			missing = append(missing, fmt.Errorf("%s is not executable", b))
		}
	}
	return errors.Join(missing...)
}

// Options configure a local control plane.
type Options struct {
	// AssetsDir holds kube-apiserver and etcd; empty means AssetsDir().
	AssetsDir string
	// CRDs are installed, and waited for, before Start returns.
	CRDs []*apiextensionsv1.CustomResourceDefinition
	// Output receives the processes' logs; nil discards them.
	Output io.Writer
	// Webhooks are installed pointing at a local webhook server, with a
	// generated serving certificate (see ControlPlane.Webhook).
	Webhooks []*admissionregistrationv1.ValidatingWebhookConfiguration
	// ControllerManager also runs kube-controller-manager (from AssetsDir)
	// with the namespace controller and the garbage collector, each as its
	// own ServiceAccount (--use-service-account-credentials), so that
	// namespaces can be deleted and owner references act as in a cluster.
	ControllerManager bool
}

// WebhookServing is where the API server expects the webhook server: the
// host and port to listen on and the directory holding tls.crt and tls.key.
type WebhookServing struct {
	Host    string
	Port    int
	CertDir string
}

// ControlPlane is a running kube-apiserver and etcd.
type ControlPlane struct {
	env *envtest.Environment
	kcm *exec.Cmd
	// kcmDone is closed when kube-controller-manager exits.
	kcmDone chan struct{}
	tmp     string
	// Config reaches the API server as a cluster administrator.
	Config *rest.Config
	// Kubeconfig is Config as a kubeconfig file.
	Kubeconfig []byte
	// AssetsDir is where the binaries came from.
	AssetsDir string
	// Webhook is where to serve the webhooks, when Options.Webhooks.
	Webhook WebhookServing
}

// Start starts kube-apiserver and etcd on free loopback ports, with RBAC
// authorization, and installs the CRDs.
func Start(opts Options) (*ControlPlane, error) {
	dir := opts.AssetsDir
	if dir == "" {
		var err error
		if dir, err = AssetsDir(); err != nil {
			return nil, err
		}
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    dir,
		CRDInstallOptions:        envtest.CRDInstallOptions{CRDs: opts.CRDs, ErrorIfPathMissing: true},
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
		WebhookInstallOptions:    envtest.WebhookInstallOptions{ValidatingWebhooks: opts.Webhooks},
	}
	if opts.Output != nil {
		api := env.ControlPlane.GetAPIServer()
		api.Out, api.Err = opts.Output, opts.Output
		env.ControlPlane.Etcd = &envtest.Etcd{Out: opts.Output, Err: opts.Output}
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("cannot start the local control plane from %s: %w", dir, err)
	}
	cp := &ControlPlane{env: env, Config: cfg, Kubeconfig: env.KubeConfig, AssetsDir: dir}
	if len(opts.Webhooks) > 0 {
		w := env.WebhookInstallOptions
		cp.Webhook = WebhookServing{Host: w.LocalServingHost, Port: w.LocalServingPort, CertDir: w.LocalServingCertDir}
	}
	if opts.ControllerManager {
		if err := cp.startControllerManager(opts.Output); err != nil {
			_ = env.Stop()
			return nil, err
		}
	}
	return cp, nil
}

// startControllerManager runs kube-controller-manager against the API
// server with the namespace controller and the garbage collector.
func (c *ControlPlane) startControllerManager(out io.Writer) error {
	bin := filepath.Join(c.AssetsDir, "kube-controller-manager")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("kube-controller-manager is not in %s: run `make controlplane` (it builds it beside kube-apiserver): %w", c.AssetsDir, err)
	}
	tmp, err := os.MkdirTemp("", "gatehouse-kcm-")
	if err != nil {
		return fmt.Errorf("cannot create a directory for kube-controller-manager: %w", err)
	}
	c.tmp = tmp
	kubeconfig := filepath.Join(tmp, "kubeconfig")
	if err := os.WriteFile(kubeconfig, c.Kubeconfig, 0o600); err != nil {
		return fmt.Errorf("cannot write kube-controller-manager's kubeconfig: %w", err)
	}
	cmd := exec.Command(bin, "--kubeconfig="+kubeconfig, "--controllers=namespace,garbagecollector",
		"--use-service-account-credentials", "--leader-elect=false", "--secure-port=0",
		"--concurrent-namespace-syncs=2", "--concurrent-gc-syncs=5", "--v=1")
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start kube-controller-manager: %w", err)
	}
	c.kcm, c.kcmDone = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(c.kcmDone) }()
	return nil
}

// WriteKubeconfig writes the administrator kubeconfig to path (mode 0600).
func (c *ControlPlane) WriteKubeconfig(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cannot create the directory of %s: %w", path, err)
	}
	if err := os.WriteFile(path, c.Kubeconfig, 0o600); err != nil {
		return fmt.Errorf("cannot write kubeconfig %s: %w", path, err)
	}
	return nil
}

// Stop stops the processes and removes their data.
func (c *ControlPlane) Stop() error {
	if c.kcm != nil {
		_ = c.kcm.Process.Signal(os.Interrupt)
		select {
		case <-c.kcmDone:
		case <-time.After(10 * time.Second):
			_ = c.kcm.Process.Kill()
			<-c.kcmDone
		}
	}
	if c.tmp != "" {
		_ = os.RemoveAll(c.tmp)
	}
	if err := c.env.Stop(); err != nil {
		return fmt.Errorf("cannot stop the local control plane: %w", err)
	}
	return nil
}
