#!/usr/bin/env bash
# Installs the Debian packages the archive needs, only when one is missing.
#   ffmpeg          probing and audio derivatives (and yt-dlp's merging)
#   chromium, fonts-noto-cjk   the real-browser tests (and Chinese glyphs in them)
#   npm             installs axe-core (pinned, into node_modules/) for the accessibility tests
#   redis-server    the shared task queue's test
#   restic          offsite backup copies
#   caddy           the front server of `archive serve --processes N` and of `archive deploy`
#   logrotate       checks the log rotation `archive deploy` writes
set -euo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v restic >/dev/null 2>&1 || need+=(restic)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
[ -x /usr/sbin/logrotate ] || need+=(logrotate)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing system packages: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts caddy.service (a default page on port 80) where systemd runs: `archive serve`
# starts a Caddy of its own, so the service installed just now is stopped and left disabled.
if [[ " ${need[*]} " == *" caddy "* ]] && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now caddy.service >/dev/null 2>&1 || true
fi
