#!/usr/bin/env bash
# Builds the mdeauth release binary and prints its path on standard output.
#
#   scripts/dist.sh              # the release binary
#   DIST_STATIC=0 scripts/dist.sh   # the same build, dynamically linked
#
# The release binary uses the `dist` profile (the release settings: fat LTO, one
# codegen unit). On Linux with glibc it is also linked statically (static-pie):
# with no shared libraries to map and relocate and no libgcc_s constructor
# (which runs CPUID, a trap to the hypervisor on a VM), each process starts
# about 0.5 ms sooner; see the
# README's Benchmarks section. Host names are still resolved by glibc's
# built-in `files` and `dns` sources (/etc/hosts, /etc/resolv.conf); other
# hosts sources named in /etc/nsswitch.conf (mdns, systemd-resolved's module)
# need the machine's glibc to be the version the binary was built with. Where
# that matters, use the dynamic build (`DIST_STATIC=0`, or `cargo install`).
#
# crt-static goes through RUSTFLAGS with an explicit --target so that it
# applies to the binary only, not to build scripts and proc-macros.
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
# Where cargo put it (CARGO_TARGET_DIR may move it), once the build made it.
target_dir() { (cd "${CARGO_TARGET_DIR:-target}" && pwd); }
if [ "${DIST_STATIC:-1}" = 1 ] && [[ "$host" == *-linux-gnu ]]; then
  # Static linking needs glibc's static libraries (libc6-dev on Debian and
  # Ubuntu, glibc-static on Fedora and RHEL).
  libc_a=$(${CC:-cc} -print-file-name=libc.a 2>/dev/null || true)
  if [ "${libc_a#/}" = "$libc_a" ]; then
    echo "scripts/dist.sh: glibc's static library (libc.a) was not found; install it (libc6-dev, or glibc-static) or build dynamically with DIST_STATIC=0" >&2
    exit 1
  fi
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --profile dist --target "$host" --bin mdeauth "$@" >&2
  echo "$(target_dir)/$host/dist/mdeauth"
else
  cargo build --profile dist --bin mdeauth "$@" >&2
  echo "$(target_dir)/dist/mdeauth"
fi
