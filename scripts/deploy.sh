#!/usr/bin/env bash
# Deploys ccsync's nightly sync to Google Cloud in one command, idempotently (run it again to update):
# the APIs, an Artifact Registry repository, the image (Cloud Build, scripts/Dockerfile, tagged with
# the git commit), the API key in Secret Manager, the BigQuery dataset, a service account and its
# roles, the Cloud Run Job `ccsync sync`, and the Cloud Scheduler job that starts it every night.
#
# usage: scripts/deploy.sh --project P [flags]        scripts/deploy.sh --help lists the flags
#        scripts/deploy.sh --project P --dry-run      prints every command, runs none
#
# The API key is read only from the environment variable CROWDCHANGE_API_KEY and handed to gcloud
# on standard input: never an argument, never printed.
set -euo pipefail

prog=deploy.sh
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The API key: copied into an unexported variable and removed from the environment, so that no
# command this script starts (gcloud, bq, git) inherits it.
api_key=${CROWDCHANGE_API_KEY-}
unset CROWDCHANGE_API_KEY

apis=(run.googleapis.com cloudscheduler.googleapis.com artifactregistry.googleapis.com
  secretmanager.googleapis.com bigquery.googleapis.com cloudbuild.googleapis.com iam.googleapis.com)

# Settings: flag > CCSYNC_DEPLOY_<NAME> > default (and the gcloud fallbacks named in --help).
project=${CCSYNC_DEPLOY_PROJECT:-}
region=${CCSYNC_DEPLOY_REGION:-${CLOUDSDK_RUN_REGION:-us-central1}}
dataset=${CCSYNC_DEPLOY_DATASET:-crowdchange}
bq_location=${CCSYNC_DEPLOY_BQ_LOCATION:-US}
api_region=${CCSYNC_DEPLOY_API_REGION:-us}
job=${CCSYNC_DEPLOY_JOB_NAME:-ccsync-sync}
repo=${CCSYNC_DEPLOY_REPO:-ccsync}
sa_name=${CCSYNC_DEPLOY_SERVICE_ACCOUNT:-ccsync-runner}
secret=${CCSYNC_DEPLOY_SECRET:-crowdchange-api-key}
schedule=${CCSYNC_DEPLOY_SCHEDULE:-30 2 * * *}
time_zone=${CCSYNC_DEPLOY_TIME_ZONE:-Etc/UTC}
tasks=${CCSYNC_DEPLOY_TASKS:-1}
task_timeout=${CCSYNC_DEPLOY_TASK_TIMEOUT:-3h}
max_retries=${CCSYNC_DEPLOY_MAX_RETRIES:-1}
memory=${CCSYNC_DEPLOY_MEMORY:-2Gi}
cpu=${CCSYNC_DEPLOY_CPU:-1}
start=${CCSYNC_DEPLOY_START:-}
image_tag=${CCSYNC_DEPLOY_IMAGE_TAG:-}
extra_env=()
dry_run=0
no_build=0

