package e2e

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	webhookconfig "github.com/gatehouse-dev/gatehouse/config/webhook"
)

// gatehouseResources are every iam.gatehouse.dev resource the CRDs serve.
var gatehouseResources = []string{"licenses", "users", "groups", "directories", "connections", "resourcegrants", "shares"}

// warningOnly are the resources whose webhook only warns (and so fails
// open); every other resource and every status is a perimeter rule.
var warningOnly = []string{}

// coverage is, for each "resource operation" (resource or resource/status,
// CREATE, UPDATE or DELETE), the webhooks that judge it: name, failure
// policy and match conditions.
func coverage(cfg *admissionregistrationv1.ValidatingWebhookConfiguration) map[string][]string {
	out := map[string][]string{}
	for _, w := range cfg.Webhooks {
		var conds []string
		for _, c := range w.MatchConditions {
			conds = append(conds, c.Name+"="+c.Expression)
		}
		desc := fmt.Sprintf("%s policy=%s conditions=%v", w.Name, *w.FailurePolicy, conds)
		if w.ObjectSelector != nil && len(w.ObjectSelector.MatchExpressions)+len(w.ObjectSelector.MatchLabels) > 0 {
			desc += fmt.Sprintf(" objectSelector=%v", w.ObjectSelector)
		}
		for _, r := range w.Rules {
			if !slices.Contains(r.APIGroups, "iam.gatehouse.dev") && !slices.Contains(r.APIGroups, "*") {
				continue
			}
			for _, res := range gatehouseResources {
				for _, sub := range []string{res, res + "/status"} {
					if !matches(r.Resources, sub) {
						continue
					}
					for _, op := range []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete} {
						if slices.Contains(r.Operations, op) || slices.Contains(r.Operations, admissionregistrationv1.OperationAll) {
							key := sub + " " + string(op)
							out[key] = append(out[key], desc)
						}
					}
				}
			}
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

func matches(patterns []string, resource string) bool {
	main, sub, _ := strings.Cut(resource, "/")
	for _, p := range patterns {
		pm, ps, _ := strings.Cut(p, "/")
		if (pm == "*" || pm == main) && (ps == sub || (ps == "*" && sub != "")) {
			return true
		}
	}
	return false
}

// TestWebhookCoverage renders the webhook configuration the three ways it
// is installed (kustomize's config/default, the Helm chart, and the one
// embedded for the tests and gatehouse dev) and checks that every
// iam.gatehouse.dev resource and status, for every operation, is judged
// identically by all three, that every perimeter rule fails closed, and that
// the break-glass group is exempted from the Share and ResourceGrant
// webhooks only.
func TestWebhookCoverage(t *testing.T) {
	embedded, err := webhookconfig.Load(webhookconfig.DefaultBreakGlassGroup)
	if err != nil {
		t.Fatal(err)
	}
	kout, err := exec.Command("kubectl", "kustomize", "../../config/default").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize config/default: %v\n%s", err, kout)
	}
	var fromKustomize, fromHelm admissionregistrationv1.ValidatingWebhookConfiguration
	parseManifests(t, string(kout)).get(t, "ValidatingWebhookConfiguration", webhookconfig.Name, &fromKustomize)
	parseManifests(t, helm(t, "template", "gatehouse", chartDir)).get(t, "ValidatingWebhookConfiguration", webhookconfig.Name, &fromHelm)

	want := coverage(embedded)
	for name, cfg := range map[string]*admissionregistrationv1.ValidatingWebhookConfiguration{"kustomize": &fromKustomize, "helm": &fromHelm} {
		got := coverage(cfg)
		for _, res := range gatehouseResources {
			for _, sub := range []string{res, res + "/status"} {
				for _, op := range []string{"CREATE", "UPDATE", "DELETE"} {
					key := sub + " " + op
					if !slices.Equal(got[key], want[key]) {
						t.Errorf("%s: %s is judged by %v, the embedded configuration by %v", name, key, got[key], want[key])
					}
				}
			}
		}
	}
	for _, res := range gatehouseResources {
		for _, sub := range []string{res, res + "/status"} {
			for _, op := range []string{"CREATE", "UPDATE", "DELETE"} {
				key := sub + " " + op
				hooks := want[key]
				if slices.Contains(warningOnly, sub) {
					if op != "DELETE" && len(hooks) == 0 {
						t.Errorf("%s: no webhook warns", key)
					}
					continue
				}
				if len(hooks) != 1 || !strings.Contains(hooks[0], "policy=Fail") {
					t.Errorf("%s is judged by %v; want one webhook that fails closed", key, hooks)
					continue
				}
				glass := strings.Contains(hooks[0], webhookconfig.MatchConditionName)
				if exempt := res == "shares" || res == "resourcegrants"; glass != (exempt && sub == res) {
					t.Errorf("%s: break-glass exemption %v, want %v (%v)", key, glass, exempt && sub == res, hooks)
				}
			}
		}
	}
	// The Secret webhooks judge only Gatehouse's Secrets, in all three.
	selectors := map[string]*metav1.LabelSelector{
		"secrets.iam.gatehouse.dev": {MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: iamv1alpha1.LabelCredentialFor, Operator: metav1.LabelSelectorOpExists}}},
		"usercredentials.iam.gatehouse.dev": {MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: iamv1alpha1.LabelUser, Operator: metav1.LabelSelectorOpExists}}},
	}
	for name, cfg := range map[string]*admissionregistrationv1.ValidatingWebhookConfiguration{"embedded": embedded, "kustomize": &fromKustomize, "helm": &fromHelm} {
		found := 0
		for _, w := range cfg.Webhooks {
			want, ok := selectors[w.Name]
			if !ok {
				continue
			}
			found++
			if w.ObjectSelector == nil || fmt.Sprint(w.ObjectSelector.MatchExpressions) != fmt.Sprint(want.MatchExpressions) ||
				*w.FailurePolicy != admissionregistrationv1.Fail {
				t.Errorf("%s: webhook %s judges %v with policy %s; want only %v, failing closed", name, w.Name, w.ObjectSelector, *w.FailurePolicy, want)
			}
		}
		if found != len(selectors) {
			t.Errorf("%s: %d of the %d Secret webhooks", name, found, len(selectors))
		}
	}
	// A different break-glass group renders into Helm's matchConditions.
	var custom admissionregistrationv1.ValidatingWebhookConfiguration
	parseManifests(t, helm(t, "template", "gatehouse", chartDir, "--set", "breakGlass.group=oncall:glass")).
		get(t, "ValidatingWebhookConfiguration", webhookconfig.Name, &custom)
	if got := coverage(&custom)["shares UPDATE"]; len(got) != 1 || !strings.Contains(got[0], "!('oncall:glass' in request.userInfo.groups)") {
		t.Errorf("helm --set breakGlass.group=oncall:glass: shares UPDATE judged by %v", got)
	}
}
