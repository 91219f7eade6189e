// Package outbound validates and reads the credential Secrets of
// Connections and Directories: the global Secret of a Connection with mode
// Global, the Secret each user brings for a Connection with mode PerUser,
// the client secret of an OAuth2 connection, a Directory's bind password
// and CA bundle.
//
// It reads a referenced Secret in one place: Resolve reads it live and
// quietly, checking its name first and its marker (CheckMarked) after; the
// typed readers (BasicFrom, ..., Value) take their values from what it
// returns. Everything else looks only at the Secret objects it is given.
// No function of this package puts a credential value into a message, an
// error or the fmt/log/JSON form of a value: messages name the Secret and
// the key and say what to do, and the typed credentials (Basic, KeyPair,
// OAuth2, OAuth2Client) hold their secret fields as Secret, which prints as
// <redacted>.
//
// The keys a Secret must hold, by credential type:
//
//	Basic    username, password (the keys of a kubernetes.io/basic-auth Secret)
//	KeyPair  accessKeyId and secretAccessKey,
//	         or privateKey (PEM) with passphrase when the key is encrypted
//	         and optionally username (the account the key belongs to)
//	OAuth2   refreshToken; the client secret is the key that the
//	         Connection's spec.credentials.oauth2.clientSecretRef names
package outbound

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// Keys of credential Secrets.
const (
	// KeyUsername is the account name of a Basic credential, and optionally
	// the account a KeyPair private key belongs to. It is the key of a
	// kubernetes.io/basic-auth Secret.
	KeyUsername = corev1.BasicAuthUsernameKey
	// KeyPassword is the password of a Basic credential. It is the key of a
	// kubernetes.io/basic-auth Secret.
	KeyPassword = corev1.BasicAuthPasswordKey
	// KeyAccessKeyID is the access key id of a KeyPair credential (S3-style
	// object stores).
	KeyAccessKeyID = "accessKeyId"
	// KeySecretAccessKey is the secret access key that goes with
	// KeyAccessKeyID.
	KeySecretAccessKey = "secretAccessKey"
	// KeyPrivateKey is a PEM-encoded private key, the other form of a KeyPair
	// credential (e.g. Snowflake key-pair authentication).
	KeyPrivateKey = "privateKey"
	// KeyPassphrase decrypts an encrypted KeyPrivateKey.
	KeyPassphrase = "passphrase"
	// KeyRefreshToken is the OAuth2 refresh token of an OAuth2 credential.
	KeyRefreshToken = "refreshToken"
)

// Reasons of a Result. They are CamelCase so that a controller can use them
// as condition reasons as they are.
const (
	// ReasonValid: the Secret holds every key the credential type needs, with
	// usable values.
	ReasonValid = "Valid"
	// ReasonSecretNotFound: the Secret does not exist.
	ReasonSecretNotFound = iamv1alpha1.ReasonSecretNotFound
	// ReasonMissingKey: a key the credential type needs is absent or empty.
	ReasonMissingKey = iamv1alpha1.ReasonMissingKey
	// ReasonInvalidKey: a key is there but its value cannot be right (a line
	// break at the end, a control character, not PEM...), or the Secret
	// holds two forms of a credential at once.
	ReasonInvalidKey = "InvalidKey"
	// ReasonInvalidSpec: the credential type itself is unknown.
	ReasonInvalidSpec = iamv1alpha1.ReasonInvalidSpec
)

// Result is the verdict on one credential Secret.
type Result struct {
	// Ready is true when the Secret holds a usable credential.
	Ready bool
	// Reason is one of the Reason constants.
	Reason string
	// Message is a sentence that names the Secret and the key at fault and
	// says what to do. It never contains a credential value.
	Message string
}

// Err returns nil when r is Ready and an *Error carrying r otherwise.
func (r Result) Err() error {
	if r.Ready {
		return nil
	}
	return &Error{Result: r}
}

// Error is the error of a Secret that does not hold a usable credential. Its
// text is the Result's Message: it names the Secret and the key, never a
// value.
type Error struct {
	Result Result
}

