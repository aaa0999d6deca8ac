#!/bin/sh
# Print the Python interpreter that `make` builds .venv with: $1 (make PYTHON=...) if given,
# else the newest supported one on PATH. Exit 2 with one line on stderr when there is none,
# or when it lacks the venv module (Debian and Ubuntu ship that separately).
# The supported versions are pyproject.toml's requires-python; keep the two in step.
OLDEST=3.11
NEWEST=3.13
CANDIDATES="python3.13 python3.12 python3.11 python3"

supported() {
    "$1" -c "import sys; sys.exit(not (tuple(map(int, '$OLDEST'.split('.'))) <= sys.version_info[:2] <= tuple(map(int, '$NEWEST'.split('.')))))" 2>/dev/null
}

python=""
if [ -n "$1" ]; then
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "error: PYTHON=$1 is not a command; give a Python $OLDEST to $NEWEST, e.g. make PYTHON=python3.12, or leave PYTHON out to use the newest one found" >&2
        exit 2
    fi
    if ! supported "$1"; then
        found=$("$1" -c 'import sys; print("Python %d.%d" % sys.version_info[:2])' 2>/dev/null || echo "not a working Python")
        echo "error: PYTHON=$1 is $found; keraslab supports Python $OLDEST to $NEWEST: make PYTHON=python3.12, or leave PYTHON out to use the newest one found" >&2
        exit 2
    fi
    python=$1
else
    for candidate in $CANDIDATES; do
        if command -v "$candidate" >/dev/null 2>&1 && supported "$candidate"; then
            python=$candidate
            break
        fi
    done
    if [ -z "$python" ]; then
        echo "error: no Python $OLDEST to $NEWEST on PATH (tried $CANDIDATES); install one (Debian/Ubuntu: apt install python3 python3-venv; macOS: brew install python@$NEWEST; or https://www.python.org/downloads/) or name it: make PYTHON=/path/to/python3.12" >&2
        exit 2
    fi
fi

# venv with pip: Debian and Ubuntu split it (and ensurepip) into the pythonX.Y-venv package
if ! "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then
    version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    echo "error: $python (Python $version) has no venv module with pip; install it (Debian/Ubuntu: apt install python$version-venv) or choose another: make PYTHON=/path/to/python3.12" >&2
    exit 2
fi
"$python" -c "import sys; print(sys.executable)"
