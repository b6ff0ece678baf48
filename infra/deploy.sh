#!/usr/bin/env bash
# Deploy one servicepipe environment: infra/deploy.sh REGION ENVIRONMENT
#
# 1. builds both images and pushes them to ECR, tagged with the git commit;
# 2. uploads the Glue loader's script and bundle to the artifact bucket;
# 3. runs `aws cloudformation deploy` with infra/template.yaml;
# 4. prints the stack's outputs and how to create a first dealer API key.
#
# Needs: docker, the aws CLI v2 with credentials for the target account, git, and the
# project's virtual environment (make setup). Settings from the environment:
#   VPC_ID, SUBNET_IDS (comma-separated)   the worker tasks' network (required)
#   ASSIGN_PUBLIC_IP=ENABLED               for public subnets without a NAT gateway
#   ALARM_EMAIL                            subscribed to the alarm topic
#   MANAGE_API_GATEWAY_ACCOUNT=false       for a second environment in the same account and region
#                                          (API Gateway's logging role is one per account and region)
#   API_RESERVED_CONCURRENCY=N             reserve N Lambda executions for the API (unset: none)
#   IMAGES="api processor"                 the images to build and roll out; an image left out
#                                          keeps the tag the stack runs now
#   CFN_EXECUTION_ROLE_ARN                 the role CloudFormation deploys with (infra/bootstrap.yaml)
#   REVIEW=1                               create the change set and show it, without executing it;
#                                          infra/execute_change_set.sh runs it once reviewed
#   BUILD_CACHE=registry                   docker layers cached in ECR (servicepipe-build-cache; CI)
#   DRY_RUN=1                              print every command instead of running it
set -euo pipefail

usage() { echo "usage: infra/deploy.sh REGION ENVIRONMENT (for example: infra/deploy.sh ap-southeast-3 dev)" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
REGION=$1
ENVIRONMENT=$2
[[ $ENVIRONMENT =~ ^[a-z][a-z0-9-]{1,15}$ ]] || { echo "deploy.sh: ENVIRONMENT must be 2-16 of a-z, 0-9, - (got '$ENVIRONMENT')" >&2; exit 2; }
: "${VPC_ID:?deploy.sh: set VPC_ID to the VPC of the worker tasks}"
: "${SUBNET_IDS:?deploy.sh: set SUBNET_IDS to the worker tasks subnets, comma-separated}"

cd "$(dirname "$0")/.."
exec 3>&2  # dry-run lines go here, past any redirection of the command they stand for
run() { if [[ ${DRY_RUN:-0} == 1 ]]; then echo "+ $*" >&3; else "$@"; fi; }

COMMIT=$(git rev-parse --short=12 HEAD)
if [[ ${DRY_RUN:-0} == 1 ]]; then ACCOUNT=123456789012; else ACCOUNT=$(aws sts get-caller-identity --query Account --output text); fi
REGISTRY="$ACCOUNT.dkr.ecr.$REGION.amazonaws.com"
STACK="servicepipe-$ENVIRONMENT"
ARTIFACTS="servicepipe-$ENVIRONMENT-artifacts-$ACCOUNT-$REGION"

echo "deploying $STACK at commit $COMMIT to $REGION (account $ACCOUNT)"

# 1. Images, tagged with the commit (never 'latest', so a rollback is a redeploy of a tag).
run aws ecr get-login-password --region "$REGION" | run docker login --username AWS --password-stdin "$REGISTRY"
IMAGES=${IMAGES:-api processor}
image_parameters=()
for image in $IMAGES; do
    case $image in
        api) image_parameters+=("ApiImageUri=$REGISTRY/servicepipe-api:$COMMIT") ;;
        processor) image_parameters+=("ProcessorImageUri=$REGISTRY/servicepipe-processor:$COMMIT") ;;
        *) echo "deploy.sh: IMAGES holds '$image'; use api and/or processor" >&2; exit 2 ;;
    esac
done
# On CREATE every image parameter needs a value: a new stack gets both images.
if [[ " $IMAGES " != *" api "* || " $IMAGES " != *" processor "* ]] && [[ ${DRY_RUN:-0} != 1 ]]; then
    aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" >/dev/null 2>&1 || {
        echo "deploy.sh: $STACK does not exist yet: its first deploy needs both images (leave IMAGES unset)" >&2
        exit 2
    }
fi
# Tags are immutable: a commit already pushed (a rerun, or the rollback to an older commit) is
# deployed as it is, never built again. DRY_RUN_PUSHED names the images a dry run takes as pushed.
pushed() {
    if [[ ${DRY_RUN:-0} == 1 ]]; then [[ " ${DRY_RUN_PUSHED:-} " == *" $1 "* ]]; return; fi
    aws ecr describe-images --region "$REGION" --repository-name "servicepipe-$1" \
        --image-ids "imageTag=$COMMIT" >/dev/null 2>&1
}
for image in $IMAGES; do
    repository="servicepipe-$image"
    if pushed "$image"; then
        echo "$repository:$COMMIT is in ECR already: deploying it as it is"
        continue
    fi
    run aws ecr describe-repositories --region "$REGION" --repository-names "$repository" >/dev/null 2>&1 \
        || run aws ecr create-repository --region "$REGION" --repository-name "$repository" \
            --image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true
    build=(build)
    if [[ ${BUILD_CACHE:-} == registry ]]; then
        # Layers cached in a repository of their own: its tags are mutable, the images' are not.
        cached="$REGISTRY/servicepipe-build-cache:$image"
        run aws ecr describe-repositories --region "$REGION" --repository-names servicepipe-build-cache >/dev/null 2>&1 \
            || run aws ecr create-repository --region "$REGION" --repository-name servicepipe-build-cache \
                --image-tag-mutability MUTABLE
        build=(buildx build --load --cache-from "type=registry,ref=$cached"
            --cache-to "type=registry,ref=$cached,mode=max,image-manifest=true,oci-mediatypes=true")
    fi
    run docker "${build[@]}" --platform linux/amd64 -f "infra/docker/$image.Dockerfile" -t "$REGISTRY/$repository:$COMMIT" .
    run docker push "$REGISTRY/$repository:$COMMIT"
