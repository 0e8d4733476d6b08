#!/bin/sh
# One-shot job of docker-compose.yml (image temporalio/admin-tools): waits until the Temporal
# frontend serves, creates the namespace if it is missing, and registers agent-runner's search
# attributes. Idempotent: what exists is kept (an attribute registered with another type fails
# the job, saying which).
#
# Environment:
#   TEMPORAL_ADDRESS                 the frontend, e.g. temporal:7233 (the `temporal` CLI reads it)
#   TEMPORAL_NAMESPACE               default `default`;  TEMPORAL_NAMESPACE_RETENTION  default 72h
#   AGENT_RUNNER_SEARCH_ATTRIBUTES   `Name=Type` words, e.g. "AgentName=Keyword AgentTurns=Int": every
#                                    attribute of contract/search-attributes.ts (test/compose.test.ts
#                                    checks docker-compose.yml's list against it)
#
# One attribute per `create` call, each waited for until it is listed before the next: the CLI
# (1.9.1) registers only the first of several --name flags, and with SQL visibility a call made
# while the frontend's copy of the namespace is stale can drop an attribute added just before.
set -eu

: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS to the Temporal frontend, e.g. temporal:7233}"
: "${AGENT_RUNNER_SEARCH_ATTRIBUTES:?set AGENT_RUNNER_SEARCH_ATTRIBUTES to Name=Type words}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-72h}"

# until SECONDS DESCRIPTION COMMAND...: run COMMAND every 2 s until it succeeds, at most SECONDS.
until_ok() {
  limit=$1 what=$2 waited=0
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$waited" -ge "$limit" ]; then
      echo "error: $what: not after ${limit} s" >&2
      return 1
    fi
    sleep 2
    waited=$((waited + 2))
  done
}

attributes() { # the namespace's search attributes as JSON (the CLI's own format)
  temporal operator search-attribute list --namespace "$NAMESPACE" --output json
}

indexed_type() { # CLI type name -> the IndexedValueType the list shows, e.g. KeywordList -> INDEXED_VALUE_TYPE_KEYWORD_LIST
  case $1 in
    Text | Keyword | Int | Double | Bool | Datetime) echo "INDEXED_VALUE_TYPE_$(echo "$1" | tr '[:lower:]' '[:upper:]')" ;;
    KeywordList) echo INDEXED_VALUE_TYPE_KEYWORD_LIST ;;
    *) return 1 ;;
  esac
}

listed() { # name indexed-type: is it registered with that type?
  attributes 2>/dev/null | grep -q "\"$1\": \"$2\""
}

echo "waiting for the Temporal frontend at $TEMPORAL_ADDRESS …"
until_ok 180 "the frontend at $TEMPORAL_ADDRESS does not serve" temporal operator cluster health

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
fi
# A new namespace reaches the frontend's cache within seconds; the search-attribute calls need it there.
until_ok 60 "namespace $NAMESPACE is not served" attributes

for spec in $AGENT_RUNNER_SEARCH_ATTRIBUTES; do
  name=${spec%%=*}
  type=${spec#*=}
  if [ -z "$name" ] || [ "$name" = "$spec" ] || ! indexed=$(indexed_type "$type"); then
    echo "error: AGENT_RUNNER_SEARCH_ATTRIBUTES: '$spec' is not Name=Type (Text, Keyword, Int, Double, Bool, Datetime or KeywordList)" >&2
    exit 1
  fi
  if listed "$name" "$indexed"; then
    echo "search attribute $name ($type) exists"
    continue
  fi
  if attributes | grep -q "\"$name\": "; then
    echo "error: search attribute $name exists on namespace $NAMESPACE with another type than $type" >&2
    exit 1
  fi
  temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"
  until_ok 60 "search attribute $name is not listed" listed "$name" "$indexed"
  echo "search attribute $name ($type) registered"
done
echo "namespace $NAMESPACE is ready for agent-runner"
