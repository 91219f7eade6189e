package outbound

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// secret returns Secret demo/name with data.
func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

// privateKeyPEM returns a fresh PKCS#8 EC private key in PEM.
func privateKeyPEM(t testing.TB) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// encryptedKeyPEM is an encrypted PKCS#8 block; validation does not decrypt
// it, so the bytes need not be a real key.
var encryptedKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("not really encrypted")}))

// TestValidate follows the seed "Global vs. per-user connection
// credentials" row by row: a Global connection's service account (Basic by
// default), and the three kinds of per-user credentials (username and
// password, shared key or keypair for object storage, OAuth2).
func TestValidate(t *testing.T) {
	pemKey := privateKeyPEM(t)
	tests := map[string]struct {
		reason string
		typ    iamv1alpha1.CredentialType
		data   map[string]string
		want   Result
	}{
		"global service account": {
			reason: "Global: a dedicated service account; its Secret is a basic-auth Secret",
			typ:    "", // Global leaves the type out: Basic
			data:   map[string]string{"username": "svc-dss", "password": "s3rvice-Acc0unt"},
			want:   Result{Ready: true, Reason: ReasonValid, Message: "Secret demo/creds holds every key that credential type Basic needs"},
		},
		"global service account without password": {
			reason: "Global: the service account's password is what every call uses",
			typ:    iamv1alpha1.CredentialBasic,
			data:   map[string]string{"username": "svc-dss"},
			want:   Result{Reason: ReasonMissingKey, Message: "key password is missing; add it to Secret demo/creds"},
		},
		"per-user username and password": {
			reason: "PerUser: username and password combination, e.g. PostgreSQL",
			typ:    iamv1alpha1.CredentialBasic,
			data:   map[string]string{"username": "alice", "password": "alice-pw"},
			want:   Result{Ready: true, Reason: ReasonValid, Message: "Secret demo/creds holds every key that credential type Basic needs"},
		},
		"per-user basic empty secret": {
			reason: "PerUser: a Secret made before the user filled it in",
			typ:    iamv1alpha1.CredentialBasic,
			data:   map[string]string{},
			want:   Result{Reason: ReasonMissingKey, Message: "keys username and password are missing; add them to Secret demo/creds"},
		},
		"per-user basic empty password": {
			reason: "an empty value is as good as none",
			typ:    iamv1alpha1.CredentialBasic,
			data:   map[string]string{"username": "alice", "password": ""},
			want:   Result{Reason: ReasonMissingKey, Message: "key password is empty; set it in Secret demo/creds"},
		},
		"per-user basic password from echo": {
			reason: "echo pw | base64 adds a line break that no login accepts",
			typ:    iamv1alpha1.CredentialBasic,
			data:   map[string]string{"username": "alice", "password": "alice-pw\n"},
			want: Result{Reason: ReasonInvalidKey, Message: "key password ends with a line break; remove it in Secret demo/creds " +
				"(echo adds one: write the value with printf or kubectl create secret --from-literal)"},
		},
		"per-user basic username with spaces": {
			reason: "a user name never starts or ends with a space",
			typ:    iamv1alpha1.CredentialBasic,
			data:   map[string]string{"username": " alice", "password": "alice-pw"},
			want:   Result{Reason: ReasonInvalidKey, Message: "key username starts or ends with a space; remove it in Secret demo/creds"},
		},
		"per-user basic password with spaces": {
			reason: "a password may start and end with spaces",
			typ:    iamv1alpha1.CredentialBasic,
			data:   map[string]string{"username": "alice", "password": " pass phrase "},
			want:   Result{Ready: true, Reason: ReasonValid, Message: "Secret demo/creds holds every key that credential type Basic needs"},
		},
		"per-user basic password with NUL": {
			reason: "the wire protocols end strings with NUL",
			typ:    iamv1alpha1.CredentialBasic,
			data:   map[string]string{"username": "alice", "password": "al\x00ce"},
			want:   Result{Reason: ReasonInvalidKey, Message: "key password contains a NUL byte, which no server accepts; fix it in Secret demo/creds"},
		},
		"per-user basic username not UTF-8": {
			reason: "a user name is text",
			typ:    iamv1alpha1.CredentialBasic,
			data:   map[string]string{"username": "al\xffce", "password": "pw"},
			want:   Result{Reason: ReasonInvalidKey, Message: "key username is not UTF-8 text; fix it in Secret demo/creds"},
		},
		"per-user access key": {
			reason: "PerUser: shared key for cloud object storage",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG"},
			want:   Result{Ready: true, Reason: ReasonValid, Message: "Secret demo/creds holds every key that credential type KeyPair needs"},
		},
		"per-user access key without secret": {
			reason: "an access key id alone signs nothing",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"accessKeyId": "AKIAEXAMPLE"},
			want:   Result{Reason: ReasonMissingKey, Message: "key secretAccessKey is missing; add it to Secret demo/creds"},
		},
		"per-user access key with a line break inside": {
			reason: "keys and tokens have no line breaks",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"accessKeyId": "AKIA\nEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI"},
			want:   Result{Reason: ReasonInvalidKey, Message: "key accessKeyId contains a line break or another control character; remove it in Secret demo/creds"},
		},
		"per-user private key": {
			reason: "PerUser: keypair",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"privateKey": pemKey, "username": "ALICE"},
			want:   Result{Ready: true, Reason: ReasonValid, Message: "Secret demo/creds holds every key that credential type KeyPair needs"},
		},
		"per-user private key not PEM": {
			reason: "a key pasted without its PEM armour",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"privateKey": "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"},
			want: Result{Reason: ReasonInvalidKey, Message: "key privateKey is not a PEM-encoded private key (-----BEGIN ... PRIVATE KEY-----); " +
				"set it to the contents of the key file in Secret demo/creds"},
		},
		"per-user private key is a certificate": {
			reason: "the public half is not a private key",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"privateKey": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}))},
			want: Result{Reason: ReasonInvalidKey, Message: "key privateKey is not a PEM-encoded private key (-----BEGIN ... PRIVATE KEY-----); " +
				"set it to the contents of the key file in Secret demo/creds"},
		},
		"per-user encrypted private key without passphrase": {
			reason: "an encrypted key is useless without its passphrase",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"privateKey": encryptedKeyPEM},
			want: Result{Reason: ReasonMissingKey, Message: "key privateKey holds an encrypted private key but key passphrase is missing or empty; " +
				"add the passphrase to Secret demo/creds"},
		},
		"per-user encrypted private key with passphrase": {
			reason: "an encrypted key and its passphrase",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"privateKey": encryptedKeyPEM, "passphrase": "open sesame"},
			want:   Result{Ready: true, Reason: ReasonValid, Message: "Secret demo/creds holds every key that credential type KeyPair needs"},
		},
		"per-user keypair both forms": {
			reason: "two credentials in one Secret: which one is meant?",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI", "privateKey": pemKey},
			want: Result{Reason: ReasonInvalidKey, Message: "Secret demo/creds holds both an access key (keys accessKeyId and secretAccessKey) " +
				"and a private key (key privateKey); keep only the one the connection uses"},
		},
		"per-user keypair neither form": {
			reason: "a basic-auth Secret given to a KeyPair connection",
			typ:    iamv1alpha1.CredentialKeyPair,
			data:   map[string]string{"username": "alice", "password": "pw"},
			want: Result{Reason: ReasonMissingKey, Message: "Secret demo/creds has neither an access key (keys accessKeyId and secretAccessKey) " +
				"nor a private key (key privateKey); add one of them"},
		},
		"per-user oauth2": {
			reason: "PerUser: OAuth2 credentials",
			typ:    iamv1alpha1.CredentialOAuth2,
			data:   map[string]string{"refreshToken": "1//0gRefreshToken-abc"},
			want:   Result{Ready: true, Reason: ReasonValid, Message: "Secret demo/creds holds every key that credential type OAuth2 needs"},
		},
		"per-user oauth2 without token": {
			reason: "PerUser: OAuth2 without its refresh token",
			typ:    iamv1alpha1.CredentialOAuth2,
			data:   map[string]string{"accessToken": "ya29.short-lived"},
			want:   Result{Reason: ReasonMissingKey, Message: "key refreshToken is missing; add it to Secret demo/creds"},
		},
		"unknown type": {
			reason: "the CRD enum forbids it, but a pure function says so anyway",
			typ:    "Kerberos",
			data:   map[string]string{"username": "alice", "password": "pw"},
			want:   Result{Reason: ReasonInvalidSpec, Message: "credential type Kerberos is not one of Basic, KeyPair, OAuth2; fix spec.credentials.type of the Connection that uses Secret demo/creds"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Validate(tc.typ, secret("creds", tc.data))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nValidate() mismatch (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestValidateStringData(t *testing.T) {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "creds"},
		StringData: map[string]string{"username": "alice"},
		Data:       map[string][]byte{"password": []byte("pw")},
	}
	if r := Validate(iamv1alpha1.CredentialBasic, s); !r.Ready {
		t.Errorf("Validate() = %+v, want Ready: StringData and Data together hold both keys", r)
	}
}

func TestSecretNotFound(t *testing.T) {
	tests := map[string]struct {
		typ  iamv1alpha1.CredentialType
		want string
	}{
		"basic":   {iamv1alpha1.CredentialBasic, "Secret demo/lake-alice does not exist; create it with keys username and password"},
		"default": {"", "Secret demo/lake-alice does not exist; create it with keys username and password"},
		"keypair": {iamv1alpha1.CredentialKeyPair, "Secret demo/lake-alice does not exist; create it with keys accessKeyId and secretAccessKey, or key privateKey"},
		"oauth2":  {iamv1alpha1.CredentialOAuth2, "Secret demo/lake-alice does not exist; create it with key refreshToken"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			want := Result{Reason: ReasonSecretNotFound, Message: tc.want}
			if diff := cmp.Diff(want, SecretNotFound(tc.typ, "demo", "lake-alice")); diff != "" {
				t.Errorf("SecretNotFound() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateClientSecret(t *testing.T) {
	sel := iamv1alpha1.SecretKeySelector{Name: "idp-client", Key: "client-secret"}
	tests := map[string]struct {
		secret *corev1.Secret
		want   Result
	}{
		"valid": {
			secret: secret("idp-client", map[string]string{"client-secret": "c1ient-s3cret"}),
			want:   Result{Ready: true, Reason: ReasonValid, Message: "Secret demo/idp-client holds the OAuth2 client secret in key client-secret"},
		},
		"other key": {
			secret: secret("idp-client", map[string]string{"clientSecret": "c1ient-s3cret"}),
			want:   Result{Reason: ReasonMissingKey, Message: "key client-secret is missing; add it to Secret demo/idp-client"},
		},
		"trailing newline": {
			secret: secret("idp-client", map[string]string{"client-secret": "c1ient-s3cret\r\n"}),
			want: Result{Reason: ReasonInvalidKey, Message: "key client-secret ends with a line break; remove it in Secret demo/idp-client " +
				"(echo adds one: write the value with printf or kubectl create secret --from-literal)"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ValidateClientSecret(sel, tc.secret)); diff != "" {
				t.Errorf("ValidateClientSecret() mismatch (-want +got):\n%s", diff)
			}
		})
	}
	want := Result{Reason: ReasonSecretNotFound, Message: "Secret demo/idp-client does not exist; create it with key client-secret"}
	if diff := cmp.Diff(want, ClientSecretNotFound("demo", sel)); diff != "" {
		t.Errorf("ClientSecretNotFound() mismatch (-want +got):\n%s", diff)
	}
}

func TestEffectiveType(t *testing.T) {
	tests := map[string]struct {
		creds iamv1alpha1.ConnectionCredentials
		want  iamv1alpha1.CredentialType
	}{
		"global defaults to basic": {iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModeGlobal}, iamv1alpha1.CredentialBasic},
		"per-user keypair":         {iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModePerUser, Type: iamv1alpha1.CredentialKeyPair}, iamv1alpha1.CredentialKeyPair},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := EffectiveType(tc.creds); got != tc.want {
				t.Errorf("EffectiveType() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseUserKey(t *testing.T) {
	tests := map[string]struct {
		labels  map[string]string
		want    UserKey
		wantErr error
		errText string
	}{
		"per-user credential": {
			labels: map[string]string{iamv1alpha1.LabelConnection: "lake", iamv1alpha1.LabelUser: "alice", "app": "x"},
			want:   UserKey{Connection: "lake", User: "alice"},
		},
		"global credential Secret": {
			labels:  map[string]string{"app": "warehouse"},
			wantErr: ErrNotUserSecret,
		},
		"no labels": {
			wantErr: ErrNotUserSecret,
		},
		"no user": {
			labels:  map[string]string{iamv1alpha1.LabelConnection: "lake"},
			wantErr: ErrInvalidUserLabels,
			errText: "invalid per-user credential labels: label iam.gatehouse.dev/user is missing; a per-user credential Secret names its User with it (label iam.gatehouse.dev/connection names its Connection)",
		},
		"no connection": {
			labels:  map[string]string{iamv1alpha1.LabelUser: "alice"},
			wantErr: ErrInvalidUserLabels,
			errText: "invalid per-user credential labels: label iam.gatehouse.dev/connection is missing; a per-user credential Secret names its Connection with it (label iam.gatehouse.dev/user names its User)",
		},
		"empty user": {
			labels:  map[string]string{iamv1alpha1.LabelConnection: "lake", iamv1alpha1.LabelUser: ""},
			wantErr: ErrInvalidUserLabels,
			errText: "invalid per-user credential labels: label iam.gatehouse.dev/user is empty; set it to the name of the User",
		},
		"connection not a name": {
			labels:  map[string]string{iamv1alpha1.LabelConnection: "Lake_1", iamv1alpha1.LabelUser: "alice"},
			wantErr: ErrInvalidUserLabels,
			errText: `invalid per-user credential labels: label iam.gatehouse.dev/connection is "Lake_1", which cannot be the name of a Connection: ` +
				`a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseUserKey(tc.labels)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ParseUserKey() error = %v, want %v", err, tc.wantErr)
			}
			if tc.errText != "" && err.Error() != tc.errText {
				t.Errorf("ParseUserKey() error text\n got: %s\nwant: %s", err, tc.errText)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseUserKey() mismatch (-want +got):\n%s", diff)
			}
			if want := tc.wantErr != ErrNotUserSecret; IsUserSecret(tc.labels) != want {
				t.Errorf("IsUserSecret() = %v, want %v", !want, want)
			}
		})
	}
}

func TestUserKeyLabelsRoundTrip(t *testing.T) {
	k := UserKey{Connection: "lake", User: "alice"}
	got, err := ParseUserKey(k.Labels())
	if err != nil || got != k {
		t.Errorf("ParseUserKey(%v.Labels()) = %v, %v; want %v", k, got, err, k)
	}
	if k.String() != "lake/alice" {
		t.Errorf("String() = %q, want lake/alice", k.String())
	}
}

func TestErrorNamesSecretNotValue(t *testing.T) {
	_, err := BasicFrom(secret("lake-alice", map[string]string{"username": "alice", "password": "hunter2-and-more\n"}))
	var credErr *Error
	if !errors.As(err, &credErr) || credErr.Result.Reason != ReasonInvalidKey {
		t.Fatalf("BasicFrom() error = %v, want an *Error with reason %s", err, ReasonInvalidKey)
	}
	if !strings.Contains(err.Error(), "demo/lake-alice") || !strings.Contains(err.Error(), "key password") {
		t.Errorf("error %q does not name the Secret and the key", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q contains the password", err)
	}
}

func TestCheckMarked(t *testing.T) {
	marked := func(typ corev1.SecretType, labels map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "pg", Labels: labels}, Type: typ}
	}
	for name, tc := range map[string]struct {
		secret *corev1.Secret
		ready  bool
		reason string
		says   string
	}{
		"marked for it": {marked(corev1.SecretTypeOpaque, map[string]string{"iam.gatehouse.dev/credential-for": "connection.warehouse"}), true, "Valid", ""},
		"basic-auth":    {marked(corev1.SecretTypeBasicAuth, map[string]string{"iam.gatehouse.dev/credential-for": "connection.warehouse"}), true, "Valid", ""},
		"unmarked": {marked(corev1.SecretTypeOpaque, nil), false, "SecretNotMarked",
			"kubectl label secret pg -n demo iam.gatehouse.dev/credential-for=connection.warehouse"},
		"marked for another": {marked(corev1.SecretTypeOpaque, map[string]string{"iam.gatehouse.dev/credential-for": "connection.lake"}), false, "SecretNotMarked",
			"is marked for connection.lake, not for connection warehouse"},
		"a service-account token": {marked(corev1.SecretTypeServiceAccountToken, map[string]string{"iam.gatehouse.dev/credential-for": "connection.warehouse"}), false, "SecretTypeNotAllowed",
			"never uses as a credential"},
		"a TLS secret": {marked(corev1.SecretTypeTLS, map[string]string{"iam.gatehouse.dev/credential-for": "connection.warehouse"}), false, "SecretTypeNotAllowed", ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := CheckMarked(tc.secret, ForConnection, "warehouse")
			if r.Ready != tc.ready || r.Reason != tc.reason || !strings.Contains(r.Message, tc.says) {
				t.Errorf("CheckMarked = %+v; want ready %v, reason %s, saying %q", r, tc.ready, tc.reason, tc.says)
			}
		})
	}
}
