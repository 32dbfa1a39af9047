#!/usr/bin/env bash
# Builds cnm as a managed (v2) Docker plugin directory from what this machine has (no registry):
#   bash scripts/build-plugin.sh OUTDIR
#   docker plugin create cnm OUTDIR && docker plugin enable cnm
# OUTDIR/config.json is contrib/plugin/config.json; OUTDIR/rootfs holds the built cnm (dist/ and its
# production node_modules), this machine's Node 20, nft, iptables-nft, conntrack and busybox (the entry script's
# shell and mount), each with the shared libraries ldd names. Needs a built tree (bash scripts/setup.sh).
set -euo pipefail
usage() { echo "usage: $0 OUTDIR   (a new or empty directory)" >&2; exit 2; }
[ $# -eq 1 ] || usage
out=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ -f dist/cnm.js ] || { echo "$0: dist/cnm.js is missing: run bash scripts/setup.sh first" >&2; exit 1; }
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  echo "$0: $out is not empty: give a new or empty directory" >&2
  exit 1
fi
for bin in node nft xtables-nft-multi conntrack busybox; do
  command -v "$bin" >/dev/null || { echo "$0: $bin is missing (apt-get install nftables iptables conntrack busybox-static)" >&2; exit 1; }
done
node -e 'process.exit(process.versions.node.split(".")[0] === "20" ? 0 : 1)' || { echo "$0: node is $(node -v), cnm needs Node 20" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
root="$out/rootfs"
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,tmp,proc,sys,dev,run,var/lib/cnm,cnm/dist}
# merged /usr as Debian has it: a program's compiled-in paths (e.g. iptables' /usr/lib/<triplet>/xtables) hold
# whichever of /lib or /usr/lib ldd named
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
chmod 1777 "$root/tmp"

# an executable and every library it loads, at the same paths (the loader too)
copy_elf() {
  local f=$1 dest=${2:-$1}
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$f" "$root$dest"
  ldd "$f" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | while read -r lib; do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
copy_elf "$(command -v node)" /usr/bin/node
copy_elf "$(command -v nft)" /usr/sbin/nft
copy_elf "$(command -v conntrack)" /usr/sbin/conntrack
copy_elf "$(command -v xtables-nft-multi)" /usr/sbin/xtables-nft-multi
for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -s xtables-nft-multi "$root/usr/sbin/$t"
done
# iptables' match and target modules (dlopen'ed, so ldd does not list them) and what they load
xt=$(readlink -f "$(dirname "$(ldd "$(command -v xtables-nft-multi)" | awk '/libxtables/{print $3}')")/xtables")
if [ -d "$xt" ]; then
  mkdir -p "$root$xt"
  for m in "$xt"/*.so; do copy_elf "$m"; done
fi
# a static busybox: sh and mount for the entry script
cp -L "$(command -v busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
for f in /etc/protocols /etc/services /etc/ethertypes; do [ -f "$f" ] && cp "$f" "$root/etc/"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

# cnm: the bundle, the compiled modules it loads from files (the link deleter's worker thread), its schemas and
# package.json (version), the production dependencies only
cp dist/cnm.js "$root/cnm/dist/cnm.js"
cp -r dist/src dist/schemas "$root/cnm/dist/"
cp package.json "$root/cnm/package.json"
npm ls --omit=dev --all --parseable 2>/dev/null | while read -r dir; do
  [ "$dir" = "$repo" ] && continue
  rel=${dir#"$repo"/}
  mkdir -p "$root/cnm/$(dirname "$rel")"
  [ -e "$root/cnm/$rel" ] || cp -a "$dir" "$root/cnm/$rel"
done
# nested node_modules were copied with their parents; drop what cannot run here: other platforms' koffi builds,
# better-sqlite3's sources and build intermediates (its addon is build/Release/better_sqlite3.node)
arch=$(node -p 'process.arch')
find "$root/cnm/node_modules/koffi/build/koffi" -mindepth 1 -maxdepth 1 ! -name "linux_$arch" -exec rm -rf {} +
bs="$root/cnm/node_modules/better-sqlite3"
rm -rf "$bs/deps" "$bs/src"
find "$bs/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
find "$bs/build/Release" -mindepth 1 -maxdepth 1 ! -name better_sqlite3.node -exec rm -rf {} +

install -m 0755 contrib/plugin/entrypoint.sh "$root/cnm/entrypoint.sh"
cp contrib/plugin/config.json "$out/config.json"
# a smoke check of the runtime as the plugin will start it
env -i PATH=/usr/sbin:/usr/bin:/bin chroot "$root" /usr/bin/node /cnm/dist/cnm.js --version >/dev/null || { echo "$0: node in $root does not start cnm" >&2; exit 1; }
env -i PATH=/usr/sbin:/usr/bin:/bin chroot "$root" /usr/sbin/nft --version >/dev/null
echo "$out: $(du -sh "$root" | cut -f1) rootfs; next: docker plugin create cnm $out && docker plugin enable cnm"
