#!/usr/bin/env bash
# Installs the .deb that scripts/package.sh made into a clean Debian 12 root (debootstrap's
# minimal base: nothing of this machine, not even its libraries) with apt-get, as a new
# user would, and checks it there: both programs on the PATH, `atslegas-cli --version`,
# the desktop entry and the icons, the installed window under Xvfb showing the first-run
# screen and creating its database, About with the version (tests/package/installed.test.mjs,
# through WebDriver), and `apt-get remove` leaving the data in place.
#   bash tests/package/install.sh [DEB]
# Needs root (debootstrap, chroot, mounts). The Debian base is cached as a tarball in
# target/package-test/ and unpacked fresh for every run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/deps.sh
# debian-archive-keyring: debootstrap checks the Debian archive with it (Ubuntu lacks it by default).
need_pkgs debootstrap debian-archive-keyring
export PATH="$HOME/.cargo/bin:$PATH"

deb=${1:-$(ls dist/*_amd64.deb 2>/dev/null | head -1)}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "!! no .deb in dist/: run bash scripts/package.sh first" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

work=target/package-test
mkdir -p "$work"
base="$PWD/$work/bookworm-minbase.tar"
if [ ! -s "$base" ]; then
  echo "==> A clean Debian 12 root (debootstrap --variant=minbase bookworm)"
  fresh=$(mktemp -d)
  # This machine's own Debian mirror where it has one; debootstrap's default otherwise.
  mirror=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  if ! debootstrap --variant=minbase bookworm "$fresh" $mirror >"$work/debootstrap.log" 2>&1; then
    tail -20 "$work/debootstrap.log"; exit 1
  fi
  tar -C "$fresh" -cf "$base.partial" . && mv "$base.partial" "$base"
  rm -rf --one-file-system "$fresh"
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/atslegas-installed.XXXXXX")
chmod 755 "$root"   # apt downloads as the _apt user, which must reach the root's folders
mounts=(proc sys dev dev/pts)
cleanup() {
  # Anything still running inside the root (a window, Xvfb, a driver) goes first.
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "$root/${mounts[$i]}" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
tar -C "$root" -xf "$base"
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
if mountpoint -q /dev/shm; then mount --bind /dev/shm "$root/dev/shm"; mounts+=(dev/shm); fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
fail() { echo "!! installed package: $*" >&2; exit 1; }

name=$(basename "$deb")
cp "$deb" "$root/tmp/$name"
echo "==> apt-get install ./$name in the clean Debian 12 root"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "/tmp/$name" >"$work/apt-install.log" 2>&1 ||
  { tail -30 "$work/apt-install.log"; fail "apt-get install ./$name failed"; }

echo "==> Both programs on the PATH, the version, the desktop entry, the icons"
for prog in atslegas atslegas-cli; do
  where=$(in_root sh -c "command -v $prog") || fail "$prog is not on the PATH"
  echo "    $prog: $where"
done
got=$(in_root atslegas-cli --version)
[ "$got" = "atslegas-cli $version" ] || fail "atslegas-cli --version says '$got', expected 'atslegas-cli $version'"
echo "    $got"
desktop=$(in_root dpkg -L atslegas | grep '^/usr/share/applications/.*\.desktop$') || fail "no desktop entry"
grep -q '^Exec=atslegas' "$root$desktop" || fail "$desktop does not start atslegas"
in_root dpkg -L atslegas | grep -q '^/usr/share/icons/hicolor/.*/apps/atslegas.png$' || fail "no icons"
echo "    $desktop and $(in_root dpkg -L atslegas | grep -c '/apps/atslegas.png$') icon sizes"

echo "==> The installed window: first-run screen, its database, About"
in_root apt-get install -y -qq --no-install-recommends xvfb xauth webkit2gtk-driver >"$work/apt-tools.log" 2>&1 ||
  { tail -30 "$work/apt-tools.log"; fail "could not install Xvfb and WebKitWebDriver in the root"; }
ensure_tauri_driver
cp "$(command -v tauri-driver)" "$root/usr/local/bin/tauri-driver"
ATSLEGAS_INSTALL_ROOT="$root" ATSLEGAS_VERSION="$version" \
  timeout --kill-after=20 600 node --test tests/package/installed.test.mjs

echo "==> apt-get remove keeps the data"
in_root apt-get remove -y -qq atslegas >/dev/null
in_root sh -c '! command -v atslegas' >/dev/null || fail "atslegas is still installed after apt-get remove"
[ -s "$root/root/.local/share/atslegas/database.db" ] || fail "the database is gone after apt-get remove"
[ -s "$root/root/.config/atslegas/config.json" ] || fail "config.json is gone after apt-get remove"
echo "==> The package installs, runs and uninstalls in a clean Debian 12"
