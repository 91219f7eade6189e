package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/gatehouse-dev/gatehouse/config/crd"
	webhookconfig "github.com/gatehouse-dev/gatehouse/config/webhook"
)

const chartDir = "../../charts/gatehouse"

// helmCmd is bin/helm, built by hack/tools.sh when missing, with its
// configuration and cache in the test's temporary directory.
func helmCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := filepath.Abs("../../bin/helm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Log("bin/helm is missing: building it with hack/tools.sh helm")
		if out, err := exec.Command("../../hack/tools.sh", "helm").CombinedOutput(); err != nil {
			t.Fatalf("hack/tools.sh helm: %v\n%s", err, out)
		}
	}
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(environWithout("KUBECONFIG"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	return cmd
}

// helm runs bin/helm and returns its standard output; it fails the test
// when helm fails.
func helm(t *testing.T, args ...string) string {
	t.Helper()
	cmd := helmCmd(t, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// manifests is a `helm template` output, by kind and name.
type manifests map[string][]byte

func parseManifests(t *testing.T, out string) manifests {
	t.Helper()
	m := manifests{}
	for _, doc := range strings.Split(out, "\n---\n") {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("helm template printed YAML that does not parse: %v\n%s", err, doc)
		}
		if meta.Kind == "" {
			continue
		}
		key := meta.Kind + "/" + meta.Metadata.Name
		if _, dup := m[key]; dup {
			t.Errorf("helm template renders %s twice", key)
		}
		m[key] = []byte(doc)
	}
	return m
}

// get decodes object kind/name into into (strictly: a field the type does
// not know is a mistake in the chart).
func (m manifests) get(t *testing.T, kind, name string, into any) {
	t.Helper()
	doc, ok := m[kind+"/"+name]
	if !ok {
		t.Fatalf("helm template renders no %s %s; it renders %v", kind, name, m.keys())
	}
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("%s %s does not decode: %v\n%s", kind, name, err, doc)
	}
}

func (m manifests) keys() []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (m manifests) count(kind string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, kind+"/") {
			n++
		}
	}
	return n
}

// TestHelmLint is `helm lint --strict`, with the default values and with
// every optional part on.
func TestHelmLint(t *testing.T) {
	helm(t, "lint", "--strict", chartDir)
	helm(t, "lint", "--strict", chartDir, "--set", "webhook.certManager.enabled=true",
		"--set", "metrics.serviceMonitor.enabled=true", "--set", "networkPolicy.enabled=true",
		"--set", "watchNamespaces={demo}", "--set", "replicas=1")
}

