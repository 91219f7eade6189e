package directory

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// hashedName matches the names UserName makes by hashing, so that a login
// that happens to look like one is hashed as well and the rule stays
// injective.
var hashedName = regexp.MustCompile(`-h[0-9a-f]{10}$`)

// maxNamePrefix bounds the readable part of a hashed name.
const maxNamePrefix = 40

// UserName is the name of the User object a directory login becomes:
//
//   - the login itself when it is already a valid object name (a DNS-1123
//     subdomain: lower-case letters, digits, '-' and '.', at most 253
//     characters) and does not end like a hashed name (-h and 10 hex
//     digits);
//   - otherwise a readable prefix (the login in lower case, every run of
//     other characters turned into '-', at most 40 characters; "user" when
//     nothing is left) followed by "-h" and the first 10 hex digits of the
//     SHA-256 of the exact login.
//
// The name depends on the login only, so it is stable across syncs and
// operator versions, and two logins never share a name: a kept login has
// no hash suffix and every hashed one has it, with a hash of a different
// login (2^40 values).
func UserName(login string) string {
	if len(validation.IsDNS1123Subdomain(login)) == 0 && !hashedName.MatchString(login) {
		return login
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(login) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= maxNamePrefix {
			break
		}
	}
	prefix := b.String()
	if len(prefix) > maxNamePrefix {
		prefix = prefix[:maxNamePrefix]
	}
	prefix = strings.Trim(prefix, "-")
	if prefix == "" {
		prefix = "user"
	}
	sum := sha256.Sum256([]byte(login))
	return prefix + "-h" + hex.EncodeToString(sum[:])[:10]
}
