// Command manager is the Gatehouse operator: it reconciles the
// iam.gatehouse.dev kinds into status. Flags and wiring only; the logic lives
// in controllers/ and internal/.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	webhookconfig "github.com/gatehouse-dev/gatehouse/config/webhook"
	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/controllers/connection"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/certs"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/scheme"
	"github.com/gatehouse-dev/gatehouse/internal/webhook/admission"
)

// options are the manager's flags.
type options struct {
	metricsAddr      string
	metricsSecure    bool
	probeAddr        string
	pprofAddr        string
	leaderElect      bool
	leaderElectionNS string
	namespaces       string
	qps              float64
	burst            int
	enableHTTP2      bool
	concurrency      int
	auditLog         string
	webhooks         bool
	webhookHost      string
	webhookPort      int
	webhookCertDir   string
	webhookCerts     string
	webhookSecret    string
	webhookService   string
	webhookConfig    string
	adminGroups      string
	adminUsers       string
	breakGlassGroup  string
	testAllowedCIDRs string
	engineResync     time.Duration
	usersFirst       int
	zap              zap.Options
}

func (o *options) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443", "address of the metrics endpoint; \"0\" turns it off")
	fs.BoolVar(&o.metricsSecure, "metrics-secure", true, "serve metrics over HTTPS, authenticated and authorized by the API server")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz probes")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "", "address of Go's /debug/pprof endpoints, for profiling (default: off; bind it to 127.0.0.1 and port-forward)")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "elect a leader, so that only one replica reconciles at a time")
	fs.StringVar(&o.leaderElectionNS, "leader-election-namespace", "", "namespace of the leader-election Lease (default: the pod's own)")
	fs.StringVar(&o.namespaces, "namespaces", "", "comma-separated namespaces to watch (default: all)")
	fs.Float64Var(&o.qps, "kube-api-qps", 50, "queries per second to the API server")
	fs.IntVar(&o.burst, "kube-api-burst", 100, "burst of queries to the API server")
	fs.BoolVar(&o.enableHTTP2, "enable-http2", false, "serve metrics and webhooks over HTTP/2 (off: CVE-2023-44487)")
	fs.IntVar(&o.concurrency, "max-concurrent-reconciles", 4, "workers per controller")
	fs.StringVar(&o.auditLog, "audit-log", "-", "where the JSON audit log of permission changes goes: a file path (appended to), \"-\" for standard output, \"\" for nowhere")
	fs.BoolVar(&o.webhooks, "enable-webhooks", true, "serve the validating webhooks (sharing rules, grants, seats)")
	fs.StringVar(&o.webhookHost, "webhook-host", "", "address the webhook server listens on (default: all)")
	fs.IntVar(&o.webhookPort, "webhook-port", 9443, "port of the webhook server")
	fs.StringVar(&o.webhookCertDir, "webhook-cert-dir", filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs"), "directory with the webhook server's tls.crt and tls.key")
	fs.StringVar(&o.webhookCerts, "webhook-certs", "self-managed", "who provides the webhook certificate: \"self-managed\" (the operator keeps a self-signed CA in --webhook-secret, renews it, and sets the caBundle) or \"external\" (cert-manager or another writes --webhook-cert-dir)")
	fs.StringVar(&o.webhookSecret, "webhook-secret", "gatehouse-webhook-tls", "the Secret, in the operator's namespace, of the self-managed webhook certificate")
	fs.StringVar(&o.webhookConfig, "webhook-configuration", webhookconfig.Name, "the ValidatingWebhookConfiguration whose caBundle the self-managed certificate keeps current")
	fs.StringVar(&o.webhookService, "webhook-service", "gatehouse-webhook-service", "the webhook Service in the operator's namespace (the self-managed certificate's name)")
	fs.StringVar(&o.adminGroups, "admin-groups", "system:masters", "comma-separated groups whose members are Gatehouse administrators: exempt from the sharing, grant and seat rules, and the only ones who may change the License (a GitOps service account's group, for instance)")
	fs.StringVar(&o.adminUsers, "admin-users", "", "comma-separated usernames who are administrators as --admin-groups' members are (the operator's own identity always is)")
	fs.StringVar(&o.breakGlassGroup, "break-glass-group", webhookconfig.DefaultBreakGlassGroup, "the group exempted (by the webhook configuration's matchConditions, which must name the same group) from the Share and ResourceGrant webhooks only, so access can be revoked while the operator is down; distinct from --admin-groups, and no Group may map onto it")
	fs.StringVar(&o.testAllowedCIDRs, "connection-test-allowed-cidrs", "", "comma-separated address ranges (CIDR) of loopback, link-local or metadata addresses that personal connections (created by non-administrators) may still be tested against; none by default")
	fs.IntVar(&o.usersFirst, "users-first-backlog", controllers.DefaultUsersFirstBacklog, "while more User reconciles than this wait, the Share and ResourceGrant controllers (their reach counts) wait too, up to a minute each, so User statuses go first; 0 never waits")
	fs.DurationVar(&o.engineResync, "engine-resync-period", engine.DefaultResyncPeriod, "how often the permission engine compares its indexes with the cache and re-applies what an event missed: the longest a lost event leaves a status stale")
	o.zap.BindFlags(fs)
}

