/* pipes.c: pipe behaviour, compared with Linux (LTP's pipe and pipe2
 * cases): FIONREAD, F_GETPIPE_SZ/F_SETPIPE_SZ rounding, PIPE_BUF
 * atomicity of non-blocking writes, the fs sysctls, pipe2's flags and
 * access modes, SIGPIPE, EOF, fstat, EMFILE at RLIMIT_NOFILE; readv and
 * writev whose second buffer faults (EFAULT, nothing moved, as pipes
 * copy a page buffer at a time). */
#include "uktest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/uio.h>
/* vector_faults: writev and readv of a pipe whose second iovec is not
 * mapped. */
static void vector_faults(void){
  int p[2]; pipe(p);
  char a[16]="0123456789", r[16]={0};
  struct iovec w[2]={{a,10},{(void*)8,10}};
  EXPECT_ERR(writev(p[1],w,2), EFAULT);
  int n=-1; ioctl(p[0],FIONREAD,&n); printf("after the faulting writev the pipe holds %d\n", n);
  write(p[1],"hello world",11);
  struct iovec v[2]={{r,5},{(void*)8,10}};
  EXPECT_ERR(readv(p[0],v,2), EFAULT);
  ioctl(p[0],FIONREAD,&n); printf("after the faulting readv the pipe holds %d\n", n);
  close(p[0]); close(p[1]);
}
int main(void){
  vector_faults();
  int p[2]; pipe(p); int n;
  write(p[1],"abcdef",6); EXPECT_OK(ioctl(p[0],FIONREAD,&n)); printf("FIONREAD %d\n",n);
  printf("pipe size %d\n", fcntl(p[1],F_GETPIPE_SZ));
  EXPECT_EQ(fcntl(p[1],F_SETPIPE_SZ,8192),8192);
  EXPECT_EQ(fcntl(p[1],F_SETPIPE_SZ,0), 4096); /* rounded up to a page */
  printf("after 0: %d\n", fcntl(p[1],F_GETPIPE_SZ));
  char b[70000];
  EXPECT_EQ(fcntl(p[1],F_SETPIPE_SZ,4096), 4096); /* what it holds fits */
  printf("shrink below content: %d %d\n", fcntl(p[1],F_SETPIPE_SZ,4096), fcntl(p[1],F_GETPIPE_SZ));
  read(p[0],b,6);
  /* PIPE_BUF atomicity with O_NONBLOCK: a write of <= PIPE_BUF that doesn't fit fails entirely */
  int q[2]; pipe2(q,O_NONBLOCK); fcntl(q[1],F_SETPIPE_SZ,4096);
  memset(b,'x',sizeof b); printf("fill: %ld\n",(long)write(q[1],b,4000));
  errno=0; long r=write(q[1],b,200); printf("small write that does not fit: %ld %s\n", r, r<0?errname(errno):"");
  errno=0; r=write(q[1],b,5000); printf("large nonblocking write: %ld %s\n", r, r<0?errname(errno):"");
  /* /proc/sys/fs/pipe-max-size */
  FILE *f=fopen("/proc/sys/fs/pipe-max-size","r"); long mx=0; if(f){fscanf(f,"%ld",&mx); fclose(f);} printf("pipe-max-size %ld\n",mx);
  f=fopen("/proc/sys/fs/pipe-user-pages-soft","r"); long us=0; if(f){fscanf(f,"%ld",&us); fclose(f);} printf("pipe-user-pages-soft %ld\n",us);
  /* pipe2 flags */
  EXPECT_ERR(pipe2(p,O_RDWR), EINVAL);
  int c2[2]; pipe2(c2,O_CLOEXEC|O_NONBLOCK); printf("cloexec %d nonblock %d %d\n", fcntl(c2[0],F_GETFD), (fcntl(c2[0],F_GETFL)&O_NONBLOCK)!=0, (fcntl(c2[1],F_GETFL)&O_NONBLOCK)!=0);
  printf("access modes %d %d\n", fcntl(c2[0],F_GETFL)&O_ACCMODE, fcntl(c2[1],F_GETFL)&O_ACCMODE);
  /* reading end closed: SIGPIPE kills by default */
  pid_t k=fork(); if(k==0){ int z[2]; pipe(z); close(z[0]); write(z[1],"x",1); _exit(0);} int st; waitpid(k,&st,0); printf("SIGPIPE kills: %d\n", WIFSIGNALED(st)?WTERMSIG(st):0);
  /* EOF after writers close */
  int e[2]; pipe(e); close(e[1]); printf("EOF read %ld\n",(long)read(e[0],b,1));
  /* fstat of pipe */
  struct stat sb; fstat(e[0],&sb); printf("S_ISFIFO %d mode %o size %ld\n", S_ISFIFO(sb.st_mode), sb.st_mode&0777, (long)sb.st_size);
  /* RLIMIT_NOFILE and pipe */
  struct rlimit rl={3,1024}; k=fork(); if(k==0){ setrlimit(RLIMIT_NOFILE,&rl); int y[2]; errno=0; int rr=pipe(y); printf("pipe at NOFILE limit: %d %s\n", rr, rr?errname(errno):""); fflush(stdout); _exit(0);} waitpid(k,NULL,0);
  return ukt_exit();
}
