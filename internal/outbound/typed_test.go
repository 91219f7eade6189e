package outbound

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func TestBasicFrom(t *testing.T) {
	got, err := BasicFrom(secret("warehouse", map[string]string{"username": "svc-dss", "password": "s3rvice-Acc0unt"}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "svc-dss" || got.Password != "s3rvice-Acc0unt" {
		t.Errorf("BasicFrom() read the wrong values (username %q)", got.Username)
	}
	if _, err := BasicFrom(nil); err == nil {
		t.Error("BasicFrom(nil) succeeded")
	}
}

func TestKeyPairFrom(t *testing.T) {
	pemKey := privateKeyPEM(t)
	tests := map[string]struct {
		data map[string]string
		want KeyPair
	}{
		"access key": {
			data: map[string]string{"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI"},
			want: KeyPair{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI"},
		},
		"private key": {
			data: map[string]string{"privateKey": pemKey, "username": "ALICE"},
			want: KeyPair{PrivateKey: Secret(pemKey), Username: "ALICE"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := KeyPairFrom(secret("lake-alice", tc.data))
			if err != nil {
				t.Fatal(err)
			}
			// Compare field by field: cmp would print through Format.
			if got.AccessKeyID != tc.want.AccessKeyID || got.SecretAccessKey != tc.want.SecretAccessKey ||
				got.PrivateKey != tc.want.PrivateKey || got.Passphrase != tc.want.Passphrase || got.Username != tc.want.Username {
				t.Error("KeyPairFrom() read the wrong values")
			}
		})
	}
	if _, err := KeyPairFrom(secret("lake-alice", map[string]string{"accessKeyId": "AKIAEXAMPLE"})); err == nil {
		t.Error("KeyPairFrom() accepted an access key id without its secret")
	}
}

func TestOAuth2From(t *testing.T) {
	got, err := OAuth2From(secret("lake-alice", map[string]string{"refreshToken": "1//0gRefresh"}))
	if err != nil || got.RefreshToken != "1//0gRefresh" {
		t.Errorf("OAuth2From() = %v, %v", got, err)
	}
}

func TestOAuth2ClientFrom(t *testing.T) {
	spec := iamv1alpha1.OAuth2Client{
		TokenURL:        "https://idp.example/token",
		ClientID:        "gatehouse",
		ClientSecretRef: iamv1alpha1.SecretKeySelector{Name: "idp", Key: "secret"},
		Scopes:          []string{"openid", "offline_access"},
	}
	got, err := OAuth2ClientFrom(spec, secret("idp", map[string]string{"secret": "c1ient-s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientSecret != "c1ient-s3cret" || got.ClientID != "gatehouse" || got.TokenURL != spec.TokenURL ||
		!cmp.Equal(got.Scopes, spec.Scopes) {
		t.Errorf("OAuth2ClientFrom() = %v", got)
	}
	if _, err := OAuth2ClientFrom(spec, secret("idp", map[string]string{"other": "x"})); err == nil {
		t.Error("OAuth2ClientFrom() accepted a Secret without the client secret key")
	}
}

// noTime leaves the time out of slog records, so that output is a function
// of the value alone.
var noTime = &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}}

// printers are all the ways a value can end up in text by accident.
var printers = map[string]func(v any) string{
	"%v":   func(v any) string { return fmt.Sprintf("%v", v) },
	"%+v":  func(v any) string { return fmt.Sprintf("%+v", v) },
	"%#v":  func(v any) string { return fmt.Sprintf("%#v", v) },
	"%s":   func(v any) string { return fmt.Sprintf("%s", v) },
	"%q":   func(v any) string { return fmt.Sprintf("%q", v) },
	"%x":   func(v any) string { return fmt.Sprintf("%x", v) },
	"%X":   func(v any) string { return fmt.Sprintf("%X", v) },
	"%d":   func(v any) string { return fmt.Sprintf("%d", v) },
	"%10v": func(v any) string { return fmt.Sprintf("%10v", v) },
	"Sprint": func(v any) string {
		return fmt.Sprint(v)
	},
	"nested %+v": func(v any) string { return fmt.Sprintf("%+v", struct{ C any }{v}) },
	"nested %#v": func(v any) string { return fmt.Sprintf("%#v", struct{ C any }{v}) },
	"pointer %v": func(v any) string {
		p := reflect.New(reflect.TypeOf(v))
		p.Elem().Set(reflect.ValueOf(v))
		return fmt.Sprintf("%v", p.Interface())
	},
	"slice %v": func(v any) string { return fmt.Sprintf("%v", []any{v}) },
	"json": func(v any) string {
		b, err := json.Marshal(struct{ C any }{v})
		if err != nil {
			return err.Error()
		}
		return string(b)
	},
	"logr": func(v any) string {
		var out string
		log := funcr.New(func(prefix, args string) { out = prefix + args }, funcr.Options{})
		log.Info("read credential", "credential", v)
		return out
	},
	"slog": func(v any) string {
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, noTime)).Info("read credential", "credential", v)
		return buf.String()
	},
	"slog json": func(v any) string {
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, noTime)).Info("read credential", "credential", v)
		return buf.String()
	},
}

// TestRedaction prints every credential type every way and looks for its
// secrets.
func TestRedaction(t *testing.T) {
	const secretText = "Sup3rSecretValue"
	creds := map[string]any{
		"Basic":        Basic{Username: "alice", Password: secretText},
		"KeyPair keys": KeyPair{AccessKeyID: secretText + "1", SecretAccessKey: secretText + "2"},
		"KeyPair pem":  KeyPair{PrivateKey: secretText + "3", Passphrase: secretText + "4", Username: "ALICE"},
		"OAuth2":       OAuth2{RefreshToken: secretText},
		"OAuth2Client": OAuth2Client{TokenURL: "https://idp.example/token", ClientID: "gh", ClientSecret: secretText, Scopes: []string{"openid"}},
	}
	for cname, c := range creds {
		for pname, printer := range printers {
			out := printer(c)
			if strings.Contains(out, secretText) || strings.Contains(out, fmt.Sprintf("%x", secretText)) {
				t.Errorf("%s printed with %s shows a secret: %s", cname, pname, out)
			}
			if !strings.Contains(out, "redacted") {
				t.Errorf("%s printed with %s does not say <redacted>: %s", cname, pname, out)
			}
		}
	}
}

func TestRedactedForms(t *testing.T) {
	b := Basic{Username: "alice", Password: "pw"}
	tests := map[string]struct{ got, want string }{
		"%+v":            {fmt.Sprintf("%+v", b), "{Username:alice Password:<redacted>}"},
		"GoString":       {fmt.Sprintf("%#v", b), `outbound.Basic{Username:"alice", Password:<redacted>}`},
		"empty password": {fmt.Sprintf("%+v", Basic{Username: "alice"}), "{Username:alice Password:<empty>}"},
		"KeyPair": {fmt.Sprintf("%+v", KeyPair{AccessKeyID: "a", SecretAccessKey: "b"}),
			"{AccessKeyID:<redacted> SecretAccessKey:<redacted> PrivateKey:<empty> Passphrase:<empty> Username:}"},
		"OAuth2Client": {fmt.Sprint(OAuth2Client{TokenURL: "https://idp/t", ClientID: "gh", ClientSecret: "s", Scopes: []string{"a", "b"}}),
			"{https://idp/t gh <redacted> [a b]}"},
		"json": {func() string { j, _ := json.Marshal(b); return string(j) }(), `{"Username":"alice","Password":"\u003credacted\u003e"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
}
