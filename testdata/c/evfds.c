/* evfds.c: the checks and behaviours of the descriptor-notification
 * calls, compared with Linux (LTP's epoll, eventfd, timerfd, signalfd,
 * poll, select and pipe cases): argument errors, nested epoll loops
 * (ELOOP), EPOLLONESHOT, eventfd's semaphore mode and overflow, timerfd
 * expirations, signalfd reads, poll's POLLNVAL, pipe capacity, EPIPE and
 * O_DIRECT packets. */
#include "uktest.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <poll.h>
#include <sys/select.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, unsigned long long)
#endif
int main(void){
  EXPECT_ERR(epoll_create(0), EINVAL);
  EXPECT_ERR(epoll_create(-1), EINVAL);
  EXPECT_ERR(epoll_create1(99), EINVAL);
  int ep=epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event e={.events=EPOLLIN};
  int p[2]; pipe(p);
  EXPECT_ERR(epoll_ctl(ep,EPOLL_CTL_ADD,ep,&e), EINVAL);
  EXPECT_ERR(epoll_ctl(ep,99,p[0],&e), EINVAL);
  EXPECT_ERR(epoll_ctl(ep,EPOLL_CTL_MOD,p[0],&e), ENOENT);
  EXPECT_ERR(epoll_ctl(ep,EPOLL_CTL_DEL,p[0],&e), ENOENT);
  EXPECT_ERR(epoll_ctl(99,EPOLL_CTL_ADD,p[0],&e), EBADF);
  EXPECT_ERR(epoll_ctl(p[0],EPOLL_CTL_ADD,p[1],&e), EINVAL);
  int f=open("/proc/self/status",O_RDONLY); int reg=open("/etc/passwd",O_RDONLY);
  EXPECT_ERR(epoll_ctl(ep,EPOLL_CTL_ADD,reg,&e), EPERM);
  EXPECT_OK(epoll_ctl(ep,EPOLL_CTL_ADD,p[0],&e));
  EXPECT_ERR(epoll_ctl(ep,EPOLL_CTL_ADD,p[0],&e), EEXIST);
  EXPECT_ERR(epoll_ctl(ep,EPOLL_CTL_ADD,p[1],(void*)8), EFAULT);
  e.events=EPOLLIN|EPOLLEXCLUSIVE; EXPECT_ERR(epoll_ctl(ep,EPOLL_CTL_MOD,p[0],&e), EINVAL);
  struct epoll_event out[4];
  EXPECT_ERR(epoll_wait(ep,out,0,0), EINVAL);
  EXPECT_EQ(epoll_wait(ep,(void*)8,1,0), 0); /* nothing ready: nothing copied */
  EXPECT_ERR(epoll_wait(p[0],out,1,0), EINVAL);
  EXPECT_ERR(epoll_wait(99,out,1,0), EBADF);
  EXPECT_EQ(epoll_wait(ep,out,4,0), 0);
  write(p[1],"x",1);
  EXPECT_ERR(epoll_wait(ep,(void*)8,1,0), EFAULT);
  EXPECT_EQ(epoll_wait(ep,out,4,0), 1);
  /* nested epoll loop */
  int ep2=epoll_create1(0); e.events=EPOLLIN;
  EXPECT_OK(epoll_ctl(ep2,EPOLL_CTL_ADD,ep,&e));
  EXPECT_ERR(epoll_ctl(ep,EPOLL_CTL_ADD,ep2,&e), ELOOP);
  printf("nested ready %d\n", epoll_wait(ep2,out,4,0));
  /* EPOLLONESHOT, EPOLLET */
  int q[2]; pipe(q); e.events=EPOLLIN|EPOLLONESHOT; epoll_ctl(ep2,EPOLL_CTL_ADD,q[0],&e); write(q[1],"a",1);
  printf("oneshot %d then %d\n", epoll_wait(ep2,out,4,0), epoll_wait(ep2,out,4,0));
  /* eventfd */
  EXPECT_ERR(eventfd(0,99), EINVAL);
  int ev=eventfd(1,EFD_NONBLOCK|EFD_SEMAPHORE); uint64_t v;
  EXPECT_ERR(read(ev,&v,4), EINVAL);
  EXPECT_EQ(read(ev,&v,8), 8); printf("sem read %lu\n", v);
  EXPECT_ERR(read(ev,&v,8), EAGAIN);
  v=~0ull; EXPECT_ERR(write(ev,&v,8), EINVAL);
  v=0xfffffffffffffffeull; EXPECT_EQ(write(ev,&v,8), 8);
  v=1; EXPECT_ERR(write(ev,&v,8), EAGAIN);
  EXPECT_ERR(write(ev,&v,4), EINVAL);
  /* timerfd */
  EXPECT_ERR(timerfd_create(99,0), EINVAL);
  EXPECT_ERR(timerfd_create(CLOCK_MONOTONIC,99), EINVAL);
  int tf=timerfd_create(CLOCK_MONOTONIC,TFD_NONBLOCK);
  struct itimerspec its={0};
  EXPECT_ERR(timerfd_settime(tf,99,&its,NULL), EINVAL);
  its.it_value.tv_nsec=1000000000; EXPECT_ERR(timerfd_settime(tf,0,&its,NULL), EINVAL);
  EXPECT_ERR(timerfd_settime(p[0],0,&its,NULL), EINVAL);
  EXPECT_ERR(timerfd_gettime(p[0],&its), EINVAL);
  EXPECT_ERR(syscall(SYS_timerfd_gettime, tf, 8), EFAULT);
  EXPECT_ERR(read(tf,&v,8), EAGAIN);
  EXPECT_ERR(read(tf,&v,4), EINVAL);
  its.it_value.tv_nsec=1000000; timerfd_settime(tf,0,&its,NULL); struct pollfd tp={tf,POLLIN,0}; poll(&tp,1,5000);
  EXPECT_EQ(read(tf,&v,8), 8); printf("expirations %lu\n", v);
  /* TFD_IOC_SET_TICKS sets the count a read takes (0 is EINVAL). */
  unsigned long ticks=5; EXPECT_OK(ioctl(tf,TFD_IOC_SET_TICKS,&ticks));
  EXPECT_EQ(read(tf,&v,8), 8); EXPECT_EQ(v, 5);
  ticks=0; EXPECT_ERR(ioctl(tf,TFD_IOC_SET_TICKS,&ticks), EINVAL);
  EXPECT_ERR(ioctl(tf,TFD_IOC_SET_TICKS,(void*)8), EFAULT);
  EXPECT_ERR(ioctl(tf,0x5401,&ticks), ENOTTY);
  /* signalfd */
  sigset_t m; sigemptyset(&m); sigaddset(&m,SIGUSR1);
  EXPECT_ERR(signalfd(-1,&m,99), EINVAL);
  EXPECT_ERR(syscall(SYS_signalfd4, -1, &m, 4, 0), EINVAL);
  EXPECT_ERR(signalfd(p[0],&m,0), EINVAL);
  EXPECT_ERR(syscall(SYS_signalfd4, -1, 8, 8, 0), EFAULT);
  sigprocmask(SIG_BLOCK,&m,NULL);
  int sf=signalfd(-1,&m,SFD_NONBLOCK); struct signalfd_siginfo ssi;
  EXPECT_ERR(read(sf,&ssi,sizeof ssi), EAGAIN);
  EXPECT_ERR(read(sf,&ssi,10), EINVAL);
  raise(SIGUSR1); EXPECT_EQ(read(sf,&ssi,sizeof ssi), sizeof ssi); printf("signalfd signo %d code %d\n", ssi.ssi_signo, ssi.ssi_code);
  /* A signal whose default is to be ignored (SIGCHLD) stays pending while
   * blocked, for signalfd to read: how script(1) and tini hear a child's
   * exit. */
  sigset_t cm; sigemptyset(&cm); sigaddset(&cm,SIGCHLD); sigprocmask(SIG_BLOCK,&cm,NULL);
  int cf=signalfd(-1,&cm,0);
  pid_t ch=fork(); if(ch==0) _exit(0);
  struct pollfd cp={cf,POLLIN,0}; memset(&ssi,0,sizeof ssi);
  if (EXPECT_EQ(poll(&cp,1,5000), 1) == 1) EXPECT_EQ(read(cf,&ssi,sizeof ssi), sizeof ssi);
  printf("signalfd SIGCHLD: signo %d code %d from the child %d\n", ssi.ssi_signo, ssi.ssi_code, ssi.ssi_pid==(unsigned)ch);
  waitpid(ch,NULL,0); sigprocmask(SIG_UNBLOCK,&cm,NULL); close(cf);
  /* poll / select */
  struct pollfd pf[2]={{p[0],POLLIN,0},{99,POLLIN,0}};
  EXPECT_EQ(poll(pf,2,0), 2); printf("revents %x %x\n", pf[0].revents, pf[1].revents);
  EXPECT_ERR(poll((void*)8,1,0), EFAULT);
  /* nfds past RLIMIT_NOFILE is EINVAL; the limit is set here because the
   * host's (inherited natively) may be as high as nr_open, where this
   * poll would fault instead. */
  struct rlimit nofile={1024,1024}; getrlimit(RLIMIT_NOFILE,&nofile); nofile.rlim_cur=1024; setrlimit(RLIMIT_NOFILE,&nofile);
  EXPECT_ERR(syscall(SYS_poll, pf, 1<<20, 0), EINVAL);
  struct timespec ts={0,-1}; EXPECT_ERR(ppoll(pf,1,&ts,NULL), EINVAL);
  fd_set rs; FD_ZERO(&rs); FD_SET(p[0],&rs);
  EXPECT_ERR(select(-1,&rs,NULL,NULL,NULL), EINVAL);
  struct timeval tv={0,-1}; EXPECT_ERR(select(p[0]+1,&rs,NULL,NULL,&tv), EINVAL);
  /* Linux clamps nfds to the size of the descriptor table, which is at
   * least 64 but otherwise depends on the parent's table at fork: a closed
   * descriptor past 63 may be EBADF or silently skipped. */
  FD_ZERO(&rs); FD_SET(63,&rs); tv.tv_usec=0; EXPECT_ERR(select(64,&rs,NULL,NULL,&tv), EBADF);
  EXPECT_ERR(syscall(SYS_select, 1, 8, NULL, NULL, &tv), EFAULT);
  /* pipe */
  EXPECT_ERR(pipe2(p,99), EINVAL);
  EXPECT_ERR(syscall(SYS_pipe2, 8, 0), EFAULT);
  int big[2]; pipe2(big,O_NONBLOCK); char buf[70000]; memset(buf,1,sizeof buf);
  printf("nonblocking write into 64k pipe %ld\n", (long)write(big[1],buf,sizeof buf));
  EXPECT_ERR(write(big[1],buf,1), EAGAIN);
  close(big[0]); signal(SIGPIPE,SIG_IGN); EXPECT_ERR(write(big[1],buf,1), EPIPE);
  int pk[2]; EXPECT_OK(pipe2(pk,O_DIRECT)); write(pk[1],"ab",2); write(pk[1],"cd",2); printf("packet read %ld\n",(long)read(pk[0],buf,10));
  return ukt_exit();
}
