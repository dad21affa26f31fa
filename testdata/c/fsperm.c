/* fsperm.c: ownership, permission bits and extended attributes,
 * compared with Linux's tmpfs (/dev/shm natively; LTP's chmod, chown,
 * mkdir, mknod, rename, link, unlink, utime, statx and xattr cases):
 * set-group-ID directories passing on their group and bit, chown clearing
 * set-id bits (even chown(-1,-1) by root), mkdir dropping set-id bits, a
 * sticky directory protecting others' files, what uid 65534 may not do
 * to root's files, link counts, rename over a hard link, creating through
 * a dangling symlink, and user/trusted/security attributes with their
 * errors (EEXIST, ENODATA, ERANGE, E2BIG, EPERM on a FIFO). */
#include "uktest.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <utime.h>
#include <sys/time.h>
#include <sys/xattr.h>
static void mode(const char *p){ struct stat st; if(lstat(p,&st)==0) printf("%s: %o %d:%d nlink %ld\n", p, st.st_mode, st.st_uid, st.st_gid, (long)st.st_nlink); else printf("%s: %s\n", p, errname(errno)); }
int main(void){
  char d[64]; snprintf(d,sizeof d,"/dev/shm/uk_fsperm_%d",getpid()); mkdir(d,0777); chmod(d,0777); chdir(d);
  umask(022);
  mkdir("sg",02775); chown("sg",0,1234); chmod("sg",02775); mode("sg");
  int fd=open("sg/f",O_CREAT|O_WRONLY,0777); close(fd); mode("sg/f");
  mkdir("sg/sub",0777); mode("sg/sub");
  mknod("sg/fifo",S_IFIFO|0666,0); mode("sg/fifo");
  fd=open("suid",O_CREAT|O_WRONLY,0755); close(fd); chmod("suid",06755); mode("suid");
  chown("suid",1,1); mode("suid");
  chmod("suid",06755); chown("suid",-1,-1); mode("suid");
  chmod("suid",06755); chown("suid",1,-1); mode("suid");
  fd=open("sgnx",O_CREAT|O_WRONLY,0644); close(fd); chmod("sgnx",02644); chown("sgnx",1,1); mode("sgnx");
  mkdir("sticky",01777); chmod("sticky",01777);
  fd=open("sticky/rootf",O_CREAT|O_WRONLY,0666); close(fd); chmod("sticky/rootf",0666);
  fd=open("grp",O_CREAT|O_WRONLY,0666); close(fd); chown("grp",65534,100); chmod("grp",0666);
  pid_t c=fork(); if(c==0){
    setgroups(0,NULL); setresgid(65534,65534,65534); setresuid(65534,65534,65534);
    EXPECT_ERR(unlink("sticky/rootf"), EPERM);
    EXPECT_ERR(rename("sticky/rootf","sticky/x"), EPERM);
    fd=open("sticky/mine",O_CREAT|O_WRONLY,0644); close(fd);
    EXPECT_OK(unlink("sticky/mine"));
    EXPECT_ERR(chmod("sticky/rootf",0600), EPERM);
    EXPECT_ERR(utime("sticky/rootf",&(struct utimbuf){1,1}), EPERM);
    EXPECT_OK(utime("sticky/rootf",NULL)); /* writable: now is fine */
    EXPECT_OK(utimes("sticky/rootf",NULL));
    EXPECT_ERR(mknod("cdev",S_IFCHR|0600,0x0101), EPERM);
    EXPECT_OK(mknod("myfifo",S_IFIFO|0600,0));
    /* chmod setgid on a file whose group the caller is not in: the bit is dropped */
    fd=open("mine",O_CREAT|O_WRONLY,0644); close(fd);
    EXPECT_OK(chmod("mine",02755)); mode("mine");
    EXPECT_ERR(chown("mine",0,-1), EPERM);
    EXPECT_ERR(chown("mine",-1,0), EPERM);
    EXPECT_OK(chown("mine",-1,65534));
    EXPECT_OK(link("sticky/rootf","hl")); /* readable and writable: protected_hardlinks allows it */
    EXPECT_ERR(setxattr("mine","trusted.x","1",1,0), EPERM);
    EXPECT_OK(setxattr("mine","user.x","1",1,0));
    EXPECT_OK(open("grp",O_RDWR) >= 0 ? 0 : -1);
    EXPECT_ERR(access("/root",W_OK), EACCES);
    EXPECT_ERR(mkdir("/root/x",0755), EACCES);
    fflush(stdout); _exit(0);}
  waitpid(c,NULL,0);
  mode("mine"); mode("myfifo");
  /* statx */
  struct statx sx;
  EXPECT_ERR(statx(AT_FDCWD,"mine",99999,STATX_BASIC_STATS,&sx), EINVAL);
  EXPECT_ERR(statx(AT_FDCWD,"mine",0,0x80000000,&sx), EINVAL);
  EXPECT_ERR(statx(AT_FDCWD,"mine",0,STATX_BASIC_STATS,(void*)8), EFAULT);
  EXPECT_ERR(statx(AT_FDCWD,"",0,STATX_BASIC_STATS,&sx), ENOENT);
  EXPECT_OK(statx(AT_FDCWD,"mine",AT_STATX_SYNC_AS_STAT,STATX_BASIC_STATS|STATX_BTIME,&sx));
  printf("statx mask has basic %d, mode %o, nlink %d, blksize set %d\n", (sx.stx_mask&STATX_BASIC_STATS)==STATX_BASIC_STATS, sx.stx_mode, sx.stx_nlink, sx.stx_blksize>0);
  /* link counts */
  mkdir("lc",0755); mkdir("lc/a",0755); mkdir("lc/b",0755); mode("lc"); rmdir("lc/a"); mode("lc");
  fd=open("lc/f",O_CREAT|O_WRONLY,0644); close(fd); link("lc/f","lc/g"); mode("lc/f"); unlink("lc/g"); mode("lc/f");
  /* umask applies, mkdir mode masks */
  umask(077); mkdir("um",0777); mode("um"); umask(022);
  mkdir("m7",07777); mode("m7");
  /* rename semantics */
  fd=open("r1",O_CREAT|O_WRONLY,0644); close(fd); link("r1","r2"); EXPECT_OK(rename("r1","r2")); mode("r1"); mode("r2");
  symlink("dangling","sl"); mode("sl"); EXPECT_OK(rename("sl","sl2")); mode("sl2");
  /* truncate on a dir/symlink, O_TRUNC of readonly file as root */
  EXPECT_ERR(truncate("lc",0), EISDIR);
  EXPECT_ERR(open("sl2",O_RDONLY|O_CREAT|O_EXCL,0644), EEXIST);
  fd=open("sl2",O_RDWR|O_CREAT,0644); printf("create through dangling symlink: %d\n", fd>=0); mode("dangling");
  /* xattrs */
  EXPECT_OK(setxattr("r2","user.a","v",1,0));
  EXPECT_ERR(setxattr("r2","user.a","v",1,XATTR_CREATE), EEXIST);
  EXPECT_ERR(setxattr("r2","user.b","v",1,XATTR_REPLACE), ENODATA);
  EXPECT_ERR(setxattr("r2","bogus.a","v",1,0), EOPNOTSUPP);
  EXPECT_ERR(setxattr("r2","user.a","v",1,99), EINVAL);
  char xb[16]; EXPECT_EQ(getxattr("r2","user.a",xb,0), 1);
  EXPECT_ERR(getxattr("r2","user.zz",xb,16), ENODATA);
  EXPECT_EQ(getxattr("r2","user.a",xb,16), 1);
  EXPECT_ERR(getxattr("r2","user.a",(void*)8,16), EFAULT);
  EXPECT_ERR(getxattr("r2","",xb,16), ERANGE);
  char ln[300]; memset(ln,'u',299); ln[299]=0; memcpy(ln,"user.",5); EXPECT_ERR(getxattr("r2",ln,xb,16), ERANGE);
  EXPECT_ERR(setxattr("r2","user.big",ln,70000,0), E2BIG);
  EXPECT_OK(setxattr("r2","user.c","vv",2,0)); EXPECT_ERR(getxattr("r2","user.c",xb,1), ERANGE);
  EXPECT_ERR(setxattr("myfifo","user.a","v",1,0), EPERM);
  EXPECT_ERR(getxattr("myfifo","user.a",xb,16), ENODATA);
  EXPECT_OK(setxattr("r2","trusted.t","v",1,0)); EXPECT_OK(setxattr("r2","security.s","v",1,0));
  char lb[64]; printf("listxattr %ld\n", (long)listxattr("r2",lb,sizeof lb));
  EXPECT_ERR(listxattr("r2",lb,1), ERANGE);
  EXPECT_OK(removexattr("r2","user.a"));
  EXPECT_ERR(removexattr("r2","user.a"), ENODATA);
  chdir("/tmp"); char cmd[128]; snprintf(cmd,sizeof cmd,"rm -rf %s",d); system(cmd);
  return ukt_exit();
}
