// Package webhook embeds the ValidatingWebhookConfiguration that
// controller-gen generates from the markers of internal/admission, so that
// the tests and the local control plane install exactly what the
// kustomize and Helm installs do, break-glass exemption included.
package webhook

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

//go:embed manifests.yaml
var manifests []byte

// Name is the configuration's name once installed (config/webhook's namePrefix
// and the Helm chart give it the same one).
const Name = "gatehouse-validating-webhook-configuration"

// DefaultBreakGlassGroup is the break-glass group of every install unless
// configured otherwise (--break-glass-group; config/default's perimeter
// ConfigMap; the chart's breakGlass.group).
const DefaultBreakGlassGroup = "gatehouse:break-glass"

// BreakGlassWebhooks are the webhooks the break-glass group is exempted
// from, so that access can always be revoked while the operator is down:
// the fail-closed Share and ResourceGrant webhooks, and no other (identity,
// status and Secret rules are never exempt).
var BreakGlassWebhooks = []string{"shares.iam.gatehouse.dev", "resourcegrants.iam.gatehouse.dev"}

// MatchConditionName names the matchCondition that exempts the group.
const MatchConditionName = "not-break-glass"

// SecretMarkerWebhook judges the marker label of Secrets; its
// objectSelector (SecretMarkerSelector) keeps every other Secret of the
// cluster away from it, so that no Secret write depends on Gatehouse unless
// it concerns Gatehouse.
const SecretMarkerWebhook = "secrets.iam.gatehouse.dev"

// UserCredentialWebhook judges per-user credential Secrets; its
// objectSelector (UserCredentialSelector) is the per-user label.
const UserCredentialWebhook = "usercredentials.iam.gatehouse.dev"

// UserCredentialSelector selects the Secrets labelled as a user's
// credential, before or after the change.
var UserCredentialSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
	{Key: "iam.gatehouse.dev/user", Operator: metav1.LabelSelectorOpExists},
}}

// SecretMarkerSelector selects the Secrets that carry the marker, before or
// after the change.
var SecretMarkerSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
	{Key: "iam.gatehouse.dev/credential-for", Operator: metav1.LabelSelectorOpExists},
}}

var validGroup = regexp.MustCompile(`^[A-Za-z0-9:._@/-]+$`)

// ValidateBreakGlassGroup checks that group can be written into a CEL
// string literal as it is (and is a plausible API-server group).
func ValidateBreakGlassGroup(group string) error {
	if !validGroup.MatchString(group) {
		return fmt.Errorf("the break-glass group %q may hold only letters, digits and : . _ @ / -", group)
	}
	return nil
}

// MatchConditions are the conditions of the BreakGlassWebhooks: the
// request is judged unless its user is in group.
func MatchConditions(group string) []admissionregistrationv1.MatchCondition {
	return []admissionregistrationv1.MatchCondition{{
		Name:       MatchConditionName,
		Expression: fmt.Sprintf("!('%s' in request.userInfo.groups)", group),
	}}
}

// Load returns the configuration, named Name, with the break-glass group
// exempted from the BreakGlassWebhooks.
func Load(breakGlassGroup string) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	if err := ValidateBreakGlassGroup(breakGlassGroup); err != nil {
		return nil, err
	}
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := yaml.UnmarshalStrict(manifests, cfg); err != nil {
		return nil, fmt.Errorf("the embedded webhook configuration does not parse: %w", err)
	}
	cfg.Name = Name
	for i := range cfg.Webhooks {
		if slices.Contains(BreakGlassWebhooks, cfg.Webhooks[i].Name) {
			cfg.Webhooks[i].MatchConditions = MatchConditions(breakGlassGroup)
		}
		switch cfg.Webhooks[i].Name {
		case SecretMarkerWebhook:
			cfg.Webhooks[i].ObjectSelector = SecretMarkerSelector.DeepCopy()
		case UserCredentialWebhook:
			cfg.Webhooks[i].ObjectSelector = UserCredentialSelector.DeepCopy()
		}
	}
	return cfg, nil
}
