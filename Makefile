# The two commands of the README: `make boot` and `make test`.
GO ?= go
export CGO_ENABLED := 0

.PHONY: build test vet boot bench image

IMAGE ?= testdata/initramfs/out/uroot.cpio

build:
	$(GO) build -o uk .

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | grep -v '^testdata/')" || { echo "gofmt needed:"; gofmt -l . ; exit 1; }

# All tests: vet, formatting, the project rules (unsafe, static binary) and
# every package's tests, including real programs run under uk on every
# platform this machine has. Packages run one at a time (-p 1): several of
# them time real things (clocks, preemption, a shell on a pty) and two
# cores shared by parallel packages made those measurements noisy.
# go test's -json output goes through scripts/testsummary, which prints what
# plain go test would and then every skipped test with its reason, every
# retried attempt, the platform matrix and a count line; its exit status is
# go test's. UK_REQUIRE_ENV=1 (as .ci/run sets) turns every skip for a
# missing tool or device into a failure.
# The timeout is per package binary: test/e2e runs every program on each
# platform and boots a QEMU guest for the KVM subset (TestKVMInQEMU, up to 8
# minutes), which together outgrew 20 minutes on a busy 2-CPU machine.
TESTFLAGS = -count=1 -p 1 -timeout 40m
test: vet
	@echo "$(GO) test $(TESTFLAGS) ./...  (through scripts/testsummary)"
	@d=$$(mktemp -d) && $(GO) build -o $$d/testsummary ./scripts/testsummary && \
	  { $$d/testsummary -- $(GO) test $(TESTFLAGS) -json ./...; s=$$?; rm -rf $$d; exit $$s; }

# The default u-root image (built once from the pinned recipe, then cached).
image:
	scripts/build-initramfs.sh $(IMAGE)

# Boot the default u-root initramfs to its shell inside uk.
boot: build image
	./uk boot $(IMAGE)

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s -count 5 ./test/e2e
