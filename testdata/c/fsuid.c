/* fsuid.c: the filesystem uid and gid, compared with Linux (LTP's
 * setfsuid and setfsgid cases): leaving fsuid 0 drops the filesystem
 * capabilities (so root's 0600 file is refused), coming back raises
 * them, new files take the fsuid and fsgid as owner and group. */
#include "uktest.h"
#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <linux/capability.h>
static unsigned eff(void){ struct __user_cap_header_struct h={.version=_LINUX_CAPABILITY_VERSION_3}; struct __user_cap_data_struct d[2]; syscall(SYS_capget,&h,d); return d[0].effective; }
int main(void){
  char p[64]; snprintf(p,sizeof p,"/dev/shm/uk_fsuid_%d",getpid());
  int fd=open(p,O_CREAT|O_WRONLY,0600); close(fd);
  unsigned e0=eff();
  setfsuid(65534); printf("fsuid 65534: fs caps dropped %d, others kept %d\n", (eff()&0x1f)==0, (eff()&(1u<<5))!=0);
  errno=0; fd=open(p,O_RDONLY); printf("open root's 0600 file with fsuid 65534: %d %s\n", fd>=0, fd<0?errname(errno):"");
  if(fd>=0) close(fd);
  char q[80]; snprintf(q,sizeof q,"%s.new",p); fd=open(q,O_CREAT|O_WRONLY,0644); struct stat st; fstat(fd,&st); printf("created owner %d\n", st.st_uid); close(fd); unlink(q);
  setfsuid(0); printf("fsuid back to 0: caps restored %d\n", eff()==e0);
  setfsgid(4321); fd=open(q,O_CREAT|O_WRONLY,0644); fstat(fd,&st); printf("created group %d\n", st.st_gid); close(fd); unlink(q); setfsgid(0);
  printf("setfsuid returns old: %d\n", setfsuid(0));
  unlink(p);
  return 0;
}