// TestHelmTemplateDefaults renders the chart into a namespace other than
// gatehouse-system, under a release name other than gatehouse, with some
// values set: what is rendered follows the release and the values.
func TestHelmTemplateDefaults(t *testing.T) {
	const ns = "iam"
	m := parseManifests(t, helm(t, "template", "acme", chartDir, "--namespace", ns,
		"--set", "watchNamespaces={demo,prod}", "--set", "logging.level=debug",
		"--set", "kubeAPI.qps=80", "--set", "kubeAPI.burst=160", "--set", "maxConcurrentReconciles=8",
		"--set", "admin.groups={system:masters,gitops}", "--set", "admin.users={flux}",
		"--set", "auditLog=/var/log/gatehouse/audit.log"))

	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	m.get(t, "ValidatingWebhookConfiguration", "acme-gatehouse-validating-webhook-configuration", &vwc)
	var svc corev1.Service
	m.get(t, "Service", "acme-gatehouse-webhook-service", &svc)
	if len(vwc.Webhooks) != 10 {
		t.Errorf("the webhook configuration has %d webhooks, want the 10 of config/webhook", len(vwc.Webhooks))
	}
	for _, w := range vwc.Webhooks {
		s := w.ClientConfig.Service
		if s == nil || s.Name != svc.Name || s.Namespace != ns {
			t.Errorf("webhook %s calls %+v, want Service %s/%s", w.Name, s, ns, svc.Name)
		}
		if w.NamespaceSelector == nil || len(w.NamespaceSelector.MatchExpressions) != 1 ||
			!slices.Equal(w.NamespaceSelector.MatchExpressions[0].Values, []string{"demo", "prod"}) {
			t.Errorf("webhook %s judges namespaces %+v, want the watched demo and prod", w.Name, w.NamespaceSelector)
		}
	}
	if _, ok := vwc.Annotations["cert-manager.io/inject-ca-from"]; ok {
		t.Errorf("without cert-manager, the webhook configuration asks cert-manager for its caBundle")
	}

	var role rbacv1.Role
	m.get(t, "Role", "acme-gatehouse-manager", &role)
	if role.Namespace != ns {
		t.Errorf("the manager's Role is in namespace %q, want the release's %q", role.Namespace, ns)
	}
	var binding rbacv1.RoleBinding
	m.get(t, "RoleBinding", "acme-gatehouse-manager", &binding)
	if binding.Namespace != ns || binding.Subjects[0].Namespace != ns || binding.Subjects[0].Name != "acme-gatehouse-manager" {
		t.Errorf("the RoleBinding is %s/%s for %+v, want the release's service account", binding.Namespace, binding.Name, binding.Subjects)
	}
	// The RBAC and CRDs are config/'s, regenerated (make verify checks the
	// files; this checks what helm makes of them).
	wantCluster, wantRole := generatedRoles(t)
	var clusterRole rbacv1.ClusterRole
	m.get(t, "ClusterRole", "acme-gatehouse-manager", &clusterRole)
	if diff := cmp.Diff(wantCluster.Rules, clusterRole.Rules); diff != "" {
		t.Errorf("the chart's ClusterRole differs from config/rbac/role.yaml (run make generate) (-config +chart):\n%s", diff)
	}
	if diff := cmp.Diff(wantRole.Rules, role.Rules); diff != "" {
		t.Errorf("the chart's Role differs from config/rbac/role.yaml (run make generate) (-config +chart):\n%s", diff)
	}
	crds, err := crd.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range crds {
		var got apiextensionsv1.CustomResourceDefinition
		m.get(t, "CustomResourceDefinition", want.Name, &got)
		if diff := cmp.Diff(want.Spec, got.Spec); diff != "" {
			t.Errorf("the chart's CRD %s differs from config/crd/bases (run make generate) (-config +chart):\n%s", want.Name, diff)
		}
		if got.Annotations["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s is not kept on helm uninstall: annotations %v", want.Name, got.Annotations)
		}
	}

	var d appsv1.Deployment
	m.get(t, "Deployment", "acme-gatehouse-manager", &d)
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2 by default", *d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != "acme-gatehouse-manager" {
		t.Errorf("the pod runs as %q", pod.ServiceAccountName)
	}
	c := pod.Containers[0]
	if c.Image != "ghcr.io/gatehouse-dev/gatehouse:v0.1.0" {
		t.Errorf("image %q, want the appVersion's", c.Image)
	}
	for _, arg := range []string{
		"--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081",
		"--namespaces=demo,prod", "--zap-log-level=debug", "--kube-api-qps=80", "--kube-api-burst=160",
		"--max-concurrent-reconciles=8", "--admin-groups=system:masters,gitops", "--admin-users=flux",
		"--audit-log=/var/log/gatehouse/audit.log",
		"--webhook-certs=self-managed", "--webhook-secret=acme-gatehouse-webhook-tls",
		"--webhook-service=" + svc.Name, "--webhook-cert-dir=/tmp/k8s-webhook-server/serving-certs",
		"--webhook-configuration=" + vwc.Name,
	} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("the manager's args %q lack %s", c.Args, arg)
		}
	}
	if len(c.Env) == 0 || c.Env[0].Name != "POD_NAMESPACE" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("the manager has no POD_NAMESPACE from the downward API: %+v", c.Env)
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("the pod's securityContext is %+v, want runAsNonRoot and seccomp RuntimeDefault", psc)
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("the manager's securityContext is %+v, want a read-only root, no escalation, all capabilities dropped", sc)
	}
	if len(c.VolumeMounts) == 0 || c.VolumeMounts[0].MountPath != "/tmp" || pod.Volumes[0].EmptyDir == nil {
		t.Errorf("no emptyDir at /tmp: mounts %+v, volumes %+v", c.VolumeMounts, pod.Volumes)
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes %s and %s, want /healthz and /readyz", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("the manager requests no resources: %+v", c.Resources)
	}
	if m.count("PodDisruptionBudget") != 1 {
		t.Errorf("two replicas and no PodDisruptionBudget")
	}
	var metrics corev1.Service
	m.get(t, "Service", "acme-gatehouse-metrics-service", &metrics)
	if p := metrics.Spec.Ports[0]; p.Port != 8443 || p.Name != "https" {
		t.Errorf("the metrics Service serves %+v, want https on 8443", p)
	}
	for _, kind := range []string{"ServiceMonitor", "NetworkPolicy", "Certificate", "Issuer"} {
		if n := m.count(kind); n != 0 {
			t.Errorf("the defaults render %d %s objects; it is off by default", n, kind)
		}
	}

	// One replica: no PodDisruptionBudget (it would block every drain);
	// crds.install=false: no CRDs.
	m = parseManifests(t, helm(t, "template", "acme", chartDir, "--namespace", ns, "--set", "replicas=1", "--set", "crds.install=false"))
	if n := m.count("PodDisruptionBudget"); n != 0 {
		t.Errorf("one replica and %d PodDisruptionBudgets", n)
	}
	if n := m.count("CustomResourceDefinition"); n != 0 {
		t.Errorf("crds.install=false renders %d CRDs", n)
	}
}

