/* execerrs.c: execve and execveat errors in Linux's order (LTP's
 * execve, execveat, clone and unshare cases): missing and unreadable
 * files, directories, files without exec permission, garbage and empty
 * files (ENOEXEC), a file open for writing (ETXTBSY) and a running
 * program opened for writing (ETXTBSY), symlink loops, a missing script
 * interpreter, execveat's flags, descriptor and empty path, E2BIG, and
 * clone and clone3 flag and argument errors. */
#include "uktest.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <signal.h>
#include <linux/sched.h>
int main(void){
  char d[64]; snprintf(d,sizeof d,"/tmp/uk_execerrs_%d",getpid()); mkdir(d,0755); chdir(d);
  char *av[]={"x",NULL}; char *ev[]={NULL};
  EXPECT_ERR(execve("nope",av,ev), ENOENT);
  EXPECT_ERR(execve(".",av,ev), EACCES);
  int fd=open("noexec",O_WRONLY|O_CREAT,0644); write(fd,"#!/bin/sh\n",10); close(fd);
  EXPECT_ERR(execve("noexec",av,ev), EACCES);
  fd=open("garbage",O_WRONLY|O_CREAT,0755); write(fd,"\x01\x02\x03\x04garbage",11); close(fd);
  EXPECT_ERR(execve("garbage",av,ev), ENOEXEC);
  fd=open("empty",O_WRONLY|O_CREAT,0755); close(fd);
  EXPECT_ERR(execve("empty",av,ev), ENOEXEC);
  fd=open("busy",O_WRONLY|O_CREAT,0755); write(fd,"\x7f" "ELF",4);
  EXPECT_ERR(execve("busy",av,ev), ETXTBSY);
  close(fd);
  EXPECT_ERR(open("/proc/self/exe",O_WRONLY), ETXTBSY);
  EXPECT_ERR(open("/proc/self/exe",O_RDWR|O_TRUNC), ETXTBSY);

  fd=open("badelf",O_WRONLY|O_CREAT,0755); write(fd,"\x7f" "ELF\x02\x01\x01",7); char z[64]={0}; write(fd,z,64); close(fd);
  EXPECT_ERR(execve("badelf",av,ev), ENOEXEC);
  EXPECT_ERR(execve("nope/x",av,ev), ENOENT);
  EXPECT_ERR(execve("garbage/x",av,ev), ENOTDIR);
  EXPECT_ERR(execve(NULL,av,ev), EFAULT);
  EXPECT_ERR(execve("garbage",(void*)8,ev), EFAULT);
  symlink("l1","l2"); symlink("l2","l1"); EXPECT_ERR(execve("l1",av,ev), ELOOP);
  fd=open("loopscript",O_WRONLY|O_CREAT,0755); write(fd,"#!/tmp/uk_nope_interp\n",22); close(fd);
  EXPECT_ERR(execve("loopscript",av,ev), ENOENT);
  /* execveat */
  int dfd=open(".",O_RDONLY);
  EXPECT_ERR(syscall(SYS_execveat, dfd, "garbage", av, ev, 0x1), EINVAL);
  EXPECT_ERR(syscall(SYS_execveat, 99, "garbage", av, ev, 0), EBADF);
  EXPECT_ERR(syscall(SYS_execveat, dfd, "", av, ev, 0), ENOENT);
  int sl=open("l1",O_PATH|O_NOFOLLOW);
  EXPECT_ERR(syscall(SYS_execveat, AT_FDCWD, "l1", av, ev, AT_SYMLINK_NOFOLLOW), ELOOP);
  /* E2BIG */
  static char huge[200000]; memset(huge,'a',sizeof huge-1);
  char *bav[]={"x",huge,huge,huge,huge,huge,huge,huge,huge,huge,huge,huge,huge,NULL};
  EXPECT_ERR(execve("garbage",bav,ev), E2BIG);
  /* clone errors */
  EXPECT_ERR(syscall(SYS_clone, CLONE_SIGHAND, 0,0,0,0), EINVAL);
  EXPECT_ERR(syscall(SYS_clone, CLONE_THREAD, 0,0,0,0), EINVAL);
  EXPECT_ERR(syscall(SYS_clone, CLONE_NEWNS|CLONE_FS, 0,0,0,0), EINVAL);
  EXPECT_ERR(syscall(SYS_clone, CLONE_NEWUSER|CLONE_FS, 0,0,0,0), EINVAL);
  EXPECT_ERR(syscall(SYS_clone, CLONE_PIDFD|CLONE_PARENT_SETTID, 0,0,0,0), EINVAL);
  EXPECT_ERR(syscall(SYS_clone, CLONE_THREAD|CLONE_SIGHAND, 0,0,0,0), EINVAL);
  struct clone_args ca={0};
  EXPECT_ERR(syscall(SYS_clone3, &ca, 8), EINVAL);
  EXPECT_ERR(syscall(SYS_clone3, 8, sizeof ca), EFAULT);
  ca.flags=1ull<<40; EXPECT_ERR(syscall(SYS_clone3, &ca, sizeof ca), EINVAL);
  ca.flags=0; ca.exit_signal=99; EXPECT_ERR(syscall(SYS_clone3, &ca, sizeof ca), EINVAL);
  ca.exit_signal=SIGCHLD; ca.stack=0; ca.stack_size=100; EXPECT_ERR(syscall(SYS_clone3, &ca, sizeof ca), EINVAL);
  char bigca[200]={0}; ((struct clone_args*)bigca)->exit_signal=SIGCHLD; bigca[150]=1; EXPECT_ERR(syscall(SYS_clone3, bigca, sizeof bigca), E2BIG);
  EXPECT_ERR(syscall(SYS_clone3, bigca, 5000), E2BIG);
  /* exit with status > 255 */
  pid_t c=fork(); if(c==0) _exit(0x1234);
  int st; waitpid(c,&st,0); printf("exit 0x1234 -> %d\n", WEXITSTATUS(st));
  /* getppid after parent dies: adopted by reaper */
  /* vfork: child shares memory */
  /* unshare errors */
  EXPECT_ERR(unshare(0x1), EINVAL);
  EXPECT_OK(unshare(CLONE_THREAD)); /* a single thread may */
  chdir("/tmp"); char cmd[128]; snprintf(cmd,sizeof cmd,"rm -rf %s",d); system(cmd);
  return ukt_exit();
}
