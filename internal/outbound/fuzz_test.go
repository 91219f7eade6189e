package outbound

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// window is the length of the shortest piece of a secret value that must not
// show: shorter pieces ("key ", "the ") are in every sentence.
const window = 4

// grams returns the set of all window-long pieces of texts.
func grams(texts ...string) map[string]bool {
	set := map[string]bool{}
	for _, t := range texts {
		for i := 0; i+window <= len(t); i++ {
			set[t[i:i+window]] = true
		}
	}
	return set
}

// messageVocabulary is every piece of every message the package can write
// about Secret demo/lake-alice: each format filled with every combination of
// the words the package fills formats with.
var messageVocabulary = func() map[string]bool {
	words := []string{
		"demo/lake-alice", "client-secret", "Basic", "KeyPair", "OAuth2",
		KeyUsername, KeyPassword, KeyAccessKeyID, KeySecretAccessKey, KeyPrivateKey, KeyPassphrase, KeyRefreshToken,
		Needs(iamv1alpha1.CredentialBasic), Needs(iamv1alpha1.CredentialKeyPair), Needs(iamv1alpha1.CredentialOAuth2),
		"key client-secret", KeyUsername + " and " + KeyPassword, KeyAccessKeyID + " and " + KeySecretAccessKey,
	}
	var texts []string
	for _, f := range messageFormats {
		switch strings.Count(f, "%s") {
		case 1:
			for _, a := range words {
				texts = append(texts, fmt.Sprintf(f, a))
			}
		case 2:
			for _, a := range words {
				for _, b := range words {
					texts = append(texts, fmt.Sprintf(f, a, b))
				}
			}
		default:
			texts = append(texts, f)
		}
	}
	return grams(texts...)
}()

// leak returns the first window-long piece of value that out holds and
// neither vocabulary nor extra does: a piece of the value that cannot have
// come from the fixed text.
func leak(out, value string, vocabulary map[string]bool, extra string) (string, bool) {
	for i := 0; i+window <= len(value); i++ {
		w := value[i : i+window]
		if strings.Contains(out, w) && !vocabulary[w] && !strings.Contains(extra, w) {
			return w, true
		}
	}
	return "", false
}

// FuzzNoValueInMessages: no message, error or printed credential ever holds a
// piece of a secret value (4 bytes or longer) that is not already in the
// fixed text the package writes (its message formats filled with key and
// type names and the Secret's name; for a printed credential, its redacted
// form with the same non-secret fields).
func FuzzNoValueInMessages(f *testing.F) {
	f.Add("alice", "alice-pw", "AKIAEXAMPLE", "wJalrXUtnFEMI", "", "", "1//0gRefresh", "c1ient-s3cret", uint8(0xff))
	f.Add("alice", "alice-pw\n", "AKIA\nEXAMPLE", "", "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n", "open sesame", "tok en\n", "", uint8(0x5a))
	f.Add(" alice", "pass\x00word", "", "wJalr", encryptedKeyPEM, "", "", "\xff\xfe\xfd\xfc", uint8(0x33))
	f.Add("Secret", "is empty; set it", "keys", "demo/lake-alice", "PRIVATE KEY", "passphrase", "refreshToken", "client-secret", uint8(0xff))
	f.Fuzz(func(t *testing.T, username, password, accessKeyID, secretAccessKey, privateKey, passphrase, refreshToken, clientSecret string, present uint8) {
		values := map[string]string{
			KeyUsername: username, KeyPassword: password, KeyAccessKeyID: accessKeyID, KeySecretAccessKey: secretAccessKey,
			KeyPrivateKey: privateKey, KeyPassphrase: passphrase, KeyRefreshToken: refreshToken, "client-secret": clientSecret,
		}
		order := []string{KeyUsername, KeyPassword, KeyAccessKeyID, KeySecretAccessKey, KeyPrivateKey, KeyPassphrase, KeyRefreshToken, "client-secret"}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "lake-alice"}, Data: map[string][]byte{}}
		for i, k := range order {
			if present&(1<<i) != 0 {
				s.Data[k] = []byte(values[k])
			}
		}
		secrets := []string{password, accessKeyID, secretAccessKey, privateKey, passphrase, refreshToken, clientSecret}

		check := func(what, out, extra string) {
			for _, v := range secrets {
				if w, ok := leak(out, v, messageVocabulary, extra); ok {
					t.Fatalf("%s holds %q, a piece of a secret value: %s", what, w, out)
				}
			}
		}

		for _, typ := range []iamv1alpha1.CredentialType{iamv1alpha1.CredentialBasic, iamv1alpha1.CredentialKeyPair, iamv1alpha1.CredentialOAuth2} {
			r := Validate(typ, s)
			check(string(typ)+" message", r.Message, "")
			check(string(typ)+" reason", r.Reason, "")
		}
		sel := iamv1alpha1.SecretKeySelector{Name: "lake-alice", Key: "client-secret"}
		check("client secret message", ValidateClientSecret(sel, s).Message, "")

		// Readers: their errors are messages; their values print redacted.
		// Whatever the reader returns is printed; the vocabulary of a
		// printed credential is its redacted form with the same user name.
		printAll := func(what string, c, blank any) {
			for pname, printer := range printers {
				check(what+" printed with "+pname, printer(c), printer(blank)+printers["%#v"](blank))
			}
		}
		b, err := BasicFrom(s)
		if err != nil {
			check("BasicFrom error", err.Error(), "")
		}
		printAll("Basic", b, Basic{Username: b.Username, Password: "x"})
		k, err := KeyPairFrom(s)
		if err != nil {
			check("KeyPairFrom error", err.Error(), "")
		}
		printAll("KeyPair", k, KeyPair{AccessKeyID: "x", SecretAccessKey: "x", PrivateKey: "x", Passphrase: "x", Username: k.Username})
		o, err := OAuth2From(s)
		if err != nil {
			check("OAuth2From error", err.Error(), "")
		}
		printAll("OAuth2", o, OAuth2{RefreshToken: "x"})
		spec := iamv1alpha1.OAuth2Client{TokenURL: "https://idp.example/token", ClientID: "gatehouse", ClientSecretRef: sel}
		c, err := OAuth2ClientFrom(spec, s)
		if err != nil {
			check("OAuth2ClientFrom error", err.Error(), "")
		}
		printAll("OAuth2Client", c, OAuth2Client{TokenURL: c.TokenURL, ClientID: c.ClientID, ClientSecret: "x", Scopes: c.Scopes})
	})
}
