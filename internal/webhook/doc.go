// Package webhook is the tree of the API server's webhooks that Gatehouse
// serves, one package per kind of webhook, side by side:
//
//	internal/webhook/admission  validating admission: every write judged
//	                            for the identity making it (today)
//
// The TokenReview (authentication) and SubjectAccessReview (authorization)
// webhooks of the identity and decision-point issues go here too, beside
// admission, each asking internal/access for its rules. How each webhook
// is scoped (matchConditions, objectSelector) is written once, in
// config/webhook/scoping.go.
package webhook
