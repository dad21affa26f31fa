/* fserrs.c: the errors of the file and directory calls in the order
 * Linux reports them (LTP's open, read/write, lseek, readv, truncate,
 * link, unlink, rmdir, rename(at2), mknod, chmod, chown, access,
 * readlink, stat, statfs, utimensat, dup, fcntl, flock, getdents,
 * chdir, chroot, sendfile, splice and fsync cases), including what a
 * process without privileges may not do to a root-owned setuid file. */
#include "uktest.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <dirent.h>
#include <utime.h>
#include <signal.h>
#include <limits.h>
#define SYS_fchmodat2 452
int main(void){
  char d[64]; snprintf(d,sizeof d,"/tmp/uk_fserrs_%d",getpid());
  EXPECT_OK(mkdir(d,0755)); EXPECT_OK(chdir(d));
  int fd=open("f",O_RDWR|O_CREAT,0644);
  EXPECT_ERR(open("f",O_RDWR|O_CREAT|O_EXCL,0644), EEXIST);
  EXPECT_ERR(open("f/x",O_RDONLY), ENOTDIR);
  EXPECT_ERR(open("f",O_RDONLY|O_DIRECTORY), ENOTDIR);
  EXPECT_ERR(open(".",O_WRONLY), EISDIR);
  EXPECT_ERR(open(".",O_RDWR), EISDIR);
  EXPECT_ERR(open(".",O_RDONLY|O_CREAT,0644), EISDIR);
  EXPECT_ERR(open("",O_RDONLY), ENOENT);
  EXPECT_ERR(open(NULL,O_RDONLY), EFAULT);
  char ln[PATH_MAX+10]; memset(ln,'a',sizeof ln); ln[sizeof ln-1]=0;
  EXPECT_ERR(open(ln,O_RDONLY), ENAMETOOLONG);
  char nm[300]; memset(nm,'b',299); nm[299]=0;
  EXPECT_ERR(open(nm,O_RDONLY|O_CREAT,0644), ENAMETOOLONG);
  symlink("l1","l2"); symlink("l2","l1");
  EXPECT_ERR(open("l1",O_RDONLY), ELOOP);
  symlink("f","lf");
  EXPECT_ERR(open("lf",O_RDONLY|O_NOFOLLOW), ELOOP);
  EXPECT_OK(open("lf",O_RDONLY|O_NOFOLLOW|O_PATH));
  EXPECT_ERR(open("f",O_RDONLY|O_TMPFILE,0644), EINVAL);
  EXPECT_ERR(open(".",O_RDONLY|O_TMPFILE,0644), EINVAL);
  int tf=open(".",O_RDWR|O_TMPFILE,0644); CHECK("O_TMPFILE", tf>=0);
  EXPECT_ERR(openat(99,"f",O_RDONLY), EBADF);
  EXPECT_ERR(openat(fd,"x",O_RDONLY), ENOTDIR);
  EXPECT_ERR(open("f",O_RDONLY|O_CREAT|O_DIRECTORY,0644), EINVAL);
  /* read/write errors */
  char b[16];
  int ro=open("f",O_RDONLY), wo=open("f",O_WRONLY);
  EXPECT_ERR(write(ro,"x",1), EBADF);
  EXPECT_ERR(read(wo,b,1), EBADF);
  EXPECT_EQ(read(fd,(void*)8,1), 0); /* at the end of the file: nothing to copy */
  EXPECT_ERR(write(fd,(void*)8,1), EFAULT);
  int dfd=open(".",O_RDONLY);
  EXPECT_ERR(read(dfd,b,1), EISDIR);
  int p[2]; pipe(p);
  EXPECT_ERR(lseek(p[0],0,SEEK_SET), ESPIPE);
  EXPECT_ERR(pread(p[0],b,1,0), ESPIPE);
  EXPECT_ERR(pwrite(fd,"x",1,-1), EINVAL);
  EXPECT_ERR(lseek(fd,-1,SEEK_SET), EINVAL);
  EXPECT_ERR(lseek(fd,0,99), EINVAL);
  EXPECT_ERR(lseek(fd,0,SEEK_DATA), ENXIO);
  struct iovec iov[2]={{b,1},{b,-1}};
  EXPECT_ERR(readv(fd,iov,2), EINVAL);
  EXPECT_ERR(readv(fd,iov,-1), EINVAL);
  EXPECT_ERR(readv(fd,iov,1025), EINVAL);
  EXPECT_ERR(preadv(fd,iov,1,-1), EINVAL);
  pid_t c;
  /* truncate errors */
  EXPECT_ERR(ftruncate(fd,-1), EINVAL);
  EXPECT_ERR(ftruncate(ro,0), EINVAL);
  EXPECT_ERR(truncate(".",0), EISDIR);
  EXPECT_ERR(truncate("nope",0), ENOENT);
  EXPECT_ERR(ftruncate(p[0],0), EINVAL);
  /* link / unlink / rename / rmdir / mkdir */
  EXPECT_ERR(link("f","f"), EEXIST);
  EXPECT_ERR(link(".","dl"), EPERM);
  EXPECT_ERR(link("nope","x"), ENOENT);
  EXPECT_ERR(unlink("."), EISDIR);
  mkdir("dd",0755);
  EXPECT_ERR(unlink("dd"), EISDIR);
  EXPECT_ERR(rmdir("f"), ENOTDIR);
  EXPECT_ERR(rmdir("."), EINVAL);
  EXPECT_ERR(rmdir(".."), ENOTEMPTY);
  mkdir("dd/sub",0755);
  EXPECT_ERR(rmdir("dd"), ENOTEMPTY);
  EXPECT_ERR(rename("dd","dd/sub/x"), EINVAL);
  EXPECT_ERR(rename("f","dd"), EISDIR);
  EXPECT_ERR(rename("dd","f"), ENOTDIR);
  mkdir("e",0755); mkdir("e/x",0755);
  EXPECT_ERR(rename("dd","e"), ENOTEMPTY);
  EXPECT_OK(rename("f","f"));
  EXPECT_ERR(rename(".","x"), EBUSY);
  EXPECT_ERR(mkdir("f",0755), EEXIST);
  EXPECT_ERR(mkdir("nope/x",0755), ENOENT);
  EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, "dd", RENAME_NOREPLACE), EEXIST);
  EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, "g", RENAME_EXCHANGE), ENOENT);
  EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, "g", RENAME_EXCHANGE|RENAME_NOREPLACE), EINVAL);
  EXPECT_ERR(syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, "g", 99), EINVAL);
  /* mknod */
  EXPECT_OK(mknod("n",S_IFREG|0644,0));
  EXPECT_ERR(mknod("n",S_IFREG|0644,0), EEXIST);
  EXPECT_ERR(mknod("d2",S_IFDIR|0755,0), EPERM);
  EXPECT_ERR(mknod("d3",0xf000|0755,0), EINVAL);
  /* chmod / chown */
  EXPECT_ERR(chmod("nope",0644), ENOENT);
  EXPECT_ERR(fchmod(99,0644), EBADF);
  EXPECT_OK(syscall(SYS_fchmodat, AT_FDCWD, "f", 0644, AT_SYMLINK_NOFOLLOW)); /* the old call has no flags argument */
  EXPECT_ERR(syscall(SYS_fchmodat2, AT_FDCWD, "lf", 0644, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
  EXPECT_ERR(syscall(SYS_fchmodat2, AT_FDCWD, "f", 0644, 0x1), EINVAL);
  EXPECT_ERR(fchownat(AT_FDCWD,"f",0,0,0x1), EINVAL);
  /* sticky dir and setgid clearing as unprivileged */
  chmod("f",06755);
  c=fork(); if(c==0){ setgid(65534); setuid(65534); EXPECT_ERR(chmod("f",0644), EPERM); EXPECT_ERR(chown("f",65534,65534), EPERM); EXPECT_ERR(unlink("f"), EACCES); EXPECT_ERR(open("f",O_WRONLY), EACCES); EXPECT_ERR(utime("f",NULL), EACCES); struct utimbuf ub={1,1}; EXPECT_ERR(utime("f",&ub), EPERM); fflush(stdout); _exit(0);} waitpid(c,NULL,0);
  struct stat st; stat("f",&st); printf("mode %o\n", st.st_mode&07777);
  /* access */
  EXPECT_ERR(access("f",99), EINVAL);
  chmod("f",0644);
  EXPECT_ERR(access("f",X_OK), EACCES);
  EXPECT_OK(access("f",R_OK|W_OK));
  EXPECT_ERR(syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, 0x1), EINVAL);
  /* readlink */
  EXPECT_ERR(readlink("f",b,16), EINVAL);
  EXPECT_ERR(readlink("lf",b,0), EINVAL);
  EXPECT_EQ(readlink("lf",b,1), 1);
  /* stat family */
  EXPECT_ERR(stat("",&st), ENOENT);
  EXPECT_ERR(syscall(SYS_newfstatat, AT_FDCWD, "", &st, 0), ENOENT);
  EXPECT_OK(syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH));
  EXPECT_ERR(syscall(SYS_newfstatat, AT_FDCWD, "f", &st, 0x4), EINVAL);
  EXPECT_ERR(stat("f",(void*)8), EFAULT);
  struct statfs sf; EXPECT_ERR(statfs("nope",&sf), ENOENT); EXPECT_ERR(fstatfs(99,&sf), EBADF); EXPECT_ERR(statfs("f",(void*)8), EFAULT);
  /* utimensat */
  struct timespec ts[2]={{0,UTIME_OMIT},{0,1000000000}};
  EXPECT_ERR(utimensat(AT_FDCWD,"f",ts,0), EINVAL);
  EXPECT_ERR(utimensat(AT_FDCWD,"f",NULL,99), EINVAL);
  EXPECT_ERR(syscall(SYS_utimensat, fd, "", NULL, 0), ENOENT);
  EXPECT_OK(syscall(SYS_utimensat, fd, NULL, NULL, 0));
  /* dup */
  EXPECT_ERR(dup(99), EBADF);
  EXPECT_ERR(dup2(fd,-1), EBADF);
  EXPECT_EQ(dup2(fd,fd), fd);
  EXPECT_ERR(dup3(fd,fd,0), EINVAL);
  EXPECT_ERR(dup3(fd,50,99), EINVAL);
  EXPECT_ERR(fcntl(fd,F_DUPFD,-1), EINVAL);
  struct rlimit nr; getrlimit(RLIMIT_NOFILE,&nr);
  EXPECT_ERR(fcntl(fd,F_DUPFD,nr.rlim_cur), EINVAL);
  EXPECT_ERR(dup2(fd,nr.rlim_cur), EBADF);
  EXPECT_ERR(fcntl(fd,99), EINVAL);
  EXPECT_ERR(fcntl(fd,F_SETPIPE_SZ,4096), EBADF);
  c=fork(); if(c==0){ setuid(65534); EXPECT_ERR(fcntl(p[0],F_SETPIPE_SZ,0x7fffffff), EPERM); fflush(stdout); _exit(0);} waitpid(c,NULL,0);
  EXPECT_EQ(fcntl(p[0],F_SETPIPE_SZ,100), 4096);
  EXPECT_EQ(fcntl(p[0],F_GETPIPE_SZ), 4096);
  /* flock / locks */
  EXPECT_OK(flock(fd,99));
  EXPECT_ERR(flock(fd,64), EINVAL);
  EXPECT_ERR(flock(99,LOCK_SH), EBADF);
  struct flock fl={.l_type=99,.l_whence=SEEK_SET};
  EXPECT_ERR(fcntl(fd,F_SETLK,&fl), EINVAL);
  fl.l_type=F_WRLCK; EXPECT_ERR(fcntl(ro,F_SETLK,&fl), EBADF);
  fl.l_type=F_RDLCK; EXPECT_ERR(fcntl(wo,F_SETLK,&fl), EBADF);
  fl.l_type=F_WRLCK; fl.l_whence=99; EXPECT_ERR(fcntl(fd,F_SETLK,&fl), EINVAL);
  fl.l_whence=SEEK_SET; fl.l_start=-1; EXPECT_ERR(fcntl(fd,F_SETLK,&fl), EINVAL);
  EXPECT_ERR(fcntl(fd,F_GETLK,(void*)8), EFAULT);
  /* getdents */
  EXPECT_ERR(syscall(SYS_getdents64, fd, b, 16), ENOTDIR);
  EXPECT_ERR(syscall(SYS_getdents64, dfd, b, 1), EINVAL);
  EXPECT_ERR(syscall(SYS_getdents64, 99, b, 16), EBADF);
  EXPECT_ERR(syscall(SYS_getdents64, dfd, 8, 4096), EFAULT);
  /* chdir / fchdir / chroot */
  EXPECT_ERR(chdir("f"), ENOTDIR);
  EXPECT_ERR(fchdir(fd), ENOTDIR);
  EXPECT_ERR(fchdir(99), EBADF);
  EXPECT_ERR(chroot("f"), ENOTDIR);
  EXPECT_ERR(chroot("nope"), ENOENT);
  /* sendfile / splice */
  EXPECT_EQ(sendfile(fd,ro,NULL,1), 0); /* the file is empty */
  EXPECT_ERR(sendfile(ro,fd,NULL,1), EBADF);
  EXPECT_ERR(sendfile(fd,wo,NULL,1), EBADF);
  off_t o=-1; EXPECT_ERR(sendfile(fd,ro,&o,1), EINVAL);
  EXPECT_ERR(splice(fd,NULL,wo,NULL,1,0), EINVAL);
  EXPECT_ERR(syscall(SYS_tee, fd, p[1], 1, 0), EINVAL);
  /* fsync on pipe */
  EXPECT_ERR(fsync(p[0]), EINVAL);
  EXPECT_ERR(fdatasync(99), EBADF);
  /* cleanup */
  chdir("/tmp");
  char cmd[128]; snprintf(cmd,sizeof cmd,"rm -rf %s",d); system(cmd);
  return ukt_exit();
}
