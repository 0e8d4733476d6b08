#!/bin/sh
# One-shot schema job of docker-compose.yml (image temporalio/admin-tools): creates the
# `temporal` and `temporal_visibility` databases on PostgreSQL and brings both schemas to the
# versions this admin-tools image ships, with the server's own temporal-sql-tool. Every step is
# idempotent (an existing database is kept, the version tables are created only if missing, and
# update-schema applies only versions not applied yet), so it runs on every `docker compose up`
# and is also how an upgrade migrates: pin a newer admin-tools and server image, `up` again.
#
# Environment (names as the temporalio/server image reads them):
#   POSTGRES_SEEDS   PostgreSQL host (required)        DB_PORT            default 5432
#   POSTGRES_USER    role that may create databases    SQL_PASSWORD       its password (read by temporal-sql-tool itself)
#   DBNAME           default temporal                  VISIBILITY_DBNAME  default temporal_visibility
#   TEMPORAL_SCHEMA_DIR  default /etc/temporal/schema/postgresql/v12 (where admin-tools keeps the schemas)
set -eu

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS to the PostgreSQL host}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (the password of POSTGRES_USER)}"
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_DIR="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

sql_tool() {
  # The password comes from SQL_PASSWORD: never on a command line, never in this job's log.
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

setup() { # database, schema folder
  echo "database $1: create if missing, then schema from $SCHEMA_DIR/$2/versioned"
  sql_tool --db "$1" create-database --defaultdb postgres
  sql_tool --db "$1" setup-schema -v 0.0
  sql_tool --db "$1" update-schema -d "$SCHEMA_DIR/$2/versioned"
}

setup "$DBNAME" temporal
setup "$VISIBILITY_DBNAME" visibility
echo "schemas of $DBNAME and $VISIBILITY_DBNAME are current"