// allowedCIDRs parses --connection-test-allowed-cidrs.
func (o *options) allowedCIDRs() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range splitList(o.testAllowedCIDRs) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--connection-test-allowed-cidrs: %q is not an address range such as 127.0.0.0/8: %w", s, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func (o *options) validate() error {
	var errs []error
	if o.qps <= 0 {
		errs = append(errs, fmt.Errorf("--kube-api-qps must be positive, got %v", o.qps))
	}
	if o.concurrency < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrent-reconciles must be at least 1, got %d", o.concurrency))
	}
	if o.webhookCerts != "self-managed" && o.webhookCerts != "external" {
		errs = append(errs, fmt.Errorf("--webhook-certs must be self-managed or external, got %q", o.webhookCerts))
	}
	if err := webhookconfig.ValidateBreakGlassGroup(o.breakGlassGroup); err != nil {
		errs = append(errs, fmt.Errorf("--break-glass-group: %w", err))
	}
	if slices.Contains(splitList(o.adminGroups), o.breakGlassGroup) {
		errs = append(errs, fmt.Errorf("--break-glass-group %q is also in --admin-groups: the break-glass group is for outages only, keep it distinct from the everyday administrators", o.breakGlassGroup))
	}
	if _, err := o.allowedCIDRs(); err != nil {
		errs = append(errs, err)
	}
	if o.burst < 1 {
		errs = append(errs, fmt.Errorf("--kube-api-burst must be at least 1, got %d", o.burst))
	}
	if o.engineResync < time.Second {
		errs = append(errs, fmt.Errorf("--engine-resync-period must be at least 1s, got %v", o.engineResync))
	}
	if o.usersFirst < 0 {
		errs = append(errs, fmt.Errorf("--users-first-backlog must be 0 (never wait) or more, got %d", o.usersFirst))
	}
	return errors.Join(errs...)
}

func (o *options) watchedNamespaces() map[string]cache.Config {
	if o.namespaces == "" {
		return nil
	}
	m := map[string]cache.Config{}
	for _, ns := range strings.Split(o.namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			m[ns] = cache.Config{}
		}
	}
	return m
}

func main() {
	var o options
	o.bind(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	log := ctrl.Log.WithName("setup")
	if err := run(&o); err != nil {
		log.Error(err, "the manager stopped")
		os.Exit(1)
	}
}

func run(o *options) error {
	if err := o.validate(); err != nil {
		return err
	}
	if limit, ok, err := memoryLimit(os.Getenv("GOMEMLIMIT"), os.Getenv(envMemoryLimit)); err != nil {
		return err
	} else if ok {
		debug.SetMemoryLimit(limit)
		ctrl.Log.WithName("setup").Info("soft memory limit set from the container's limit", "bytes", limit)
	}
	mgr, err := newManager(o)
	if err != nil {
		return err
	}
	auditLog, closeAudit, err := openAudit(o.auditLog)
	if err != nil {
		return err
	}
	defer closeAudit()
	ctx := ctrl.SetupSignalHandler()
	cidrs, _ := o.allowedCIDRs() // validated above
	eng, err := controllers.Setup(ctx, mgr, controllers.Options{
		MaxConcurrentReconciles: o.concurrency, Audit: auditLog, Namespaces: splitList(o.namespaces),
		AdminGroups: append(splitList(o.adminGroups), o.breakGlassGroup),
		Connection:  connection.Options{TestAllowedCIDRs: cidrs},
		Engine:      engine.Options{ResyncPeriod: o.engineResync}, UsersFirstBacklog: o.usersFirst})
	if err != nil {
		return err
	}
	if err := setupWebhooks(ctx, mgr, o, eng, auditLog); err != nil {
		return err
	}
	if err := addChecks(mgr, o, eng); err != nil {
		return err
	}
	ctrl.Log.WithName("setup").Info("starting the manager",
		"namespaces", o.namespaces, "leaderElection", o.leaderElect, "qps", o.qps, "burst", o.burst)
	return mgr.Start(ctx)
}

// newManager creates the manager: its client, metrics and webhook servers,
// leader election and cache.
func newManager(o *options) (ctrl.Manager, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("cannot find the API server (in-cluster, or KUBECONFIG): %w", err)
	}
	cfg.QPS, cfg.Burst = float32(o.qps), o.burst
	cfg.UserAgent = "gatehouse-manager"

	var tlsOpts []func(*tls.Config)
	if !o.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metrics := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.metricsSecure, TLSOpts: tlsOpts}
	if o.metricsSecure {
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme.New(),
		Metrics: metrics,
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: o.webhookHost, Port: o.webhookPort, CertDir: o.webhookCertDir, TLSOpts: tlsOpts,
		}),
		HealthProbeBindAddress:        o.probeAddr,
		PprofBindAddress:              o.pprofAddr,
		LeaderElection:                o.leaderElect,
		LeaderElectionID:              "gatehouse.iam.gatehouse.dev",
		LeaderElectionNamespace:       o.leaderElectionNS,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			DefaultNamespaces: o.watchedNamespaces(),
			// Nothing reads managedFields; dropping them halves the cache.
			DefaultTransform: cache.TransformStripManagedFields(),
			// Of Secrets, Roles and RoleBindings only Gatehouse's own.
			ByObject: controllers.CacheByObject(),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cannot create the manager: %w", err)
	}
	return mgr, nil
}

