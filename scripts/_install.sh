# Sourced by scripts/serve and scripts/test: make .venv current for the given extras, quietly.
# - one install at a time: a lock on .venv.lock, so serve and test started together wait
#   for each other instead of both rebuilding .venv;
# - skipped when .venv already holds this package metadata with these extras (a stamp of
#   setup.cfg + pyproject.toml + extras);
# - pip's output goes to .install.log and is shown only when the install fails.
# - the Chinese font that generated PDFs embed (Debian's fonts-noto-cjk, see engine/fonts.py)
#   is installed with apt-get when missing and this runs as root; otherwise it says what to do.
# Usage: zp_install [EXTRAS]   (e.g. zp_install test)

zp_font() {
  local font=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
  if [ -n "${ZHIPING_CJK_FONT:-}" ] || [ -f "${font}" ]; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing the PDF font (Debian package fonts-noto-cjk) ..."
    if ! { apt-get install -y --no-install-recommends fonts-noto-cjk ||
      { apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk; }; } \
      >.install-font.log 2>&1; then
      echo "Font install failed; the end of .install-font.log:" >&2
      tail -n 20 .install-font.log >&2
      return 1
    fi
  else
    echo "PDFs need the font Noto Sans CJK SC: run 'apt-get install fonts-noto-cjk' as root," >&2
    echo "or set ZHIPING_CJK_FONT to a NotoSansCJK-Regular.ttc or NotoSansCJKsc-Regular.otf." >&2
  fi
}

zp_install() {
  local extras="${1:-}" spec="." stamp want log=".install.log"
  zp_font
  [ -n "${extras}" ] && spec=".[${extras}]"
  want="$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)-${extras:-base}"
  exec 9>.venv.lock
  flock 9
  stamp=".venv/.zhiping-installed"
  if [ -x .venv/bin/python ] && [ -f "${stamp}" ] && grep -qxF -- "${want}" "${stamp}"; then
    flock -u 9
    return 0
  fi
  echo "Installing Zhiping${extras:+ with [${extras}]} into .venv (pip's log: ${log}) ..."
  if ! {
    { [ -x .venv/bin/python ] || python3 -m venv .venv; } &&
      .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
      .venv/bin/python -m pip install --disable-pip-version-check -e "${spec}"
  } >"${log}" 2>&1; then
    echo "Install failed; the end of ${log}:" >&2
    tail -n 40 "${log}" >&2
    flock -u 9
    return 1
  fi
  # A base install does not satisfy a test install, but a test install satisfies both.
  { grep -v -- "-${extras:-base}\$" "${stamp}" 2>/dev/null || true; echo "${want}"; } >"${stamp}.new"
  if [ "${extras}" = "test" ]; then
    echo "${want%-test}-base" >>"${stamp}.new"
  fi
  mv "${stamp}.new" "${stamp}"
  echo "Installed."
  flock -u 9
}
