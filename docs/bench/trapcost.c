/* trapcost: what sigsys's trap path is made of, measured natively
 * (docs/BENCHMARKS.md §17): a plain getppid; a round trip of one cache
 * line between two threads pinned to CPUs 0 and 1 (a split pair's
 * hand-off); and getppid trapped by a seccomp filter (SECCOMP_RET_TRAP)
 * into a SIGSYS handler that only sets the result, as a stub thread's
 * trap before uk's part. The filter traps only getppid in this process.
 *
 *   gcc -O2 -static -o trapcost trapcost.c -lpthread && ./trapcost
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <linux/audit.h>
#include <stddef.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e9+t.tv_nsec;}
static void h(int s, siginfo_t*si, void*uc){ ((ucontext_t*)uc)->uc_mcontext.gregs[REG_RAX]=0; }
static _Atomic int word; 
static void* peer(void*a){ cpu_set_t c;CPU_ZERO(&c);CPU_SET(1,&c);sched_setaffinity(0,sizeof c,&c);
 for(;;){ while(atomic_load_explicit(&word,memory_order_acquire)!=1); atomic_store_explicit(&word,2,memory_order_release);} }
int main(){
 cpu_set_t c;CPU_ZERO(&c);CPU_SET(0,&c);sched_setaffinity(0,sizeof c,&c);
 int N=200000; double t0=now(); for(int i=0;i<N;i++) syscall(SYS_getppid); double t1=now();
 printf("native getppid %.0f ns\n",(t1-t0)/N);
 pthread_t th; pthread_create(&th,0,peer,0);
 t0=now(); for(int i=0;i<N;i++){ atomic_store_explicit(&word,1,memory_order_release); while(atomic_load_explicit(&word,memory_order_acquire)!=2); } t1=now();
 printf("cross-cpu word round trip %.0f ns\n",(t1-t0)/N);
 struct sigaction sa; memset(&sa,0,sizeof sa); sa.sa_sigaction=h; sa.sa_flags=SA_SIGINFO; sigaction(SIGSYS,&sa,0);
 struct sock_filter f[]={ BPF_STMT(BPF_LD|BPF_W|BPF_ABS,offsetof(struct seccomp_data,nr)), BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K,SYS_getppid,0,1), BPF_STMT(BPF_RET|BPF_K,SECCOMP_RET_TRAP), BPF_STMT(BPF_RET|BPF_K,SECCOMP_RET_ALLOW)};
 struct sock_fprog p={4,f}; prctl(PR_SET_NO_NEW_PRIVS,1,0,0,0); prctl(PR_SET_SECCOMP,SECCOMP_MODE_FILTER,&p);
 t0=now(); for(int i=0;i<N;i++) syscall(SYS_getppid); t1=now();
 printf("sigsys trap+sigreturn %.0f ns\n",(t1-t0)/N);
 return 0;}
