/* fileio.c: the data calls' flags and errors, compared with Linux's
 * tmpfs (/dev/shm natively; LTP's preadv2, pwritev2, copy_file_range,
 * splice, tee, vmsplice, sync_file_range, readahead, fadvise, lseek and
 * fallocate cases): RWF_ flags, O_APPEND with pwrite, offsets
 * copy_file_range moves, vmsplice both ways, SEEK_DATA and SEEK_HOLE
 * over a sparse file, fallocate modes; RWF_NOSIGNAL (EPIPE without
 * SIGPIPE from a pipe or socket without readers). */
#include "uktest.h"
#include <fcntl.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/sendfile.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/socket.h>
static volatile int sigpipes;
static void onpipe(int s){ sigpipes++; }
/* nosignal writes to the write end w of a channel whose reader is gone,
 * with and without RWF_NOSIGNAL, counting the SIGPIPEs. */
static void nosignal(const char *what, int w){
  char c='x'; struct iovec v={&c,1};
  sigpipes=0;
  long r=pwritev2(w,&v,1,-1,0x100 /* RWF_NOSIGNAL */); int e=errno;
  printf("%s, RWF_NOSIGNAL: %ld %s, SIGPIPEs %d\n", what, r, r<0?errname(e):"", sigpipes);
  r=pwritev2(w,&v,1,-1,0); e=errno;
  printf("%s, no flag: %ld %s, SIGPIPEs %d\n", what, r, r<0?errname(e):"", sigpipes);
}
int main(void){
  signal(SIGPIPE,onpipe);
  int np[2]; pipe(np); close(np[0]); nosignal("pipe", np[1]);
  int sv[2]; socketpair(AF_UNIX,SOCK_STREAM,0,sv); close(sv[1]); nosignal("unix stream", sv[0]);
  char path[64]; snprintf(path,sizeof path,"/dev/shm/uk_fio_%d",getpid());
  int fd=open(path,O_RDWR|O_CREAT|O_TRUNC,0600);
  char b[64]; struct iovec iov={b,8};
  EXPECT_EQ(pwritev2(fd,&iov,1,0,0),8);
  EXPECT_ERR(pwritev2(fd,&iov,1,0,0x1000), EOPNOTSUPP);
  EXPECT_ERR(preadv2(fd,&iov,1,0,0x1000), EOPNOTSUPP);
  EXPECT_EQ(preadv2(fd,&iov,1,0,RWF_HIPRI),8);
  EXPECT_EQ(pwritev2(fd,&iov,1,0,RWF_DSYNC),8);
  EXPECT_EQ(pwritev2(fd,&iov,1,0,RWF_SYNC),8);
  EXPECT_EQ(pwritev2(fd,&iov,1,100,RWF_APPEND),8);
  struct stat st; fstat(fd,&st); printf("size after RWF_APPEND %ld\n",(long)st.st_size);
  EXPECT_EQ(preadv2(fd,&iov,1,-1,0),8); printf("offset now %ld\n",(long)lseek(fd,0,SEEK_CUR));
  EXPECT_ERR(preadv2(fd,&iov,1,-2,0), EINVAL);
  int p[2]; pipe(p);
  EXPECT_ERR(preadv2(p[0],&iov,1,0,0), ESPIPE);
  printf("pipe preadv2 -1 nowait: %ld %s\n",(long)preadv2(p[0],&iov,1,-1,RWF_NOWAIT), errname(errno));
  /* O_APPEND with pwrite appends */
  int ap=open(path,O_WRONLY|O_APPEND); EXPECT_EQ(pwrite(ap,"Z",1,0),1); fstat(fd,&st); printf("size after O_APPEND pwrite %ld\n",(long)st.st_size);
  /* O_DIRECT */
  int dfd=open(path,O_RDWR|O_DIRECT); printf("O_DIRECT open on tmpfs: %d %s\n", dfd>=0?0:-1, dfd<0?errname(errno):"");
  /* sync_file_range, readahead, fadvise */
  EXPECT_ERR(sync_file_range(fd,0,0,99), EINVAL);
  EXPECT_ERR(sync_file_range(fd,-1,0,0), EINVAL);
  EXPECT_OK(sync_file_range(fd,0,0,SYNC_FILE_RANGE_WRITE));
  EXPECT_ERR(sync_file_range(p[0],0,0,0), ESPIPE);
  EXPECT_OK(readahead(fd,0,100));
  EXPECT_ERR(readahead(p[0],0,100), EINVAL);
  EXPECT_EQ(posix_fadvise(fd,0,0,99), EINVAL);
  EXPECT_EQ(posix_fadvise(p[0],0,0,POSIX_FADV_NORMAL), ESPIPE);
  EXPECT_EQ(posix_fadvise(fd,0,-1,POSIX_FADV_NORMAL), EINVAL);
  EXPECT_EQ(posix_fadvise(99,0,0,0), EBADF);
  /* copy_file_range */
  char p2[64]; snprintf(p2,sizeof p2,"%s.b",path); int fd2=open(p2,O_RDWR|O_CREAT|O_TRUNC,0600);
  loff_t o1=0,o2=0; EXPECT_EQ(copy_file_range(fd,&o1,fd2,&o2,5,0),5); printf("offsets %ld %ld\n",(long)o1,(long)o2);
  EXPECT_ERR(copy_file_range(fd,&o1,fd2,&o2,5,1), EINVAL);
  EXPECT_ERR(copy_file_range(p[0],NULL,fd2,NULL,5,0), EINVAL);
  int ro=open(path,O_RDONLY); EXPECT_ERR(copy_file_range(fd,NULL,ro,NULL,5,0), EBADF);
  o1=0; o2=2; EXPECT_ERR(copy_file_range(fd,&o1,fd,&o2,5,0), EINVAL);
  int dir=open("/dev/shm",O_RDONLY); EXPECT_ERR(copy_file_range(dir,NULL,fd2,NULL,5,0), EISDIR);
  o1=0; EXPECT_EQ(copy_file_range(fd,&o1,fd2,NULL,0,0),0);
  int apf=open(p2,O_WRONLY|O_APPEND); EXPECT_ERR(copy_file_range(fd,NULL,apf,NULL,5,0), EBADF);
  /* splice/tee */
  EXPECT_ERR(splice(fd,NULL,fd2,NULL,5,0), EINVAL);
  loff_t off=-1; EXPECT_ERR(splice(fd,&off,p[1],NULL,5,0), EINVAL);
  off=0; EXPECT_ERR(splice(p[0],&off,fd,NULL,5,0), ESPIPE);
  EXPECT_ERR(splice(fd,NULL,p[1],NULL,5,99), EINVAL);
  int q[2]; pipe(q);
  write(p[1],"abc",3); EXPECT_EQ(tee(p[0],q[1],10,SPLICE_F_NONBLOCK),3);
  EXPECT_ERR(tee(p[0],p[1],10,0), EINVAL);
  EXPECT_ERR(tee(fd,q[1],10,0), EINVAL);
  struct iovec vi={ "xyz",3 }; EXPECT_EQ(vmsplice(q[1],&vi,1,0),3);
  EXPECT_ERR(vmsplice(fd,&vi,1,0), EBADF);
  /* lseek beyond, holes */
  EXPECT_EQ(lseek(fd,1<<20,SEEK_SET),1<<20); EXPECT_EQ(write(fd,"e",1),1);
  printf("SEEK_DATA 0 -> %ld, SEEK_HOLE 0 -> %ld\n",(long)lseek(fd,0,SEEK_DATA),(long)lseek(fd,0,SEEK_HOLE));
  printf("SEEK_DATA 4096 -> %ld\n",(long)lseek(fd,4096,SEEK_DATA));
  EXPECT_ERR(lseek(fd,(1<<20)+1,SEEK_DATA), ENXIO);
  EXPECT_ERR(lseek(fd,0x7fffffffffffffffL,SEEK_CUR), EINVAL);
  /* fallocate */
  EXPECT_ERR(fallocate(fd,FALLOC_FL_PUNCH_HOLE,0,10), EOPNOTSUPP);
  EXPECT_ERR(fallocate(fd,0,0,0), EINVAL);
  EXPECT_ERR(fallocate(fd,0,-1,10), EINVAL);
  EXPECT_ERR(fallocate(ro,0,0,10), EBADF);
  EXPECT_ERR(fallocate(p[0],0,0,10), EBADF); /* the read end is not open for writing */
  EXPECT_ERR(fallocate(fd,FALLOC_FL_COLLAPSE_RANGE,0,4096), EOPNOTSUPP);
  EXPECT_ERR(fallocate(fd,FALLOC_FL_INSERT_RANGE,0,4096), EOPNOTSUPP);
  EXPECT_ERR(fallocate(fd,0x100,0,4096), EOPNOTSUPP);
  EXPECT_ERR(fallocate(fd,0,0x7ffffffffffff000L,0x2000), EFBIG);
  /* fsync on dirs and ro */
  EXPECT_OK(fsync(dir)); EXPECT_OK(fsync(ro)); EXPECT_OK(fdatasync(dir));
  /* ftruncate O_APPEND ok */
  EXPECT_OK(ftruncate(ap,10));
  unlink(path); unlink(p2);
  return ukt_exit();
}