usage() {
  cat <<EOF
usage: scripts/deploy.sh --project P [flags]

Deploys ccsync's nightly sync to Google Cloud, creating what is missing and updating the rest, so
that it can be run again after every change: the APIs; the Artifact Registry repository; the image,
built by Cloud Build from scripts/Dockerfile and tagged with the git commit; the Secret Manager secret
holding the API key (a new version from CROWDCHANGE_API_KEY when it is set, sent on stdin); the
BigQuery dataset; the service account with roles/bigquery.dataEditor on the dataset,
roles/bigquery.jobUser on the project, roles/secretmanager.secretAccessor on the secret and
roles/run.invoker on the job; the Cloud Run Job running \`ccsync sync\`; and the Cloud Scheduler job
that starts it every night as the same service account.

flags (each can also be set as the environment variable CCSYNC_DEPLOY_<NAME>, e.g. CCSYNC_DEPLOY_TIME_ZONE):
  --project P          Google Cloud project (else CLOUDSDK_CORE_PROJECT, else gcloud config)
  --region R           region of the job, the scheduler and the repository (else CLOUDSDK_RUN_REGION; default us-central1)
  --dataset D          BigQuery dataset (default crowdchange)
  --bq-location L      BigQuery location of the dataset (default US)
  --api-region A       CrowdChange API region: us, ca or dev (default us)
  --job-name J         Cloud Run Job name; the scheduler job is J-nightly (default ccsync-sync)
  --repo N             Artifact Registry Docker repository (default ccsync)
  --service-account N  service account name, without @... (default ccsync-runner)
  --secret S           Secret Manager secret holding the API key (default crowdchange-api-key)
  --schedule CRON      when the job runs (default "30 2 * * *")
  --time-zone TZ       time zone of the schedule, e.g. America/Toronto (default Etc/UTC)
  --tasks N            tasks per execution (default 1)
  --task-timeout D     time limit of one task, e.g. 3h, 90m (default 3h)
  --max-retries N      retries of a failed task (default 1)
  --memory M           memory of one task (default 2Gi)
  --cpu C              CPUs of one task (default 1)
  --start YYYY-MM-DD   first day to load when the warehouse is empty (passed as sync --start)
  --env KEY=VALUE      one more environment variable of the job, e.g. CCSYNC_LOOKBACK=14d (repeatable)
  --image-tag T        image tag (default: the git commit, with -dirty when the tree has changes)
  --no-build           deploy the image already tagged --image-tag instead of building one
  --dry-run            print every command, one per line after "+ ", and run none (not even the
                       checks for what exists: everything is assumed missing)
  -h, --help           this help

The API key is read from the environment variable CROWDCHANGE_API_KEY and sent to Secret Manager on
standard input; it is never a flag and never printed. Without it the secret must already hold a version.

Needs gcloud and bq (Google Cloud SDK), signed in (gcloud auth login) as someone who may enable APIs,
create these resources and grant roles in the project (roles/owner, or the matching admin roles).
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
  warn "$*"
  exit 1
}
usage_error() {
  warn "$*"
  warn "see scripts/deploy.sh --help"
  exit 2
}

# quote prints its arguments as one shell command line that could be pasted.
quote() {
  local out="" a q="'\\''"
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
      out+=" $a"
    else
      out+=" '${a//\'/$q}'"
    fi
  done
  printf '%s' "${out# }"
}

# run prints a command after "+ " and runs it (not in a dry run).
run() {
  say "+ $(quote "$@")"
  if ((dry_run)); then return 0; fi
  "$@"
}

# run_retry is run for IAM grants: a service account just created can take a minute to be
# visible to the other services' policies.
run_retry() {
  say "+ $(quote "$@")"
  if ((dry_run)); then return 0; fi
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if "$@"; then return 0; fi
    if ((attempt == 6)); then break; fi
    warn "attempt $attempt of 6 failed (a new service account can take a minute to reach IAM); again in 10s"
    sleep 10
  done
  die "failed: $(quote "$@")"
}

# exists runs a describe command quietly; in a dry run nothing exists.
exists() {
  if ((dry_run)); then return 1; fi
  "$@" >/dev/null 2>&1
}

# --- flags --------------------------------------------------------------------------------------

value_flags=" --project --region --dataset --bq-location --api-region --job-name --repo --service-account --secret --schedule --time-zone --tasks --task-timeout --max-retries --memory --cpu --start --env --image-tag "
while (($#)); do
  arg=$1
  shift
  case $arg in
  -h | --help)
    usage
    exit 0
    ;;
  --dry-run)
    dry_run=1
    continue
    ;;
  --no-build)
    no_build=1
    continue
    ;;
  --*=*)
    name=${arg%%=*}
    value=${arg#*=}
    if [[ $value_flags != *" $name "* ]]; then usage_error "unknown flag $name"; fi
    ;;
  --*)
    name=$arg
    if [[ $value_flags != *" $name "* ]]; then usage_error "unknown flag $name"; fi
    if (($# == 0)) || [[ $1 == --* ]]; then usage_error "$name needs a value"; fi
    value=$1
    shift
    ;;
  *) usage_error "unexpected argument $(quote "$arg")" ;;
  esac
  case $name in
  --project) project=$value ;;
  --region) region=$value ;;
  --dataset) dataset=$value ;;
  --bq-location) bq_location=$value ;;
  --api-region) api_region=$value ;;
  --job-name) job=$value ;;
  --repo) repo=$value ;;
  --service-account) sa_name=$value ;;
  --secret) secret=$value ;;
  --schedule) schedule=$value ;;
  --time-zone) time_zone=$value ;;
  --tasks) tasks=$value ;;
  --task-timeout) task_timeout=$value ;;
  --max-retries) max_retries=$value ;;
  --memory) memory=$value ;;
  --cpu) cpu=$value ;;
  --start) start=$value ;;
  --env) extra_env+=("$value") ;;
  --image-tag) image_tag=$value ;;
  esac
done

# --- checks -------------------------------------------------------------------------------------

# check NAME VALUE REGEX WANT: a usage error unless VALUE matches REGEX.
check() {
  if ! [[ $2 =~ $3 ]]; then usage_error "$1 $(quote "$2"): want $4"; fi
}

check --region "$region" '^[a-z]+-[a-z]+[0-9]+$' 'a Google Cloud region such as us-central1'
check --dataset "$dataset" '^[A-Za-z0-9_]{1,1024}$' 'letters, digits and underscores'
check --bq-location "$bq_location" '^[A-Za-z0-9-]+$' 'a BigQuery location such as US, EU or northamerica-northeast1'
check --api-region "$api_region" '^(us|ca|dev)$' 'us, ca or dev'
check --job-name "$job" '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' 'lower-case letters, digits and dashes, at most 63 characters'
check --repo "$repo" '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' 'lower-case letters, digits and dashes'
check --service-account "$sa_name" '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' 'the account name (6 to 30 lower-case letters, digits, dashes), without @...'
check --secret "$secret" '^[A-Za-z0-9_-]{1,255}$' 'letters, digits, dashes and underscores'
check --schedule "$schedule" '^[^[:space:]]+([[:space:]]+[^[:space:]]+){4}$' 'a cron schedule of five fields such as "30 2 * * *"'
check --time-zone "$time_zone" '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$' 'a tz database name such as Etc/UTC or America/Toronto'
check --tasks "$tasks" '^[1-9][0-9]{0,4}$' 'a positive integer'
check --task-timeout "$task_timeout" '^([0-9]+[smhd])+$|^[0-9]+$' 'a duration such as 3h, 90m or 10800s'
check --max-retries "$max_retries" '^([0-9]|10)$' 'an integer from 0 to 10'
check --memory "$memory" '^[0-9]+(Mi|Gi)$' 'a size such as 512Mi or 2Gi'
check --cpu "$cpu" '^[0-9]+(\.[0-9]+|m)?$' 'a number of CPUs such as 1, 2 or 4'
if [[ -n $start ]]; then
  check --start "$start" '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' 'a date YYYY-MM-DD'
fi
if [[ -n $image_tag ]]; then
  check --image-tag "$image_tag" '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' 'a Docker tag'
fi

# The job's own settings: --env may add others, not replace these (each has its flag).
managed_env=" CCSYNC_WAREHOUSE CCSYNC_BQ_PROJECT CCSYNC_BQ_DATASET CCSYNC_BQ_LOCATION CCSYNC_REGION CCSYNC_LOG_FORMAT "
for kv in ${extra_env[@]+"${extra_env[@]}"}; do
  key=${kv%%=*}
  if [[ $kv != *=* || ! $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    usage_error "--env $(quote "$kv"): want KEY=VALUE"
  fi
  if [[ $key == CROWDCHANGE_API_KEY || $key == CCSYNC_API_KEY_FILE ]]; then
    usage_error "--env $key: the API key comes only from the secret (set CROWDCHANGE_API_KEY in this shell to store a new version)"
  fi
  if [[ $managed_env == *" $key "* ]]; then
    usage_error "--env $key: set by the script itself (see --project, --dataset, --bq-location, --api-region)"
  fi
done

if ((!dry_run)); then
  for tool in gcloud bq; do
    command -v "$tool" >/dev/null ||
      die "$tool is not on PATH: install the Google Cloud SDK (https://cloud.google.com/sdk/docs/install), or use --dry-run"
  done
  export CLOUDSDK_CORE_DISABLE_PROMPTS=1
fi

if [[ -z $project ]]; then project=${CLOUDSDK_CORE_PROJECT:-}; fi
if [[ -z $project ]] && ((!dry_run)); then project=$(gcloud config get-value project 2>/dev/null || true); fi
if [[ -z $project ]]; then
  if ((!dry_run)); then
    die "no project: pass --project P (or set CLOUDSDK_CORE_PROJECT, or gcloud config set project P)"
  fi
  project=PROJECT_ID
fi
check --project "$project" '^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^PROJECT_ID$' 'a project ID such as my-project'

if [[ -z $image_tag ]]; then
  command -v git >/dev/null || die "git is not on PATH: pass --image-tag"
  image_tag=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null) || die "$root is not a git checkout: pass --image-tag"
  if [[ -n $(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
    image_tag+=-dirty
    warn "the work tree has uncommitted changes: the image is tagged $image_tag and includes them"
  fi
fi

if ((!dry_run)); then
  account=$(gcloud auth list --filter=status:ACTIVE --format='value(account)' 2>/dev/null || true)
  [[ -n $account ]] || die "gcloud is not signed in: run gcloud auth login"
fi

sa_email=$sa_name@$project.iam.gserviceaccount.com
member=serviceAccount:$sa_email
image=$region-docker.pkg.dev/$project/$repo/ccsync
scheduler_job=$job-nightly
run_uri=https://run.googleapis.com/v2/projects/$project/locations/$region/jobs/$job:run

# The job's environment. gcloud splits --set-env-vars at commas unless the value starts with ^D^,
# which makes D the separator: pick one that no value holds.
env_vars=(CCSYNC_WAREHOUSE=bigquery "CCSYNC_BQ_PROJECT=$project" "CCSYNC_BQ_DATASET=$dataset"
  "CCSYNC_BQ_LOCATION=$bq_location" "CCSYNC_REGION=$api_region" CCSYNC_LOG_FORMAT=json
  ${extra_env[@]+"${extra_env[@]}"})
joined_env() {
  local sep=, all d out="" kv
  all=$(printf '%s\n' "${env_vars[@]}")
  if [[ $all == *,* ]]; then
    sep=""
    for d in '@' '|' '~' ';' '#' '%'; do
      if [[ $all != *"$d"* ]]; then
        sep=$d
        break
      fi
    done
    [[ -n $sep ]] || usage_error "--env: the values use every separator gcloud could take (, @ | ~ ; # %)"
    out="^$sep^"
  fi
  for kv in "${env_vars[@]}"; do out+="$kv$sep"; done
  printf '%s' "${out%"$sep"}"
}
set_env_vars=$(joined_env)
job_args=sync
if [[ -n $start ]]; then job_args+=",--start=$start"; fi

# --- deploy -------------------------------------------------------------------------------------

cd "$root"
say "# ccsync nightly sync: project $project, region $region, job $job, image $image:$image_tag"
if ((dry_run)); then
  say "# dry run: nothing is run, not even a describe; every resource is assumed missing, so the create commands are printed"
fi

say "# APIs"
run gcloud services enable "${apis[@]}" "--project=$project"

say "# Secret Manager secret $secret (the API key)"
secret_exists=0
if exists gcloud secrets describe "$secret" "--project=$project"; then secret_exists=1; fi
if [[ -z $api_key ]] && ((!dry_run)); then
  # Without a key the job can only use a version already there: check before creating anything.
  ((secret_exists)) ||
    die "secret $secret does not exist yet: run again with CROWDCHANGE_API_KEY set in the environment"
  versions=$(gcloud secrets versions list "$secret" --filter=state:ENABLED --limit=1 --format='value(name)' "--project=$project")
  [[ -n $versions ]] ||
    die "secret $secret holds no enabled version: run again with CROWDCHANGE_API_KEY set in the environment"
fi
if ((secret_exists)); then
  say "# secret $secret exists"
else
  run gcloud secrets create "$secret" --replication-policy=automatic "--project=$project"
fi
if [[ -n $api_key ]]; then
  say "+ printf %s '<redacted>' | $(quote gcloud secrets versions add "$secret" --data-file=- "--project=$project")"
  say "# (the key comes from CROWDCHANGE_API_KEY on standard input: never an argument, never printed)"
  if ((!dry_run)); then
    printf '%s' "$api_key" | gcloud secrets versions add "$secret" --data-file=- "--project=$project"
  fi
elif ((dry_run)); then
  say "# CROWDCHANGE_API_KEY is not set: no new version; the secret must already hold one"
else
  say "# CROWDCHANGE_API_KEY is not set: the job reads the secret's latest version, as it is"
fi

say "# BigQuery dataset $project:$dataset"
if exists bq "--project_id=$project" show --dataset "$project:$dataset"; then
  say "# dataset $project:$dataset exists"
else
  run bq "--project_id=$project" "--location=$bq_location" mk --dataset \
    "--description=CrowdChange transactions loaded by ccsync" "$project:$dataset"
fi

say "# service account $sa_email and its roles"
if exists gcloud iam service-accounts describe "$sa_email" "--project=$project"; then
  say "# service account $sa_email exists"
else
  run gcloud iam service-accounts create "$sa_name" "--display-name=ccsync nightly sync" \
    "--description=Runs the ccsync Cloud Run Job and is the identity Cloud Scheduler starts it with" \
    "--project=$project"
fi
run_retry bq "--project_id=$project" add-iam-policy-binding "--member=$member" \
  --role=roles/bigquery.dataEditor "$project:$dataset"
run_retry gcloud projects add-iam-policy-binding "$project" "--member=$member" \
  --role=roles/bigquery.jobUser --condition=None --format=none
run_retry gcloud secrets add-iam-policy-binding "$secret" "--member=$member" \
  --role=roles/secretmanager.secretAccessor "--project=$project" --format=none

say "# Artifact Registry repository $repo and the image"
if exists gcloud artifacts repositories describe "$repo" "--location=$region" "--project=$project"; then
  say "# repository $repo exists"
else
  run gcloud artifacts repositories create "$repo" --repository-format=docker "--location=$region" \
    "--description=ccsync images" "--project=$project"
fi
if ((no_build)); then
  say "# --no-build: deploying $image:$image_tag as it is"
else
  run gcloud builds submit . --config=scripts/cloudbuild.yaml --ignore-file=scripts/gcloudignore \
    "--substitutions=_IMAGE=$image,_TAG=$image_tag" "--project=$project"
fi

say "# Cloud Run Job $job"
if ((tasks > 1)); then
  say "# note: --tasks $tasks: ccsync sync does not shard (only backfill reads CLOUD_RUN_TASK_INDEX/COUNT), so every task runs the whole sync; 1 is enough"
fi
run gcloud run jobs deploy "$job" "--image=$image:$image_tag" "--region=$region" "--project=$project" \
  "--service-account=$sa_email" "--set-secrets=CROWDCHANGE_API_KEY=$secret:latest" \
  "--set-env-vars=$set_env_vars" "--args=$job_args" "--tasks=$tasks" "--task-timeout=$task_timeout" \
  "--max-retries=$max_retries" "--memory=$memory" "--cpu=$cpu"
run_retry gcloud run jobs add-iam-policy-binding "$job" "--region=$region" "--project=$project" \
  "--member=$member" --role=roles/run.invoker --format=none

say "# Cloud Scheduler job $scheduler_job: $schedule ($time_zone)"
scheduler_flags=("--location=$region" "--schedule=$schedule" "--time-zone=$time_zone" "--uri=$run_uri"
  --http-method=POST "--oauth-service-account-email=$sa_email"
  --oauth-token-scope=https://www.googleapis.com/auth/cloud-platform
  "--description=Starts the Cloud Run Job $job (ccsync sync)" "--project=$project")
if exists gcloud scheduler jobs describe "$scheduler_job" "--location=$region" "--project=$project"; then
  run gcloud scheduler jobs update http "$scheduler_job" "${scheduler_flags[@]}"
else
  run gcloud scheduler jobs create http "$scheduler_job" "${scheduler_flags[@]}"
fi

if ((dry_run)); then
  say "# dry run done: nothing was run. After a real run, $job runs at \"$schedule\" ($time_zone), started by $scheduler_job as $sa_email."
else
  say "# Done: $job runs at \"$schedule\" ($time_zone), started by $scheduler_job as $sa_email."
fi
cat <<EOF
# Run it once now and wait for the end:
#   $(quote gcloud run jobs execute "$job" "--region=$region" "--project=$project" --wait)
# Start it the way the scheduler does:
#   $(quote gcloud scheduler jobs run "$scheduler_job" "--location=$region" "--project=$project")
# Its executions and logs:
#   $(quote gcloud run jobs executions list "--job=$job" "--region=$region" "--project=$project")
#   $(quote gcloud logging read "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"$job\"" "--project=$project" --freshness=2d --limit=100 '--format=value(timestamp,severity,jsonPayload.message)')
#   https://console.cloud.google.com/run/jobs/details/$region/$job/executions?project=$project
EOF
