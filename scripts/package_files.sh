#!/usr/bin/env bash
# The package's generated files, from the binary's own help (so they never disagree with it):
#   package_files.sh BINARY OUTDIR
# OUTDIR/covid-etl.1.gz   the man page: help2man over `covid-etl --help`, with each sub-command's
#                         --help as a section (help2man --include)
# OUTDIR/covid-etl.bash   bash completion: the sub-commands and each one's flags
set -euo pipefail
bin=$1 out=$2
mkdir -p "$out"
commands=$("$bin" --help | awk '/^Subcommands:/{on=1; next} on && NF {print $1}')
include="$out/subcommands.h2m"
{
  echo "[COMMANDS]"
  for c in $commands; do
    echo ".SS \"covid-etl $c\""
    echo ".nf"
    "$bin" "$c" --help | sed -e 's/\\/\\\\/g' -e 's/^\./\\\&./'
    echo ".fi"
  done
  echo "[FILES]"
  echo ".TP"
  echo "/etc/covid-etl/covid-etl.toml"
  echo "the configuration the systemd units read (every key and its default: the example shipped there)"
  echo ".TP"
  echo "/var/lib/covid-etl/covid.db"
  echo "the database the units write, owned by the system user covid-etl; kept when the package is purged"
} >"$include"
help2man --no-info --name "download, validate and load the US COVID-19 series" \
  --section 1 --include "$include" --version-string "$("$bin" --version | head -1 | cut -d' ' -f2)" \
  "$bin" >"$out/covid-etl.1"
# The NAME section must name the program, not the build path.
sed -i -e "s|$(basename "$bin")|covid-etl|g" "$out/covid-etl.1"
gzip -9nf "$out/covid-etl.1"

{
  echo "# bash completion for covid-etl (generated from its --help by scripts/package_files.sh)"
  echo "_covid_etl() {"
  echo '  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}'
  echo '  if [ "$COMP_CWORD" -eq 1 ]; then'
  echo "    COMPREPLY=(\$(compgen -W \"$(echo $commands) --help --version\" -- \"\$cur\"))"
  echo "    return"
  echo "  fi"
  echo '  case "$cmd" in'
  for c in $commands; do
    flags=$("$bin" "$c" --help | grep -o -- '--[a-z0-9-]*' | sort -u | tr '\n' ' ')
    echo "    $c) COMPREPLY=(\$(compgen -W \"$flags\" -- \"\$cur\")) ;;"
  done
  echo "  esac"
  echo '  case "$cur" in -*) ;; *) COMPREPLY+=($(compgen -f -- "$cur")) ;; esac'
  echo "}"
  echo "complete -F _covid_etl covid-etl"
} >"$out/covid-etl.bash"
