// Mutex and MutexLock: std::mutex with clang's thread-safety annotations, so
// that which lock guards which field is checked by the compiler rather than
// written in comments (LevelDB's GUARDED_BY, Abseil's Mutex).
//
//   mutable Mutex mu_;
//   std::map<int, int> next_ HL_GUARDED_BY(mu_);
//   void f() { MutexLock lock(mu_); next_.clear(); }      // fine
//   void g() { next_.clear(); }                            // clang: error
//
// The annotations expand to nothing for other compilers; the clang check
// (tests/thread_safety_check.sh, a ctest) compiles the annotated files with
// -Wthread-safety -Werror=thread-safety. Threading: as std::mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define HL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define HL_THREAD_ANNOTATION(x)
#endif

#define HL_CAPABILITY(x) HL_THREAD_ANNOTATION(capability(x))
#define HL_SCOPED_CAPABILITY HL_THREAD_ANNOTATION(scoped_lockable)
#define HL_GUARDED_BY(x) HL_THREAD_ANNOTATION(guarded_by(x))
#define HL_REQUIRES(...) HL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define HL_EXCLUDES(...) HL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define HL_ACQUIRE(...) HL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define HL_RELEASE(...) HL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))

namespace hemoledger {

class HL_CAPABILITY("mutex") Mutex {
 public:
  void lock() HL_ACQUIRE() { mu_.lock(); }
  void unlock() HL_RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope; wait_until() waits on a condition variable with it.
class HL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) HL_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() HL_RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Waits for a notification on `cv` (with the lock released meanwhile) or
  // until `deadline`; false at the deadline. Check the condition again after.
  bool wait_until(std::condition_variable_any& cv, std::chrono::steady_clock::time_point deadline) {
    return cv.wait_until(mu_, deadline) == std::cv_status::no_timeout;
  }

 private:
  Mutex& mu_;
};

}  // namespace hemoledger
