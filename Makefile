# hogar_nb: `make lab` opens JupyterLab on the example notebooks, `make test` runs the suite.
# Both create (or reuse) .venv and install what they need first.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PY      = $(BIN)/python
STAMP   = $(VENV)/.hogar-installed
LAB_STAMP = $(VENV)/.hogar-lab-installed
# The third-party OIP clients tests/clients drives (tritonclient, the kserve SDK) and
# schemathesis live in a virtualenv of their own: they pin their own protobuf and numpy.
CLIENTS_VENV ?= .venv-clients
CLIENTS_STAMP = $(CLIENTS_VENV)/.hogar-clients-installed
XCHECK_VENV ?= .venv-xcheck
XCHECK_STAMP = $(XCHECK_VENV)/.hogar-xcheck-installed
PORT   ?= 8888

.PHONY: lab test install clients browser node wrk valgrind postgres netns bench fuzz xcheck clean

# $(call debian,CHECK,PACKAGE): install Debian's PACKAGE unless the shell command CHECK succeeds
# (with sudo when not root).
debian = @$(1) >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "make: installing Debian's $(2) with apt-get$${SUDO:+ (sudo may ask for your password)}"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(2) >/dev/null; }

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

EXT_SOURCES = pyproject.toml labextension/package.json labextension/yarn.lock $(wildcard labextension/src/*.ts)

# The install also builds the JupyterLab extension when its sources changed. The test
# extra holds the notebooks' extras, so a tested venv is ready for `make lab` too.
$(STAMP): $(EXT_SOURCES) | $(PY) node
	@echo "installing hogar_nb with everything the tests use into $(VENV) (the first time takes a few minutes)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP) $(LAB_STAMP)

# `make lab` needs only what the example notebooks use (JupyterLab, widgets, plots, model runtimes).
$(LAB_STAMP): $(EXT_SOURCES) | $(PY) node
	@echo "make lab: installing hogar_nb with JupyterLab and the notebooks' extras into $(VENV)"
	@echo "make lab: the first time this fills about 900 MB and builds the lab extension: a few minutes"
	$(PY) -m pip install --progress-bar on -e ".[notebooks]" | grep --line-buffered -E "^(Collecting|Building|Installing|Successfully)" || true
	@$(PY) -c "import hogar_nb, jupyterlab, sklearn" || { echo "make lab: the install failed; run: $(PY) -m pip install -e '.[notebooks]'" >&2; exit 1; }
	touch $(LAB_STAMP)

install: $(STAMP)

$(CLIENTS_STAMP): tests/clients/requirements.txt
	@echo "installing the OIP clients the tests drive (tritonclient, kserve, schemathesis) into $(CLIENTS_VENV)"
	$(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CLIENTS_VENV)/bin/python -m pip install --quiet -r tests/clients/requirements.txt
	touch $(CLIENTS_STAMP)

clients: $(CLIENTS_STAMP)

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium).
browser:
	$(call debian,command -v chromium,chromium)

# Debian's Node.js builds the JupyterLab extension (jlpm, installed by pip, brings yarn).
node:
	$(call debian,command -v node,nodejs)

# Debian's PostgreSQL server binaries for the console's database test (started by the test).
postgres:
	$(call debian,ls /usr/lib/postgresql/*/bin/initdb,postgresql)

# iproute2's `ip` brings up loopback in the network namespace of the Ray tests.
netns:
	$(call debian,command -v ip,iproute2)

# Ray listens on every interface, so its tests run in a second pytest inside a network
# namespace that has only loopback; the main run leaves tests/on_ray out. tests/on_ray_alone
# starts Rays of its own (a console's server as another user), so it gets a namespace
# without the session's Ray: two clusters in one namespace keep a driver from registering.
RAY_NETNS = unshare --net $$( [ "$$(id -u)" = 0 ] || echo --map-root-user ) sh -c

