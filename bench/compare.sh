#!/usr/bin/env bash
# Side-by-side benchmarks for `mdeauth scan` and `mdeauth inspect`, written to
# BENCHMARKS.md at the repository root. See docs/scan.md.
#
#   BENCH_LOG_MB=1024 bash bench/compare.sh      # the full run (about 1 GiB of log)
#   BENCH_LOG_MB=50   bash bench/compare.sh      # a quick run
#
# Settings (environment):
#   BENCH_LOG_MB   size of the large generated log in MiB (default 1024)
#   BENCH_UNIQUE   number of distinct tokens in the per-token log (default 20000)
#   BENCH_RUNS     timed runs per scan/ripgrep command (default 3)
#   BENCH_ROUNDS   rounds of (a), each one openssl run then one scan run (default 7)
#   BENCH_STARTUP_RUNS  timed runs per single-token command in (b) (default 200)
#   BENCH_B_ROUNDS rounds of (b), each timing every command a few times (default 25)
#   BENCH_PROFILE  cargo profile to build (default dist: the release settings, fat LTO, linked statically)
#   BENCH_WORK     scratch directory for generated logs (default bench/.work; removed after)
#   BENCH_KEEP=1   keep the generated logs
#   BENCH_OUT      results file (default BENCHMARKS.md)
# Tools it uses, installing them when it can (root + apt, cargo) and skipping a
# comparison with a note when it cannot: hyperfine (else a timed bash loop),
# ripgrep, GNU time (/usr/bin/time), openssl, and jwt-cli (`cargo install
# jwt-cli --root bench/.tools`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOG_MB=${BENCH_LOG_MB:-1024}
UNIQUE=${BENCH_UNIQUE:-20000}
RUNS=${BENCH_RUNS:-3}
ROUNDS=${BENCH_ROUNDS:-7}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-200}
B_ROUNDS=${BENCH_B_ROUNDS:-25}
PROFILE=${BENCH_PROFILE:-dist}
WORK=${BENCH_WORK:-$ROOT/bench/.work}
TOOLS=$ROOT/bench/.tools
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
AT=2026-03-02T09:30:00Z
JWKS=$ROOT/fixtures/keys/jwks.json
RG_PATTERN='eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+'
NOTES=()

