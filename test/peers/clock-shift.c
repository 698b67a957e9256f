// clock-shift.c: an LD_PRELOAD library that makes a server see files as days older, so that a
// test can check what it does days later (IMAP_EMPTYTRASH) without waiting. Two ways, for the
// two servers (test/imap/parity-settings.test.ts):
//   CLOCK_SHIFT_SECONDS  moves the wall clock forward (Node reads it through clock_gettime;
//                        its stat calls bypass libc, so the next way cannot reach it).
//   CTIME_SHIFT_SECONDS  moves the ctime of regular files back in stat() answers (Courier,
//                        which would see a moved clock as clock skew and end the session).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/time.h>

static long env_long(const char *name) { const char *s = getenv(name); return s ? atol(s) : 0; }

int clock_gettime(clockid_t id, struct timespec *ts) {
  static int (*real)(clockid_t, struct timespec *);
  if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
  int r = real(id, ts);
  if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += env_long("CLOCK_SHIFT_SECONDS");
  return r;
}
time_t time(time_t *t) { struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts); if (t) *t = ts.tv_sec; return ts.tv_sec; }
int gettimeofday(struct timeval *tv, void *tz) {
  (void)tz;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tv->tv_sec = ts.tv_sec;
  tv->tv_usec = ts.tv_nsec / 1000;
  return 0;
}

static void older(struct stat *st) { if (S_ISREG(st->st_mode)) st->st_ctim.tv_sec -= env_long("CTIME_SHIFT_SECONDS"); }
int stat(const char *path, struct stat *st) {
  static int (*real)(const char *, struct stat *);
  if (!real) real = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "stat");
  int r = real(path, st);
  if (r == 0) older(st);
  return r;
}
int lstat(const char *path, struct stat *st) {
  static int (*real)(const char *, struct stat *);
  if (!real) real = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "lstat");
  int r = real(path, st);
  if (r == 0) older(st);
  return r;
}
int fstat(int fd, struct stat *st) {
  static int (*real)(int, struct stat *);
  if (!real) real = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, "fstat");
  int r = real(fd, st);
  if (r == 0) older(st);
  return r;
}
