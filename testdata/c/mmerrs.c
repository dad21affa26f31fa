/* mmerrs.c: the argument checks of the memory calls in Linux's order
 * (LTP's mmap, mprotect, munmap, madvise, mincore, mlock, msync, mremap
 * and brk error cases): mmap's type and MAP_SHARED_VALIDATE flags,
 * lengths past the address space, access modes of the file; PROT_GROWSDOWN
 * and PROT_GROWSUP; madvise advice that needs private anonymous or
 * shared memory; mlock and munlock rounding, mlock2 and mlockall flags;
 * msync's EBUSY on locked pages. */
#include "uktest.h"
#include <sys/mman.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
int main(void){
  long pg=sysconf(_SC_PAGESIZE);
  char path[64];
  snprintf(path, sizeof path, "/tmp/uk_mmerrs_%d", getpid());
  int fd=open(path, O_RDWR|O_CREAT|O_TRUNC, 0644); ftruncate(fd, 4*pg);
  int rfd=open(path, O_RDONLY);
  int wfd=open(path, O_WRONLY);
  EXPECT_ERR((long)mmap(NULL,0,PROT_READ,MAP_PRIVATE|MAP_ANONYMOUS,-1,0), EINVAL);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ,MAP_ANONYMOUS,-1,0), EINVAL);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ,MAP_PRIVATE|MAP_SHARED|MAP_ANONYMOUS,-1,0), EINVAL);
  EXPECT_ERR((long)mmap((void*)1,pg,PROT_READ,MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED,-1,0), EINVAL);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ,MAP_PRIVATE,99,0), EBADF);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ,MAP_PRIVATE,fd,1), EINVAL);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ|PROT_WRITE,MAP_SHARED,rfd,0), EACCES);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ,MAP_SHARED,wfd,0), EACCES);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ,MAP_PRIVATE,wfd,0), EACCES);
  EXPECT_OK((long)mmap(NULL,pg,PROT_READ|PROT_WRITE,MAP_PRIVATE,rfd,0) == -1);
  int dfd=open("/tmp", O_RDONLY);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ,MAP_PRIVATE,dfd,0), ENODEV);
  int pfd[2]; pipe(pfd);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ,MAP_PRIVATE,pfd[0],0), ENODEV);
  EXPECT_ERR((long)mmap(NULL,-pg,PROT_READ,MAP_PRIVATE|MAP_ANONYMOUS,-1,0), ENOMEM);
  CHECK("an unknown mmap flag is ignored", mmap(NULL,pg,PROT_READ,MAP_PRIVATE|MAP_ANONYMOUS|0x40000000,-1,0) != MAP_FAILED);
  EXPECT_ERR((long)mmap(NULL,pg,PROT_READ,MAP_SHARED_VALIDATE|0x80000,fd,0), EOPNOTSUPP);
  char *a=mmap(NULL,4*pg,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
  EXPECT_ERR((long)mmap(a,pg,PROT_READ,MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE,-1,0), EEXIST);
  /* mprotect */
  EXPECT_ERR(mprotect(a+1,pg,PROT_READ), EINVAL);
  EXPECT_ERR(mprotect(a,pg,0x100), EINVAL);
  EXPECT_ERR(mprotect((void*)0x10000,pg,PROT_READ), ENOMEM);
  char *r=mmap(NULL,pg,PROT_READ,MAP_SHARED,rfd,0);
  EXPECT_ERR(mprotect(r,pg,PROT_WRITE), EACCES);
  EXPECT_ERR(mprotect(a,pg,PROT_READ|PROT_GROWSDOWN), EINVAL);
  EXPECT_ERR(mprotect(a,pg,PROT_READ|PROT_GROWSUP), EINVAL);
  /* munmap */
  EXPECT_ERR(munmap(a+1,pg), EINVAL);
  EXPECT_ERR(munmap(a,0), EINVAL);
  EXPECT_OK(munmap((void*)0x10000,pg));
  /* madvise */
  EXPECT_ERR(madvise(a+1,pg,MADV_NORMAL), EINVAL);
  EXPECT_ERR(madvise(a,pg,1234), EINVAL);
  EXPECT_ERR(madvise((void*)0x10000,pg,MADV_NORMAL), ENOMEM);
  EXPECT_OK(madvise(a,pg,MADV_DONTNEED));
  EXPECT_OK(madvise(a,pg,MADV_WILLNEED));
  EXPECT_ERR(madvise(a,pg,MADV_REMOVE), EINVAL);
  EXPECT_OK(madvise(a,pg,MADV_FREE));
  EXPECT_OK(madvise(a,pg,MADV_DONTFORK));
  EXPECT_OK(madvise(a,pg,MADV_DOFORK));
  EXPECT_ERR(madvise(r,pg,MADV_FREE), EINVAL);
  EXPECT_OK(madvise(a,pg,MADV_MERGEABLE) == 0 ? 0 : -1);
  EXPECT_OK(madvise(a,pg,MADV_HUGEPAGE) == 0 ? 0 : -1);
  EXPECT_OK(madvise(a,pg,MADV_COLD));
  EXPECT_OK(madvise(a,pg,MADV_PAGEOUT));
  /* mincore */
  unsigned char vec[8];
  EXPECT_ERR(mincore(a+1,pg,vec), EINVAL);
  EXPECT_ERR(mincore(a,pg,(void*)8), EFAULT);
  EXPECT_ERR(mincore((void*)0x10000,pg,vec), ENOMEM);
  a[0]=1; EXPECT_OK(mincore(a,4*pg,vec)); printf("mincore of a touched page %d\n", vec[0]&1);
  /* mlock */
  EXPECT_OK(mlock(a+1,pg));
  EXPECT_ERR(mlock((void*)0x10000,pg), ENOMEM);
  EXPECT_ERR(munlock((void*)0x10000,pg), ENOMEM);
  EXPECT_ERR(mlockall(0), EINVAL);
  EXPECT_ERR(mlockall(MCL_ONFAULT), EINVAL);
  EXPECT_ERR(syscall(SYS_mlock2, a, pg, 99), EINVAL);
  EXPECT_OK(syscall(SYS_mlock2, a, pg, MLOCK_ONFAULT));
  /* msync */
  char *s=mmap(NULL,pg,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0);
  EXPECT_ERR(msync(s+1,pg,MS_SYNC), EINVAL);
  EXPECT_ERR(msync(s,pg,MS_SYNC|MS_ASYNC), EINVAL);
  EXPECT_ERR(msync(s,pg,99), EINVAL);
  EXPECT_ERR(msync((void*)0x10000,pg,MS_SYNC), ENOMEM);
  EXPECT_OK(msync(s,pg,MS_SYNC));
  mlock(s,pg); EXPECT_ERR(msync(s,pg,MS_INVALIDATE), EBUSY);
  /* mremap */
  EXPECT_ERR((long)mremap(a+1,pg,2*pg,0), EINVAL);
  EXPECT_ERR((long)mremap(a,pg,2*pg,99), EINVAL);
  EXPECT_ERR((long)mremap(a,pg,2*pg,MREMAP_FIXED), EINVAL);
  EXPECT_ERR((long)mremap(a,pg,0,0), EINVAL);
  EXPECT_ERR((long)mremap((void*)0x10000,pg,2*pg,0), EFAULT);
  EXPECT_ERR((long)mremap(a,pg,2*pg,0), ENOMEM);
  EXPECT_ERR((long)mremap(a,pg,pg,MREMAP_MAYMOVE|MREMAP_FIXED,a), EINVAL);
  EXPECT_ERR((long)mremap(a,pg,pg,MREMAP_DONTUNMAP), EINVAL);
  /* brk */
  void *b0=(void*)syscall(SYS_brk,0); void *b1=(void*)syscall(SYS_brk,(char*)b0+pg); printf("brk grows %d\n", b1==(char*)b0+pg);
  printf("brk below start unchanged %d\n", (void*)syscall(SYS_brk,(char*)b0-1000000000)==b1);
  struct rlimit rl={pg,pg}; /* RLIMIT_DATA */
  /* memfd_create */
  EXPECT_ERR(syscall(SYS_memfd_create, "x", 0x100), EINVAL);
  EXPECT_ERR(syscall(SYS_memfd_create, 8, 0), EFAULT);
  char longname[300]; memset(longname,'a',299); longname[299]=0;
  EXPECT_ERR(syscall(SYS_memfd_create, longname, 0), EINVAL);
  unlink(path);
  return ukt_exit();
}
