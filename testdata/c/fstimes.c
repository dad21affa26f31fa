/* fstimes.c: which calls stamp a file's and its directory's times,
 * compared with Linux's tmpfs (/dev/shm natively; LTP's utime, utimensat,
 * link, rename, unlink, truncate and read cases): chmod, write, link,
 * rename, unlink, ftruncate (even to the same size), utimensat now and
 * set, relatime reads, mkdir, setxattr; readdir with telldir/seekdir. */
#include "uktest.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <dirent.h>
#include <sys/xattr.h>
static struct stat S(const char *p){ struct stat s; lstat(p,&s); return s; }
static int later(struct timespec a, struct timespec b){ return a.tv_sec>b.tv_sec || (a.tv_sec==b.tv_sec && a.tv_nsec>b.tv_nsec); }
int main(void){
  char d[64]; snprintf(d,sizeof d,"/dev/shm/uk_fstimes_%d",getpid()); mkdir(d,0755); chdir(d);
  int fd=open("f",O_CREAT|O_RDWR,0644); write(fd,"abc",3);
  struct stat a=S("f"), da=S("."); usleep(20000);
  chmod("f",0600); struct stat b=S("f"); printf("chmod: ctime %d mtime %d\n", later(b.st_ctim,a.st_ctim), later(b.st_mtim,a.st_mtim));
  usleep(20000); write(fd,"d",1); struct stat c=S("f"); printf("write: ctime %d mtime %d\n", later(c.st_ctim,b.st_ctim), later(c.st_mtim,b.st_mtim));
  usleep(20000); link("f","g"); struct stat e=S("f"), db=S("."); printf("link: file ctime %d, dir mtime %d ctime %d\n", later(e.st_ctim,c.st_ctim), later(db.st_mtim,da.st_mtim), later(db.st_ctim,da.st_ctim));
  usleep(20000); rename("g","h"); struct stat f2=S("f"), dc=S("."); printf("rename: inode ctime %d, dir mtime %d\n", later(f2.st_ctim,e.st_ctim), later(dc.st_mtim,db.st_mtim));
  usleep(20000); unlink("h"); struct stat g=S("f"), dd=S("."); printf("unlink: inode ctime %d, dir mtime %d\n", later(g.st_ctim,f2.st_ctim), later(dd.st_mtim,dc.st_mtim));
  usleep(20000); ftruncate(fd,1); struct stat h=S("f"); printf("ftruncate: ctime %d mtime %d\n", later(h.st_ctim,g.st_ctim), later(h.st_mtim,g.st_mtim));
  usleep(20000); ftruncate(fd,1); struct stat i=S("f"); printf("ftruncate same size: ctime %d mtime %d\n", later(i.st_ctim,h.st_ctim), later(i.st_mtim,h.st_mtim));
  usleep(20000); utimensat(AT_FDCWD,"f",NULL,0); struct stat j=S("f"); printf("utimensat now: ctime %d mtime %d atime %d\n", later(j.st_ctim,i.st_ctim), later(j.st_mtim,i.st_mtim), later(j.st_atim,i.st_atim));
  struct timespec ts[2]={{100,0},{200,0}}; utimensat(AT_FDCWD,"f",ts,0); struct stat k=S("f"); printf("set: atime %ld mtime %ld ctime later %d\n", k.st_atime, k.st_mtime, later(k.st_ctim,j.st_ctim));
  usleep(20000); char b2[4]; pread(fd,b2,1,0); struct stat l=S("f"); printf("read after old atime: atime updated %d\n", later(l.st_atim,k.st_atim));
  usleep(20000); pread(fd,b2,1,0); struct stat m=S("f"); printf("read again: atime updated %d\n", later(m.st_atim,l.st_atim));
  usleep(20000); mkdir("sub",0755); struct stat n=S("."); printf("mkdir: dir nlink %ld mtime %d\n",(long)n.st_nlink, later(n.st_mtim,dd.st_mtim));
  usleep(20000); int x=open("sub/x",O_CREAT|O_WRONLY,0644); close(x); struct stat o=S("sub"); printf("create in sub: sub mtime %d\n", later(o.st_mtim,n.st_mtim));
  setxattr("f","user.t","1",1,0); struct stat q=S("f"); printf("setxattr: ctime %d\n", later(q.st_ctim,m.st_ctim));
  /* getdents order and d_type, seekdir */
  DIR *dir=opendir("."); struct dirent *de; int cnt=0; long pos2=-1; while((de=readdir(dir))){ cnt++; if(cnt==2) pos2=telldir(dir); } printf("entries %d\n", cnt);
  seekdir(dir,pos2); de=readdir(dir); printf("after seekdir an entry: %d\n", de!=NULL); closedir(dir);
  chdir("/"); char cmd[128]; snprintf(cmd,sizeof cmd,"rm -rf %s",d); system(cmd);
  return 0;
}
