package credentials

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// The typed credentials below print their secret fields as <redacted> (or
// <empty>) whichever way they are printed: fmt verbs (%v, %+v, %#v, %s, %q,
// %x...), logr (MarshalLog), slog (LogValue) and encoding/json. Only reading
// a field on purpose gives the value. User names, token URLs, client ids and
// scopes print as they are; access key ids are treated as secret.

// redactedText is what a secret field prints as.
const redactedText = "<redacted>"

// redact returns the printed form of a secret field.
func redact(v string) string {
	if v == "" {
		return "<empty>"
	}
	return redactedText
}

// Basic is a user name and password.
type Basic struct {
	// Username is the account name.
	Username string
	// Password is the account's password. Secret.
	Password string
}

// BasicFrom reads a Basic credential from secret. The error, an *Error, names
// the Secret and the key at fault.
func BasicFrom(secret *corev1.Secret) (Basic, error) {
	if err := Validate(iamv1alpha1.CredentialBasic, secret).Err(); err != nil {
		return Basic{}, err
	}
	s := view(secret)
	return Basic{Username: s.text(KeyUsername), Password: s.text(KeyPassword)}, nil
}

// String returns the credential with the password redacted.
func (b Basic) String() string {
	return "Basic{username: " + b.Username + ", password: " + redact(b.Password) + "}"
}

// GoString returns the credential in Go syntax with the password redacted.
func (b Basic) GoString() string {
	return "credentials.Basic{Username:" + strconv.Quote(b.Username) + ", Password:" + redact(b.Password) + "}"
}

// Format prints the credential redacted for every verb.
func (b Basic) Format(f fmt.State, verb rune) { format(f, verb, b.String(), b.GoString()) }

// MarshalLog is the redacted form for logr.
func (b Basic) MarshalLog() any { return b.String() }

// LogValue is the redacted form for log/slog.
func (b Basic) LogValue() slog.Value { return slog.StringValue(b.String()) }

// MarshalJSON marshals the redacted form: a credential is never serialised.
func (b Basic) MarshalJSON() ([]byte, error) { return json.Marshal(b.String()) }

// KeyPair is an access key (AccessKeyID and SecretAccessKey) or a private key
// (PrivateKey, with Passphrase when it is encrypted, and optionally the
// Username it belongs to). Exactly one of the two forms is set.
type KeyPair struct {
	// AccessKeyID is the access key id. Treated as secret.
	AccessKeyID string
	// SecretAccessKey is the secret access key. Secret.
	SecretAccessKey string
	// PrivateKey is the PEM-encoded private key. Secret.
	PrivateKey string
	// Passphrase decrypts PrivateKey, if it is encrypted. Secret.
	Passphrase string
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
		AccessKeyID:     s.text(KeyAccessKeyID),
		SecretAccessKey: s.text(KeySecretAccessKey),
		PrivateKey:      s.text(KeyPrivateKey),
		Passphrase:      s.text(KeyPassphrase),
		Username:        s.text(KeyUsername),
	}, nil
}

// String returns the credential with every secret field redacted.
func (k KeyPair) String() string {
	return "KeyPair{accessKeyId: " + redact(k.AccessKeyID) + ", secretAccessKey: " + redact(k.SecretAccessKey) +
		", privateKey: " + redact(k.PrivateKey) + ", passphrase: " + redact(k.Passphrase) + ", username: " + k.Username + "}"
}

// GoString returns the credential in Go syntax with every secret field
// redacted.
func (k KeyPair) GoString() string {
	return "credentials.KeyPair{AccessKeyID:" + redact(k.AccessKeyID) + ", SecretAccessKey:" + redact(k.SecretAccessKey) +
		", PrivateKey:" + redact(k.PrivateKey) + ", Passphrase:" + redact(k.Passphrase) + ", Username:" + strconv.Quote(k.Username) + "}"
}