// Error returns the Result's Message.
func (e *Error) Error() string { return e.Result.Message }

// The messages of this package. Every message is one of these formats filled
// with a Secret's namespace/name, key names, credential type names and the
// key lists of needs: never with a value. The fuzz test holds them to that.
const (
	fmtValid           = "Secret %s holds every key that credential type %s needs"
	fmtValidClient     = "Secret %s holds the OAuth2 client secret in key %s"
	fmtNotFound        = "Secret %s does not exist; create it with %s"
	fmtMissingKey      = "key %s is missing; add it to Secret %s"
	fmtMissingKeys     = "keys %s are missing; add them to Secret %s"
	fmtEmpty           = "key %s is empty; set it in Secret %s"
	fmtTrailingNewline = "key %s ends with a line break; remove it in Secret %s (echo adds one: write the value with printf or kubectl create secret --from-literal)"
	fmtOuterSpace      = "key %s starts or ends with a space; remove it in Secret %s"
	fmtControl         = "key %s contains a line break or another control character; remove it in Secret %s"
	fmtNUL             = "key %s contains a NUL byte, which no server accepts; fix it in Secret %s"
	fmtNotUTF8         = "key %s is not UTF-8 text; fix it in Secret %s"
	fmtNotPEM          = "key %s is not a PEM-encoded private key (-----BEGIN ... PRIVATE KEY-----); set it to the contents of the key file in Secret %s"
	fmtNeedPassphrase  = "key %s holds an encrypted private key but key " + KeyPassphrase + " is missing or empty; add the passphrase to Secret %s"
	fmtKeyPairNeither  = "Secret %s has neither an access key (keys " + KeyAccessKeyID + " and " + KeySecretAccessKey + ") nor a private key (key " + KeyPrivateKey + "); add one of them"
	fmtKeyPairBoth     = "Secret %s holds both an access key (keys " + KeyAccessKeyID + " and " + KeySecretAccessKey + ") and a private key (key " + KeyPrivateKey + "); keep only the one the connection uses"
	fmtUnknownType     = "credential type %s is not one of Basic, KeyPair, OAuth2; fix spec.credentials.type of the Connection that uses Secret %s"
)

// messageFormats lists every format above, for the tests.
var messageFormats = []string{
	fmtValid, fmtValidClient, fmtNotFound, fmtMissingKey, fmtMissingKeys, fmtEmpty,
	fmtTrailingNewline, fmtOuterSpace, fmtControl, fmtNUL, fmtNotUTF8,
	fmtNotPEM, fmtNeedPassphrase, fmtKeyPairNeither, fmtKeyPairBoth,
	fmtUnknownType,
}

// EffectiveType is the credential type of c: its type, or Basic when a
// Global connection leaves it out.
func EffectiveType(c iamv1alpha1.ConnectionCredentials) iamv1alpha1.CredentialType {
	if c.Type == "" {
		return iamv1alpha1.CredentialBasic
	}
	return c.Type
}

// Needs says in words which keys a Secret of credential type t must hold,
// e.g. "keys username and password".
func Needs(t iamv1alpha1.CredentialType) string {
	switch t {
	case iamv1alpha1.CredentialBasic, "":
		return "keys " + KeyUsername + " and " + KeyPassword
	case iamv1alpha1.CredentialKeyPair:
		return "keys " + KeyAccessKeyID + " and " + KeySecretAccessKey + ", or key " + KeyPrivateKey
	case iamv1alpha1.CredentialOAuth2:
		return "key " + KeyRefreshToken
	default:
		return "the keys of a Basic, KeyPair or OAuth2 credential"
	}
}

// SecretNotFound is the Result for a credential Secret namespace/name of type
// t that does not exist.
func SecretNotFound(t iamv1alpha1.CredentialType, namespace, name string) Result {
	return Result{Reason: ReasonSecretNotFound, Message: fmt.Sprintf(fmtNotFound, namespace+"/"+name, Needs(t))}
}