// generatedRoles are the ClusterRole and the Role of config/rbac/role.yaml.
func generatedRoles(t *testing.T) (*rbacv1.ClusterRole, *rbacv1.Role) {
	t.Helper()
	data, err := os.ReadFile("../../config/rbac/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cr rbacv1.ClusterRole
	var r rbacv1.Role
	for _, doc := range strings.Split(string(data), "\n---\n") {
		switch {
		case strings.Contains(doc, "\nkind: ClusterRole\n"):
			err = yaml.UnmarshalStrict([]byte(doc), &cr)
		case strings.Contains(doc, "\nkind: Role\n"):
			err = yaml.UnmarshalStrict([]byte(doc), &r)
		}
		if err != nil {
			t.Fatalf("config/rbac/role.yaml: %v", err)
		}
	}
	return &cr, &r
}

// TestHelmTemplateOptions renders cert-manager certificates, the
// ServiceMonitor and the NetworkPolicy.
func TestHelmTemplateOptions(t *testing.T) {
	const ns = "iam"
	m := parseManifests(t, helm(t, "template", "acme", chartDir, "--namespace", ns,
		"--set", "webhook.certManager.enabled=true", "--set", "metrics.serviceMonitor.enabled=true",
		"--set", "networkPolicy.enabled=true"))

	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	m.get(t, "ValidatingWebhookConfiguration", "acme-gatehouse-validating-webhook-configuration", &vwc)
	if got := vwc.Annotations["cert-manager.io/inject-ca-from"]; got != ns+"/acme-gatehouse-webhook" {
		t.Errorf("cert-manager.io/inject-ca-from is %q, want the Certificate %s/acme-gatehouse-webhook", got, ns)
	}
	var cert struct {
		Spec struct {
			SecretName string   `json:"secretName"`
			DNSNames   []string `json:"dnsNames"`
			IssuerRef  struct {
				Name string `json:"name"`
				Kind string `json:"kind"`
			} `json:"issuerRef"`
		} `json:"spec"`
	}
	if doc, ok := m["Certificate/acme-gatehouse-webhook"]; !ok {
		t.Fatalf("no Certificate acme-gatehouse-webhook; rendered %v", m.keys())
	} else if err := yaml.Unmarshal(doc, &cert); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cert.Spec.DNSNames, "acme-gatehouse-webhook-service."+ns+".svc") {
		t.Errorf("the Certificate is for %v, not the webhook Service", cert.Spec.DNSNames)
	}
	if _, ok := m["Issuer/"+cert.Spec.IssuerRef.Name]; !ok || cert.Spec.IssuerRef.Kind != "Issuer" {
		t.Errorf("the Certificate's issuer %+v is not rendered", cert.Spec.IssuerRef)
	}

	var d appsv1.Deployment
	m.get(t, "Deployment", "acme-gatehouse-manager", &d)
	c := d.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--webhook-certs=external") || slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--webhook-secret") }) {
		t.Errorf("with cert-manager, the manager's args are %q, want --webhook-certs=external", c.Args)
	}
	mounted := false
	for _, vm := range c.VolumeMounts {
		if vm.MountPath != "/tmp/k8s-webhook-server/serving-certs" {
			continue
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == vm.Name && v.Secret != nil && v.Secret.SecretName == cert.Spec.SecretName {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("cert-manager's Secret %s is not mounted at the webhook cert dir: %+v", cert.Spec.SecretName, c.VolumeMounts)
	}
	if n := m.count("ServiceMonitor"); n != 1 {
		t.Errorf("%d ServiceMonitors, want 1", n)
	}
	if n := m.count("NetworkPolicy"); n != 1 {
		t.Errorf("%d NetworkPolicies, want 1", n)
	}
}

// TestHelmValuesSchema: a wrong value fails at install time and says which.
func TestHelmValuesSchema(t *testing.T) {
	for name, tc := range map[string]struct {
		set  string
		want string
	}{
		"replicas as a word": {set: "replicas=two", want: "at '/replicas': got string, want integer"},
		"unknown log level":  {set: "logging.level=loud", want: "at '/logging/level'"},
		"misspelt key":       {set: "replicaCount=3", want: "additional properties 'replicaCount' not allowed"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := helmCmd(t, "template", "gatehouse", chartDir, "--set", tc.set).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("helm template --set %s: %v, want an error saying %q:\n%s", tc.set, err, tc.want, out)
			}
		})
	}
}

