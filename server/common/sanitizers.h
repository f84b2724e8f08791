// Whether this build runs under a sanitizer whose allocator replaces
// glibc's malloc (ASan, TSan): tests about resident memory mean little
// there. gcc says so with __SANITIZE_*__, clang only through __has_feature.
#ifndef LLM_GATEWAY_SERVER_COMMON_SANITIZERS_H_
#define LLM_GATEWAY_SERVER_COMMON_SANITIZERS_H_

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LLMGW_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LLMGW_SANITIZER_ALLOCATOR 1
#endif
#endif

#endif  // LLM_GATEWAY_SERVER_COMMON_SANITIZERS_H_
