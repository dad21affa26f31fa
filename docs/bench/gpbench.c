/* gpbench: syscall round trips from one hot site (docs/BENCHMARKS.md
 * §17): 100,000 getpid calls, five times, from an inline `mov eax, 39;
 * syscall` (the form uk's sigsys patches once it has trapped 32 times),
 * then 100,000 getppid calls through glibc's syscall().
 *
 *   gcc -O2 -static -o gpbench gpbench.c
 *   ./gpbench; uk run -- ./gpbench; uk run --patch-syscalls=false -- ./gpbench
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
static long gp(void){ long r; __asm__ volatile("mov $39, %%eax\n\tsyscall" : "=a"(r) :: "rcx","r11","memory"); return r; }
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e9+t.tv_nsec;}
int main(){ for(int i=0;i<1000;i++) gp(); 
 for(int k=0;k<5;k++){ double t0=now(); for(int i=0;i<100000;i++) gp(); double t1=now(); printf("inline getpid %.0f ns\n",(t1-t0)/100000);} 
 double t0=now(); for(int i=0;i<100000;i++) syscall(SYS_getppid); double t1=now(); printf("glibc syscall() getppid %.0f ns\n",(t1-t0)/100000);
 return 0; }
