#!/usr/bin/env bash
# Execute a reviewed change set and wait for the stack: infra/execute_change_set.sh REGION ENVIRONMENT CHANGE_SET
# (the change set from `REVIEW=1 infra/deploy.sh REGION ENVIRONMENT`). Exits non-zero unless
# the stack ends CREATE_COMPLETE or UPDATE_COMPLETE. DRY_RUN=1 prints the commands instead.
set -euo pipefail

[[ $# -eq 3 ]] || { echo "usage: infra/execute_change_set.sh REGION ENVIRONMENT CHANGE_SET" >&2; exit 2; }
REGION=$1
STACK="servicepipe-$2"
CHANGE_SET=$3
run() { if [[ ${DRY_RUN:-0} == 1 ]]; then echo "+ $*" >&2; else "$@"; fi; }

run aws cloudformation execute-change-set --region "$REGION" --stack-name "$STACK" --change-set-name "$CHANGE_SET"
[[ ${DRY_RUN:-0} == 1 ]] && exit 0
while true; do
    status=$(aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
        --query "Stacks[0].StackStatus" --output text)
    case $status in
        *_IN_PROGRESS) sleep 15 ;;
        CREATE_COMPLETE | UPDATE_COMPLETE) echo "$STACK: $status"; exit 0 ;;
        *) echo "execute_change_set.sh: $STACK ended $status: see its events in the console" >&2; exit 1 ;;
    esac
done
