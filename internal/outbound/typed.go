package outbound

import (
	corev1 "k8s.io/api/core/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// The typed credentials below keep their secret fields as Secret, which
// prints as <redacted> (or <empty>) whichever way it is printed, so a
// credential printed whole (fmt, logr, slog, encoding/json) shows its user
// names, token URLs, client ids and scopes and no secret. Access key ids are
// treated as secret. A new credential type holds every secret field as a
// Secret; TestEveryCredentialRedacts finds the types and holds them to it.

// Basic is a user name and password.
type Basic struct {
	// Username is the account name.
	Username string
	// Password is the account's password. Secret.
	Password Secret
}

// BasicFrom reads a Basic credential from secret. The error, an *Error, names
// the Secret and the key at fault.
func BasicFrom(secret *corev1.Secret) (Basic, error) {
	if err := Validate(iamv1alpha1.CredentialBasic, secret).Err(); err != nil {
		return Basic{}, err
	}
	s := view(secret)
	return Basic{Username: s.text(KeyUsername), Password: s.secret(KeyPassword)}, nil
}

// KeyPair is an access key (AccessKeyID and SecretAccessKey) or a private key
// (PrivateKey, with Passphrase when it is encrypted, and optionally the
// Username it belongs to). Exactly one of the two forms is set.
type KeyPair struct {
	// AccessKeyID is the access key id. Treated as secret.
	AccessKeyID Secret
	// SecretAccessKey is the secret access key. Secret.
	SecretAccessKey Secret
	// PrivateKey is the PEM-encoded private key. Secret.
	PrivateKey Secret
	// Passphrase decrypts PrivateKey, if it is encrypted. Secret.
	Passphrase Secret
	// Username is the account PrivateKey belongs to, if the Secret names it.
	Username string
}

// KeyPairFrom reads a KeyPair credential from secret. The error, an *Error,
// names the Secret and the key at fault.
func KeyPairFrom(secret *corev1.Secret) (KeyPair, error) {
	if err := Validate(iamv1alpha1.CredentialKeyPair, secret).Err(); err != nil {
		return KeyPair{}, err
	}
	s := view(secret)
	return KeyPair{
		AccessKeyID:     s.secret(KeyAccessKeyID),
		SecretAccessKey: s.secret(KeySecretAccessKey),
		PrivateKey:      s.secret(KeyPrivateKey),
		Passphrase:      s.secret(KeyPassphrase),
		Username:        s.text(KeyUsername),
	}, nil
}

// OAuth2 is a user's OAuth2 refresh token.
type OAuth2 struct {
	// RefreshToken is the refresh token. Secret.
	RefreshToken Secret
}

// OAuth2From reads an OAuth2 credential from secret. The error, an *Error,
// names the Secret and the key at fault.
func OAuth2From(secret *corev1.Secret) (OAuth2, error) {
	if err := Validate(iamv1alpha1.CredentialOAuth2, secret).Err(); err != nil {
		return OAuth2{}, err
	}
	return OAuth2{RefreshToken: view(secret).secret(KeyRefreshToken)}, nil
}

// OAuth2Client is the OAuth2 client of a Connection, with its secret read
// from the Secret its clientSecretRef names.
type OAuth2Client struct {
	// TokenURL is the token endpoint.
	TokenURL string
	// ClientID is the client id.
	ClientID string
	// ClientSecret is the client secret. Secret.
	ClientSecret Secret
	// Scopes are requested with each token.
	Scopes []string
}

// OAuth2ClientFrom combines the Connection's OAuth2 client with the client
// secret from secret, the Secret its clientSecretRef names. The error, an
// *Error, names the Secret and the key at fault.
func OAuth2ClientFrom(client iamv1alpha1.OAuth2Client, secret *corev1.Secret) (OAuth2Client, error) {
	if err := ValidateClientSecret(client.ClientSecretRef, secret).Err(); err != nil {
		return OAuth2Client{}, err
	}
	return OAuth2Client{
		TokenURL:     client.TokenURL,
		ClientID:     client.ClientID,
		ClientSecret: view(secret).secret(client.ClientSecretRef.Key),
		Scopes:       append([]string(nil), client.Scopes...),
	}, nil
}

// text returns the value of key as a string, "" when it is absent.
func (s secretView) text(key string) string {
	v, _ := s.value(key)
	return string(v)
}

// secret returns the value of key as a Secret, "" when it is absent.
func (s secretView) secret(key string) Secret { return Secret(s.text(key)) }