// TestHelmInstall installs the chart into a real API server as the README
// says, upgrades it (the caBundle the manager keeps survives), uninstalls it
// (the CRDs and the objects in them stay), then applies the rendered manifests
// with kubectl as a GitOps tool would: server-side, as a dry run and for
// real. No pods run here: what is checked is that the API server accepts
// every object.
func TestHelmInstall(t *testing.T) {
	kubeconfig := startCluster(t)
	const ns = "gatehouse-system"

	// First without the webhooks, so that the samples can be created with
	// no operator running (every perimeter webhook fails closed).
	notes := helm(t, "install", "gatehouse", chartDir, "--namespace", ns, "--create-namespace", "--wait=false", "--kubeconfig", kubeconfig,
		"--set", "webhook.enabled=false")
	if !strings.Contains(notes, "kubectl get pu") {
		t.Errorf("helm install printed no next steps:\n%s", notes)
	}
	kubectl(t, kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
	if crds := kubectl(t, kubeconfig, "get", "crd", "-l", "app.kubernetes.io/part-of=gatehouse", "-o", "name"); len(strings.Fields(crds)) != 7 {
		t.Errorf("helm install created the CRDs\n%s", crds)
	}
	kubectl(t, kubeconfig, "get", "-n", ns, "deployment/gatehouse-manager",
		"service/gatehouse-metrics-service", "role/gatehouse-manager", "rolebinding/gatehouse-manager",
		"serviceaccount/gatehouse-manager", "poddisruptionbudget/gatehouse-manager")
	kubectl(t, kubeconfig, "get", "clusterrole/gatehouse-manager", "clusterrolebinding/gatehouse-manager",
		"clusterrole/gatehouse-viewer", "clusterrole/gatehouse-user", "clusterrole/gatehouse-admin")
	kubectl(t, kubeconfig, "apply", "--server-side", "-k", "../../config/samples")
	helm(t, "upgrade", "gatehouse", chartDir, "--namespace", ns, "--reuse-values", "--set", "webhook.enabled=true", "--wait=false", "--kubeconfig", kubeconfig)
	kubectl(t, kubeconfig, "get", "validatingwebhookconfiguration/"+webhookconfig.Name)
	kubectl(t, kubeconfig, "get", "-n", ns, "service/gatehouse-webhook-service")
	// The webhooks are live: with no operator answering, a Share is refused.
	out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "-n", "demo", "annotate", "share", "sales", "x=y").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `failed calling webhook "shares.iam.gatehouse.dev"`) {
		t.Errorf("with no operator running, changing a Share: %v\n%s", err, out)
	}

	// The caBundle the manager sets survives a helm upgrade (helm patches
	// only what its manifests change).
	kubectl(t, kubeconfig, "patch", "validatingwebhookconfiguration", webhookconfig.Name, "--type=json",
		"-p", `[{"op":"add","path":"/webhooks/0/clientConfig/caBundle","value":"Q0E="}]`)
	helm(t, "upgrade", "gatehouse", chartDir, "--namespace", ns, "--reuse-values", "--set", "logging.level=debug", "--wait=false", "--kubeconfig", kubeconfig)
	if args := kubectl(t, kubeconfig, "get", "deployment", "gatehouse-manager", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].args}"); !strings.Contains(args, "--zap-log-level=debug") {
		t.Errorf("helm upgrade --set logging.level=debug: the manager's args are %s", args)
	}
	if ca := kubectl(t, kubeconfig, "get", "validatingwebhookconfiguration", webhookconfig.Name, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}"); ca != "Q0E=" {
		t.Errorf("helm upgrade reset the caBundle the manager keeps: %q", ca)
	}

	helm(t, "uninstall", "gatehouse", "--namespace", ns, "--kubeconfig", kubeconfig)
	if got := kubectl(t, kubeconfig, "get", "pu", "-n", "demo", "-o", "name"); len(strings.Fields(got)) != 6 {
		t.Errorf("helm uninstall deleted the CRDs or the Users in them; kubectl get pu shows:\n%s", got)
	}
	for _, kind := range []string{"deployments", "validatingwebhookconfigurations", "clusterroles"} {
		if got := kubectl(t, kubeconfig, "get", kind, "-A", "-l", "app.kubernetes.io/instance=gatehouse", "-o", "jsonpath={.items[*].metadata.name}"); got != "" {
			t.Errorf("helm uninstall left %s %s", kind, got)
		}
	}

	rendered := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(rendered, []byte(helm(t, "template", "gatehouse", chartDir, "--namespace", ns)), 0o600); err != nil {
		t.Fatal(err)
	}
	// The pods meet the restricted Pod Security Standard: the API server
	// warns about a Deployment whose pods would not.
	kubectl(t, kubeconfig, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted")
	kubectl(t, kubeconfig, "apply", "--server-side", "--dry-run=server", "-f", rendered)
	if out := kubectl(t, kubeconfig, "apply", "--server-side", "-f", rendered); strings.Contains(out, "PodSecurity") {
		t.Errorf("the manager's pods do not meet the restricted Pod Security Standard:\n%s", out)
	}
	kubectl(t, kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
	if image := kubectl(t, kubeconfig, "get", "deployment", "gatehouse-manager", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}"); image != "ghcr.io/gatehouse-dev/gatehouse:v0.1.0" {
		t.Errorf("the manager's image is %q", image)
	}
	kubectl(t, kubeconfig, "get", "validatingwebhookconfiguration/"+webhookconfig.Name, "-n", ns, "role/gatehouse-manager", "service/gatehouse-webhook-service")
}
