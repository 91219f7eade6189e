package webhook

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// scopes is a configuration's scoping, by webhook name, for comparison.
type scopes map[string]struct {
	Conditions []admissionregistrationv1.MatchCondition
	Selector   *metav1.LabelSelector
}

func scopesOf(hooks []admissionregistrationv1.ValidatingWebhook) scopes {
	out := scopes{}
	for _, w := range hooks {
		if len(w.MatchConditions) > 0 || w.ObjectSelector != nil {
			out[w.Name] = struct {
				Conditions []admissionregistrationv1.MatchCondition
				Selector   *metav1.LabelSelector
			}{w.MatchConditions, w.ObjectSelector}
		}
	}
	return out
}

// TestLoad checks the embedded configuration's scoping against a witness
// written out here: the break-glass group is exempted from the Share and
// ResourceGrant webhooks only, and the Secret webhooks see only Gatehouse's
// Secrets.
func TestLoad(t *testing.T) {
	cfg, err := Load("oncall:glass")
	if err != nil {
		t.Fatal(err)
	}
	glass := []admissionregistrationv1.MatchCondition{{Name: "not-break-glass", Expression: "!('oncall:glass' in request.userInfo.groups)"}}
	exists := func(key string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: metav1.LabelSelectorOpExists}}}
	}
	want := scopes{
		"shares.iam.gatehouse.dev":          {Conditions: glass},
		"resourcegrants.iam.gatehouse.dev":  {Conditions: glass},
		"secrets.iam.gatehouse.dev":         {Selector: exists(iamv1alpha1.LabelCredentialFor)},
		"usercredentials.iam.gatehouse.dev": {Selector: exists(iamv1alpha1.LabelUser)},
	}
	if diff := cmp.Diff(want, scopesOf(cfg.Webhooks)); diff != "" {
		t.Errorf("scoping (-want +got):\n%s", diff)
	}
	if cfg.Name != Name {
		t.Errorf("named %q, want %q", cfg.Name, Name)
	}
}

func TestApplyRefusals(t *testing.T) {
	all := func() []admissionregistrationv1.ValidatingWebhook {
		var hooks []admissionregistrationv1.ValidatingWebhook
		for _, name := range Scoped() {
			hooks = append(hooks, admissionregistrationv1.ValidatingWebhook{Name: name})
		}
		return hooks
	}
	tests := map[string]struct {
		hooks   func() []admissionregistrationv1.ValidatingWebhook
		group   string
		wantErr string
	}{
		"a scoped webhook is missing": {func() []admissionregistrationv1.ValidatingWebhook { return all()[1:] }, DefaultBreakGlassGroup,
			"scopes webhooks that internal/webhook/admission does not declare: " + Scoped()[0]},
		"markers already scope one": {func() []admissionregistrationv1.ValidatingWebhook {
			h := all()
			h[0].ObjectSelector = &metav1.LabelSelector{}
			return h
		}, DefaultBreakGlassGroup, "webhook " + Scoped()[0] + " already has matchConditions or an objectSelector"},
		"a group CEL cannot hold": {all, "a'b", "may hold only letters"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Apply(tc.hooks(), tc.group)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if err := Apply(all(), DefaultBreakGlassGroup); err != nil {
		t.Errorf("every scoped webhook present: %v", err)
	}
}
