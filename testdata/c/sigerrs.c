/* sigerrs.c: the argument checks of the signal and timer calls, in the
 * order Linux makes them (LTP's rt_sigaction, rt_sigprocmask, sigpending,
 * rt_sigqueueinfo, sigaltstack, setitimer, timer_*, clock_* and nanosleep
 * error cases), rt_sigqueueinfo's si_code rule, pending and ignored
 * signals, and the sa_flags rt_sigaction keeps (unknown ones dropped). */
#include "uktest.h"
#include <signal.h>
#include <time.h>
#include <sys/time.h>
#include <pthread.h>
#define SA_RESTORER 0x04000000
static volatile int got;
static void h(int s){ got=s; }
static void hi(int s, siginfo_t *si, void *u){ got=s; printf("handler: sig %d code %d val %d pidok %d\n", s, si->si_code, si->si_value.sival_int, si->si_pid==getpid()); }
int main(void){
  struct sigaction sa={0}, old;
  EXPECT_ERR(sigaction(SIGKILL,&sa,NULL), EINVAL);
  EXPECT_ERR(sigaction(SIGSTOP,&sa,NULL), EINVAL);
  EXPECT_ERR(sigaction(0,&sa,NULL), EINVAL);
  EXPECT_ERR(sigaction(65,&sa,NULL), EINVAL);
  EXPECT_OK(sigaction(SIGKILL,NULL,&old));
  EXPECT_ERR(syscall(SYS_rt_sigaction, SIGKILL, 8, NULL, 8), EFAULT);
  EXPECT_ERR(syscall(SYS_rt_sigaction, 99, 8, NULL, 8), EFAULT);
  EXPECT_ERR(syscall(SYS_rt_sigaction, 99, NULL, NULL, 8), EINVAL);
  EXPECT_ERR(syscall(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 4), EINVAL);
  EXPECT_ERR(syscall(SYS_rt_sigaction, SIGUSR1, 8, NULL, 8), EFAULT);
  EXPECT_ERR(syscall(SYS_rt_sigaction, SIGUSR1, NULL, 8, 8), EFAULT);
  EXPECT_OK(syscall(SYS_rt_sigprocmask, 7, NULL, NULL, 8)); /* how is looked at only with a set */
  sigset_t s; sigemptyset(&s);
  EXPECT_ERR(syscall(SYS_rt_sigprocmask, 7, &s, NULL, 8), EINVAL);
  EXPECT_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &s, NULL, 4), EINVAL);
  EXPECT_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, 8, NULL, 8), EFAULT);
  EXPECT_OK(syscall(SYS_rt_sigpending, &s, 4)); /* a smaller set is fine */
  EXPECT_ERR(syscall(SYS_rt_sigpending, &s, 16), EINVAL);
  EXPECT_ERR(syscall(SYS_rt_sigpending, 8, 8), EFAULT);
  EXPECT_ERR(syscall(SYS_rt_sigsuspend, &s, 4), EINVAL);
  struct timespec ts={0,1000000};
  sigaddset(&s,SIGUSR1);
  EXPECT_ERR(sigtimedwait(&s,NULL,&ts), EAGAIN);
  ts.tv_nsec=-1; EXPECT_ERR(sigtimedwait(&s,NULL,&ts), EINVAL);
  EXPECT_ERR(syscall(SYS_rt_sigtimedwait, &s, NULL, &ts, 4), EINVAL);
  /* sigqueueinfo to self with positive si_code: EPERM (not to self? ) */
  siginfo_t si={0}; si.si_signo=SIGUSR1; si.si_code=SI_USER; 
  pid_t pp=getpid(); pid_t ch=fork(); if(ch==0){ EXPECT_ERR(syscall(SYS_rt_sigqueueinfo, pp, SIGUSR1, &si), EPERM); si.si_code=SI_TKILL; EXPECT_ERR(syscall(SYS_rt_sigqueueinfo, pp, SIGUSR1, &si), EPERM); fflush(stdout); _exit(0);} waitpid(ch,NULL,0); si.si_code=SI_USER;
  si.si_code=SI_QUEUE; si.si_value.sival_int=42;
  sa.sa_sigaction=hi; sa.sa_flags=SA_SIGINFO; sigaction(SIGUSR1,&sa,NULL);
  EXPECT_OK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
  EXPECT_ERR(syscall(SYS_rt_sigqueueinfo, getpid(), 99, &si), EINVAL);
  EXPECT_ERR(syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR1, &si), ESRCH);
  EXPECT_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), 999999, SIGUSR1, &si), ESRCH);
  union sigval v={.sival_int=7};
  EXPECT_OK(sigqueue(getpid(), SIGUSR1, v));
  /* alarm */
  printf("alarm: %d\n", alarm(100)); printf("alarm again: %d\n", alarm(0));
  /* sigaltstack errors */
  stack_t ss={0};
  ss.ss_size=1024; ss.ss_sp=malloc(1024);
  EXPECT_ERR(sigaltstack(&ss,NULL), ENOMEM);
  ss.ss_flags=99; ss.ss_size=65536; ss.ss_sp=malloc(65536);
  EXPECT_ERR(sigaltstack(&ss,NULL), EINVAL);
  /* signal() return values, SIG_ERR */
  printf("signal(SIGKILL): %d\n", signal(SIGKILL, h)==SIG_ERR);
  printf("signal(0): %d\n", signal(0, h)==SIG_ERR);
  /* sighold/sigrelse via sigprocmask and pending */
  sigset_t b; sigemptyset(&b); sigaddset(&b,SIGUSR2); signal(SIGUSR2,h); sigprocmask(SIG_BLOCK,&b,NULL);
  raise(SIGUSR2); sigpending(&s); printf("pending USR2: %d got %d\n", sigismember(&s,SIGUSR2), got);
  sigprocmask(SIG_UNBLOCK,&b,NULL); printf("after unblock got %d\n", got);
  /* ignored signal not pending */
  signal(SIGUSR2,SIG_IGN); sigprocmask(SIG_BLOCK,&b,NULL); raise(SIGUSR2); sigpending(&s); printf("ignored blocked pending: %d\n", sigismember(&s,SIGUSR2));
  signal(SIGUSR2,SIG_DFL); sigpending(&s); printf("after DFL pending: %d\n", sigismember(&s,SIGUSR2));
  /* sigaction flags read back */
  sa.sa_flags=SA_RESTART|SA_NODEFER|SA_RESETHAND|SA_ONSTACK|SA_SIGINFO; sigaction(SIGUSR2,&sa,NULL); sigaction(SIGUSR2,NULL,&old); printf("flags %#x\n", old.sa_flags & ~SA_RESTORER);
  sa.sa_flags=0x00000100|0x400|0x800|0x20000000|SA_SIGINFO; EXPECT_OK(sigaction(SIGUSR2,&sa,NULL)); sigaction(SIGUSR2,NULL,&old); printf("unknown flags dropped: %#x\n", old.sa_flags & ~SA_RESTORER);
  /* kill pid -1 and 0 */
  signal(SIGUSR2,SIG_IGN);

  /* setitimer errors */
  struct itimerval it={0};
  EXPECT_ERR(setitimer(99,&it,NULL), EINVAL);
  it.it_value.tv_usec=2000000; EXPECT_ERR(setitimer(ITIMER_REAL,&it,NULL), EINVAL);
  EXPECT_ERR(getitimer(99,&it), EINVAL);
  EXPECT_ERR(syscall(SYS_getitimer, ITIMER_REAL, 8), EFAULT);
  /* timer_create errors */
  timer_t t; struct sigevent ev={0}; ev.sigev_notify=99;
  EXPECT_ERR(timer_create(CLOCK_REALTIME,&ev,&t), EINVAL);
  ev.sigev_notify=SIGEV_SIGNAL; ev.sigev_signo=99;
  EXPECT_ERR(timer_create(CLOCK_REALTIME,&ev,&t), EINVAL);
  ev.sigev_signo=SIGUSR2;
  EXPECT_ERR(timer_create(99,&ev,&t), EINVAL);
  EXPECT_ERR(syscall(SYS_timer_create, CLOCK_REALTIME, &ev, 8), EFAULT);
  EXPECT_ERR(syscall(SYS_timer_delete, 12345), EINVAL);
  EXPECT_ERR(syscall(SYS_timer_getoverrun, 12345), EINVAL);
  struct itimerspec its={0};
  EXPECT_ERR(syscall(SYS_timer_settime, 12345, 0, &its, NULL), EINVAL);
  EXPECT_ERR(syscall(SYS_timer_gettime, 12345, &its), EINVAL);
  EXPECT_OK(timer_create(CLOCK_MONOTONIC,&ev,&t));
  its.it_value.tv_nsec=2000000000L; EXPECT_ERR(timer_settime(t,0,&its,NULL), EINVAL);
  its.it_value.tv_nsec=-1; EXPECT_ERR(timer_settime(t,0,&its,NULL), EINVAL);
  EXPECT_ERR(syscall(SYS_timer_settime, t, 0, 8, NULL), EFAULT);
  EXPECT_ERR(syscall(SYS_timer_gettime, t, 8), EFAULT);
  EXPECT_ERR(timer_settime(t,99,&its,NULL), EINVAL);
  EXPECT_OK(timer_delete(t));
  EXPECT_ERR(timer_delete(t), EINVAL);
  /* clock errors */
  EXPECT_ERR(clock_gettime(99,&ts), EINVAL);
  EXPECT_ERR(syscall(SYS_clock_gettime, CLOCK_REALTIME, 8), EFAULT);
  EXPECT_ERR(clock_getres(99,&ts), EINVAL);
  EXPECT_OK(clock_getres(CLOCK_REALTIME,NULL));
  ts.tv_sec=0; ts.tv_nsec=-1;
  EXPECT_ERR(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &ts, NULL), EINVAL);
  EXPECT_ERR(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL), EOPNOTSUPP);
  ts.tv_nsec=1000;
  EXPECT_ERR(syscall(SYS_clock_nanosleep, 99, 0, &ts, NULL), EINVAL);
  EXPECT_ERR(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL), EOPNOTSUPP);
  EXPECT_ERR(syscall(SYS_nanosleep, 8, NULL), EFAULT);
  ts.tv_nsec=1000000000; EXPECT_ERR(nanosleep(&ts,NULL), EINVAL);
  struct timeval tv={0,0}; EXPECT_ERR(syscall(SYS_settimeofday, 8, NULL), EFAULT);
  tv.tv_usec=-1; EXPECT_ERR(settimeofday(&tv,NULL), EINVAL);
  EXPECT_ERR(syscall(SYS_gettimeofday, 8, NULL), EFAULT);
  EXPECT_ERR(syscall(SYS_time, 8), EFAULT);
  EXPECT_ERR(syscall(SYS_times, 8), EFAULT);
  return ukt_exit();
}
