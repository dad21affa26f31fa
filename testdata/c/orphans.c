/* orphans.c: process relationships, compared with Linux (LTP's process
 * family): an orphan adopted by a child subreaper, SIGCHLD ignored or
 * SA_NOCLDWAIT (children reaped at once: ECHILD), exit from a process
 * with threads, a leader thread that exits before its threads (a zombie
 * in /proc until they go), the groups and sessions of a child,
 * setpgid of a child that has run execve (EACCES), vfork. */
#include "uktest.h"
#include <signal.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <fcntl.h>
static void *thr(void *a){ for(;;) pause(); return NULL; }
int main(int argc, char **argv){
  if(argc>1){ pause(); return 0; }
  int p[2]; pipe(p);
  /* an orphan is adopted by the subreaper */
  prctl(PR_SET_CHILD_SUBREAPER,1);
  pid_t me=getpid();
  pid_t c=fork(); if(c==0){ pid_t g=fork(); if(g==0){ pid_t first=getppid(); for(int i=0;i<500 && getppid()==first;i++) usleep(10000); printf("orphan's parent is the subreaper: %d\n", getppid()==me); fflush(stdout); _exit(0);} _exit(0);}
  waitpid(c,NULL,0); int st; pid_t w=wait(&st); printf("reaped the orphan: %d\n", w>0);
  /* SIGCHLD ignored: children are reaped at once, wait says ECHILD */
  signal(SIGCHLD,SIG_IGN); c=fork(); if(c==0) _exit(3); usleep(50000);
  EXPECT_ERR(waitpid(c,&st,0), ECHILD);
  signal(SIGCHLD,SIG_DFL);
  struct sigaction sa={0}; sa.sa_handler=SIG_DFL; sa.sa_flags=SA_NOCLDWAIT; sigaction(SIGCHLD,&sa,NULL);
  c=fork(); if(c==0) _exit(4); usleep(50000);
  EXPECT_ERR(waitpid(c,&st,0), ECHILD);
  sa.sa_flags=0; sigaction(SIGCHLD,&sa,NULL);
  /* exit_group from a thread ends all threads */
  c=fork(); if(c==0){ pthread_t t; pthread_create(&t,NULL,thr,NULL); pthread_create(&t,NULL,thr,NULL); usleep(10000); exit(9);} 
  waitpid(c,&st,0); printf("exit from main with threads: %d\n", WEXITSTATUS(st));
  /* a thread's exit() (not group) in the main thread leaves a zombie leader until others exit */
  c=fork(); if(c==0){ pthread_t t; pthread_create(&t,NULL,thr,NULL); usleep(10000); syscall(SYS_exit,0); }
  char path[64]; snprintf(path,sizeof path,"/proc/%d/stat",c); FILE *f; char stt[256]={0}; char *rp=NULL;
  for(int i=0;i<500;i++){ f=fopen(path,"r"); stt[0]=0; if(f){fgets(stt,sizeof stt,f); fclose(f);} rp=strrchr(stt,')'); if(rp&&rp[2]=='Z') break; usleep(10000); } /* until the leader has exited */ printf("leader state after its exit: %c\n", rp?rp[2]:'?');
  EXPECT_EQ(waitpid(c,&st,WNOHANG), 0);
  kill(c,SIGKILL); waitpid(c,&st,0); printf("then killed: %d\n", WTERMSIG(st));
  /* kill(-1) reaches every other process */
  /* /proc's state letter: a child waiting in pause is 'S', a stopped
     one 'T' (LTP waits for these before it signals). */
  c=fork(); if(c==0){ for(;;) pause(); }
  char st2[256]; char *rp2; snprintf(path,sizeof path,"/proc/%d/stat",c);
  for(int i=0;i<200;i++){ f=fopen(path,"r"); st2[0]=0; if(f){fgets(st2,sizeof st2,f); fclose(f);} rp2=strrchr(st2,')'); if(rp2&&rp2[2]=='S') break; usleep(10000); }
  printf("a child in pause: %c\n", rp2?rp2[2]:'?');
  kill(c,SIGSTOP); waitpid(c,&st,WUNTRACED);
  f=fopen(path,"r"); st2[0]=0; if(f){fgets(st2,sizeof st2,f); fclose(f);} rp2=strrchr(st2,')');
  printf("stopped: %c\n", rp2?rp2[2]:'?');
  snprintf(path,sizeof path,"/proc/%d/status",c); f=fopen(path,"r"); while(f && fgets(st2,sizeof st2,f)) if(!strncmp(st2,"State:",6)) printf("%s", st2); if(f) fclose(f);
  kill(c,SIGKILL); waitpid(c,&st,0);
  /* getpgid/getsid of child */
  c=fork(); if(c==0){ pause(); _exit(0);} 
  printf("child's pgid is ours: %d, sid ours: %d\n", getpgid(c)==getpgrp(), getsid(c)==getsid(0));

  kill(c,SIGKILL); waitpid(c,NULL,0);
  /* setpgid of a child that exec'd: EACCES */
  int q[2]; pipe2(q,O_CLOEXEC); c=fork(); if(c==0){ execl("/proc/self/exe","orphans","child",(char*)NULL); _exit(1);} close(q[1]); char cb; read(q[0],&cb,1); /* EOF once the exec closed the child's end */
  EXPECT_ERR(setpgid(c,c), EACCES);
  kill(c,SIGKILL); waitpid(c,NULL,0);
  /* vfork child shares memory and parent waits */
  volatile int x=0; c=vfork(); if(c==0){ x=5; _exit(0);} printf("after vfork x=%d\n", x);
  return ukt_exit();
}
