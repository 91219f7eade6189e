// Package webhook embeds the ValidatingWebhookConfiguration that
// controller-gen generates from the markers of internal/webhook/admission, so that
// the tests and the local control plane install exactly what the
// kustomize and Helm installs do; scoping.go is the one definition of how
// far each webhook reaches (break-glass exemption, Secret selectors), which
// all three installs apply.
package webhook

import (
	_ "embed"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
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

// Load returns the configuration, named Name, scoped (Apply) for the
// break-glass group.
func Load(breakGlassGroup string) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := yaml.UnmarshalStrict(manifests, cfg); err != nil {
		return nil, fmt.Errorf("the embedded webhook configuration does not parse: %w", err)
	}
	cfg.Name = Name
	if err := Apply(cfg.Webhooks, breakGlassGroup); err != nil {
		return nil, fmt.Errorf("cannot scope the embedded webhook configuration: %w", err)
	}
	return cfg, nil
}
