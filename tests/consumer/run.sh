#!/usr/bin/env bash
# install_consume: install a libbtsp build tree into a temporary prefix, move the prefix to
# prove it is relocatable, then build and run tests/consumer/main.c against it twice: with
# find_package(btsp) (shared and static targets) and with pkg-config.
#
# usage: run.sh <build-dir> [config]
# environment (set by ctest; defaults for manual runs):
#   CMAKE, CC, PKG_CONFIG      tools to use
#   BTSP_LIBDIR                CMAKE_INSTALL_LIBDIR of the build (default lib)
#   CONSUMER_CFLAGS            extra compile and link flags (e.g. sanitizers)
set -euo pipefail

build=$(cd "${1:?usage: run.sh <build-dir> [config]}" && pwd)
config=${2:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CMAKE=${CMAKE:-cmake}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
libdir=${BTSP_LIBDIR:-lib}
extra=${CONSUMER_CFLAGS:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/btsp-consume.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
stage="$tmp/stage"
prefix="$tmp/moved/prefix"

step() { printf -- '-- install_consume: %s\n' "$*"; }

step "install into $stage"
cfg_args=()
if [[ -n "$config" ]]; then cfg_args=(--config "$config"); fi
"$CMAKE" --install "$build" --prefix "$stage" "${cfg_args[@]}"

for f in include/btsp/btsp.h include/btsp/btsp_kernels.h "$libdir/libbtsp.a" \
         "$libdir/cmake/btsp/btspConfig.cmake" "$libdir/cmake/btsp/btspConfigVersion.cmake" \
         "$libdir/cmake/btsp/btspTargets.cmake" "$libdir/pkgconfig/libbtsp.pc"; do
    [[ -e "$stage/$f" ]] || { echo "install_consume: missing $f in the install tree" >&2; exit 1; }
done
ls "$stage/$libdir"/libbtsp.so* >/dev/null

# No installed package file may name the staging prefix.
if grep -rl -- "$stage" "$stage/$libdir/cmake" "$stage/$libdir/pkgconfig"; then
    echo "install_consume: the files above hard-code the install prefix (not relocatable)" >&2
    exit 1
fi

step "move the prefix to $prefix"
mkdir -p "$(dirname "$prefix")"
mv "$stage" "$prefix"

step "find_package(btsp) consumer"
"$CMAKE" -S "$here" -B "$tmp/build-cmake" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$CC" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$extra" \
    -DCMAKE_EXE_LINKER_FLAGS="$extra" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
grep -q "^btsp_DIR:PATH=$prefix/" "$tmp/build-cmake/CMakeCache.txt" ||
    { echo "install_consume: find_package(btsp) did not use $prefix" >&2; exit 1; }
"$CMAKE" --build "$tmp/build-cmake" "${cfg_args[@]}"
for exe in consumer_shared consumer_static; do
    bin=$(find "$tmp/build-cmake" -type f -name "$exe" -perm -u+x | head -n1)
    [[ -n "$bin" ]] || { echo "install_consume: $exe was not built" >&2; exit 1; }
    "$bin"
done

step "pkg-config consumer"
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
version=$("$PKG_CONFIG" --modversion libbtsp)
step "pkg-config libbtsp $version: $("$PKG_CONFIG" --cflags --libs libbtsp)"
# shellcheck disable=SC2046,SC2086
"$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror $extra "$here/main.c" -o "$tmp/consumer_pc" \
    $("$PKG_CONFIG" --cflags --libs libbtsp)
LD_LIBRARY_PATH="$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/consumer_pc"

step "passed"
