"""Offline stand-in for @rules_java//java:defs.bzl (Bazel 4.2.3 registers JDK
toolchains even for C++ builds, so @bazel_tools loads these names)."""

def java_binary(**kwargs):
    native.java_binary(**kwargs)

def java_import(**kwargs):
    native.java_import(**kwargs)

def java_library(**kwargs):
    native.java_library(**kwargs)

def java_runtime(**kwargs):
    native.java_runtime(**kwargs)

def java_toolchain(**kwargs):
    native.java_toolchain(**kwargs)

def java_test(**kwargs):
    native.java_test(**kwargs)
