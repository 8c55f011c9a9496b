# wordish - see README.md. `make test` is what CI runs.
GO ?= go
BIN := $(CURDIR)/wordish
# The user guide runs `wordish` in its examples: put this build first on PATH.
RUN := PATH="$(CURDIR):$$PATH" $(BIN) run
GUIDE := README.md $(filter-out docs/lvm.md,$(wildcard docs/*.md))

.PHONY: all build test unit lint docs check-html check-docs check-lvm bench deps fuzz

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/wordish  # wordish version names the commit

deps:
	bash .ci/deps

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test ./...

# The project's own articles, replayed by the tool they describe.
check-docs: build
	$(RUN) $(GUIDE)

# The LVM walkthrough, for real, as root inside a throwaway guest: the
# first sandbox backend usable here (wordish sandbox check), installed
# and prepared if need be.
check-lvm: build
	$(BIN) run --sandbox vm --sandbox-install docs/lvm.md docs/lvm.rst docs/lvm.html

# docs/lvm.html must be what `make docs` makes of docs/lvm.md.
check-html:
	cd tools/mkdocs && $(GO) test ./...

test: deps lint unit check-html check-docs check-lvm

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./parser ./session ./runner
	bash bench/floor.sh $(BIN)

# Short fuzzing pass over every parser (longer: make fuzz FUZZTIME=10m).
FUZZTIME ?= 20s
fuzz:
	for f in FuzzMarkdown FuzzRST FuzzHTML FuzzSplit; do \
		$(GO) test ./parser -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./report -run '^$$' -fuzz '^FuzzHTMLReport$$' -fuzztime $(FUZZTIME)

# docs/lvm.html is generated from docs/lvm.md (goldmark + chroma highlighting).
docs:
	cd tools/mkdocs && $(GO) run . ../../docs/lvm.md ../../docs/lvm.html
