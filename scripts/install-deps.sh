#!/usr/bin/env bash
# Install the Debian 12 packages medveil builds and tests with (as root, or
# with sudo available). Installs only what is missing.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  liblua5.4-dev lua5.4
  libdcmtk-dev dcmtk
  libsodium-dev zlib1g-dev libssl-dev
  python3 python3-pydicom
  clang libclang-rt-14-dev
  libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd
  libopenjp2-7-dev libjpeg62-turbo-dev libpng-dev
  python3-numpy python3-pil fonts-dejavu-core fonts-liberation
  libarchive-dev libsqlite3-dev sqlite3 libopenjph-dev openjph-tools python3-nibabel
  libarchive-tools p7zip-full libopenjp2-tools
  libjpeg-turbo-progs libpng-tools
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
