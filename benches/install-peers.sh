#!/usr/bin/env bash
# Install the peer language implementations used by benches/run, from Debian
# packages (Debian 12 "bookworm"). Run as root (or with sudo).
#   chezscheme  -> Chez Scheme (`chezscheme` or `scheme`)
#   racket      -> Racket (`racket`)
#   guile-3.0   -> Guile 3 (`guile`)
#   sbcl        -> Steel Bank Common Lisp (`sbcl`)
#   time        -> GNU time (/usr/bin/time -f %M for peak RSS)
#   gcc         -> the C references (gcc -O2)
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
    chezscheme racket guile-3.0 sbcl time gcc python3
echo "installed:"
for p in chezscheme scheme racket guile sbcl gcc /usr/bin/time; do
    if command -v "$p" >/dev/null 2>&1; then echo "  $p: $(command -v "$p")"; fi
done