// ClientSecretNotFound is the Result for an OAuth2 client secret whose Secret
// (in namespace) does not exist.
func ClientSecretNotFound(namespace string, sel iamv1alpha1.SecretKeySelector) Result {
	return Result{Reason: ReasonSecretNotFound, Message: fmt.Sprintf(fmtNotFound, namespace+"/"+sel.Name, "key "+sel.Key)}
}

// Validate checks that secret holds a usable credential of type t (an empty
// t is Basic). It looks at the keys and the shape of their values only; it
// does not try the credential. It accepts values from Data and, for objects
// not yet written, StringData.
func Validate(t iamv1alpha1.CredentialType, secret *corev1.Secret) Result {
	s := view(secret)
	switch t {
	case iamv1alpha1.CredentialBasic, "":
		return s.validateBasic()
	case iamv1alpha1.CredentialKeyPair:
		return s.validateKeyPair()
	case iamv1alpha1.CredentialOAuth2:
		return s.validateOAuth2()
	default:
		return Result{Reason: ReasonInvalidSpec, Message: fmt.Sprintf(fmtUnknownType, string(t), s.ref)}
	}
}

// ValidateClientSecret checks that secret holds the OAuth2 client secret
// under the key sel names.
func ValidateClientSecret(sel iamv1alpha1.SecretKeySelector, secret *corev1.Secret) Result {
	s := view(secret)
	if r, ok := s.require(sel.Key); !ok {
		return r
	}
	if r, ok := s.check(sel.Key, secretRules); !ok {
		return r
	}
	return Result{Ready: true, Reason: ReasonValid, Message: fmt.Sprintf(fmtValidClient, s.ref, sel.Key)}
}

// secretView is a Secret as validation sees it.
type secretView struct {
	ref     string // namespace/name, for messages
	data    map[string][]byte
	strData map[string]string
}

func view(secret *corev1.Secret) secretView {
	if secret == nil {
		return secretView{ref: "(none)"}
	}
	return secretView{ref: secret.Namespace + "/" + secret.Name, data: secret.Data, strData: secret.StringData}
}

// value returns the value of key and whether the key is there.
func (s secretView) value(key string) ([]byte, bool) {
	if v, ok := s.strData[key]; ok {
		return []byte(v), true
	}
	v, ok := s.data[key]
	return v, ok
}

// has reports whether key is there and not empty.
func (s secretView) has(key string) bool {
	v, ok := s.value(key)
	return ok && len(v) > 0
}

