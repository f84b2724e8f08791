"""llm_fuzz_test: one libFuzzer entry point, its seed corpus, and three targets.

  NAME               the libFuzzer binary (manual: needs --config=fuzz, i.e. clang)
  NAME_corpus_test   replays every corpus file through the entry point with a
                     plain main, so it runs in every `bazel test //...` (and under
                     the asan/ubsan configs) with any compiler: found crashes
                     stay fixed. Tagged "fuzz_corpus"
  NAME_run           fuzzes from the corpus for $FUZZ_SECONDS (default 20);
                     tagged manual and "fuzz" (CI runs these with --config=fuzz)
                     and "external" (never cached: each run explores anew)

The corpus is every file in fuzz_corpus/NAME/ of the calling package.
"""

def llm_fuzz_test(name, srcs, deps, max_len = 0, size = "small"):
    corpus = name + "_corpus"
    native.filegroup(
        name = corpus,
        testonly = True,
        srcs = native.glob(["fuzz_corpus/%s/*" % name]),
    )
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        # Everything else is instrumented by --config=fuzz (fuzzer-no-link);
        # only the binary links libFuzzer's main.
        copts = ["-fsanitize=fuzzer"],
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        deps = deps,
    )
    native.cc_test(
        name = name + "_corpus_test",
        size = size,
        srcs = srcs,
        args = ["$(locations :%s)" % corpus],
        data = [":" + corpus],
        deps = deps + ["//tests/fuzz:replay_main"],
        # CI's --config=fuzz stage skips it: NAME_run replays the same corpus
        # first, under the same sanitizers (scripts/test.sh).
        tags = ["fuzz_corpus"],
    )
    native.sh_test(
        name = name + "_run",
        size = "medium",
        srcs = ["//tests/fuzz:run_fuzzer.sh"],
        args = [
            "$(location :%s)" % name,
            str(max_len),
            "$(locations :%s)" % corpus,
        ],
        data = [":" + name, ":" + corpus],
        # external: never cached. Each run explores anew (a random seed),
        # so a pass is no reason to skip the next one.
        tags = ["manual", "fuzz", "external"],
    )
