// Package ldap reads users and groups from an LDAP or Active Directory
// server for the Directory sync.
//
// It is split in three layers:
//
//   - Conn, a narrow interface over one bound connection: a paged Search that
//     hands each entry to a callback as it arrives, and Close. Dial builds one
//     from a Config (ldap:// with optional StartTLS, or ldaps://, a CA bundle,
//     a server name override, a simple bind, timeouts).
//   - Pure schema logic: how a group lists its members (RFC 2307 memberUid,
//     RFC 4519 member and uniqueMember, Active Directory member with ranged
//     values), which attribute holds a login, DN comparison, filter escaping
//     and the expansion of nested groups with cycle detection and a depth
//     bound. None of it does I/O.
//   - Read and Lookup, which the controller calls: Read returns a Snapshot of
//     the whole directory (users with their direct and nested groups, groups
//     with their member counts, and the counts a caller needs for its safety
//     bounds); Lookup finds one user by login for OnDemand provisioning.
//
// A sync, as the Directory controller runs it:
//
//	cfg := ldap.ConfigFromSpec(&dir.Spec, password, caBundle) // from the Secrets
//	conn, err := dialer.Dial(ctx, cfg)                       // ldap.DefaultDialer in production
//	if err != nil { /* condition reason ldap.ReasonOf(err), message err.Error() */ }
//	defer conn.Close()
//	snap, err := ldap.Read(ctx, conn, ldap.QueryFromSpec(&dir.Spec))
//
// and, for OnDemand provisioning, ldap.Lookup(ctx, conn, q, user.Spec.Login)
// per User instead of Read. Errors are *Error values: ReasonOf gives a
// condition reason, the message is written for the administrator.
//
// Every value that comes from outside (a login, a DN read from the server)
// is escaped before it goes into a filter. The bind password is never logged
// and never put into an error message.
package ldap
