/* sockmsg.c: socket message semantics, compared with Linux (LTP's
 * recv, recvmsg, recvmmsg, sendmmsg, getsockopt and setsockopt cases):
 * MSG_PEEK and MSG_TRUNC, SO_RCVTIMEO, batches of datagrams, the
 * read-only options (type, domain, protocol, accept state), a
 * non-blocking connect and SO_ERROR, accept4's flags, refused
 * connections, UDP connect and disconnect, and options read back. */
#include "uktest.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/time.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
int main(void){
  int sv[2]; socketpair(AF_UNIX,SOCK_DGRAM,0,sv);
  send(sv[0],"hello",5,0); char b[16];
  EXPECT_EQ(recv(sv[1],b,2,MSG_PEEK),2);
  EXPECT_EQ(recv(sv[1],b,2,MSG_TRUNC|MSG_PEEK),5);
  struct msghdr mh={0}; struct iovec iv={b,2}; mh.msg_iov=&iv; mh.msg_iovlen=1;
  EXPECT_EQ(recvmsg(sv[1],&mh,0),2); printf("MSG_TRUNC flag %d\n", (mh.msg_flags&MSG_TRUNC)!=0);
  struct timeval tv={0,100000}; setsockopt(sv[1],SOL_SOCKET,SO_RCVTIMEO,&tv,sizeof tv);
  EXPECT_ERR(recv(sv[1],b,16,0), EAGAIN);
  socklen_t l=sizeof tv; getsockopt(sv[1],SOL_SOCKET,SO_RCVTIMEO,&tv,&l); printf("rcvtimeo %ld %ld\n",(long)tv.tv_sec,(long)tv.tv_usec);
  tv.tv_usec=2000000; EXPECT_ERR(setsockopt(sv[1],SOL_SOCKET,SO_RCVTIMEO,&tv,sizeof tv), EDOM);
  /* sendmmsg / recvmmsg */
  struct mmsghdr mm[3]; struct iovec vs[3]; char bufs[3][8]; memset(mm,0,sizeof mm);
  for(int i=0;i<3;i++){ vs[i].iov_base=bufs[i]; vs[i].iov_len=8; snprintf(bufs[i],8,"m%d",i); mm[i].msg_hdr.msg_iov=&vs[i]; mm[i].msg_hdr.msg_iovlen=1; }
  vs[0].iov_len=2; vs[1].iov_len=2; vs[2].iov_len=2;
  EXPECT_EQ(sendmmsg(sv[0],mm,3,0),3);
  for(int i=0;i<3;i++) vs[i].iov_len=8;
  struct timespec to={1,0};
  EXPECT_EQ(recvmmsg(sv[1],mm,3,0,&to),3); printf("lens %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
  EXPECT_ERR(recvmmsg(sv[1],mm,3,MSG_DONTWAIT,NULL), EAGAIN);
  to.tv_nsec=-1; EXPECT_ERR(recvmmsg(sv[1],mm,3,0,&to), EINVAL);
  EXPECT_ERR(sendmmsg(sv[0],(void*)8,1,0), EFAULT);
  EXPECT_EQ(sendmmsg(sv[0],mm,0,0),0);
  /* SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_ERROR */
  int v; l=sizeof v; getsockopt(sv[0],SOL_SOCKET,SO_TYPE,&v,&l); printf("type %d\n",v);
  getsockopt(sv[0],SOL_SOCKET,SO_DOMAIN,&v,&l); printf("domain %d\n",v);
  int s=socket(AF_INET,SOCK_STREAM,0); getsockopt(s,SOL_SOCKET,SO_PROTOCOL,&v,&l); printf("proto %d\n",v);
  getsockopt(s,SOL_SOCKET,SO_ACCEPTCONN,&v,&l); printf("acceptconn %d\n",v);
  struct sockaddr_in a={.sin_family=AF_INET,.sin_addr.s_addr=htonl(INADDR_LOOPBACK)}; bind(s,(void*)&a,sizeof a); listen(s,5);
  getsockopt(s,SOL_SOCKET,SO_ACCEPTCONN,&v,&l); printf("acceptconn after listen %d\n",v);
  l=sizeof a; getsockname(s,(void*)&a,&l);
  int c=socket(AF_INET,SOCK_STREAM|SOCK_NONBLOCK,0);
  int r=connect(c,(void*)&a,sizeof a); printf("nonblock connect: %d %s\n", r, r?errname(errno):"");
  usleep(50000);
  l=sizeof v; getsockopt(c,SOL_SOCKET,SO_ERROR,&v,&l); printf("so_error %d\n",v);
  int acc=accept4(s,NULL,NULL,SOCK_CLOEXEC|SOCK_NONBLOCK); printf("accepted flags cloexec %d nonblock %d\n", (fcntl(acc,F_GETFD)&FD_CLOEXEC)!=0, (fcntl(acc,F_GETFL)&O_NONBLOCK)!=0);
  /* connect to a closed port */
  struct sockaddr_in z=a; z.sin_port=htons(1); int c2=socket(AF_INET,SOCK_STREAM,0); EXPECT_ERR(connect(c2,(void*)&z,sizeof z), ECONNREFUSED);
  /* UDP connect then send to another addr */
  int u=socket(AF_INET,SOCK_DGRAM,0); EXPECT_OK(connect(u,(void*)&z,sizeof z));
  send(u,"x",1,0); struct pollfd up={u,POLLIN,0}; poll(&up,1,5000); /* the refusal arrives as POLLERR */ printf("udp to closed port, then recv: %ld %s\n",(long)recv(u,b,1,MSG_DONTWAIT), errname(errno));
  struct sockaddr_in un={.sin_family=AF_UNSPEC}; EXPECT_OK(connect(u,(void*)&un,sizeof un));
  EXPECT_ERR(send(u,"x",1,0), EDESTADDRREQ);
  /* linger, keepalive, nodelay readback */
  struct linger lg={1,5}; setsockopt(c,SOL_SOCKET,SO_LINGER,&lg,sizeof lg); l=sizeof lg; getsockopt(c,SOL_SOCKET,SO_LINGER,&lg,&l); printf("linger %d %d\n", lg.l_onoff, lg.l_linger);
  v=1; setsockopt(c,SOL_SOCKET,SO_KEEPALIVE,&v,sizeof v); l=sizeof v; getsockopt(c,SOL_SOCKET,SO_KEEPALIVE,&v,&l); printf("keepalive %d\n",v);
  v=1000; setsockopt(c,SOL_SOCKET,SO_SNDBUF,&v,sizeof v); l=sizeof v; getsockopt(c,SOL_SOCKET,SO_SNDBUF,&v,&l); printf("sndbuf %d\n",v);
  v=1000; setsockopt(c,SOL_SOCKET,SO_RCVBUF,&v,sizeof v); l=sizeof v; getsockopt(c,SOL_SOCKET,SO_RCVBUF,&v,&l); printf("rcvbuf %d\n",v);
  return ukt_exit();
}
