package webhook

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// scoping is what the kubebuilder markers of internal/webhook/admission cannot say
// about a webhook: the requests it is not called for (matchConditions) and
// the objects it sees (objectSelector). It is the one definition of the
// three installs: Load applies it for the tests and the local control
// plane, KustomizePatch renders it as config/webhook/matchconditions.yaml,
// and hack/chartgen renders it into the Helm chart. One line per webhook.
var scoping = map[string]Scope{
	// Access can always be revoked while the operator is down: the
	// fail-closed Share and ResourceGrant webhooks exempt the break-glass
	// group, and no other does (identity, status and Secret rules never).
	"shares.iam.gatehouse.dev":         {MatchConditions: []Condition{NotBreakGlass}},
	"resourcegrants.iam.gatehouse.dev": {MatchConditions: []Condition{NotBreakGlass}},
	// No Secret write of the cluster depends on Gatehouse unless it
	// concerns Gatehouse: the marker's webhook sees only marked Secrets,
	// the per-user credential webhook only Secrets labelled as a user's.
	"secrets.iam.gatehouse.dev":         {ObjectSelector: labelExists(iamv1alpha1.LabelCredentialFor)},
	"usercredentials.iam.gatehouse.dev": {ObjectSelector: labelExists(iamv1alpha1.LabelUser)},
}

// Scope is how one webhook is scoped beyond its rules.
type Scope struct {
	// MatchConditions are the conditions a request must meet for the
	// webhook to be called, in order.
	MatchConditions []Condition
	// ObjectSelector, when set, selects the objects (before or after the
	// change) the webhook is called for.
	ObjectSelector *metav1.LabelSelector
}

// Condition is a matchCondition whose CEL expression may name the
// install's break-glass group.
type Condition struct {
	// Name is the matchCondition's name.
	Name string
	// Expression returns the CEL expression for the break-glass group.
	Expression func(breakGlassGroup string) string
}

// MatchConditionName names the matchCondition that exempts the break-glass
// group (config/default's replacement writes the group into it).
const MatchConditionName = "not-break-glass"

// NotBreakGlass exempts the break-glass group: the request is judged
// unless its user is in the group.
var NotBreakGlass = Condition{Name: MatchConditionName, Expression: func(group string) string {
	return fmt.Sprintf("!('%s' in request.userInfo.groups)", group)
}}

// labelExists selects the objects that carry the label key.
func labelExists(key string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: key, Operator: metav1.LabelSelectorOpExists},
	}}
}

// Scoped returns the names of the webhooks the scoping definition scopes,
// sorted.
func Scoped() []string {
	return slices.Sorted(maps.Keys(scoping))
}

// MatchConditions returns the matchConditions of the named webhook for the
// break-glass group, nil when it has none.
func MatchConditions(webhook, breakGlassGroup string) []admissionregistrationv1.MatchCondition {
	var out []admissionregistrationv1.MatchCondition
	for _, c := range scoping[webhook].MatchConditions {
		out = append(out, admissionregistrationv1.MatchCondition{Name: c.Name, Expression: c.Expression(breakGlassGroup)})
	}
	return out
}

// ObjectSelector returns the objectSelector of the named webhook, nil when
// it has none.
func ObjectSelector(webhook string) *metav1.LabelSelector {
	return scoping[webhook].ObjectSelector.DeepCopy()
}

// Apply scopes webhooks, as controller-gen generates them, for the
// break-glass group. It refuses a webhook of the definition that is missing
// from webhooks, or that its markers already scope (the definition would
// silently replace what they say).
func Apply(webhooks []admissionregistrationv1.ValidatingWebhook, breakGlassGroup string) error {
	if err := ValidateBreakGlassGroup(breakGlassGroup); err != nil {
		return err
	}
	missing := map[string]bool{}
	for name := range scoping {
		missing[name] = true
	}
	for i := range webhooks {
		w := &webhooks[i]
		if !missing[w.Name] {
			continue
		}
		delete(missing, w.Name)
		if len(w.MatchConditions) > 0 || w.ObjectSelector != nil {
			return fmt.Errorf("webhook %s already has matchConditions or an objectSelector; scope it in config/webhook/scoping.go only", w.Name)
		}
		w.MatchConditions = MatchConditions(w.Name, breakGlassGroup)
		w.ObjectSelector = ObjectSelector(w.Name)
	}
	if len(missing) > 0 {
		return fmt.Errorf("config/webhook/scoping.go scopes webhooks that internal/webhook/admission does not declare: %s",
			strings.Join(slices.Sorted(maps.Keys(missing)), ", "))
	}
	return nil
}

var validGroup = regexp.MustCompile(`^[A-Za-z0-9:._@/-]+$`)

// ValidateBreakGlassGroup checks that group can be written into a CEL
// string literal as it is (and is a plausible API-server group).
func ValidateBreakGlassGroup(group string) error {
	if !validGroup.MatchString(group) {
		return fmt.Errorf("the break-glass group %q may hold only letters, digits and : . _ @ / -", group)
	}
	return nil
}