// require reports the first of keys that is missing or empty: all missing
// keys in one message, else the first empty one.
func (s secretView) require(keys ...string) (Result, bool) {
	var missing []string
	for _, k := range keys {
		if _, ok := s.value(k); !ok {
			missing = append(missing, k)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		return Result{Reason: ReasonMissingKey, Message: fmt.Sprintf(fmtMissingKey, missing[0], s.ref)}, false
	default:
		return Result{Reason: ReasonMissingKey, Message: fmt.Sprintf(fmtMissingKeys, joinAnd(missing), s.ref)}, false
	}
	for _, k := range keys {
		if v, _ := s.value(k); len(v) == 0 {
			return Result{Reason: ReasonMissingKey, Message: fmt.Sprintf(fmtEmpty, k, s.ref)}, false
		}
	}
	return Result{}, true
}

// rules says what a value of a key may hold.
type rules int

const (
	// secretRules: passwords, passphrases, client secrets. Anything but a NUL
	// byte or a line break at the end.
	secretRules rules = iota
	// nameRules: user names. UTF-8 text without control characters or
	// surrounding spaces.
	nameRules
	// tokenRules: access key ids, secret access keys, refresh tokens. No
	// control characters anywhere, no surrounding spaces.
	tokenRules
	// pemRules: a PEM private key.
	pemRules
)

// check applies r to the (present, non-empty) value of key.
func (s secretView) check(key string, r rules) (Result, bool) {
	v, _ := s.value(key)
	invalid := func(format string) (Result, bool) {
		return Result{Reason: ReasonInvalidKey, Message: fmt.Sprintf(format, key, s.ref)}, false
	}
	if r == pemRules {
		return s.checkPEM(key, v)
	}
	if v[len(v)-1] == '\n' || v[len(v)-1] == '\r' {
		return invalid(fmtTrailingNewline)
	}
	if bytes.IndexByte(v, 0) >= 0 {
		return invalid(fmtNUL)
	}
	if r == secretRules {
		return Result{}, true
	}
	if !utf8.Valid(v) {
		return invalid(fmtNotUTF8)
	}
	if bytes.IndexFunc(v, unicode.IsControl) >= 0 {
		return invalid(fmtControl)
	}
	if first, _ := utf8.DecodeRune(v); unicode.IsSpace(first) {
		return invalid(fmtOuterSpace)
	}
	if last, _ := utf8.DecodeLastRune(v); unicode.IsSpace(last) {
		return invalid(fmtOuterSpace)
	}
	return Result{}, true
}

// checkPEM accepts a PEM block whose type ends in PRIVATE KEY, and asks for
// a passphrase when the block is encrypted (PKCS#8 ENCRYPTED PRIVATE KEY or a
// legacy Proc-Type: 4,ENCRYPTED header).
func (s secretView) checkPEM(key string, v []byte) (Result, bool) {
	block, _ := pem.Decode(v)
	if block == nil || !strings.HasSuffix(block.Type, "PRIVATE KEY") {
		return Result{Reason: ReasonInvalidKey, Message: fmt.Sprintf(fmtNotPEM, key, s.ref)}, false
	}
	encrypted := block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED")
	if encrypted && !s.has(KeyPassphrase) {
		return Result{Reason: ReasonMissingKey, Message: fmt.Sprintf(fmtNeedPassphrase, key, s.ref)}, false
	}
	return Result{}, true
}

func (s secretView) valid(t iamv1alpha1.CredentialType) Result {
	return Result{Ready: true, Reason: ReasonValid, Message: fmt.Sprintf(fmtValid, s.ref, string(t))}
}

func (s secretView) validateBasic() Result {
	if r, ok := s.require(KeyUsername, KeyPassword); !ok {
		return r
	}
	if r, ok := s.check(KeyUsername, nameRules); !ok {
		return r
	}
	if r, ok := s.check(KeyPassword, secretRules); !ok {
		return r
	}
	return s.valid(iamv1alpha1.CredentialBasic)
}

func (s secretView) validateKeyPair() Result {
	_, hasID := s.value(KeyAccessKeyID)
	_, hasSecret := s.value(KeySecretAccessKey)
	_, hasPrivate := s.value(KeyPrivateKey)
	accessKey := hasID || hasSecret
	switch {
	case accessKey && hasPrivate:
		return Result{Reason: ReasonInvalidKey, Message: fmt.Sprintf(fmtKeyPairBoth, s.ref)}
	case accessKey:
		if r, ok := s.require(KeyAccessKeyID, KeySecretAccessKey); !ok {
			return r
		}
		if r, ok := s.check(KeyAccessKeyID, tokenRules); !ok {
			return r
		}
		if r, ok := s.check(KeySecretAccessKey, tokenRules); !ok {
			return r
		}
	case hasPrivate:
		if r, ok := s.require(KeyPrivateKey); !ok {
			return r
		}
		if r, ok := s.check(KeyPrivateKey, pemRules); !ok {
			return r
		}
		for _, opt := range []struct {
			key   string
			rules rules
		}{{KeyPassphrase, secretRules}, {KeyUsername, nameRules}} {
			if !s.has(opt.key) {
				continue
			}
			if r, ok := s.check(opt.key, opt.rules); !ok {
				return r
			}
		}
	default:
		return Result{Reason: ReasonMissingKey, Message: fmt.Sprintf(fmtKeyPairNeither, s.ref)}
	}
	return s.valid(iamv1alpha1.CredentialKeyPair)
}

func (s secretView) validateOAuth2() Result {
	if r, ok := s.require(KeyRefreshToken); !ok {
		return r
	}
	if r, ok := s.check(KeyRefreshToken, tokenRules); !ok {
		return r
	}
	return s.valid(iamv1alpha1.CredentialOAuth2)
}

// joinAnd joins words as "a, b and c".
func joinAnd(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
