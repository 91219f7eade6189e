package outbound

import (
	"testing"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// Validation runs for every credential Secret on every Connection reconcile:
// per-user Connections of a large platform hold thousands.

func BenchmarkValidateBasic(b *testing.B) {
	s := secret("lake-alice", map[string]string{"username": "alice", "password": "correct horse battery staple"})
	b.ReportAllocs()
	for b.Loop() {
		if r := Validate(iamv1alpha1.CredentialBasic, s); !r.Ready {
			b.Fatal(r.Message)
		}
	}
}

func BenchmarkValidateBasicMissingKey(b *testing.B) {
	s := secret("lake-alice", map[string]string{"username": "alice"})
	b.ReportAllocs()
	for b.Loop() {
		if r := Validate(iamv1alpha1.CredentialBasic, s); r.Ready {
			b.Fatal("valid")
		}
	}
}

func BenchmarkValidateKeyPairAccessKey(b *testing.B) {
	s := secret("lake-alice", map[string]string{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
	b.ReportAllocs()
	for b.Loop() {
		if r := Validate(iamv1alpha1.CredentialKeyPair, s); !r.Ready {
			b.Fatal(r.Message)
		}
	}
}

func BenchmarkValidateKeyPairPrivateKey(b *testing.B) {
	s := secret("lake-alice", map[string]string{"privateKey": privateKeyPEM(b), "username": "ALICE"})
	b.ReportAllocs()
	for b.Loop() {
		if r := Validate(iamv1alpha1.CredentialKeyPair, s); !r.Ready {
			b.Fatal(r.Message)
		}
	}
}

func BenchmarkValidateOAuth2(b *testing.B) {
	s := secret("lake-alice", map[string]string{"refreshToken": "1//0gLongRefreshTokenValue-abcdefghijklmnopqrstuvwxyz0123456789"})
	b.ReportAllocs()
	for b.Loop() {
		if r := Validate(iamv1alpha1.CredentialOAuth2, s); !r.Ready {
			b.Fatal(r.Message)
		}
	}
}

func BenchmarkParseUserKey(b *testing.B) {
	labels := UserKey{Connection: "lake", User: "alice"}.Labels()
	labels["app.kubernetes.io/managed-by"] = "platform"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseUserKey(labels); err != nil {
			b.Fatal(err)
		}
	}
}
