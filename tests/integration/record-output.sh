#!/bin/bash
# Runs covid-etl for an integration test and keeps a copy of its stdout and stderr in the test's
# folder of artifacts, for the secrets scan (secret_scan.py). tests/CMakeLists.txt generates, per
# test, the COVID_ETL_BIN the test runs: a two-line launcher that calls
#
#     record-output.sh ARTIFACTS_DIR REAL_BINARY "$0" ARGS...
#
# The process the test started becomes covid-etl itself (exec, with the launcher's argv[0], so a
# symlink named `bootstrap` still works): same pid, same signals, same exit status. Two tee
# processes copy the streams on the way to wherever they went (the test's pipes, a file); a write
# error on the copy (a full disk, `ulimit -f`) is ignored and never reaches covid-etl.
artifacts=$1 bin=$2 argv0=$3
shift 3
out="$artifacts/output"
mkdir -p "$out" 2>/dev/null
sub=${1//[^a-z-]/}
base="$out/${EPOCHREALTIME//[^0-9]/}-$$-${sub:-none}"
exec 3>&1 4>&2
exec 1> >(trap '' XFSZ; exec tee --output-error=warn "$base.stdout" 2>/dev/null >&3 3>&- 4>&-) \
     2> >(trap '' XFSZ; exec tee --output-error=warn "$base.stderr" 2>/dev/null >&4 3>&- 4>&-) \
     3>&- 4>&-
exec -a "$argv0" "$bin" "$@"