# mypy first: the typed layers (configured in pyproject.toml) check clean before any test runs.
test: install clients browser postgres netns
	$(PY) -m mypy
	HOGAR_CLIENTS_PYTHON=$(abspath $(CLIENTS_VENV))/bin/python $(PY) -m pytest $(PYTEST_ARGS)
	$(RAY_NETNS) 'ip link set lo up && HOGAR_RAY_TESTS=1 exec $(PY) -m pytest tests/on_ray $(PYTEST_ARGS)'
	$(RAY_NETNS) 'ip link set lo up && HOGAR_RAY_TESTS=1 exec $(PY) -m pytest tests/on_ray_alone $(PYTEST_ARGS)'

# --allow-root only when running as root (containers), which JupyterLab refuses otherwise.
# The token is made here so that the URL to open is the last line printed before the
# server's own log; a busy PORT is refused up front rather than moved to another port.
lab: $(LAB_STAMP)
	@$(PY) -c 'import socket; socket.socket().bind(("127.0.0.1", $(PORT)))' 2>/dev/null || \
	  { echo "make lab: port $(PORT) is in use; pick another with: make lab PORT=8899" >&2; exit 1; }
	@TOKEN=$$($(PY) -c 'import secrets; print(secrets.token_hex(24))'); \
	echo "Open JupyterLab at: http://127.0.0.1:$(PORT)/lab?token=$$TOKEN"; \
	exec $(BIN)/jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
	  --ServerApp.port_retries=0 --IdentityProvider.token=$$TOKEN \
	  --ServerApp.root_dir=notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# Debian's wrk, the HTTP load client of benchmarks/serve.py.
wrk:
	$(call debian,command -v wrk,wrk)

# benchmarks/tracing.py counts instructions with callgrind
valgrind:
	$(call debian,command -v valgrind,valgrind)

bench: install wrk valgrind browser netns
	$(PY) benchmarks/compile.py
	$(PY) benchmarks/runtime.py
	$(PY) benchmarks/recovery.py
	$(PY) benchmarks/monitor.py
	$(PY) benchmarks/live_views.py
	$(PY) benchmarks/hostile.py
	$(PY) benchmarks/lint.py
	$(RAY_NETNS) 'ip link set lo up && exec $(PY) benchmarks/serve.py'
	$(PY) benchmarks/oip_peer.py
	$(PY) benchmarks/ray_backend.py
	$(PY) benchmarks/console.py
	$(PY) benchmarks/tracing.py
	$(PY) benchmarks/quality.py
	$(PY) benchmarks/shadow.py
	$(PY) benchmarks/autoscale.py

# The property tests and fuzzers with fresh random examples (make test replays fixed ones).
fuzz: install clients
	HOGAR_HYPOTHESIS_PROFILE=explore $(PY) -m pytest -q tests/core tests/jupyter_server/test_service.py \
	  tests/serving/test_fuzz_http.py $(PYTEST_ARGS)
	HOGAR_CLIENTS_PYTHON=$(abspath $(CLIENTS_VENV))/bin/python HOGAR_SCHEMATHESIS_EXAMPLES=300 \
	  HOGAR_SCHEMATHESIS_SEED=random $(PY) -m pytest -q tests/clients -k schemathesis $(PYTEST_ARGS)

# The drift statistics against Evidently's, in a virtual environment of its own (its pins
# clash with the project's); a minute or two the first time, not part of make test.
$(XCHECK_STAMP): xcheck/requirements.txt
	$(PYTHON) -m venv $(XCHECK_VENV)
	$(XCHECK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(XCHECK_VENV)/bin/python -m pip install --quiet -r xcheck/requirements.txt
	touch $(XCHECK_STAMP)

xcheck: install $(XCHECK_STAMP)
	HOGAR_XCHECK_PYTHON=$(abspath $(XCHECK_VENV))/bin/python $(PY) -m pytest -q xcheck $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(CLIENTS_VENV) $(XCHECK_VENV) .venv-mlserver build dist test-artifacts .pytest_cache hogar_nb/labextension \
	  labextension/lib labextension/node_modules labextension/tsconfig.tsbuildinfo
