#!/usr/bin/env bash
# Start a local PostgreSQL for the store tests and export WARD_TEST_POSTGRES.
#
# Run as root on Debian 12, either directly (bash .ci/postgres.sh) or sourced
# from .ci/run (source .ci/postgres.sh) so that the export reaches go test.
# Idempotent: installs PostgreSQL only when missing, creates the cluster only
# when there is none, starts it only when it is down, and (re)sets the role's
# password each time. The server listens on 127.0.0.1 only.
set -euo pipefail

ward_pg_setup() {
	local password="${WARD_TEST_PG_PASSWORD:-ward_test_only_on_loopback}"
	local port=5432

	if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
		echo "postgres.sh: installing postgresql" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq postgresql >/dev/null
	fi

	local version
	version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
	if [ -z "$version" ]; then
		echo "postgres.sh: no PostgreSQL version found under /usr/lib/postgresql" >&2
		return 1
	fi

	if [ ! -d "/etc/postgresql/$version/main" ]; then
		pg_createcluster "$version" main --port "$port" >/dev/null
	fi

	local conf="/etc/postgresql/$version/main/conf.d/ward-test.conf"
	local want="listen_addresses = '127.0.0.1'
port = $port"
	local changed=0
	mkdir -p "$(dirname "$conf")"
	if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then
		printf '%s\n' "$want" >"$conf"
		changed=1
	fi

	if pg_ctlcluster "$version" main status >/dev/null 2>&1; then
		if [ "$changed" = 1 ]; then
			pg_ctlcluster "$version" main restart
		fi
	else
		pg_ctlcluster "$version" main start
	fi

	local i
	for i in $(seq 1 60); do
		if pg_isready -q -h 127.0.0.1 -p "$port"; then
			break
		fi
		sleep 1
	done
	if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
		echo "postgres.sh: PostgreSQL $version did not come up on 127.0.0.1:$port; see /var/log/postgresql/postgresql-$version-main.log" >&2
		return 1
	fi

	(cd / && su postgres -c "psql -q -v ON_ERROR_STOP=1 -d postgres") <<SQL
SELECT format('CREATE ROLE ward_test LOGIN PASSWORD %L', '$password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ward_test') \gexec
ALTER ROLE ward_test LOGIN PASSWORD '$password';
SELECT 'CREATE DATABASE ward_test OWNER ward_test'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'ward_test') \gexec
SQL

	WARD_TEST_POSTGRES="postgres://ward_test:${password}@127.0.0.1:${port}/ward_test?sslmode=disable"
	export WARD_TEST_POSTGRES
	echo "WARD_TEST_POSTGRES=$WARD_TEST_POSTGRES"
}

ward_pg_setup
unset -f ward_pg_setup
