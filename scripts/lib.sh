# Shell helpers shared by scripts/run and scripts/test (sourced, not run).
#
# They install missing Debian packages, build and install the extension, find
# a free port, and run server-side commands as an unprivileged user: PostgreSQL
# refuses to run as root, so under root those steps run as "postgres".

MV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MV_PG_MAJOR=15
MV_PACKAGES=(
    build-essential postgresql-15 postgresql-server-dev-15 libpq-dev
    libopenblas-dev libcurl4-openssl-dev libssl-dev openssl libzstd-dev liblz4-dev libipc-run-perl
    zlib1g-dev clang
    gnuplot-nox dataset-fashion-mnist
)
# Debian's versioned pg_config, not the /usr/bin wrapper that picks the newest
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$MV_PG_MAJOR/bin/pg_config}

mv_say() { printf '==> %s\n' "$*"; }
mv_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

mv_is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as root: directly when we are root, else through sudo.
mv_sudo() {
    if mv_is_root; then
        "$@"
    else
        command -v sudo >/dev/null || mv_die "need root for: $*; install sudo or run as root"
        sudo "$@"
    fi
}

# Install whichever of MV_PACKAGES dpkg does not report as installed.
mv_install_packages() {
    local missing=() p
    for p in "${MV_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    mv_say "installing ${missing[*]}"
    mv_sudo apt-get update -q
    mv_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        "${missing[@]}"
}

# Set PGBIN and put PostgreSQL 15's programs first on PATH.
mv_pg_env() {
    [ -x "$PG_CONFIG" ] || mv_die "$PG_CONFIG not found; is postgresql-server-dev-$MV_PG_MAJOR installed?"
    PGBIN=$("$PG_CONFIG" --bindir)
    PATH="$PGBIN:$PATH"
    export PG_CONFIG PGBIN PATH
}

# Build (warnings are errors: see PG_CFLAGS in the Makefile) and install.
mv_build_install() {
    mv_say "building"
    make -C "$MV_ROOT" -s PG_CONFIG="$PG_CONFIG"
    mv_say "installing into $("$PG_CONFIG" --pkglibdir)"
    mv_sudo make -C "$MV_ROOT" -s PG_CONFIG="$PG_CONFIG" install
}

# Under root, servers and TAP tests run as this user instead.
MV_SERVER_USER=${MV_SERVER_USER:-postgres}

# Make sure that user exists when we are root.
mv_ensure_server_user() {
    mv_is_root || return 0
    id "$MV_SERVER_USER" >/dev/null 2>&1 && return 0
    mv_say "creating system user $MV_SERVER_USER"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash "$MV_SERVER_USER"
}

# Run a command as the server user, with an explicit environment (runuser
# would otherwise reset some of it) and from / (the current directory may be
# closed to that user).  Extra VAR=value words may lead; paths are absolute.
mv_as_server() {
    if mv_is_root; then
        runuser -u "$MV_SERVER_USER" -- env -C / PATH="$PATH" "$@"
    else
        env -C / "$@"
    fi
}

# True when a TCP port on 127.0.0.1, or a PostgreSQL socket lock, is taken.
mv_port_busy() {
    local port=$1 dir
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    for dir in /tmp /var/run/postgresql; do
        [ -e "$dir/.s.PGSQL.$port.lock" ] && return 0
    done
    return 1
}

# Print the first free port from $1 (default 5433) upward.
mv_free_port() {
    local port=${1:-5433}
    while mv_port_busy "$port"; do
        port=$((port + 1))
        [ "$port" -lt 65536 ] || mv_die "no free port found"
    done
    echo "$port"
}

# Write the settings every cluster of ours gets into $1/postgresql.conf.
# $2 is the port, $3 the Unix socket directory ('' for none).
mv_configure_cluster() {
    local pgdata=$1 port=$2 sockdir=$3
    mv_as_server sh -c 'cat >> "$1"' sh "$pgdata/postgresql.conf" <<EOF

# added by scripts/ of the milvus extension
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
shared_preload_libraries = 'milvus'
EOF
}
