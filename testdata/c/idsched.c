/* idsched.c: what an unprivileged process may not do (set ids, nice
 * values below its own, raise limits, real-time policies, another user's
 * affinity, kill root's processes, host names, the clock, capabilities,
 * chroot, device nodes), and the argument checks of the id, priority,
 * rlimit, scheduler, affinity, sysinfo, uname, hostname, getrandom and
 * rusage calls, compared with Linux (LTP's id, sched, rlimit and sysinfo
 * families). */
#include "uktest.h"
#include <sched.h>
#include <sys/stat.h>
#include <sys/random.h>
#ifndef GRND_INSECURE
#define GRND_INSECURE 4
#endif
#include <sys/resource.h>
#include <sys/fsuid.h>
#include <grp.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/time.h>
#include <linux/capability.h>
int main(void){
  gid_t g[70000];
  EXPECT_ERR(getgroups(-1,g), EINVAL);
  EXPECT_ERR(setgroups(65537,g), EINVAL);
  EXPECT_ERR(syscall(SYS_setgroups, 1, 8), EFAULT);
  EXPECT_OK(syscall(SYS_getgroups, 1, 8)); /* root has no supplementary groups to write */
  EXPECT_ERR(syscall(SYS_getresuid, 8, 8, 8), EFAULT);
  /* as unprivileged */
  pid_t c=fork(); if(c==0){
    EXPECT_OK(setresgid(65534,65534,65534)); EXPECT_OK(setresuid(65534,65534,65534));
    EXPECT_ERR(setuid(0), EPERM); EXPECT_ERR(setgid(0), EPERM); EXPECT_ERR(setreuid(0,-1), EPERM);
    EXPECT_ERR(setresuid(0,-1,-1), EPERM); EXPECT_ERR(setgroups(0,NULL), EPERM);
    printf("setfsuid(0) old %d\n", setfsuid(0)); printf("fsuid now %d\n", setfsuid(-1));
    EXPECT_ERR(setpriority(PRIO_PROCESS,0,-5), EACCES);
    EXPECT_OK(setpriority(PRIO_PROCESS,0,5));
    EXPECT_ERR(setpriority(PRIO_PROCESS,0,4), EACCES);
    struct rlimit r; getrlimit(RLIMIT_NOFILE,&r); r.rlim_max+=1; EXPECT_ERR(setrlimit(RLIMIT_NOFILE,&r), EPERM);
    struct sched_param sp={.sched_priority=1}; EXPECT_ERR(sched_setscheduler(0,SCHED_FIFO,&sp), EPERM);
    EXPECT_ERR(sched_setaffinity(1,sizeof(cpu_set_t),NULL), EFAULT);
    EXPECT_ERR(kill(1,SIGKILL), EPERM);
    EXPECT_ERR(sethostname("x",1), EPERM);
    EXPECT_ERR(setdomainname("x",1), EPERM);
    struct timeval tv={0,0}; EXPECT_ERR(settimeofday(&tv,NULL), EPERM);
    EXPECT_ERR(syscall(SYS_capset, 8, 8), EFAULT);
    struct __user_cap_header_struct h={.version=_LINUX_CAPABILITY_VERSION_3}; struct __user_cap_data_struct d[2]={{0}};
    EXPECT_OK(syscall(SYS_capget,&h,d)); printf("caps %x %x\n", d[0].effective, d[0].permitted);
    d[0].effective=1; EXPECT_ERR(syscall(SYS_capset,&h,d), EPERM);
    EXPECT_ERR(chroot("/"), EPERM);
    EXPECT_ERR(mknod("/tmp/x",S_IFCHR|0600,0x0101), EPERM);
    fflush(stdout); _exit(0);} waitpid(c,NULL,0);
  /* Signals between users: a root-owned sibling process. */
  pid_t rootkid=fork(); if(rootkid==0){ for(;;) pause(); }
  c=fork(); if(c==0){
    setresuid(65534,65534,65534);
    EXPECT_ERR(kill(rootkid,SIGTERM), EPERM);
    EXPECT_ERR(kill(rootkid,0), EPERM);
    EXPECT_ERR(syscall(SYS_tgkill, rootkid, rootkid, SIGTERM), EPERM);
    EXPECT_OK(kill(rootkid,SIGCONT)); /* same session */
    EXPECT_OK(kill(getpid(),0));
    fflush(stdout); _exit(0);} waitpid(c,NULL,0);
  kill(rootkid,SIGKILL); waitpid(rootkid,NULL,0);
  /* Affinity is kept and inherited. */
  cpu_set_t one; CPU_ZERO(&one); CPU_SET(0,&one);
  EXPECT_OK(sched_setaffinity(0,sizeof one,&one));
  cpu_set_t got; EXPECT_OK(sched_getaffinity(0,sizeof got,&got));
  printf("affinity: %d CPUs, CPU 0 %d\n", CPU_COUNT(&got), CPU_ISSET(0,&got));
  c=fork(); if(c==0){ sched_getaffinity(0,sizeof got,&got); printf("a child's affinity: %d CPUs\n", CPU_COUNT(&got)); fflush(stdout); _exit(0);} waitpid(c,NULL,0);
  /* priorities */
  EXPECT_ERR(getpriority(99,0), EINVAL);
  EXPECT_ERR(getpriority(PRIO_PROCESS,999999), ESRCH);
  EXPECT_ERR(setpriority(99,0,0), EINVAL);
  EXPECT_ERR(setpriority(PRIO_PROCESS,999999,0), ESRCH);
  EXPECT_OK(setpriority(PRIO_PROCESS,0,-21)); printf("nice clamped %d\n", getpriority(PRIO_PROCESS,0));
  EXPECT_OK(setpriority(PRIO_PROCESS,0,100)); printf("nice clamped %d\n", getpriority(PRIO_PROCESS,0));
  EXPECT_OK(setpriority(PRIO_PROCESS,0,0));
  /* rlimits */
  struct rlimit r;
  EXPECT_ERR(getrlimit(99,&r), EINVAL);
  EXPECT_ERR(syscall(SYS_getrlimit, RLIMIT_NOFILE, 8), EFAULT);
  r.rlim_cur=10; r.rlim_max=5; EXPECT_ERR(setrlimit(RLIMIT_NOFILE,&r), EINVAL);
  r.rlim_cur=r.rlim_max=2000000; EXPECT_ERR(setrlimit(RLIMIT_NOFILE,&r), EPERM);
  EXPECT_ERR(syscall(SYS_prlimit64, 999999, RLIMIT_NOFILE, NULL, &r), ESRCH);
  EXPECT_ERR(syscall(SYS_prlimit64, 0, 99, NULL, &r), EINVAL);
  struct rlimit64 {unsigned long c,m;} r64;
  EXPECT_OK(syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &r64));
  EXPECT_OK(syscall(SYS_prlimit64, 0, RLIMIT_NPROC, NULL, &r64)); printf("nproc max set %d\n", r64.m > 0);
  getrlimit(RLIMIT_SIGPENDING,&r); printf("RLIMIT_SIGPENDING set %d\n", r.rlim_cur > 0);
  /* ulimit */
  /* sched */
  struct sched_param sp={0};
  EXPECT_ERR(sched_setscheduler(0,99,&sp), EINVAL);
  EXPECT_ERR(sched_setscheduler(0,SCHED_OTHER,NULL), EINVAL);
  EXPECT_ERR(sched_setscheduler(999999,SCHED_OTHER,&sp), ESRCH);
  EXPECT_ERR(sched_setscheduler(-1,SCHED_OTHER,&sp), EINVAL);
  sp.sched_priority=1; EXPECT_ERR(sched_setscheduler(0,SCHED_OTHER,&sp), EINVAL);
  sp.sched_priority=100; EXPECT_ERR(sched_setscheduler(0,SCHED_FIFO,&sp), EINVAL);
  EXPECT_ERR(sched_getparam(999999,&sp), ESRCH);
  EXPECT_ERR(sched_getparam(-1,&sp), EINVAL);
  EXPECT_ERR(sched_getparam(0,NULL), EINVAL);
  EXPECT_ERR(sched_setparam(0,NULL), EINVAL);
  EXPECT_ERR(sched_getscheduler(-1), EINVAL);
  EXPECT_ERR(sched_getscheduler(999999), ESRCH);
  printf("prio range fifo %d %d rr %d %d other %d %d\n", sched_get_priority_min(SCHED_FIFO), sched_get_priority_max(SCHED_FIFO), sched_get_priority_min(SCHED_RR), sched_get_priority_max(SCHED_RR), sched_get_priority_min(SCHED_OTHER), sched_get_priority_max(SCHED_OTHER));
  EXPECT_ERR(sched_get_priority_max(99), EINVAL);
  struct timespec ts; EXPECT_ERR(sched_rr_get_interval(999999,&ts), ESRCH);
  EXPECT_ERR(sched_rr_get_interval(-1,&ts), EINVAL);
  EXPECT_ERR(syscall(SYS_sched_rr_get_interval, 0, 8), EFAULT);
  EXPECT_OK(sched_rr_get_interval(0,&ts)); printf("rr interval other %ld %ld\n", ts.tv_sec, ts.tv_nsec);
  cpu_set_t cs; EXPECT_ERR(sched_getaffinity(0,1,&cs), EINVAL);
  EXPECT_ERR(sched_getaffinity(999999,sizeof cs,&cs), ESRCH);
  EXPECT_ERR(syscall(SYS_sched_getaffinity, 0, sizeof cs, 8), EFAULT);
  CPU_ZERO(&cs); EXPECT_ERR(sched_setaffinity(0,sizeof cs,&cs), EINVAL);
  /* sysinfo, uname, hostname */
  EXPECT_ERR(syscall(SYS_sysinfo, 8), EFAULT);
  EXPECT_ERR(syscall(SYS_uname, 8), EFAULT);
  char hn[300]; memset(hn,'h',300);
  EXPECT_ERR(sethostname(hn,65), EINVAL);
  EXPECT_ERR(sethostname(hn,-1), EINVAL);
  EXPECT_ERR(syscall(SYS_sethostname, 8, 5), EFAULT);
  EXPECT_ERR(setdomainname(hn,65), EINVAL);
  char sm[2]; EXPECT_ERR(gethostname(sm,1), ENAMETOOLONG);
  EXPECT_OK(getdomainname(sm,0));
  EXPECT_ERR(syscall(SYS_getrandom, 8, 16, 0), EFAULT);
  EXPECT_ERR(syscall(SYS_getrandom, hn, 16, 99), EINVAL);
  EXPECT_ERR(syscall(SYS_getrandom, hn, 16, GRND_RANDOM|GRND_INSECURE), EINVAL);
  EXPECT_EQ(syscall(SYS_getrandom, hn, 16, GRND_INSECURE), 16);
  EXPECT_EQ(syscall(SYS_getrandom, hn, 0, 0), 0);
  EXPECT_ERR(syscall(SYS_getcpu, 8, NULL, NULL), EFAULT);
  EXPECT_ERR(syscall(SYS_times, 8), EFAULT);
  EXPECT_ERR(syscall(SYS_getrusage, 99, &r), EINVAL);
  EXPECT_ERR(syscall(SYS_getrusage, RUSAGE_SELF, 8), EFAULT);
  /* umask */
  umask(022); printf("umask %o\n", umask(0777777)); printf("umask now %o\n", umask(022));
  return ukt_exit();
}
