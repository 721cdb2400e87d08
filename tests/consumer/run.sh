#!/usr/bin/env bash
# install_consume: install a libbtsp build tree into a temporary prefix, move the prefix to
# prove it is relocatable, then build and run tests/consumer/main.c against it twice: with
# find_package(btsp) (shared and static targets) and with pkg-config. When the build has
# libbtsp_io, tests/consumer/io_main.c is built and run the same two ways (component io,
# libbtsp_io.pc).
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
has_io=0
if [[ -e "$stage/$libdir/libbtsp_io.a" ]]; then
    has_io=1
    for f in include/btsp/btsp_io.h include/btsp/btsp_config.h include/btsp/btsp_analysis.h \
             "$libdir/cmake/btsp/btspIoTargets.cmake" "$libdir/pkgconfig/libbtsp_io.pc"; do
        [[ -e "$stage/$f" ]] || { echo "install_consume: missing $f beside libbtsp_io.a" >&2; exit 1; }
    done
fi

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
exes=(consumer_shared consumer_static)
if [[ $has_io == 1 ]]; then exes+=(consumer_io); fi
mkdir -p "$tmp/scratch"
for exe in "${exes[@]}"; do
    bin=$(find "$tmp/build-cmake" -type f -name "$exe" -perm -u+x | head -n1)
    [[ -n "$bin" ]] || { echo "install_consume: $exe was not built" >&2; exit 1; }
    "$bin" "$tmp/scratch"
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
if [[ $has_io == 1 ]]; then
    step "pkg-config libbtsp_io: $("$PKG_CONFIG" --cflags --libs libbtsp_io)"
    # shellcheck disable=SC2046,SC2086
    "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror $extra "$here/io_main.c" -o "$tmp/consumer_io_pc" \
        $("$PKG_CONFIG" --cflags --libs libbtsp_io)
    LD_LIBRARY_PATH="$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/consumer_io_pc" "$tmp/scratch"
fi

step "passed"
