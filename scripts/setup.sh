# Shared set-up for scripts/run and scripts/test: sourced, not run. Every step is safe to
# repeat: it checks before it installs or starts anything.

# Runs a command as root (directly when we are root, else through sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages named, if any is missing.
need_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# The packages the server needs to build and run; the Rust toolchain is expected on PATH.
need_build_packages() {
  # libdbus-1-dev: the Secret Service keyring (identdesk-sync); libvpx-dev and libopus-dev: the
  # video call's codecs, libasound2-dev: the operator's microphone and loudspeaker (crates/media);
  # WebKitGTK and the rest: the desktop app (Tauri).
  need_packages build-essential pkg-config curl ca-certificates libdbus-1-dev libvpx-dev libopus-dev libasound2-dev \
    libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev
  command -v cargo >/dev/null || { echo "cargo is missing: install Rust from rustup.rs first" >&2; exit 1; }
}

# What drives the desktop window in tests: a virtual display, WebKit's WebDriver, and
# tauri-driver between them.
need_desktop_test_tools() {
  need_packages xvfb webkit2gtk-driver
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v tauri-driver >/dev/null || cargo install tauri-driver --locked --quiet
}

# Node.js (18 or newer; Debian 12's is 18) and npm for the UI; Chromium for its browser tests.
need_ui_packages() {
  command -v npm >/dev/null || need_packages nodejs npm
  need_packages "$@"
}

# Installs the UI's npm packages (the exact versions package-lock.json holds) and builds it.
# `npm install` rather than `npm ci`: this registry's lock files leave out other platforms'
# optional packages (rollup's native builds), which `npm ci` refuses; the lock stays unchanged.
build_ui() {
  (cd ui && npm install --no-audit --no-fund && npm run build)
}

# Starts a private PostgreSQL cluster for the tests (port 55432, trust on loopback only) and
# exports IDENTDESK_TEST_PG_URL. The cluster lives outside the checkout and is reused.
start_test_postgres() {
  need_packages postgresql postgresql-contrib
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  local dir=${IDENTDESK_PG_DIR:-/var/tmp/identdesk-test-pg}
  local port=${IDENTDESK_PG_PORT:-55432}
  local run_as=()
  # initdb refuses to run as root: the cluster belongs to the postgres user then.
  if [ "$(id -u)" = 0 ]; then run_as=(runuser -u postgres --); fi
  if [ ! -s "$dir/PG_VERSION" ]; then
    echo "==> creating the test PostgreSQL cluster in $dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    "${run_as[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! "${run_as[@]}" "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    echo "==> starting the test PostgreSQL on 127.0.0.1:$port"
    "${run_as[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
  fi
  export IDENTDESK_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  # Databases of earlier runs go; each test makes its own.
  "$bin/psql" -q -X -At "$IDENTDESK_TEST_PG_URL" -c \
    "SELECT 'DROP DATABASE ' || datname || ';' FROM pg_database WHERE datname LIKE 'idt_%'" \
    | "$bin/psql" -q -X "$IDENTDESK_TEST_PG_URL" >/dev/null
}

# Starts a private PulseAudio whose only device is a null sink, its monitor the default source:
# what the operator's loudspeaker plays, their microphone hears, on a real device clock. ALSA
# reaches it through the pulse plugin (libasound2-plugins), as on a desktop. Exports
# PULSE_SERVER, and IDENTDESK_REQUIRE_AUDIO so that the audio tests fail rather than skip.
start_test_audio() {
  need_packages pulseaudio pulseaudio-utils libasound2-plugins
  local dir=${IDENTDESK_AUDIO_DIR:-/var/tmp/identdesk-test-audio}
  export PULSE_SERVER="unix:$dir/native"
  export IDENTDESK_REQUIRE_AUDIO=1
  if pactl info >/dev/null 2>&1; then return; fi
  echo "==> starting the test PulseAudio (a null sink looped back to the default source)"
  mkdir -p "$dir"
  rm -f "$dir/native" "$dir/pid"
  cat >"$dir/default.pa" <<PA
load-module module-native-protocol-unix auth-anonymous=1 socket=$dir/native
load-module module-null-sink sink_name=identdesk_loop rate=48000 channels=1 sink_properties=device.description=IdentDesk-loop-back
set-default-sink identdesk_loop
set-default-source identdesk_loop.monitor
PA
  HOME="$dir" XDG_RUNTIME_DIR="$dir" pulseaudio -n -F "$dir/default.pa" --exit-idle-time=-1 --daemonize=yes \
    --use-pid-file=yes --log-target="file:$dir/log" 2>/dev/null
  for _ in $(seq 50); do pactl info >/dev/null 2>&1 && return; sleep 0.1; done
  echo "the test PulseAudio did not start; see $dir/log" >&2
  exit 1
}
