#!/usr/bin/env bash
# Installs the Debian packages the integration tests run for real, when they
# are missing: hack/deps.sh ldap|samba|postgresql|mariadb|all
#
# Idempotent: a package whose binary is already there is not touched, so a
# second run costs nothing. The packages' own system services are never
# started (a policy-rc.d denies it for the duration of the install): the tests
# start their own servers from temporary directories on loopback ports.
set -euo pipefail

need=()
want() { # want BINARY PACKAGE...
	local bin=$1
	shift
	if ! command -v "$bin" >/dev/null 2>&1 && ! compgen -G "$bin" >/dev/null; then
		need+=("$@")
	fi
}

for what in "${@:-all}"; do
	case "$what" in
	ldap)
		want /usr/sbin/slapd slapd
		want ldapadd ldap-utils
		;;
	samba)
		# Samba's AD domain controller (internal/testenv/adtest): the server,
		# its provisioning data and directory modules, the VFS modules
		# provisioning sets sysvol ACLs with, and ldbadd for the fixture.
		want /usr/sbin/samba samba samba-ad-provision samba-dsdb-modules samba-vfs-modules
		want '/usr/lib/*/samba/vfs/acl_xattr.so' samba-vfs-modules
		want ldbadd ldb-tools
		;;
	postgresql)
		want '/usr/lib/postgresql/*/bin/postgres' postgresql
		;;
	mariadb)
		want mariadbd mariadb-server
		;;
	all)
		"$0" ldap samba postgresql mariadb
		exit 0
		;;
	*)
		echo "hack/deps.sh: unknown dependency $what (want ldap, samba, postgresql, mariadb or all)" >&2
		exit 2
		;;
	esac
done

[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "hack/deps.sh: ${need[*]} missing and not root; install them with apt-get" >&2
	exit 1
fi

echo "hack/deps.sh: installing ${need[*]}" >&2
policy=/usr/sbin/policy-rc.d
restore=""
if [ -e "$policy" ]; then
	restore=$(mktemp)
	cp -p "$policy" "$restore"
fi
trap 'if [ -n "$restore" ]; then mv "$restore" "$policy"; else rm -f "$policy"; fi' EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod +x "$policy"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
