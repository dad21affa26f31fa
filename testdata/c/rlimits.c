/* rlimits.c: resource limits between processes, compared with Linux
 * (LTP's setrlimit, getrlimit and prlimit cases): RLIMIT_NPROC stopping
 * an unprivileged user's forks (EAGAIN), prlimit getting and setting a
 * child's limits, another user's process refused (EPERM), RLIMIT_NOFILE
 * below the open descriptors (EMFILE). */
#include "uktest.h"
#include <sys/resource.h>
#include <signal.h>
int main(void){
  /* RLIMIT_NPROC: an unprivileged user at its limit cannot fork */
  pid_t c=fork(); if(c==0){
    setresgid(65534,65534,65534); setresuid(65534,65534,65534);
    struct rlimit r={3,3}; setrlimit(RLIMIT_NPROC,&r);
    pid_t kids[8]; int n=0; int err=0;
    for(int i=0;i<8;i++){ pid_t k=fork(); if(k==0){ pause(); _exit(0);} if(k<0){ err=errno; break;} kids[n++]=k; }
    printf("forks before EAGAIN: %d (%s)\n", n, errname(err));
    for(int i=0;i<n;i++){ kill(kids[i],SIGKILL); waitpid(kids[i],NULL,0); }
    fflush(stdout); _exit(0);} waitpid(c,NULL,0);
  /* prlimit on another process */
  c=fork(); if(c==0){ pause(); _exit(0);} 
  struct rlimit nr={100,200}, old;
  EXPECT_OK(prlimit(c,RLIMIT_NOFILE,&nr,&old));
  struct rlimit g; EXPECT_OK(prlimit(c,RLIMIT_NOFILE,NULL,&g)); printf("child's nofile %lu %lu\n", g.rlim_cur, g.rlim_max);
  pid_t d=fork(); if(d==0){ setresuid(65534,65534,65534); struct rlimit x; errno=0; int r=prlimit(c,RLIMIT_NOFILE,NULL,&x); printf("unprivileged prlimit of root's: %d %s\n", r, r?errname(errno):""); fflush(stdout); _exit(0);} waitpid(d,NULL,0);
  kill(c,SIGKILL); waitpid(c,NULL,0);
  /* RLIMIT_STACK raise beyond hard as root: ok; lowering hard then raising as unpriv EPERM */
  /* RLIMIT_NOFILE lower than open fds: ok, new open fails */
  c=fork(); if(c==0){ struct rlimit r={4,4}; setrlimit(RLIMIT_NOFILE,&r); errno=0; int fd=dup(0); int fd2=dup(0); printf("dup at nofile 4: %d %d %s\n", fd>=0, fd2, errname(errno)); fflush(stdout); _exit(0);} waitpid(c,NULL,0);
  return 0;
}
