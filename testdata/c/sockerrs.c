/* sockerrs.c: the argument checks of the socket calls in Linux's order
 * (LTP's socket, bind, listen, connect, accept, getsockname,
 * getpeername, setsockopt, getsockopt, send, recv, sendmsg, recvmsg,
 * shutdown and socketpair error cases) over TCP, UDP and Unix sockets on
 * loopback. */
#include "uktest.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
int main(void){
  EXPECT_ERR(socket(99,SOCK_STREAM,0), EAFNOSUPPORT);
  EXPECT_ERR(socket(AF_INET,99,0), EINVAL);
  EXPECT_ERR(socket(AF_INET,SOCK_STREAM,99), EPROTONOSUPPORT);
  EXPECT_ERR(socket(AF_INET,SOCK_DGRAM,IPPROTO_TCP), EPROTONOSUPPORT);
  EXPECT_ERR(socket(AF_UNIX,SOCK_STREAM|0x100000,0), EINVAL);
  int s=socket(AF_INET,SOCK_STREAM,0);
  struct sockaddr_in a={.sin_family=AF_INET,.sin_port=0,.sin_addr.s_addr=htonl(INADDR_LOOPBACK)};
  EXPECT_ERR(bind(s,(void*)&a,3), EINVAL);
  EXPECT_ERR(bind(s,(void*)8,sizeof a), EFAULT);
  EXPECT_ERR(bind(99,(void*)&a,sizeof a), EBADF);
  int f=open("/dev/null",O_RDONLY);
  EXPECT_ERR(bind(f,(void*)&a,sizeof a), ENOTSOCK);
  a.sin_family=AF_UNIX; EXPECT_ERR(bind(s,(void*)&a,sizeof a), EAFNOSUPPORT); a.sin_family=AF_INET;
  struct sockaddr_in bad=a; bad.sin_addr.s_addr=htonl(0x01020304); EXPECT_ERR(bind(s,(void*)&bad,sizeof bad), EADDRNOTAVAIL);
  EXPECT_OK(bind(s,(void*)&a,sizeof a));
  EXPECT_ERR(bind(s,(void*)&a,sizeof a), EINVAL);
  EXPECT_ERR(listen(f,1), ENOTSOCK);
  EXPECT_OK(listen(s,1));
  socklen_t l=sizeof a; getsockname(s,(void*)&a,&l);
  int c=socket(AF_INET,SOCK_STREAM,0);
  EXPECT_ERR(connect(c,(void*)&a,3), EINVAL);
  EXPECT_ERR(connect(c,(void*)8,sizeof a), EFAULT);
  EXPECT_ERR(getpeername(c,(void*)&a,&l), ENOTCONN);
  l=sizeof a; EXPECT_ERR(getpeername(c,(void*)8,&l), ENOTCONN);
  EXPECT_ERR(getsockname(c,(void*)&a,(void*)8), EFAULT);
  l=-1; EXPECT_ERR(getsockname(c,(void*)&a,&l), EINVAL);
  EXPECT_OK(connect(c,(void*)&a,sizeof a));
  EXPECT_ERR(connect(c,(void*)&a,sizeof a), EISCONN);
  int acc=accept(s,NULL,NULL);
  EXPECT_ERR(accept(c,NULL,NULL), EINVAL);

  EXPECT_ERR(accept4(s,NULL,NULL,99), EINVAL);
  int v=1; EXPECT_ERR(setsockopt(c,99,1,&v,sizeof v), ENOPROTOOPT);
  EXPECT_ERR(setsockopt(c,SOL_SOCKET,9999,&v,sizeof v), ENOPROTOOPT);
  EXPECT_ERR(setsockopt(c,SOL_SOCKET,SO_REUSEADDR,&v,2), EINVAL);
  EXPECT_ERR(setsockopt(c,SOL_SOCKET,SO_REUSEADDR,(void*)8,sizeof v), EFAULT);
  EXPECT_ERR(setsockopt(f,SOL_SOCKET,SO_REUSEADDR,&v,sizeof v), ENOTSOCK);
  l=sizeof v; EXPECT_ERR(getsockopt(c,SOL_SOCKET,9999,&v,&l), ENOPROTOOPT);
  l=-1; EXPECT_ERR(getsockopt(c,SOL_SOCKET,SO_TYPE,&v,&l), EINVAL);
  l=sizeof v; EXPECT_ERR(getsockopt(c,SOL_SOCKET,SO_TYPE,(void*)8,&l), EFAULT);
  EXPECT_ERR(send(f,"x",1,0), ENOTSOCK);
  EXPECT_ERR(send(c,(void*)8,1,0), EFAULT);
  EXPECT_ERR(recv(acc,(void*)8,1,MSG_DONTWAIT), EAGAIN);
  send(c,"x",1,0); usleep(10000);
  EXPECT_ERR(recv(acc,(void*)8,1,0), EFAULT);
  EXPECT_ERR(recv(99,NULL,0,0), EBADF);
  EXPECT_ERR(recvfrom(acc,NULL,0,MSG_DONTWAIT,(void*)8,(void*)8), EFAULT);
  struct msghdr m={0}; EXPECT_ERR(recvmsg(acc,(void*)8,0), EFAULT);
  m.msg_iovlen=2000; EXPECT_ERR(sendmsg(c,&m,0), EMSGSIZE);
  EXPECT_ERR(shutdown(c,99), EINVAL);
  EXPECT_ERR(shutdown(f,SHUT_RD), ENOTSOCK);
  EXPECT_OK(shutdown(c,SHUT_WR));
  signal(SIGPIPE,SIG_IGN); EXPECT_ERR(send(c,"x",1,0), EPIPE);
  int u=socket(AF_INET,SOCK_DGRAM,0);
  EXPECT_ERR(sendto(u,"x",1,0,NULL,0), EDESTADDRREQ);
  EXPECT_ERR(sendto(u,"x",1,0,(void*)&a,3), EINVAL);
  EXPECT_ERR(listen(u,1), EOPNOTSUPP);
  EXPECT_ERR(accept(u,NULL,NULL), EOPNOTSUPP);
  char big[70000]; EXPECT_ERR(sendto(u,big,sizeof big,0,(void*)&a,sizeof a), EMSGSIZE);
  struct sockaddr_un un={.sun_family=AF_UNIX}; int us=socket(AF_UNIX,SOCK_STREAM,0);
  EXPECT_ERR(connect(us,(void*)&un,sizeof un), ECONNREFUSED);
  strcpy(un.sun_path,"/tmp/uk_nope_sock_x"); EXPECT_ERR(connect(us,(void*)&un,sizeof un), ENOENT);
  strcpy(un.sun_path,"/tmp"); EXPECT_ERR(connect(us,(void*)&un,sizeof un), ECONNREFUSED);
  int sv[2]; EXPECT_ERR(socketpair(AF_INET,SOCK_STREAM,0,sv), EOPNOTSUPP);
  EXPECT_ERR(socketpair(AF_UNIX,SOCK_STREAM,0,(void*)8), EFAULT);
  EXPECT_ERR(socketpair(AF_UNIX,99,0,sv), EINVAL);

  /* SIOCATMARK: a stream socket says whether it is at the urgent mark;
   * other sockets are not ttys. */
  int mark=-1; EXPECT_OK(ioctl(acc,SIOCATMARK,&mark)); EXPECT_EQ(mark,0);
  EXPECT_ERR(ioctl(acc,SIOCATMARK,NULL), EFAULT);
  EXPECT_ERR(ioctl(u,SIOCATMARK,&mark), ENOTTY);

  /* A socket of the wrong type at an abstract name refuses (a path name
   * says EPROTOTYPE). */
  struct sockaddr_un ab={.sun_family=AF_UNIX}; memcpy(ab.sun_path,"\0uk_sockerrs_abs",16);
  socklen_t abl=offsetof(struct sockaddr_un,sun_path)+16;
  int ls=socket(AF_UNIX,SOCK_STREAM,0); EXPECT_OK(bind(ls,(void*)&ab,abl)); EXPECT_OK(listen(ls,1));
  int dg=socket(AF_UNIX,SOCK_DGRAM,0); EXPECT_ERR(connect(dg,(void*)&ab,abl), ECONNREFUSED);

  /* SCM_CREDENTIALS: root may name any pid that exists (1 is always
   * there), ESRCH for one that does not. */
  EXPECT_OK(socketpair(AF_UNIX,SOCK_STREAM,0,sv));
  char cb[CMSG_SPACE(sizeof(struct ucred))]; struct iovec iv={"y",1};
  struct msghdr cm={.msg_iov=&iv,.msg_iovlen=1,.msg_control=cb,.msg_controllen=sizeof cb};
  struct cmsghdr *ch=CMSG_FIRSTHDR(&cm); ch->cmsg_level=SOL_SOCKET; ch->cmsg_type=SCM_CREDENTIALS; ch->cmsg_len=CMSG_LEN(sizeof(struct ucred));
  struct ucred *uc=(void*)CMSG_DATA(ch); uc->uid=0; uc->gid=0;
  uc->pid=getpid(); EXPECT_EQ(sendmsg(sv[0],&cm,0),1);
  if(geteuid()==0){
    uc->pid=1; EXPECT_EQ(sendmsg(sv[0],&cm,0),1);
    uc->pid=99999999; EXPECT_ERR(sendmsg(sv[0],&cm,0), ESRCH);
  }
  return ukt_exit();
}
