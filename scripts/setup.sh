#!/usr/bin/env bash
# Installs the Debian packages covid-etl needs to build, test and benchmark, when any is missing.
# Safe to run again: it only calls apt-get when a package is not installed yet.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libcurl4-openssl-dev libcurl4 libsqlite3-dev zlib1g-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 sqlite3 ca-certificates openssl
  python3-aiosmtpd python3-botocore python3-yaml systemd
  clang-14 libclang-rt-14-dev                     # make fuzz
  clang-format-14                                 # make format, make format-check (CI)
  libboost-dev nodejs chromium fonts-liberation   # the dashboard (serve) and its browser test
  libpq-dev postgresql                            # the PostgreSQL store; its tests start a server
  python3-boto3                                   # the DynamoDB store's tests (dynalite comes from npm)
  wrk                                             # the fault tests: serve under load while runs commit
  python3-pandas time                             # make bench: the pandas baselines, peak RSS
  iso-codes                                       # the world: ISO 3166-1 country codes and names
  python3-jsonschema                              # test_api_spec: the OpenAPI document checked against real responses
  help2man lintian dpkg-dev                       # make package: the man page, the package's check
)
# npm: Debian's package, unless the nodejs installed already brings its own (NodeSource's nodejs
# bundles npm and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
