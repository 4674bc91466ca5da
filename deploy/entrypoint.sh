#!/usr/bin/env bash
# The image's entrypoint: the first argument selects the process, the rest goes to it.
# Every branch execs, so the service is PID 1 and receives SIGTERM directly (graceful shutdown).
set -euo pipefail

usage() {
  echo "usage: entrypoint.sh api|gateway|worker|migrate|sandbox|seed-admin|add-user|healthcheck PORT" >&2
}

command="${1:-}"
if [ "$#" -gt 0 ]; then
  shift
fi

case "$command" in
  api)
    exec python -m bpmlink_api "$@"
    ;;
  gateway)
    exec python -m bpmlink_gateway "$@"
    ;;
  worker)
    exec python -m bpmlink_worker "$@"
    ;;
  migrate)
    # One-shot, before a rollout (compose's migrate service, the Kubernetes Job): not per replica.
    exec bpmlink migrate "$@"
    ;;
  seed-admin | add-user)
    exec bpmlink "$command" "$@"
    ;;
  sandbox)
    # The bpm'online stand-in, for demos only: never point a production bundle at it.
    exec python -m bpmlink_sandbox "$@"
    ;;
  healthcheck)
    # For container health checks: the image has no curl. Exit 0 when /readyz answers 200.
    port="${1:?healthcheck needs a port}"
    path="${2:-/readyz}"
    exec python -c 'import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=3)' "$port" "$path"
    ;;
  -h | --help | help)
    usage
    ;;
  *)
    usage
    exit 64
    ;;
esac
