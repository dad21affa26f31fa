/* timersem.c: POSIX and interval timer semantics, compared with Linux
 * (LTP's timer_create, timer_settime, timer_gettime, timer_getoverrun,
 * setitimer, getitimer, alarm, clock_getres and times cases): a periodic
 * timer whose signal waits blocked counts overruns and the signal
 * carries them (timer_getoverrun returns the delivered count), the
 * previous setting returned, an absolute expiry in the past firing at
 * once, SIGEV_NONE timers, SIGEV_THREAD_ID, resolutions; timer ids
 * going round (a deleted id is not the next given) and RLIMIT_SIGPENDING
 * bounding how many timers a process makes (EAGAIN). */
#include "uktest.h"
#include <signal.h>
#include <time.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/resource.h>
static volatile int hits;

/* ids_and_limit runs in a child: the ids of new timers after one is
 * deleted, then timers made under RLIMIT_SIGPENDING 50 until one fails. */
static void ids_and_limit(void) {
	timer_t t[4];
	struct sigevent ev = {.sigev_notify = SIGEV_NONE};
	for (int i = 0; i < 3; i++)
		timer_create(CLOCK_MONOTONIC, &ev, &t[i]);
	timer_delete(t[0]);
	timer_create(CLOCK_MONOTONIC, &ev, &t[3]);
	printf("ids %ld %ld %ld, then %ld\n", (long)t[0], (long)t[1], (long)t[2], (long)t[3]);
	struct rlimit rl = {50, 50};
	EXPECT_OK(setrlimit(RLIMIT_SIGPENDING, &rl));
	int n = 3;
	timer_t x;
	while (n < 1000 && timer_create(CLOCK_MONOTONIC, &ev, &x) == 0)
		n++;
	/* Linux counts the user's pending signals too: a few may be queued elsewhere. */
	CHECK("timers stop with EAGAIN near RLIMIT_SIGPENDING", errno == EAGAIN && n > 40 && n <= 50);
}

static void h(int s, siginfo_t *si, void *u){ hits++; }
int main(void){
  ukt_in_child("timer ids and RLIMIT_SIGPENDING", ids_and_limit);
  struct sigaction sa={0}; sa.sa_sigaction=h; sa.sa_flags=SA_SIGINFO; sigaction(SIGUSR1,&sa,NULL);
  timer_t t; struct sigevent ev={0}; ev.sigev_notify=SIGEV_SIGNAL; ev.sigev_signo=SIGUSR1; ev.sigev_value.sival_int=77;
  EXPECT_OK(timer_create(CLOCK_MONOTONIC,&ev,&t));
  sigset_t m; sigemptyset(&m); sigaddset(&m,SIGUSR1); sigprocmask(SIG_BLOCK,&m,NULL);
  struct itimerspec its={{0,1000000},{0,1000000}};
  EXPECT_OK(timer_settime(t,0,&its,NULL));
  usleep(50000);
  siginfo_t si; sigwaitinfo(&m,&si); printf("code %d val %d overrun>5 %d\n", si.si_code, si.si_value.sival_int, si.si_overrun>5);
  int ov=timer_getoverrun(t); printf("getoverrun is the delivered one's: %d\n", ov==si.si_overrun);
  struct itimerspec cur; timer_gettime(t,&cur); printf("interval kept %ld\n", cur.it_interval.tv_nsec);
  its.it_value.tv_nsec=0; its.it_interval.tv_nsec=0; timer_settime(t,0,&its,&cur); printf("old interval %ld\n", cur.it_interval.tv_nsec);
  timer_gettime(t,&cur); printf("disarmed %ld %ld\n", cur.it_value.tv_sec, cur.it_value.tv_nsec);
  /* absolute in the past fires at once */
  struct timespec now; clock_gettime(CLOCK_MONOTONIC,&now); its.it_value=now; its.it_value.tv_sec-=1;
  EXPECT_OK(timer_settime(t,TIMER_ABSTIME,&its,NULL)); 
  struct timespec wait2={2,0}; int r=sigtimedwait(&m,&si,&wait2); printf("past absolute fired %d\n", r==SIGUSR1); /* at once natively; a loaded host may delay uk's timer thread */
  /* A signal every thread blocks, sent while sigtimedwait waits for it,
     ends the wait (the waited set counts as unblocked for the wait). */
  sigset_t u2; sigemptyset(&u2); sigaddset(&u2,SIGUSR2); sigprocmask(SIG_BLOCK,&u2,NULL);
  pid_t me=getpid(), kid=fork(); if(kid==0){ usleep(100000); kill(me,SIGUSR2); _exit(0);}
  struct timespec t0,t1, five={5,0}; clock_gettime(CLOCK_MONOTONIC,&t0); r=sigtimedwait(&u2,&si,&five); clock_gettime(CLOCK_MONOTONIC,&t1);
  printf("sigtimedwait woken by a later kill: %d, well before its timeout: %d\n", r==SIGUSR2, t1.tv_sec-t0.tv_sec<4);
  waitpid(kid,NULL,0);
  /* SIGEV_NONE timer counts down */
  ev.sigev_notify=SIGEV_NONE; timer_t t2; timer_create(CLOCK_REALTIME,&ev,&t2);
  its.it_value.tv_sec=100; its.it_value.tv_nsec=0; timer_settime(t2,0,&its,NULL); timer_gettime(t2,&cur); printf("none timer remaining ~100 %d\n", cur.it_value.tv_sec==99);
  /* timer ids distinct, many timers */
  int n=0; timer_t ts[100]; for(int i=0;i<100;i++) if(timer_create(CLOCK_MONOTONIC,&ev,&ts[i])==0) n++; printf("created %d\n", n);
  /* SIGEV_THREAD_ID */
  ev.sigev_notify=SIGEV_THREAD_ID; ev._sigev_un._tid=99999; EXPECT_ERR(timer_create(CLOCK_MONOTONIC,&ev,&t2), EINVAL);
  ev._sigev_un._tid=gettid(); EXPECT_OK(timer_create(CLOCK_MONOTONIC,&ev,&t2));
  /* itimer */
  struct itimerval iv={{0,0},{0,0}}, ov2; EXPECT_OK(setitimer(ITIMER_REAL,&iv,&ov2));
  iv.it_value.tv_sec=5; setitimer(ITIMER_REAL,&iv,NULL); getitimer(ITIMER_REAL,&ov2); printf("itimer real ~5: %d\n", ov2.it_value.tv_sec==4);
  iv.it_value.tv_sec=0; setitimer(ITIMER_REAL,&iv,&ov2); printf("old itimer value ~5 %d\n", ov2.it_value.tv_sec==4);
  /* alarm rounding */
  alarm(0); printf("alarm 0 -> %u\n", alarm(0));
  /* clock resolution */
  struct timespec res; clock_getres(CLOCK_MONOTONIC,&res); printf("res %ld %ld\n", res.tv_sec, res.tv_nsec);
  clock_getres(CLOCK_REALTIME_COARSE,&res); printf("coarse res > 0: %d\n", res.tv_nsec>0);
  clock_getres(CLOCK_PROCESS_CPUTIME_ID,&res); printf("cpu res %ld\n", res.tv_nsec);
  /* times() returns ticks */
  struct tms tt; clock_t c1=times(&tt); printf("times positive %d\n", c1>0);
  return ukt_exit();
}
