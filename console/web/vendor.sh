#!/usr/bin/env bash
# Re-fetches the console's third-party front-end libraries from the npm registry at pinned
# versions and checks their sha256, so console/web/vendor/ can be rebuilt (or audited) without
# a CDN: the console runs on isolated government networks and embeds these files.
#   bash console/web/vendor.sh          # fetch, check, copy into vendor/
#   bash console/web/vendor.sh --check  # only check the files in vendor/ against the pins
# Needs npm (Debian package npm). Updating a library: change its version, run, and paste the
# new sha256 the script prints after reading the library's changelog.
set -euo pipefail
cd "$(dirname "$0")"

# name  version  file in the package  -> vendor file  sha256
PINS=(
  "chart.js 4.5.0 dist/chart.umd.min.js chart.umd.min.js 2f27bcf471b2d69dd78494f6e2172fb28470eb843820e2f96bb85d39f9618d30"
  "chart.js 4.5.0 LICENSE.md chart.js.LICENSE.md 41a84aa2caba645f966a18d9c2056b73e6d3a81d80bc0046bc0011a2634d4cce"
  "wavesurfer.js 7.12.12 dist/wavesurfer.esm.js wavesurfer.esm.js 1bca765cc75bc4af079ecd1b2edd659b155e5d1715e75a29d68272d9f141f951"
  "wavesurfer.js 7.12.12 LICENSE wavesurfer.js.LICENSE 0fc992dc27cc34dde78bfeb024b4cadff6320f0dcbee2f1228efaeb533ca1364"
)

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bad=0
for pin in "${PINS[@]}"; do
    read -r name version src dest sum <<<"$pin"
    if [ "$check_only" = 0 ]; then
        if [ ! -d "$tmp/$name-$version" ]; then
            (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
            mkdir -p "$tmp/$name-$version"
            tar xzf "$tmp/${name/\//-}-$version.tgz" -C "$tmp/$name-$version"
        fi
        cp "$tmp/$name-$version/package/$src" "vendor/$dest"
    fi
    got="$(sha256sum "vendor/$dest" | cut -d' ' -f1)"
    if [ "$got" != "$sum" ]; then
        echo "vendor/$dest ($name@$version $src): sha256 $got, pinned $sum" >&2
        bad=1
    else
        echo "ok vendor/$dest ($name@$version)"
    fi
done
exit "$bad"