say() { printf '== %s\n' "$*" >&2; }
note() { NOTES+=("$*"); say "note: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }
APT_READY=
apt_install() {
  have apt-get && [ "$(id -u)" = 0 ] || return 1
  if [ -z "$APT_READY" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    APT_READY=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

# ---------- tools ----------
have hyperfine || apt_install hyperfine || true
HYPERFINE=$(command -v hyperfine || true)
[ -n "$HYPERFINE" ] || note "hyperfine is not available: timings come from a bash loop (wall clock, mean of $RUNS runs)"
have rg || apt_install ripgrep || true
RG=$(command -v rg || true)
[ -n "$RG" ] || note "ripgrep is not available: the scan-vs-ripgrep comparison is skipped"
[ -x /usr/bin/time ] || apt_install time || true
GNUTIME=
[ -x /usr/bin/time ] && GNUTIME=/usr/bin/time
[ -n "$GNUTIME" ] || note "GNU time (/usr/bin/time) is not available: CPU time and peak RSS are skipped"
have openssl || apt_install openssl || true
OPENSSL=$(command -v openssl || true)
[ -n "$OPENSSL" ] || note "openssl is not available: the RSA verify baseline is skipped"
JWT=
if [ -x "$TOOLS/bin/jwt" ]; then
  JWT=$TOOLS/bin/jwt
else
  say "installing jwt-cli into bench/.tools (cargo install; this compiles it once)"
  if cargo install jwt-cli --root "$TOOLS" --quiet >"$ROOT/bench/.jwt-install.log" 2>&1; then
    JWT=$TOOLS/bin/jwt
  else
    note "cargo install jwt-cli failed (see bench/.jwt-install.log): the inspect-vs-jwt comparison is skipped"
  fi
fi
# The same jwt-cli version linked statically, like the release binary (for
# reference in (b): how much of the difference is linking).
JWT_STATIC=
HOST=$(rustc -vV | sed -n 's/^host: //p')
if [ -n "$JWT" ] && [ "$PROFILE" = dist ] && [[ "$HOST" == *-linux-gnu ]]; then
  if [ -x "$TOOLS/static/bin/jwt" ]; then
    JWT_STATIC=$TOOLS/static/bin/jwt
  else
    JWT_VERSION=$("$JWT" --version | awk 'NR == 1 {print $2}')
    say "installing jwt-cli $JWT_VERSION linked statically into bench/.tools/static (compiles it once)"
    if RUSTFLAGS="-C target-feature=+crt-static" cargo install jwt-cli --version "$JWT_VERSION" \
        --target "$HOST" --root "$TOOLS/static" --quiet >"$ROOT/bench/.jwt-static-install.log" 2>&1; then
      JWT_STATIC=$TOOLS/static/bin/jwt
    else
      note "cargo install of a statically linked jwt-cli failed (see bench/.jwt-static-install.log): its reference rows are left out"
    fi
  fi
fi

# ---------- build ----------
# The release binary (scripts/dist.sh: profile dist, static-pie on Linux with
# glibc) is the one measured everywhere; (b) also times the binary that
# `cargo install` builds (profile release, dynamically linked).
say "building mdeauth (profile $PROFILE), the binary cargo install builds, and the log generator"
if [ "$PROFILE" = dist ]; then
  if ! MDE=$(scripts/dist.sh --quiet); then
    note "the static release build failed (see above): measuring the dynamically linked dist build instead"
    MDE=$(DIST_STATIC=0 scripts/dist.sh --quiet)
  fi
  MDE_LINK="dynamically linked"
  if have ldd && ! ldd "$MDE" 2>&1 | grep -q 'libc\.so'; then MDE_LINK="statically linked"; fi
else
  cargo build --profile "$PROFILE" --quiet --bin mdeauth
  MDE=$ROOT/target/$PROFILE/mdeauth
  [ "$PROFILE" != dev ] || MDE=$ROOT/target/debug/mdeauth
  MDE_LINK="dynamically linked"
fi
cargo build --release --quiet --bin mdeauth --example gen-log
MDE_INSTALL=$ROOT/target/release/mdeauth
[ "$MDE_INSTALL" != "$MDE" ] || MDE_INSTALL=
GEN=$ROOT/target/release/examples/gen-log

# ---------- inputs ----------
mkdir -p "$WORK"
cleanup() { [ "${BENCH_KEEP:-}" = 1 ] || rm -f "$WORK"/*.log; }
trap cleanup EXIT
say "generating ${LOG_MB} MiB, 10 MiB and ${UNIQUE}-unique-token logs in $WORK"
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
BIG=$WORK/big.log; SMALL=$WORK/small.log; UNIQ=$WORK/unique.log
BIG_TOKENS=$("$GEN" --mb "$LOG_MB" --out "$BIG" | field tokens)
SMALL_TOKENS=$("$GEN" --mb 10 --out "$SMALL" | field tokens)
UNIQ_TOKENS=$("$GEN" --unique "$UNIQUE" --out "$UNIQ" | field tokens)
BIG_BYTES=$(stat -c %s "$BIG")

# ---------- helpers ----------
# median wall seconds of a command (shell string) over N runs after a warm-up
# (the median, because this machine is shared: a few runs are always slow);
# exit codes are ignored (scan exits 1 when a token fails).
# (hyperfine's CSV columns: command,mean,stddev,median,user,system,min,max.)
HF_CSV=$WORK/hf.csv
time_median() {
  local cmd=$1 n=${2:-$RUNS}
  if [ -n "$HYPERFINE" ]; then
    "$HYPERFINE" --style basic -i --warmup 3 --runs "$n" --export-csv "$HF_CSV" "$cmd" >&2
    awk -F, 'NR==2 {print $4}' "$HF_CSV"
  else
    bash -c "$cmd" >/dev/null 2>&1 || true
    local s e
    s=$(date +%s.%N)
    for _ in $(seq "$n"); do bash -c "$cmd" >/dev/null 2>&1 || true; done
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" -v n="$n" 'BEGIN {printf "%.6f\n", (e - s) / n}'
  fi
}
# `user sys wall maxrss_kb` of one run (output discarded).
measure() {
  "$GNUTIME" -f '%U %S %e %M' -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>/dev/null || true
  # GNU time writes "Command exited with non-zero status N" first when it does.
  tail -n 1 "$WORK/time.txt"
}
# user and system CPU seconds of a command, to the millisecond (bash's time;
# GNU time prints them to 10 ms, 2 % of a 0.4 s scan); output in out.txt.
cpu_time() {
  local TIMEFORMAT='%3U %3S'
  { time { "$@" >"$WORK/out.txt" 2>/dev/null || true; }; } 2>&1
}
summary_field() { tail -n 1 "$WORK/out.txt" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
calc() { awk "BEGIN {printf \"$1\n\", $2}"; }

# ---------- (a) evaluation throughput vs RSA verify ----------
# Rounds alternate the openssl runs and the scan runs, so both sides see the
# same machine load; the table gives the median and the best of each side,
# and of each ratio within a round.
# The target ratio is the issue's: scan on all cores against one openssl
# process. Two like-for-like ratios go beside it, because this shared VM
# runs a core slower while the other is busy too: scan pinned to one core
# (reader and workers sharing it) against one openssl process, and scan on
# all cores against `openssl speed -multi N` (N processes, one per core).
A_ROWS=()
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
best_max() { sort -g | tail -n 1; }
NCPU=$(nproc 2>/dev/null || echo 1)
PIN=
if have taskset && [ "$NCPU" -gt 1 ]; then PIN=taskset; fi
# openssl's verify/s column (the aggregate of all processes with -multi).
ssl_verifies() {
  "$OPENSSL" speed "$@" -seconds 2 rsa2048 2>/dev/null | awk '
    /verify\/s/ { for (i = 1; i <= NF; i++) if ($i == "verify/s") col = i }
    /^rsa +2048 +bits/ && col { print $(3 + col); exit }' || true
}
# Tokens per CPU-second of one scan of the all-distinct log.
scan_rate() {
  local U S
  read -r U S < <(cpu_time "$@" "$MDE" scan --format json --at "$AT" --jwks "$JWKS" "$UNIQ")
  calc '%.1f' "$(summary_field unique_tokens) / ($U + $S > 0 ? $U + $S : 0.001)"
}
if [ -n "$GNUTIME" ]; then
  say "(a) scan evaluation throughput vs openssl speed rsa2048, $ROUNDS alternating rounds"
  for f in scan scan1 ssl sslm ratio ratio1 ratiom; do : >"$WORK/a_$f.txt"; done
  for _ in $(seq "$ROUNDS"); do
    VPS=; VPSM=
    if [ -n "$OPENSSL" ]; then
      VPS=$(ssl_verifies)
      [ -z "$VPS" ] || echo "$VPS" >>"$WORK/a_ssl.txt"
      if [ "$NCPU" -gt 1 ]; then
        VPSM=$(ssl_verifies -multi "$NCPU")
        [ -z "$VPSM" ] || { VPSM=$(calc '%.1f' "$VPSM / $NCPU"); echo "$VPSM" >>"$WORK/a_sslm.txt"; }
      fi
    fi
    TPS=$(scan_rate)
    echo "$TPS" >>"$WORK/a_scan.txt"
    [ -z "$VPS" ] || calc '%.4f' "$TPS / $VPS" >>"$WORK/a_ratio.txt"
    [ -z "$VPSM" ] || calc '%.4f' "$TPS / $VPSM" >>"$WORK/a_ratiom.txt"
    if [ -n "$PIN" ]; then
      TPS1=$(scan_rate taskset -c 0)
      echo "$TPS1" >>"$WORK/a_scan1.txt"
      [ -z "$VPS" ] || calc '%.4f' "$TPS1 / $VPS" >>"$WORK/a_ratio1.txt"
    fi
  done
  GOT=$(summary_field unique_tokens)
  row() { echo "| $1 | **$(calc "$3" "$(median <"$WORK/$2")")**$4 | $(calc "$3" "$(best_max <"$WORK/$2")")$4 |"; }
  A_ROWS+=("$(row "\`mdeauth scan\` on all $NCPU cores: distinct tokens found, de-duplicated, decoded, checked and **RS256-verified** ($GOT per run, \`--format json\`)" a_scan.txt '%.0f' ' tokens/CPU-s')")
  [ ! -s "$WORK/a_scan1.txt" ] || A_ROWS+=("$(row "\`taskset -c 0 mdeauth scan\`: the same, pinned to one core (no worker thread: the reader evaluates every token itself)" a_scan1.txt '%.0f' ' tokens/CPU-s')")
  if [ -s "$WORK/a_ssl.txt" ]; then
    A_ROWS+=("$(row "\`openssl speed -seconds 2 rsa2048\` (one core: the bare RSA-2048 public-key operation on a precomputed digest)" a_ssl.txt '%.0f' ' verifies/s')")
    [ ! -s "$WORK/a_sslm.txt" ] || A_ROWS+=("$(row "\`openssl speed -multi $NCPU -seconds 2 rsa2048\`, per core ($NCPU processes, every core busy)" a_sslm.txt '%.0f' ' verifies/s')")
    A_ROWS+=("$(row "**target**: scan on all cores / one openssl process, within a round (at least 0.80)" a_ratio.txt '%.2f' '')")
    [ ! -s "$WORK/a_ratio1.txt" ] || A_ROWS+=("$(row "like for like, one core: pinned scan / one openssl process" a_ratio1.txt '%.2f' '')")
    [ ! -s "$WORK/a_ratiom.txt" ] || A_ROWS+=("$(row "like for like, all cores: scan on all cores / \`openssl speed -multi $NCPU\` per core" a_ratiom.txt '%.2f' '')")
  else
    note "openssl is not available or its output was not understood: the RSA verify baseline is skipped"
  fi
  read -r U S W _ < <(measure "$MDE" scan --format json --at "$AT" --jwks "$JWKS" "$BIG")
  OCC=$(summary_field occurrences)
  CPU=$(calc '%.3f' "$U + $S")
  A_OCC="$OCC token occurrences in the ${LOG_MB} MiB log (5 distinct tokens) found and de-duplicated in $CPU CPU-s (wall $W s): $(calc '%.0f' "$OCC / ($CPU > 0 ? $CPU : 0.001)") occurrences/CPU-s."
fi

# ---------- (b) one inspect / verify process vs jwt-cli ----------
# In rounds: each round times every command back to back, so both tools see
# the same machine load (this shared machine drifts by more than the
# difference being measured); the table gives the median of the round
# medians, and for each pair how many rounds mdeauth was no slower.
B_ROWS=()
# The same fixture token on standard input for both (no token on a command line).
TOKEN_FILE=$ROOT/fixtures/tokens/app-v1.jwt
B_NAMES=(); B_CMDS=()
# b_add NAME CMD: adds a command; B_LAST is its index.
b_add() { B_NAMES+=("$1"); B_CMDS+=("$2"); B_LAST=$((${#B_CMDS[@]} - 1)); }
# pair WHAT A B: report command A (mdeauth) against command B once timed.
B_PAIR_SPECS=()
pair() { B_PAIR_SPECS+=("$1|$2|$3"); }
PUB=$WORK/pub.pem
JWT_VERIFIES=
if [ -n "$JWT" ] && [ -n "$OPENSSL" ]; then
  "$OPENSSL" pkey -in "$ROOT/fixtures/keys/test-signing-key.pem" -pubout -out "$PUB" 2>/dev/null
  if "$JWT" decode --alg RS256 --secret "@$PUB" --ignore-exp - < "$TOKEN_FILE" >/dev/null 2>&1; then
    JWT_VERIFIES=1
  else
    note "jwt-cli could not verify with the PEM public key; its verify rows are left out"
  fi
fi
b_add "\`mdeauth inspect --at $AT - < app-v1.jwt\` (release binary, $MDE_LINK)" "$MDE inspect --at $AT - < $TOKEN_FILE"; I_REL=$B_LAST
b_add "\`mdeauth verify --jwks jwks.json --at $AT - < app-v1.jwt\` (signature + claims; release binary)" "$MDE verify --jwks $JWKS --at $AT - < $TOKEN_FILE"; V_REL=$B_LAST
if [ -n "$MDE_INSTALL" ]; then
  b_add "\`mdeauth inspect ...\` (the \`cargo install\` build: profile release, dynamically linked)" "$MDE_INSTALL inspect --at $AT - < $TOKEN_FILE"; I_INS=$B_LAST
  b_add "\`mdeauth verify ...\` (the \`cargo install\` build)" "$MDE_INSTALL verify --jwks $JWKS --at $AT - < $TOKEN_FILE"; V_INS=$B_LAST
fi
if [ -n "$JWT" ]; then
  b_add "\`jwt decode - < app-v1.jwt\` ($("$JWT" --version 2>/dev/null | sed -n 1p), \`cargo install\`)" "$JWT decode - < $TOKEN_FILE"; I_JWT=$B_LAST
  pair "inspect (release binary) vs \`jwt decode\`" "$I_REL" "$I_JWT"
  [ -z "$MDE_INSTALL" ] || pair "inspect (\`cargo install\` build) vs \`jwt decode\`" "$I_INS" "$I_JWT"
  if [ -n "$JWT_VERIFIES" ]; then
    b_add "\`jwt decode --alg RS256 --secret @pub.pem --ignore-exp - < app-v1.jwt\` (signature)" "$JWT decode --alg RS256 --secret @$PUB --ignore-exp - < $TOKEN_FILE"; V_JWT=$B_LAST
    pair "verify (release binary) vs \`jwt decode --alg RS256\`" "$V_REL" "$V_JWT"
    [ -z "$MDE_INSTALL" ] || pair "verify (\`cargo install\` build) vs \`jwt decode --alg RS256\`" "$V_INS" "$V_JWT"
  fi
fi
# For reference: jwt-cli linked statically the same way as the release binary,
# so the table shows how much of the difference is linking.
if [ -n "$JWT_STATIC" ]; then
  b_add "\`jwt decode - < app-v1.jwt\` (jwt-cli linked statically like the release binary)" "$JWT_STATIC decode - < $TOKEN_FILE"; I_JWTS=$B_LAST
  pair "inspect (release binary) vs \`jwt decode\` linked statically" "$I_REL" "$I_JWTS"
  if [ -n "$JWT_VERIFIES" ]; then
    b_add "\`jwt decode --alg RS256 ...\` (jwt-cli linked statically)" "$JWT_STATIC decode --alg RS256 --secret @$PUB --ignore-exp - < $TOKEN_FILE"; V_JWTS=$B_LAST
    pair "verify (release binary) vs \`jwt decode --alg RS256\` linked statically" "$V_REL" "$V_JWTS"
  fi
fi
# Many short rounds: this machine's speed drifts within seconds, by more than
# the differences measured here.
B_PER=$(( STARTUP_RUNS / B_ROUNDS )); [ "$B_PER" -ge 5 ] || B_PER=5
say "(b) one process: mdeauth inspect/verify vs jwt decode, $B_ROUNDS rounds of $B_PER runs per command"
: >"$WORK/b_all.txt"
B_N=${#B_CMDS[@]}
for r in $(seq "$B_ROUNDS"); do
  # Each round starts at a different command, so no command always runs
  # first (or right after another one).
  ORDER=(); for j in $(seq 0 $((B_N - 1))); do ORDER+=($(( (j + r) % B_N ))); done
  ROUND_CMDS=(); for k in "${ORDER[@]}"; do ROUND_CMDS+=("${B_CMDS[$k]}"); done
  if [ -n "$HYPERFINE" ]; then
    "$HYPERFINE" --style basic -i --warmup 3 --runs "$B_PER" --export-csv "$WORK/b.csv" "${ROUND_CMDS[@]}" >&2
    awk -F, -v r="$r" -v order="${ORDER[*]}" 'BEGIN {split(order, o, " ")} NR > 1 {print r, o[NR - 1], $4}' "$WORK/b.csv" >>"$WORK/b_all.txt"
  else
    for k in "${ORDER[@]}"; do echo "$r $k $(time_median "${B_CMDS[$k]}" "$B_PER")" >>"$WORK/b_all.txt"; done
  fi
done
b_med() { awk -v k="$1" '$2 == k {print $3}' "$WORK/b_all.txt" | median; }
# Rounds in which command $1 (mdeauth) took no longer than command $2.
b_wins() { awk -v a="$1" -v b="$2" '$2 == a {x[$1] = $3} $2 == b {y[$1] = $3} END {n = 0; for (r in x) if (x[r] <= y[r]) n++; print n}' "$WORK/b_all.txt"; }
for k in "${!B_CMDS[@]}"; do
  B_ROWS+=("| ${B_NAMES[$k]} | $(calc '%.2f' "$(b_med "$k") * 1000") ms |")
done
B_PAIRS=()
for spec in "${B_PAIR_SPECS[@]}"; do
  IFS='|' read -r what a b <<<"$spec"
  B_PAIRS+=("$what: mdeauth no slower in $(b_wins "$a" "$b") of $B_ROUNDS rounds, median ratio $(calc '%.2f' "$(b_med "$a") / $(b_med "$b")")")
done

# ---------- (c) scan vs ripgrep on the large log ----------
C_ROWS=()
say "(c) scan vs ripgrep on the ${LOG_MB} MiB log"
T_SCAN=$(time_median "$MDE scan --format json --at $AT --jwks $JWKS $BIG")
"$MDE" scan --format json --at "$AT" --jwks "$JWKS" "$BIG" >"$WORK/out.txt" || true
SCAN_COUNT=$(summary_field occurrences)
C_ROWS+=("| \`mdeauth scan --format json\` | $(calc '%.3f' "$T_SCAN") s | $(calc '%.0f' "$BIG_BYTES / 1048576 / $T_SCAN") MiB/s | $SCAN_COUNT |")
if [ -n "$RG" ]; then
  T_RG=$(time_median "$RG -c '$RG_PATTERN' $BIG")
  RG_COUNT=$("$RG" -c "$RG_PATTERN" "$BIG" || true)
  C_ROWS+=("| \`rg -c '$RG_PATTERN'\` ($("$RG" --version | sed -n 1p)) | $(calc '%.3f' "$T_RG") s | $(calc '%.0f' "$BIG_BYTES / 1048576 / $T_RG") MiB/s | $RG_COUNT |")
  C_ROWS+=("| scan time / ripgrep time | **$(calc '%.2f' "$T_SCAN / $T_RG")x** | | |")
  [ "$RG_COUNT" = "$BIG_TOKENS" ] || note "ripgrep counted $RG_COUNT lines, the generator wrote $BIG_TOKENS tokens"
fi
[ "$SCAN_COUNT" = "$BIG_TOKENS" ] || note "scan counted $SCAN_COUNT occurrences, the generator wrote $BIG_TOKENS tokens"

# ---------- (d) peak RSS ----------
D_ROWS=()
if [ -n "$GNUTIME" ]; then
  say "(d) peak RSS"
  for f in "$SMALL" "$BIG" "$UNIQ"; do
    "$GNUTIME" -v "$MDE" scan --format json --at "$AT" --jwks "$JWKS" "$f" >/dev/null 2>"$WORK/timev.txt" || true
    KB=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$WORK/timev.txt")
    case $f in
      "$SMALL") SMALL_KB=$KB; WHAT="$SMALL_TOKENS tokens" ;;
      "$BIG") WHAT="$BIG_TOKENS tokens" ;;
      *) UNIQ_KB=$KB; WHAT="$UNIQ_TOKENS tokens, **all distinct**" ;;
    esac
    D_ROWS+=("| $(basename "$f") ($(calc '%.0f' "$(stat -c %s "$f") / 1048576") MiB, $WHAT) | $(calc '%.1f' "$KB / 1024") MiB |")
  done
  D_PER_TOKEN="Memory grows with the number of distinct tokens (each is kept until the end, for its count and locations), not with the input's size: $(calc '%.0f' "($UNIQ_KB - $SMALL_KB) * 1024 / $UNIQ_TOKENS") bytes per distinct token here (the all-distinct log against the 10 MiB one)."
fi

# ---------- write ----------
TIMER="bash loop"
[ -z "$HYPERFINE" ] || TIMER=$("$HYPERFINE" --version | sed -n 1p)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`bench/compare.sh\` (see docs/scan.md) on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
  echo
  echo "- **Large log size used: ${LOG_MB} MiB** (\`BENCH_LOG_MB=$LOG_MB\`; the target run uses 1024), $BIG_TOKENS embedded tokens;"
  echo "  per-token log: $UNIQ_TOKENS distinct tokens; 10 MiB log: $SMALL_TOKENS tokens; $RUNS timed runs per command."
  echo "- Machine: $(nproc) CPU(s), ${CPU_MODEL:-unknown CPU}; shared with other work, so expect noise."
  if [ "$PROFILE" = dist ]; then
    echo "- mdeauth $(git rev-parse --short HEAD 2>/dev/null || echo '?'): the release binary from \`scripts/dist.sh\` (\`--profile dist\`, $MDE_LINK) in every table;"
    echo "  (b) also times the \`cargo install\` build (\`--profile release\`, dynamically linked). Timer: $TIMER."
  else
    echo "- mdeauth $(git rev-parse --short HEAD 2>/dev/null || echo '?'), built with \`--profile $PROFILE\`. Timer: $TIMER."
  fi
  echo "- \`mdeauth scan --jwks fixtures/keys/jwks.json\` verifies every distinct token's RS256 signature and runs the"
  echo "  same header and claim checks as \`verify\`; CPU-seconds are user + system time over all cores."
  echo
  echo "## (a) Tokens per CPU-second vs RSA-2048 verifies per core"
  echo
  echo "$ROUNDS alternating rounds; CPU-seconds are user + system time of the whole process, to the millisecond."
  echo
  echo "| what | median | best |"
  echo "|---|---|---|"
  printf '%s\n' "${A_ROWS[@]}"
  echo
  [ -z "${A_OCC:-}" ] || { echo "Also: $A_OCC"; echo; }
  echo "## (b) One process on one token: \`mdeauth inspect\` / \`verify\` vs jwt-cli"
  echo
  echo "$B_ROUNDS rounds; in each, every command runs $B_PER times back to back (after 3 warm-up runs), starting from a different command each round. Wall time, median of the round medians."
  echo
  echo "| command | median wall time |"
  echo "|---|---|"
  printf '%s\n' "${B_ROWS[@]}"
  echo
  for p in "${B_PAIRS[@]}"; do echo "- $p"; done
  [ ${#B_PAIRS[@]} -eq 0 ] || echo "- Target: no slower than \`jwt\` as \`cargo install\` builds it."
  [ ${#B_PAIRS[@]} -eq 0 ] || echo
  echo "## (c) \`mdeauth scan\` vs ripgrep on the ${LOG_MB} MiB log"
  echo
  echo "| command | median wall time | throughput | tokens counted |"
  echo "|---|---|---|---|"
  printf '%s\n' "${C_ROWS[@]}"
  echo
  echo "Target: scan within 1.5x of ripgrep's time. ripgrep only counts matching lines; scan also checks each"
  echo "candidate's header, de-duplicates, evaluates each distinct token and records locations."
  echo
  echo "## (d) Peak resident memory of \`mdeauth scan\`"
  echo
  echo "| input | peak RSS |"
  echo "|---|---|"
  printf '%s\n' "${D_ROWS[@]}"
  echo
  echo "Target: flat from 10 MiB to 1 GiB."
  [ -z "${D_PER_TOKEN:-}" ] || { echo; echo "$D_PER_TOKEN"; }
  if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    echo "## Notes"
    echo
    for n in "${NOTES[@]}"; do echo "- $n"; done
  fi
} >"$OUT"
say "wrote $OUT"
cat "$OUT"
