package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpgradeFromPreviousRelease: a cluster running the CRDs and samples of
// the commit before the perimeter landed (testdata/upgrade, taken from it
// unchanged), holding objects the new rules forbid (a second User standing
// for bob's identity, a Group mapped onto system:authenticated), takes the
// new CRDs and manager: the CRDs apply, every old object is still served
// and computed, the rule breakers are reported by conditions and by
// kubectl gatehouse check, and fixing them is admitted.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	kubeconfig := startCluster(t)
	kubectl(t, kubeconfig, "apply", "--server-side", "-f", "testdata/upgrade/crds")
	kubectl(t, kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
	kubectl(t, kubeconfig, "apply", "--server-side", "-k", "testdata/upgrade/samples")
	breakers := exec.Command("kubectl", "--kubeconfig", kubeconfig, "-n", "demo", "apply", "--server-side", "-f", "-")
	breakers.Stdin = strings.NewReader(`apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: mallory}
spec: {login: mallory, profile: reader, kubernetesUsername: bob@acme.example}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Group
metadata: {name: everyone}
spec: {kubernetesGroup: "system:authenticated"}
`)
	if out, err := breakers.CombinedOutput(); err != nil {
		t.Fatalf("the previous CRDs refuse the rule breakers: %v\n%s", err, out)
	}

	// The new CRDs and manager (gatehouse dev on an existing cluster
	// installs the CRDs by server-side apply).
	s := startDev(t, append(environWithout("KUBECONFIG"), "KUBECONFIG="+kubeconfig))
	kubectl(t, s.kubeconfig, "wait", "--for=condition=Ready", "--timeout=60s", "-n", "demo", "licenses,shares,resourcegrants", "--all")
	kubectl(t, s.kubeconfig, "wait", "--for=condition=Ready", "--timeout=60s", "-n", "demo", "pu/alice", "pu/carol", "pg/analysts")
	for _, who := range []string{"pu/bob", "pu/mallory"} {
		kubectl(t, s.kubeconfig, "wait", "--for=jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}=IdentityConflict", "--timeout=60s", "-n", "demo", who)
	}
	kubectl(t, s.kubeconfig, "wait", "--for=jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}=ForbiddenKubernetesGroup", "--timeout=60s", "-n", "demo", "pg/everyone")

	check := exec.Command("kubectl", "gatehouse", "check", "-n", "demo")
	check.Env = append(environWithout("KUBECONFIG"), "KUBECONFIG="+s.kubeconfig)
	out, err := check.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `together with User mallory`) || !strings.Contains(string(out), `kubernetesGroup "system:authenticated"`) {
		t.Errorf("kubectl gatehouse check after the upgrade: %v\n%s", err, out)
	}

	// Fixing them (the webhooks of a cluster would admit it; see
	// internal/webhook/admission TestRuleBreakersMayBeFixed) clears the reports.
	kubectl(t, s.kubeconfig, "-n", "demo", "delete", "pu/mallory", "pg/everyone")
	kubectl(t, s.kubeconfig, "wait", "--for=condition=Ready", "--timeout=60s", "-n", "demo", "pu/bob")
	if out, err := exec.Command(filepath.Join(binDir, "gatehouse"), "check", "-n", "demo", "--kubeconfig", s.kubeconfig).CombinedOutput(); err != nil {
		t.Errorf("gatehouse check after the fix: %v\n%s", err, out)
	}
}

// TestChangedWhileDownReported: a Share changed while no operator ran (as
// the break-glass group does in an outage) is reported when the operator
// starts again: a Warning Event on it and an audit line.
func TestChangedWhileDownReported(t *testing.T) {
	kubeconfig := startCluster(t)
	env := append(environWithout("KUBECONFIG"), "KUBECONFIG="+kubeconfig)
	first := startDev(t, env)
	kubectl(t, kubeconfig, "apply", "--server-side", "-k", "../../config/samples")
	kubectl(t, kubeconfig, "wait", "--for=condition=Ready", "--timeout=60s", "-n", "demo", "shares", "--all")
	first.stop(t)

	kubectl(t, kubeconfig, "-n", "demo", "patch", "share", "sales", "--type=json", "-p", `[{"op":"remove","path":"/spec/grantees/1"}]`)
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	second := startDev(t, env, "--manager-arg=--audit-log="+auditLog)
	defer second.stop(t)
	eventuallyTrue(t, "a ChangedWhileDown Event on Share sales", func() bool {
		out, _ := exec.Command("kubectl", "--kubeconfig", kubeconfig, "-n", "demo", "get", "events", "--field-selector",
			"reason=ChangedWhileDown,involvedObject.name=sales", "-o", "name").CombinedOutput()
		return strings.TrimSpace(string(out)) != ""
	})
	eventuallyTrue(t, "a ChangedWhileDown audit line for Share sales", func() bool {
		b, _ := os.ReadFile(auditLog)
		return strings.Contains(string(b), `"audit":"ChangedWhileDown"`) && strings.Contains(string(b), `"name":"sales"`)
	})
}
