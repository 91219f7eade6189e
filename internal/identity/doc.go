// Package identity is the room of Gatehouse's identity service: the OpenID
// Provider that people log in through and that kube-apiserver and the
// platform's services trust (SPEC.md, "Identity: Gatehouse logs people
// in"). It holds no code yet; issue 26 builds it here, one package per job
// under this tree, each pure where it can be:
//
//	internal/identity/provider  the OpenID Provider (discovery, JWKS, the
//	                            authorization code, refresh, device and
//	                            logout flows) on a maintained library
//	internal/identity/login     the login page and its sessions
//	internal/identity/password  local passwords (PBKDF2-HMAC-SHA-512)
//	internal/identity/mfa       one-time codes (TOTP)
//
// What a person logs in with is not internal/outbound, which holds the
// credentials Gatehouse's Connections use to reach data systems; the
// decisions stay in internal/access, and the TokenReview and authorization
// webhooks sit beside admission under internal/webhook.
package identity