done

# 2. The Glue loader: its script and the bundle of exactly the modules it imports.
run .venv/bin/python infra/build_glue_bundle.py dist/servicepipe-glue.zip
run aws s3api head-bucket --bucket "$ARTIFACTS" 2>/dev/null \
    || run aws s3 mb "s3://$ARTIFACTS" --region "$REGION"
run aws s3 cp entrypoints/loader/glue_load_to_dynamo.py "s3://$ARTIFACTS/glue/$COMMIT/glue_load_to_dynamo.py"
run aws s3 cp dist/servicepipe-glue.zip "s3://$ARTIFACTS/glue/$COMMIT/servicepipe-glue.zip"

# 3. The stack. The task definition and the Lambda are rendered from the template with the
# new image tags, so a deploy is this one command; a parameter not given keeps its value.
# The template goes through the artifact bucket: over 51,200 bytes, CloudFormation refuses it
# as a request body (infra/render_template.py also names the API's deployment by its routes).
optional_parameters=()  # given only when set: a parameter not given keeps the stack's value
if [[ -n ${MANAGE_API_GATEWAY_ACCOUNT:-} ]]; then
    optional_parameters+=("ManageApiGatewayAccount=$MANAGE_API_GATEWAY_ACCOUNT")
fi
if [[ -n ${API_RESERVED_CONCURRENCY+set} ]]; then
    optional_parameters+=("ApiReservedConcurrency=$API_RESERVED_CONCURRENCY")
fi
change_set_options=()
if [[ ${REVIEW:-0} == 1 ]]; then change_set_options=(--no-execute-changeset); fi
# CloudFormation creates the stack with the bootstrap's role (infra/bootstrap.yaml), not the caller's.
if [[ -n ${CFN_EXECUTION_ROLE_ARN:-} ]]; then change_set_options+=(--role-arn "$CFN_EXECUTION_ROLE_ARN"); fi
run .venv/bin/python -m infra.render_template dist/template.yaml
run aws cloudformation deploy --region "$REGION" --stack-name "$STACK" \
    --template-file dist/template.yaml --s3-bucket "$ARTIFACTS" --s3-prefix "cloudformation/$COMMIT" \
    --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset ${change_set_options[@]+"${change_set_options[@]}"} \
    --parameter-overrides \
        "EnvironmentName=$ENVIRONMENT" "${image_parameters[@]}" \
        "ArtifactBucketName=$ARTIFACTS" \
        "GlueScriptKey=glue/$COMMIT/glue_load_to_dynamo.py" \
        "GlueBundleKey=glue/$COMMIT/servicepipe-glue.zip" \
        "VpcId=$VPC_ID" "SubnetIds=$SUBNET_IDS" \
        "AssignPublicIp=${ASSIGN_PUBLIC_IP:-DISABLED}" "AlarmEmail=${ALARM_EMAIL:-}" \
        ${optional_parameters[@]+"${optional_parameters[@]}"}

if [[ ${REVIEW:-0} == 1 ]]; then
    # The change set just created (none when nothing changed), shown for the reviewer.
    if [[ ${DRY_RUN:-0} == 1 ]]; then CHANGE_SET="arn:aws:cloudformation:$REGION:$ACCOUNT:changeSet/dry-run/0"
    else
        CHANGE_SET=$(aws cloudformation list-change-sets --region "$REGION" --stack-name "$STACK" \
            --query "sort_by(Summaries[?Status=='CREATE_COMPLETE'], &CreationTime)[-1].ChangeSetId" --output text)
    fi
    if [[ -z $CHANGE_SET || $CHANGE_SET == None ]]; then
        echo "no change set: the stack already matches commit $COMMIT"
        exit 0
    fi
    run aws cloudformation describe-change-set --region "$REGION" --change-set-name "$CHANGE_SET" \
        --query "Changes[].ResourceChange.[Action,LogicalResourceId,ResourceType,Replacement]" --output table
    if [[ -n ${GITHUB_OUTPUT:-} ]]; then echo "change_set=$CHANGE_SET" >> "$GITHUB_OUTPUT"; fi
    echo "change set for review: $CHANGE_SET"
    echo "once reviewed: infra/execute_change_set.sh $REGION $ENVIRONMENT $CHANGE_SET"
    exit 0
fi

# 4. What was deployed, and the first dealer key.
run aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
    --query "Stacks[0].Outputs" --output table
cat <<EOF

Issue a dealership's API key (ApiKeysTableName and UsagePlanId above); the key is printed
once, alone on stdout, registered with API Gateway's usage plan and stored as a hash:
  AWS_REGION=$REGION API_KEYS_TABLE_NAME=<ApiKeysTableName> API_USAGE_PLAN_ID=<UsagePlanId> \
    servicepipe --backend aws dealers add DEALER_ID      # or: dealers add --admin
EOF