// setupWebhooks registers the admission webhooks (and keeps their
// certificate current when it is self-managed), unless they are off.
func setupWebhooks(ctx context.Context, mgr ctrl.Manager, o *options, eng *engine.Engine, auditLog *audit.Logger) error {
	if !o.webhooks {
		return nil
	}
	if o.webhookCerts == "self-managed" {
		if err := selfManagedCerts(ctx, mgr, o); err != nil {
			return err
		}
	}
	admins := admission.Admins{Groups: splitList(o.adminGroups), Users: splitList(o.adminUsers), BreakGlass: o.breakGlassGroup}
	return admission.Setup(ctx, mgr, eng, admins, auditLog)
}

// addChecks adds the health and readiness checks: ready once the
// permission indexes are built from the initial lists (and the webhook
// server has started, when it runs).
func addChecks(mgr ctrl.Manager, o *options, eng *engine.Engine) error {
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("cannot add the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", func(*http.Request) error {
		select {
		case <-eng.Ready():
			return nil
		default:
			return errors.New("the permission indexes are not built yet")
		}
	}); err != nil {
		return fmt.Errorf("cannot add the ready check: %w", err)
	}
	if o.webhooks {
		if err := mgr.AddReadyzCheck("webhooks", mgr.GetWebhookServer().StartedChecker()); err != nil {
			return fmt.Errorf("cannot add the webhook ready check: %w", err)
		}
	}
	return nil
}

// selfManagedCerts makes the webhook certificate current before the server
// starts, and keeps it so.
func selfManagedCerts(ctx context.Context, mgr ctrl.Manager, o *options) error {
	ns := ownNamespace()
	if ns == "" {
		return errors.New("--webhook-certs=self-managed needs the operator's namespace: set POD_NAMESPACE (the Helm chart and config/default do), or use --webhook-certs=external")
	}
	c, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return fmt.Errorf("cannot create a client: %w", err)
	}
	svc := o.webhookService
	r := &certs.Rotator{
		Client: c, Secret: client.ObjectKey{Namespace: ns, Name: o.webhookSecret}, Dir: o.webhookCertDir,
		DNSNames:             []string{svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local", svc + "." + ns, svc},
		WebhookConfiguration: o.webhookConfig, Log: ctrl.Log.WithName("certs"),
	}
	if err := r.Ensure(ctx); err != nil {
		return err
	}
	return mgr.Add(r)
}

// ownNamespace is the namespace the operator runs in.
func ownNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// splitList splits a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// openAudit opens the audit log destination.
func openAudit(path string) (*audit.Logger, func(), error) {
	switch path {
	case "":
		return audit.Discard(), func() {}, nil
	case "-":
		return audit.NewLogger(os.Stdout), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open the audit log (--audit-log): %w", err)
	}
	return audit.NewLogger(f), func() { _ = f.Close() }, nil
}

// envMemoryLimit carries the container's memory limit in bytes (the
// Deployment sets it from resourceFieldRef limits.memory).
const envMemoryLimit = "GATEHOUSE_MEMORY_LIMIT"

// memoryLimit is the Go soft memory limit for a container limit: 90 % of
// it, so that the garbage collector works harder before the kernel kills
// the pod rather than after. An explicit GOMEMLIMIT wins (the runtime read
// it already), and no container limit sets nothing.
func memoryLimit(gomemlimit, container string) (int64, bool, error) {
	if gomemlimit != "" || container == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(container, 10, 64)
	if err != nil || n <= 0 {
		return 0, false, fmt.Errorf("%s=%q is not a number of bytes; set it from the container's resourceFieldRef limits.memory, or remove it", envMemoryLimit, container)
	}
	return n / 10 * 9, true, nil
}
