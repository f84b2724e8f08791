// simdjson On-Demand finds a document's structure (stage 1) in Debian's
// libsimdjson.so, which picks a SIMD kernel at run time; the rest (strings,
// numbers, walking the structure) is inlined into our code and uses the
// kernel the compile flags allow. .bazelrc sets an x86-64 baseline with
// SSE4.2 and PCLMUL; without it that part runs the scalar `fallback`
// kernel. This test fails if the flags are lost.
//
// Not simdjson::builtin_implementation()->name(): that function lives in
// Debian's libsimdjson.so and names the library's own compile-time choice
// (always "fallback" there), not the one inlined into this file.
#include <string>

#include "gtest/gtest.h"
#include "simdjson.h"

#define KERNEL_NAME_(x) #x
#define KERNEL_NAME(x) KERNEL_NAME_(x)

namespace {

TEST(SimdKernelTest, OnDemandIsCompiledForSimd) {
#if defined(__x86_64__)
  const std::string name = KERNEL_NAME(SIMDJSON_BUILTIN_IMPLEMENTATION);
  EXPECT_NE(name, "fallback") << "build with --copt=-march=x86-64-v2 --copt=-mpclmul";
  EXPECT_TRUE(name == "westmere" || name == "haswell" || name == "icelake") << name;
#else
  GTEST_SKIP() << "the SIMD baseline is set for x86-64 only";
#endif
}

TEST(SimdKernelTest, ParsesWithTheBuiltinKernel) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(std::string(R"({"choices":[{"delta":{"content":"hi"}}]})"));
  simdjson::ondemand::document doc = parser.iterate(json);
  std::string_view content = doc["choices"].at(0)["delta"]["content"].get_string();
  EXPECT_EQ(content, "hi");
}

}  // namespace