// Format prints the credential redacted for every verb.
func (k KeyPair) Format(f fmt.State, verb rune) { format(f, verb, k.String(), k.GoString()) }

// MarshalLog is the redacted form for logr.
func (k KeyPair) MarshalLog() any { return k.String() }

// LogValue is the redacted form for log/slog.
func (k KeyPair) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalJSON marshals the redacted form: a credential is never serialised.
func (k KeyPair) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

// OAuth2 is a user's OAuth2 refresh token.
type OAuth2 struct {
	// RefreshToken is the refresh token. Secret.
	RefreshToken string
}

// OAuth2From reads an OAuth2 credential from secret. The error, an *Error,
// names the Secret and the key at fault.
func OAuth2From(secret *corev1.Secret) (OAuth2, error) {
	if err := Validate(iamv1alpha1.CredentialOAuth2, secret).Err(); err != nil {
		return OAuth2{}, err
	}
	return OAuth2{RefreshToken: view(secret).text(KeyRefreshToken)}, nil
}

// String returns the credential with the token redacted.
func (o OAuth2) String() string { return "OAuth2{refreshToken: " + redact(o.RefreshToken) + "}" }

// GoString returns the credential in Go syntax with the token redacted.
func (o OAuth2) GoString() string {
	return "credentials.OAuth2{RefreshToken:" + redact(o.RefreshToken) + "}"
}

// Format prints the credential redacted for every verb.
func (o OAuth2) Format(f fmt.State, verb rune) { format(f, verb, o.String(), o.GoString()) }

// MarshalLog is the redacted form for logr.
func (o OAuth2) MarshalLog() any { return o.String() }

// LogValue is the redacted form for log/slog.
func (o OAuth2) LogValue() slog.Value { return slog.StringValue(o.String()) }

// MarshalJSON marshals the redacted form: a credential is never serialised.
func (o OAuth2) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }

// OAuth2Client is the OAuth2 client of a Connection, with its secret read
// from the Secret its clientSecretRef names.
type OAuth2Client struct {
	// TokenURL is the token endpoint.
	TokenURL string
	// ClientID is the client id.
	ClientID string
	// ClientSecret is the client secret. Secret.
	ClientSecret string
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
		ClientSecret: view(secret).text(client.ClientSecretRef.Key),
		Scopes:       append([]string(nil), client.Scopes...),
	}, nil
}

// String returns the client with its secret redacted.
func (c OAuth2Client) String() string {
	return "OAuth2Client{tokenURL: " + c.TokenURL + ", clientID: " + c.ClientID + ", clientSecret: " + redact(c.ClientSecret) +
		", scopes: [" + strings.Join(c.Scopes, " ") + "]}"
}

// GoString returns the client in Go syntax with its secret redacted.
func (c OAuth2Client) GoString() string {
	return "credentials.OAuth2Client{TokenURL:" + strconv.Quote(c.TokenURL) + ", ClientID:" + strconv.Quote(c.ClientID) +
		", ClientSecret:" + redact(c.ClientSecret) + ", Scopes:" + fmt.Sprintf("%#v", c.Scopes) + "}"
}

// Format prints the client redacted for every verb.
func (c OAuth2Client) Format(f fmt.State, verb rune) { format(f, verb, c.String(), c.GoString()) }

// MarshalLog is the redacted form for logr.
func (c OAuth2Client) MarshalLog() any { return c.String() }

// LogValue is the redacted form for log/slog.
func (c OAuth2Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON marshals the redacted form: a credential is never serialised.
func (c OAuth2Client) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// format writes s, or gs for %#v, whatever the verb: %x or %d on a struct
// would otherwise print its fields.
func format(f fmt.State, verb rune, s, gs string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, gs)
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(s))
	default:
		fmt.Fprint(f, s)
	}
}

// text returns the value of key as a string, "" when it is absent.
func (s secretView) text(key string) string {
	v, _ := s.value(key)
	return string(v)
}
