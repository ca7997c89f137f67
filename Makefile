# Rectify: `make run` to use it, `make test` to check it. Everything else is set up on the way.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export PORT  # BASE_URL (links in mail) follows it unless set
export FLASK_APP := wsgi

.PHONY: run serve test install catalogues upgrade seed clean-db extract-messages bench-data bench bench-writes

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed catalogues

catalogues: $(VENV)/.installed
	$(BIN)/pybabel compile -d tracker/translations

upgrade: install
	$(BIN)/flask db upgrade

seed: upgrade
	$(BIN)/flask seed-demo --if-empty

## run: install, migrate, load demo data into an empty database, serve on 127.0.0.1:$(PORT)
## with the scheduler (reminders, digests, outbox) beside it; both stop together.
run: seed
	@echo "Rectify on http://127.0.0.1:$(PORT)/  (demo accounts: see README.md)"
	@$(BIN)/flask scheduler & sched=$$!; trap 'kill $$sched 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

## serve: production-style: gunicorn with WEB_CONCURRENCY workers on PORT (gunicorn.conf.py) and
## the scheduler process beside it; SIGTERM/Ctrl-C stops both gracefully. No demo data is loaded.
serve: upgrade
	@$(BIN)/flask scheduler & sched=$$!; trap 'kill -TERM $$sched 2>/dev/null; wait $$sched' EXIT INT TERM; \
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## test: install and run the whole suite (SQLite, or PostgreSQL when DATABASE_URL points there)
test: install
	@sh .ci/browser-deps
	$(BIN)/python -m pytest
	@echo "Screenshots of the key pages: $(CURDIR)/test-artifacts/screenshots"
	@echo "The ledger and the Word papers, with their PDFs: $(CURDIR)/test-artifacts/papers"

extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs ".venv .git instance" \
	  -o tracker/translations/messages.pot .
	$(BIN)/pybabel update -i tracker/translations/messages.pot -d tracker/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python tracker/translations/fill_en.py

## bench-data: a generated province-scale database for the benchmark (bench/README.md), under /tmp.
## bench: serve it with gunicorn and measure the pages and jobs; results in bench/results/.
BENCH_ITEMS ?= 100000
BENCH_DB    ?= /tmp/rectify-bench-$(BENCH_ITEMS).sqlite3
BENCH_URL   ?= sqlite:///$(BENCH_DB)
BENCH_ENV    = DATABASE_URL=$(BENCH_URL) UPLOAD_DIR=/tmp/rectify-bench-uploads
BENCH_META   = instance/bench-meta-$(BENCH_ITEMS).json

bench-data: install
	rm -f $(BENCH_DB)
	$(BENCH_ENV) $(BIN)/flask db upgrade
	$(BENCH_ENV) $(BIN)/python bench/generate.py --items $(BENCH_ITEMS) --meta $(BENCH_META)

bench: install
	$(BENCH_ENV) $(BIN)/python bench/run.py --meta $(BENCH_META)

## bench-writes: every page alone, then while a writer posts BENCH_WRITES writes a second (progress,
## transitions, evidence) through the API; reads paced at BENCH_PACE a second from one signed-in
## client; 1 and 4 workers; no soak, no jobs. The writer's changes stay in the database.
BENCH_PACE   ?= 10
BENCH_WRITES ?= 1
BENCH_ARGS   ?=
bench-writes: install
	$(BENCH_ENV) $(BIN)/python bench/run.py --meta $(BENCH_META) --writer --writes-per-second $(BENCH_WRITES) \
	  --pace $(BENCH_PACE) --soak 0 --jobs '' $(BENCH_ARGS)
