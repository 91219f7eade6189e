package e2e

import (
	"io/fs"
	"os"
	"path"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	webhookconfig "github.com/gatehouse-dev/gatehouse/config/webhook"
)

// webhookScope is how far one webhook reaches beyond its rules.
type webhookScope struct {
	MatchConditions []admissionregistrationv1.MatchCondition
	ObjectSelector  *metav1.LabelSelector
}

// scopesOf is every webhook of cfg, by name, with its scoping.
func scopesOf(cfg *admissionregistrationv1.ValidatingWebhookConfiguration) map[string]webhookScope {
	out := map[string]webhookScope{}
	for _, w := range cfg.Webhooks {
		out[w.Name] = webhookScope{MatchConditions: w.MatchConditions, ObjectSelector: w.ObjectSelector}
	}
	return out
}

// kustomizeWithGroup builds config/default, with kustomize's library, from
// a copy of config/ whose perimeter ConfigMap names group as the
// break-glass group, and returns its webhook configuration.
func kustomizeWithGroup(t *testing.T, group string) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	err := fs.WalkDir(os.DirFS("../.."), "config", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path.Join("../..", p))
		if err != nil {
			return err
		}
		if p == "config/manager/perimeter.yaml" {
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict(b, &cm); err != nil {
				return err
			}
			cm.Data["break-glass-group"] = group
			if b, err = yaml.Marshal(&cm); err != nil {
				return err
			}
		}
		return mem.WriteFile("/"+p, b)
	})
	if err != nil {
		t.Fatalf("cannot copy config/: %v", err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, "/config/default")
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var cfg admissionregistrationv1.ValidatingWebhookConfiguration
	parseManifests(t, string(out)).get(t, "ValidatingWebhookConfiguration", webhookconfig.Name, &cfg)
	return &cfg
}

// TestWebhookScoping renders the webhook configuration the three ways it is
// installed, each with a break-glass group other than the default (config/
// default's perimeter ConfigMap, the chart's breakGlass.group, Load's
// argument), and checks that every webhook carries the same matchConditions
// and objectSelector in all three: config/webhook/scoping.go is rendered
// alike everywhere, and the group reaches every condition that names it.
func TestWebhookScoping(t *testing.T) {
	const group = "oncall:glass"
	embedded, err := webhookconfig.Load(group)
	if err != nil {
		t.Fatal(err)
	}
	var fromHelm admissionregistrationv1.ValidatingWebhookConfiguration
	parseManifests(t, helm(t, "template", "gatehouse", chartDir, "--set", "breakGlass.group="+group)).
		get(t, "ValidatingWebhookConfiguration", webhookconfig.Name, &fromHelm)
	want := scopesOf(embedded)
	if len(want) == 0 {
		t.Fatal("the embedded configuration has no webhooks")
	}
	for name, cfg := range map[string]*admissionregistrationv1.ValidatingWebhookConfiguration{
		"kustomize": kustomizeWithGroup(t, group), "helm": &fromHelm,
	} {
		if diff := cmp.Diff(want, scopesOf(cfg)); diff != "" {
			t.Errorf("%s scopes the webhooks otherwise than the embedded configuration (-embedded +%s):\n%s", name, name, diff)
		}
	}
}
